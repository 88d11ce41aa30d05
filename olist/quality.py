"""Turn engine-specific outcomes (GX) into ``CheckResult`` rows and decide the verdict."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from expectations import Baseline, ExpectationOutcome
from olist import warehouse
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


def baseline_from_published(
    con: Any, freshness_max_age_days: int | None = None, now: datetime | None = None
) -> Baseline:
    """The last good publication (``gold``) as the yardstick for this run's audit."""
    counts: dict[str, int] = {}
    mean = share = None
    for table in ("fct_orders", "dim_customers"):
        if warehouse.table_exists(con, "gold", table):
            counts[table] = warehouse.row_count(con, "gold", table)
    if counts.get("fct_orders"):
        mean_value, five, reviewed = con.execute(
            "select avg(order_value), count(*) filter (where review_score = 5), "
            "count(review_score) from gold.fct_orders"
        ).fetchall()[0]
        mean = float(mean_value) if mean_value is not None else None
        share = five / reviewed if reviewed else None
    floor = None
    if freshness_max_age_days is not None:
        floor = (now or datetime.now()) - timedelta(days=freshness_max_age_days)
    return Baseline(
        row_counts=counts, mean_order_value=mean, five_star_share=share, freshness_floor=floor
    )
