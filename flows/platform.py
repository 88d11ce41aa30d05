"""The platform flow: ingest → clean → transform → quality → train → score → report."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import uuid4

from prefect import flow, get_run_logger

from flows.clean import clean_flow
from flows.ingest import ingest_flow
from flows.quality import quality_flow
from flows.score import score_flow
from flows.train import train_flow
from olist.reporting import write_run_report
from olist.settings import Settings, load_settings
from olist.stages import StageRecorder


def new_run_id() -> str:
    return f"{datetime.now(UTC):%Y%m%dT%H%M%S}-{uuid4().hex[:6]}"


@flow(name="platform", log_prints=True)
def platform_flow(
    settings: Settings | None = None, skip_train: bool = False, run_id: str | None = None
) -> dict:
    settings = settings or load_settings()
    run_id = run_id or new_run_id()
    logger = get_run_logger()
    stages = StageRecorder()
    logger.info("run %s: %s → %s", run_id, settings.source_dir, settings.warehouse)
    try:
        with stages.stage("ingest"):
            ingest_flow(settings, batch_id=run_id)
        with stages.stage("contracts"):
            contract_results = clean_flow(settings, run_id=run_id)
        with stages.stage("dbt"):
            from flows.transform import transform_flow

            transform_flow(settings)
        with stages.stage("quality"):
            results = quality_flow(settings, run_id=run_id, upstream=contract_results)
        if not skip_train:
            with stages.stage("train"):
                train_flow(settings, run_id=run_id)
            with stages.stage("score"):
                score_flow(settings)
    finally:
        stages.write(settings.reports_dir / "runs" / run_id / "stages.json")
    with stages.stage("report"):
        report = write_run_report(settings, run_id, results)
    stages.write(settings.reports_dir / "runs" / run_id / "stages.json")
    return {"run_id": run_id, "report": str(report), "stages": [t.__dict__ for t in stages.timings]}
