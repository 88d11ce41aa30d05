"""Turn engine-specific outcomes (GX) into ``CheckResult`` rows and decide the verdict."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from expectations import Baseline, ExpectationOutcome
from olist import warehouse
from olist.quality_store import CheckResult

if TYPE_CHECKING:
    from google.cloud import bigquery


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
    mean = share = None
    if order_stats is not None:
        mean_value, five, reviewed = order_stats
        mean = float(mean_value) if mean_value is not None else None
        share = five / reviewed if reviewed else None
    return Baseline(
        row_counts=counts, mean_order_value=mean, five_star_share=share, freshness_floor=floor
    )


def baseline_from_published(
    con: Any, freshness_max_age_days: int | None = None, now: datetime | None = None
) -> Baseline:
    """The last good publication (``gold``) as the yardstick for this run's audit."""
    counts: dict[str, int] = {}
    for table in BASELINE_TABLES:
        if warehouse.table_exists(con, "gold", table):
            counts[table] = warehouse.row_count(con, "gold", table)
    stats = None
    if counts.get("fct_orders"):
        stats = con.execute(
            "select avg(order_value), count(*) filter (where review_score = 5), "
            "count(review_score) from gold.fct_orders"
        ).fetchall()[0]
    return _baseline(counts, stats, freshness_floor(freshness_max_age_days, now))


def baseline_from_bigquery(
    client: bigquery.Client,
    freshness_max_age_days: int | None = None,
    now: datetime | None = None,
    dataset: str = "gold",
) -> Baseline:
    """``baseline_from_published`` for the marts dbt builds on the ``bigquery`` target: the
    same numbers from the ``dataset`` of the client's project (GoogleSQL has ``COUNTIF``,
    not ``count(*) filter``), and a timezone-aware freshness floor (``TIMESTAMP`` columns)."""
    from google.api_core.exceptions import NotFound

    def first_row(sql: str) -> tuple[Any, ...]:
        return tuple(next(iter(client.query(sql).result())).values())

    counts: dict[str, int] = {}
    for table in BASELINE_TABLES:
        try:
            client.get_table(f"{client.project}.{dataset}.{table}")
        except NotFound:
            continue
        counts[table] = int(
            first_row(f"select count(*) from `{client.project}.{dataset}.{table}`")[0]
        )
    stats = None
    if counts.get("fct_orders"):
        stats = first_row(
            "select avg(order_value), countif(review_score = 5), count(review_score) "
            f"from `{client.project}.{dataset}.fct_orders`"
        )
    return _baseline(counts, stats, freshness_floor(freshness_max_age_days, now, aware=True))
