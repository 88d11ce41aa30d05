"""The platform flow: ingest → clean → transform → quality → train → score → report."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

from prefect import flow, get_run_logger
from prefect.states import Completed, State

from config.settings import Settings, load_settings
from flows import artifacts
from flows.clean import clean_flow
from flows.gate import audit_and_publish, new_run_id, recorded_run, report_run
from flows.ingest import ingest_flow
from flows.stages import StageRecorder
from flows.transform import transform_flow
from quality import store as quality_store
from warehouse import local as warehouse
from warehouse import publish
from warehouse.engine import run_workspace


class LoggedStages(StageRecorder):
    """Stage timings that also head each stage in the run's log: a line when it starts,
    one with its time when it ends (the console and the Prefect UI show both)."""

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        logger = get_run_logger()
        logger.info("-- %s --", name)
        failed = False
        try:
            with super().stage(name):
                yield
        except BaseException:
            failed = True
            raise
        finally:
            seconds = self.timings[-1].seconds if self.timings else 0.0
            logger.log(
                logging.ERROR if failed else logging.INFO,
                "-- %s %s after %.1f s",
                name,
                "failed" if failed else "done",
                seconds,
            )


@flow(name="platform", log_prints=True, timeout_seconds=4 * 3600)
def platform_flow(
    settings: Settings | None = None,
    skip_train: bool = False,
    run_id: str | None = None,
    score: bool | None = None,
) -> dict | State:
    """Run every stage; with no new or changed source file after a successful run, change
    nothing and say so. ``skip_train`` keeps the current champions; ``score`` (default: when
    training) scores every customer with them (the ``daily`` deployment scores without
    training)."""
    settings = settings or load_settings()
    run_id = run_id or new_run_id()
    score = (not skip_train) if score is None else score
    logger = get_run_logger()
    with run_workspace(settings, holder=f"platform run {run_id}") as settings:
        logger.info("run %s: %s → %s", run_id, settings.source_location, settings.warehouse)
        stages = LoggedStages()
        with stages.stage("ingest"):
            summary = ingest_flow(settings, batch_id=run_id)
        landed = summary["landed"]
        if not landed and not summary.get("batches"):
            with warehouse.connect(settings.warehouse) as con:
                up_to_date = publish.gold_up_to_date(con)
                last = quality_store.latest_run_id(con) if up_to_date else None
            if up_to_date:
                message = (
                    f"nothing new since run {last}: no new or changed source file, "
                    "the warehouse is unchanged"
                )
                logger.info(message)
                # a named state, so the UI's run list says why this run did nothing
                return Completed(
                    name="Nothing new",
                    message=message,
                    data={
                        "run_id": run_id,
                        "up_to_date": True,
                        "report": None,
                        "stages": [t.__dict__ for t in stages.timings],
                    },
                )
        with recorded_run(settings, run_id, stages):
            with stages.stage("contracts"):
                contract_results = clean_flow(settings, run_id=run_id, tables=landed)
            try:
                with stages.stage("dbt"):
                    dbt_results = transform_flow(
                        settings, run_id=run_id, gold_schema=publish.AUDIT_SCHEMA
                    )
                # the quality subflow gets no upstream results: it would log the contracts'
                # and dbt's failures a second time; the parent run reports all of them
                gx_results, _ = audit_and_publish(settings, run_id, [], stages)
            except BaseException:
                artifacts.failed_run(settings, run_id)  # the checks on this run; an event
                raise
            results = [*contract_results, *dbt_results, *gx_results]
            models: dict[str, dict[str, str | None]] = {}
            if not skip_train:
                # local, as score_flow's below: MLflow, Optuna and XGBoost (~3 s of imports)
                # are paid by the runs that train or score, not by `olist run --skip-train`
                from flows.train import train_flow

                with stages.stage("train"):
                    decisions = train_flow(settings, run_id=run_id)
                models = {
                    task: {
                        "model": d.model_name,
                        "champion_version": d.champion_version,
                        "decision": d.reason,
                    }
                    for task, d in decisions.items()
                }
            if score:
                from flows.score import score_flow

                with stages.stage("score"):
                    score_flow(settings)
            warnings: list[str] = []
            report = report_run(settings, run_id, results, stages, warnings)
            page = settings.reports_dir / "ml" / f"{run_id}.html"
            model_report = page if page.is_file() else None
            # what a user looks for, on the run they open in the UI
            artifacts.quality(run_id, results)
            artifacts.models(settings, run_id, models, model_report)
            copied = artifacts.copy_from_subflows()
            if score:
                artifacts.churn_risk_note(run_id, copied)
    return {
        "run_id": run_id,
        "up_to_date": False,
        "report": str(report),
        "stages": [t.__dict__ for t in stages.timings],
        "warnings": warnings,
        "models": models,
        "model_report": str(model_report) if model_report else None,
    }
