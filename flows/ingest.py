"""Ingest: the 9 source CSVs → ``landing`` (strict parsing), recorded in ``ops.file_ledger``."""

from __future__ import annotations

from pathlib import Path

from prefect import flow, get_run_logger, task

from olist import ingest, warehouse
from olist.settings import Settings, load_settings


@task(name="land-source-files", timeout_seconds=1800)
def land_sources(source_dir: Path, warehouse_path: Path, batch_id: str) -> dict[str, list[str]]:
    with warehouse.connect(warehouse_path) as con:
        result = ingest.ingest_folder(con, source_dir, batch_id)
    logger = get_run_logger()
    for f in result.landed:
        logger.info(
            "%s: %s records parsed, %s unparsable", f.file.name, f"{f.loaded:,}", f.rejected
        )
    for path in result.skipped:
        logger.info("%s: already loaded (same sha256), skipped", path.name)
    return {"landed": result.tables, "skipped": [p.name for p in result.skipped]}


@flow(name="ingest", log_prints=True)
def ingest_flow(settings: Settings | None = None, batch_id: str = "manual") -> dict[str, list[str]]:
    """Land new or changed source files; files whose content was loaded before are skipped."""
    settings = settings or load_settings()
    return land_sources(settings.source_dir, settings.warehouse, batch_id)
