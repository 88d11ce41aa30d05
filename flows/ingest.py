"""Ingest: the 9 source CSVs and any JSON order batches → ``landing`` (strict parsing),
every file recorded in ``ops.file_ledger``; content loaded before is skipped. Sources come
from a folder or, in production, a GCS prefix (``OLIST_SOURCE_URI`` / ``OLIST_BATCHES_URI``):
see ``ingestion.landing_zone``."""

from __future__ import annotations

from pathlib import Path

from prefect import flow, get_run_logger, task

from config.settings import Settings, load_settings
from flows.retries import TRANSIENT_RETRIES
from ingestion import batches, landing_zone
from ingestion import csv_files as ingest
from warehouse import local as warehouse


@task(name="land-source-files", timeout_seconds=1800, **TRANSIENT_RETRIES)
def land_sources(
    source: Path | str,
    warehouse_path: Path,
    batch_id: str,
    harmless_extras: dict[str, list[str]] | None = None,
    gcs_block: str | None = None,
) -> dict[str, list[str]]:
    zone = landing_zone.open_zone(source, gcs_block)
    logger = get_run_logger()
    logger.info("source files from %s", zone.uri)
    with warehouse.connect(warehouse_path) as con:
        result = ingest.ingest_zone(con, zone, batch_id, harmless_extras)
        batches.ensure_batch_tables(con)  # dbt unions them even before the first batch
    for f in result.landed:
        logger.info(
            "%s: %s records parsed, %s unparsable", f.file.name, f"{f.loaded:,}", f.rejected
        )
    for path in result.skipped:
        logger.info("%s: already loaded (same sha256), skipped", path.name)
    return {"landed": result.tables, "skipped": [p.name for p in result.skipped]}


@task(name="land-order-batches", timeout_seconds=1800, **TRANSIENT_RETRIES)
def land_order_batches(
    batches_location: Path | str,
    warehouse_path: Path,
    run_id: str,
    gcs_block: str | None = None,
    max_batch_bytes: int = batches.MAX_BATCH_BYTES,
) -> dict[str, list[str]]:
    zone = landing_zone.open_zone(batches_location, gcs_block)
    logger = get_run_logger()
    with warehouse.connect(warehouse_path) as con:
        # files an interrupted run left behind (and, while the clean flow files away only
        # local folders, the bucket's files that the last committed load decided)
        batches.file_away(con, zone)
        result = batches.land_batches(con, zone, run_id, max_batch_bytes)
    logger.info(
        "order batches: %s landed, %s already loaded, %s rejected",
        len(result.landed),
        len(result.skipped),
        len(result.rejected),
    )
    for _, reason in result.rejected:
        logger.warning("rejected batch %s", reason)
    return {
        "batches": [p.name for p in result.landed],
        "batches_skipped": [p.name for p in result.skipped],
        "batches_rejected": [reason for _, reason in result.rejected],
    }


@flow(name="ingest", log_prints=True, timeout_seconds=2 * 3600)
def ingest_flow(settings: Settings | None = None, batch_id: str = "manual") -> dict[str, list[str]]:
    """Land new or changed source files; files whose content was loaded before are skipped."""
    settings = settings or load_settings()
    summary = land_sources(
        settings.source_location,
        settings.warehouse,
        batch_id,
        settings.harmless_extra_columns,
        settings.gcs_bucket_block,
    )
    if settings.batches_location is not None:
        summary |= land_order_batches(
            settings.batches_location,
            settings.warehouse,
            batch_id,
            settings.gcs_bucket_block,
            settings.max_batch_bytes,
        )
    return summary
