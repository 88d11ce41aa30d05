"""Turn engine-specific outcomes (GX) into ``CheckResult`` rows and decide the verdict."""

from __future__ import annotations

from expectations import ExpectationOutcome
from olist.quality_store import CheckResult


class CriticalQualityFailure(RuntimeError):
    """Raised when a critical check fails: nothing is published."""

    def __init__(self, failures: list[CheckResult]) -> None:
        self.failures = failures
        names = "; ".join(
            f"{f.layer}.{f.table_name}{'.' + f.column_name if f.column_name else ''} "
            f"{f.check_name} ({f.check_engine}, {f.unexpected_count} unexpected"
            f"{', e.g. ' + repr(str(f.sample_values[0])) if f.sample_values else ''})"
            for f in failures
        )
        super().__init__(f"{len(failures)} critical check(s) failed: {names}")


def from_gx(outcomes: list[ExpectationOutcome], run_id: str) -> list[CheckResult]:
    results = []
    for o in outcomes:
        unexpected = o.unexpected_count
        if unexpected is None and not o.success:
            unexpected = 1
        results.append(
            CheckResult(
                run_id=run_id,
                layer=o.schema,
                table_name=o.table,
                column_name=o.column,
                check_name=o.expectation,
                check_engine="great_expectations",
                severity=o.severity,
                passed=o.success,
                observed_count=o.element_count,
                unexpected_count=unexpected,
                unexpected_percent=o.unexpected_percent,
                sample_values=o.sample_values or ([o.exception] if o.exception else []),
            )
        )
    return results
