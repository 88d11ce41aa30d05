"""Landing zones, CSV and JSON-batch landing, the file ledger, applying the contracts."""
