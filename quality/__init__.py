"""Check results and verdicts, the GX and dbt adapters, run bookkeeping, alerts."""
