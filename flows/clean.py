"""Clean: pandera contracts over ``landing`` → ``bronze`` + ``quarantine``; results logged.

A table that does not reconcile or quarantines more than the threshold stops the run
before anything reaches bronze.
"""

from __future__ import annotations

from pathlib import Path

from prefect import flow, get_run_logger, task
from prefect.runtime import flow_run

from olist import batches, cleaning, landing_zone, quality_store, warehouse
from olist.quality import CriticalQualityFailure
from olist.settings import Settings, load_settings


@task(name="apply-contracts", timeout_seconds=1800)
def apply_contracts(
    warehouse_path: Path,
    run_id: str,
    tables: list[str] | None,
    threshold: float,
    batches_location: Path | str | None = None,
    gcs_block: str | None = None,
    max_row_drop: float = 0.1,
    corrections: list[str] | None = None,
) -> cleaning.CleanOutcome:
    logger = get_run_logger()
    with warehouse.connect(warehouse_path) as con:
        outcome = cleaning.clean_all(
            con, run_id, tables, threshold, max_row_drop, tuple(corrections or ())
        )
        if outcome.committed:
            batch_tables, batch_checks, committed = batches.clean_batches(con, run_id, threshold)
            outcome.tables.extend(batch_tables)
            outcome.checks.extend(batch_checks)
            outcome.committed = committed
            if committed and batches_location is not None:
                zone = landing_zone.open_zone(batches_location, gcs_block)
                moved = batches.file_away(con, zone)
                logger.info(
                    "batch files archived: %s; rejected: %s",
                    len(moved["archive"]),
                    len(moved["rejected"]),
                )
        for c in outcome.checks:
            c.flow_run_id = str(flow_run.id) if flow_run.id else None
        quality_store.write_results(con, outcome.checks)
    for r in outcome.tables:
        logger.info(
            "%s: %s loaded, %s quarantined", r.table, f"{r.accepted:,}", f"{r.quarantined:,}"
        )
    for c in outcome.checks:
        if not c.passed:
            logger.warning(
                "contract %s.%s %s [%s]: %s of %s rows",
                c.table_name,
                c.column_name or "*",
                c.check_name,
                c.severity,
                c.unexpected_count,
                c.observed_count,
            )
    return outcome


@task(
    name="load-bronze-to-bigquery", timeout_seconds=3600, retries=2, retry_delay_seconds=[30, 120]
)
def load_bronze_to_bigquery(
    warehouse_path: Path, tables: list[str] | None = None
) -> dict[str, int]:
    """On the ``bigquery`` target, bronze (checked here, in DuckDB) replaces its copy in
    BigQuery's ``bronze`` dataset, where dbt's sources read it (``olist.bigquery_target``):
    every table, or ``tables``."""
    from olist.bigquery_target import replace_from_duckdb, target_client

    logger = get_run_logger()
    with target_client() as target, warehouse.connect(warehouse_path, read_only=True) as con:
        return replace_from_duckdb(
            con,
            target,
            "bronze",
            "bronze",
            tables,
            progress=lambda table, rows: logger.info(
                "bronze.%s → BigQuery: %s rows", table, f"{rows:,}"
            ),
        )


@flow(name="clean", log_prints=True, timeout_seconds=2 * 3600)
def clean_flow(
    settings: Settings | None = None,
    run_id: str = "manual",
    tables: list[str] | None = None,
    bigquery_tables: list[str] | None = None,
) -> list[quality_store.CheckResult]:
    """Contracts on the landed ``tables`` (default: all) and the landed order batches. On the
    ``bigquery`` target bronze then replaces BigQuery's copy: every table, or
    ``bigquery_tables`` (an incremental run sends the batch tables, the only ones it changes).
    """
    settings = settings or load_settings()
    outcome = apply_contracts(
        settings.warehouse,
        run_id,
        tables,
        settings.quarantine_threshold,
        settings.batches_location,
        settings.gcs_bucket_block,
        settings.max_row_drop,
        settings.corrections,
    )
    if not outcome.committed:
        # name the rules behind the hole too: e.g. a changed date format is a column's
        # str_matches failing on every row
        blocked = {c.table_name for c in outcome.blocking}
        causes = [
            c
            for c in outcome.checks
            if c.table_name in blocked
            and not c.passed
            and c.severity == "critical"
            and c not in outcome.blocking
        ]
        raise CriticalQualityFailure([*outcome.blocking, *causes])
    if settings.dbt_target == "bigquery":
        load_bronze_to_bigquery(settings.warehouse, bigquery_tables)
    return outcome.checks
