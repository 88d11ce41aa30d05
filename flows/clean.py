"""Clean: pandera contracts over ``landing`` → ``bronze`` + ``quarantine``; results logged.

A table that does not reconcile or quarantines more than the threshold stops the run
before anything reaches bronze.
"""

from __future__ import annotations

from pathlib import Path

from prefect import flow, get_run_logger, task
from prefect.runtime import flow_run

from config.settings import Settings, load_settings
from ingestion import batches, cleaning, landing_zone
from quality import store as quality_store
from quality.checks import CriticalQualityFailure
from warehouse import engine
from warehouse import local as warehouse


@task(name="apply-contracts", timeout_seconds=1800)
def apply_contracts(
    settings: Settings,
    run_id: str,
    tables: list[str] | None,
    threshold: float,
    batches_location: Path | str | None = None,
    gcs_block: str | None = None,
    max_row_drop: float = 0.1,
    corrections: list[str] | None = None,
) -> cleaning.CleanOutcome:
    """The run's working file (``settings.warehouse``) parses and checks the new rows; the
    checks against earlier loads run in the target warehouse (``history``)."""
    logger = get_run_logger()
    with (
        warehouse.connect(settings.warehouse) as con,
        engine.open_warehouse(settings) as history,
    ):
        outcome = cleaning.clean_all(
            con, run_id, tables, threshold, max_row_drop, tuple(corrections or ()), history
        )
        if outcome.committed:
            batch_tables, batch_checks, committed = batches.clean_batches(
                con, run_id, threshold, history, fresh=[t.table for t in outcome.tables]
            )
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


@task(name="keep-bronze", timeout_seconds=3600)
def keep_loaded_bronze(settings: Settings, run_id: str) -> dict[str, int]:
    """What the contracts loaded, visible to dbt in the target warehouse (on BigQuery: the
    files claimed in its ledger, the new rows in its ``bronze`` and ``quarantine``; on DuckDB
    the contracts wrote the target itself). No retries: a batch's rows are appended once."""
    kept = engine.keep_bronze(settings, run_id)
    logger = get_run_logger()
    for table, rows in kept.items():
        logger.info("%s → the target warehouse: %s rows", table, f"{rows:,}")
    return kept


@flow(name="clean", log_prints=True, timeout_seconds=2 * 3600)
def clean_flow(
    settings: Settings | None = None,
    run_id: str = "manual",
    tables: list[str] | None = None,
) -> list[quality_store.CheckResult]:
    """Contracts on the landed ``tables`` (default: all) and the landed order batches; what
    they loaded is then kept in the target warehouse (``keep_loaded_bronze``)."""
    settings = settings or load_settings()
    outcome = apply_contracts(
        settings,
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
    keep_loaded_bronze(settings, run_id)
    return outcome.checks
