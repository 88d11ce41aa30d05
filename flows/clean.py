"""Clean: pandera contracts over ``landing`` → ``bronze`` + ``quarantine``; results logged."""

from __future__ import annotations

from pathlib import Path

from prefect import flow, get_run_logger, task
from prefect.runtime import flow_run

from olist import cleaning, quality_store, warehouse
from olist.settings import Settings, load_settings


@task(name="apply-contracts", timeout_seconds=1800)
def apply_contracts(warehouse_path: Path, run_id: str) -> list[quality_store.CheckResult]:
    logger = get_run_logger()
    with warehouse.connect(warehouse_path) as con:
        results = cleaning.clean_all(con, run_id)
        checks = [c for r in results for c in r.checks]
        for c in checks:
            c.flow_run_id = str(flow_run.id) if flow_run.id else None
        quality_store.write_results(con, checks)
    for r in results:
        logger.info(
            "%s: %s accepted, %s quarantined", r.table, f"{r.accepted:,}", f"{r.quarantined:,}"
        )
    for c in checks:
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
    return checks


@flow(name="clean", log_prints=True)
def clean_flow(
    settings: Settings | None = None, run_id: str = "manual"
) -> list[quality_store.CheckResult]:
    settings = settings or load_settings()
    return apply_contracts(settings.warehouse, run_id)
