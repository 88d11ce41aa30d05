"""Turn engine-specific outcomes (GX) into ``CheckResult`` rows and decide the verdict."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import pandas as pd

from quality.store import CheckResult

if TYPE_CHECKING:
    from expectations import Baseline, ExpectationOutcome
    from warehouse.engine import Warehouse


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


BASELINE_TABLES = ("fct_orders", "dim_customers")


def freshness_floor(
    max_age_days: int | None, now: datetime | None = None, *, aware: bool = False
) -> datetime | None:
    """The oldest acceptable latest purchase: ``now`` (default: the current UTC time) minus
    ``max_age_days``; None when the check is off.

    The warehouse's timestamps are UTC wall-clock digits: naive on DuckDB, ``TIMESTAMP`` (UTC)
    on BigQuery. GX compares a column's max with the bound in Python, where a naive and an
    aware datetime cannot be compared, so the floor must match the engine: naive UTC for
    DuckDB, ``aware=True`` (UTC) for BigQuery. A naive ``now`` is read as UTC.
    """
    if max_age_days is None:
        return None
    now = now or datetime.now(UTC)
    if now.tzinfo is not None:
        now = now.astimezone(UTC).replace(tzinfo=None)
    floor = now - timedelta(days=max_age_days)
    return floor.replace(tzinfo=UTC) if aware else floor


def _baseline(
    counts: dict[str, int],
    order_stats: tuple[Any, ...] | None,
    floor: datetime | None,
) -> Baseline:
    # local: ``expectations`` loads GX (~5 s), which only the audit stage needs; the
    # runs' error types here (CriticalQualityFailure) are imported by every command
    from expectations import Baseline

    mean = share = None
    if order_stats is not None:
        mean_value, five, reviewed = order_stats
        mean = float(mean_value) if mean_value is not None else None
        share = five / reviewed if reviewed else None
    return Baseline(
        row_counts=counts, mean_order_value=mean, five_star_share=share, freshness_floor=floor
    )


def baseline_of(
    wh: Warehouse,
    freshness_max_age_days: int | None = None,
    now: datetime | None = None,
    schema: str = "gold",
) -> Baseline:
    """The last good publication (``gold`` of the target warehouse) as the yardstick for
    this run's audit; the freshness floor in the engine's instants (``aware_instants``)."""
    counts: dict[str, int] = {}
    present = set(wh.tables(schema))
    for table in BASELINE_TABLES:
        if table in present:
            counts[table] = int(wh.scalar(f"select count(*) from {schema}.{table}") or 0)  # type: ignore[call-overload]
    stats = None
    if counts.get("fct_orders"):
        row = wh.query(
            "select avg(order_value) as mean_value, "
            "sum(case when review_score = 5 then 1 else 0 end) as five, "
            f"count(review_score) as reviewed from {schema}.fct_orders"
        )
        stats = tuple(None if pd.isna(v) else v for v in row.iloc[0])
    return _baseline(
        counts, stats, freshness_floor(freshness_max_age_days, now, aware=wh.aware_instants)
    )
