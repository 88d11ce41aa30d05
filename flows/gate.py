"""What every flow that publishes shares: the run's bookkeeping, the quality gate and
publish, the report, alerts. ``platform``, ``incremental`` and ``backfill`` wire these;
this module imports nothing of the ML stages, so an incremental run does not load MLflow,
Optuna or XGBoost."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from uuid import uuid4

from prefect import get_run_logger, task
from prefect.artifacts import create_link_artifact, create_markdown_artifact
from prefect.runtime import flow_run

from config.settings import Settings
from flows.checks import quality_artifacts, quality_flow
from flows.retries import TRANSIENT_RETRIES
from flows.stages import StageRecorder
from quality import alerts, runs
from quality import store as quality_store
from reporting.quality_report import report_link, write_run_report
from warehouse import engine, publish
from warehouse import local as warehouse
from warehouse.touched import touched_orders


@task(name="publish-gold", timeout_seconds=1800)
def publish_gold(
    settings: Settings,
    run_id: str,
    only: list[str] | None = None,
    loaded_after: datetime | None = None,
) -> publish.Publication:
    """Audited marts (all, or ``only`` those) → ``gold`` of the target (``warehouse.publish``),
    then the run's quality verdict in the quality history, kept in the target at once (the
    training gate reads it there). ``loaded_after`` (a batch run's published watermark): the
    order- and customer-keyed marts get only the touched orders' rows, when the previous run
    published (``publish.rows_publishable``)."""
    logger = get_run_logger()
    with warehouse.connect(settings.warehouse) as con:
        by_rows = loaded_after is not None and publish.rows_publishable(con, run_id)
    with engine.open_warehouse(settings) as wh:
        # by rows only where the publish is one transaction (publish.publish_marts)
        found = touched_orders(wh, loaded_after) if by_rows and wh.atomic_transactions else None
        publication = publish.publish_marts(wh, only=only, touched=found)
        name = wh.name
    with warehouse.connect(settings.warehouse) as con:
        quality_store.record_run(con, run_id, _flow_run_id(), True)
    engine.keep_state(settings)
    tables = publication.tables
    logger.info("published %s marts to %s gold: %s", len(tables), name, ", ".join(tables))
    if publication.by_rows:
        logger.info(
            "%s: the rows of the %s touched order(s) only",
            ", ".join(publication.by_rows),
            len(found.order_ids) if found else 0,
        )
    if publication.whole_after_mismatch:
        logger.warning(
            "%s copied whole: after replacing the touched orders' rows, gold's row count "
            "differed from the audited one (gold was not the audit schema but for this "
            "batch's orders, e.g. after a dbt build by hand)",
            ", ".join(publication.whole_after_mismatch),
        )
    return publication


@task(name="send-quality-alert", timeout_seconds=120, **TRANSIENT_RETRIES)
def notify(settings: Settings, run_id: str, results: list, published: bool) -> bool:
    """A failed warning or critical check → one message through OLIST_ALERT_BLOCK."""
    return alerts.send_alert(settings.alert_block, run_id, results, published)


def alert(settings: Settings, run_id: str, results: list, published: bool) -> str | None:
    """Send the run's quality alert; a dead webhook or a missing block never fails the run
    (gold may already be published). Returns why no alert went out, when it failed."""
    try:
        notify(settings, run_id, results, published)
    except Exception as err:  # noqa: BLE001 - any failure to alert is reported, not raised
        reason = " ".join(str(err).split())[:300] or type(err).__name__
        warning = (
            f"the quality alert of run {run_id} was not sent through "
            f"OLIST_ALERT_BLOCK={settings.alert_block} ({type(err).__name__}: {reason}); "
            f"the run {'published' if published else 'did not publish'} regardless. Check "
            "the block's URL and that its receiver is up (`prefect block ls`)."
        )
        get_run_logger().warning(warning)
        return warning
    return None


def _failure_artifact(run_id: str, results: list, report: object) -> None:
    """The failing checks of a run that published nothing, for the Prefect UI."""
    failed = quality_store.critical_failures(results)
    lines = [
        f"# Run `{run_id}` published nothing",
        "",
        f"Report: `{report}`",
        "",
        "| table | column | check | engine | unexpected |",
        "|---|---|---|---|---|",
    ]
    lines += [
        f"| {r.layer}.{r.table_name} | {r.column_name or ''} | {r.check_name} | "
        f"{r.check_engine} | {r.unexpected_count if r.unexpected_count is not None else ''} |"
        for r in failed
    ] or ["| | | (no critical check recorded: the run broke before its checks) | | |"]
    create_markdown_artifact(key="quality-failure", markdown="\n".join(lines))


def _flow_run_id() -> str | None:
    return str(flow_run.id) if flow_run.id else None


def new_run_id(kind: str = "") -> str:
    """``20261122T031500-1a2b3c``; incremental and backfill runs carry their kind first."""
    return f"{kind + '-' if kind else ''}{datetime.now(UTC):%Y%m%dT%H%M%S}-{uuid4().hex[:6]}"


def _record_failure(settings: Settings, run_id: str, err: BaseException) -> None:
    """A run that failed: its row, its verdict, its report, the UI's artifacts, an alert."""
    logger = get_run_logger()
    with warehouse.connect(settings.warehouse) as con:
        runs.finish_run(con, run_id, "failed", str(err)[:2000])
        if not quality_store.run_recorded(con, run_id):  # else: published, then failed
            quality_store.record_run(con, run_id, _flow_run_id(), False, str(err)[:2000])
        results = quality_store.results_for_run(con, run_id)
    report = write_run_report(settings, run_id, results)
    if not any(r.check_engine == "great_expectations" for r in results):
        # a dbt test or a contract stopped the run before the quality flow, which
        # would have made these: the UI still gets the checks that did run
        quality_artifacts(run_id, results)
    _failure_artifact(run_id, results, report)
    alert(settings, run_id, results, published=False)  # never hides why the run failed
    logger.error("run %s published nothing; the report: %s", run_id, report)


@contextmanager
def recorded_run(settings: Settings, run_id: str, stages: StageRecorder) -> Iterator[None]:
    """``quality.runs`` bookkeeping around a run that changes the warehouse: on
    failure the run is recorded as failed and reported (nothing was published); the stage
    timings are written either way."""
    with warehouse.connect(settings.warehouse) as con:
        repaired = runs.start_run(con, run_id, _flow_run_id(), str(settings.source_location))
    if repaired:
        get_run_logger().warning(
            "run(s) %s ended without finishing (killed or crashed): marked abandoned",
            ", ".join(repaired),
        )
    try:
        yield
    except BaseException as err:
        _record_failure(settings, run_id, err)
        raise
    finally:
        stages.write(settings.reports_dir / "runs" / run_id / "stages.json")
    with warehouse.connect(settings.warehouse) as con:
        runs.finish_run(con, run_id, "succeeded")


def audit_and_publish(
    settings: Settings,
    run_id: str,
    upstream: list,
    stages: StageRecorder,
    suites: list[str] | None = None,
    publish_only: list[str] | None = None,
    loaded_after: datetime | None = None,
) -> tuple[list, publish.Publication]:
    """GX checks on the audit schema (every suite, or those of the ``suites`` tables), then
    publish the marts (all, or ``publish_only``): the checks' results and the publication.
    A critical failure raises before anything is published. ``loaded_after``: row-level
    checks on the rows loaded after it only, and a publish by rows where it may."""
    with stages.stage("quality"):
        results = quality_flow(
            settings,
            run_id=run_id,
            upstream=upstream,
            read_schemas={"gold": publish.AUDIT_SCHEMA},
            tables=suites,
            loaded_after=loaded_after,
        )
    with stages.stage("publish"):
        publication = publish_gold(settings, run_id, only=publish_only, loaded_after=loaded_after)
    return results, publication


def report_run(
    settings: Settings,
    run_id: str,
    results: list,
    stages: StageRecorder,
    warnings: list[str] | None = None,
) -> Path:
    """Alert on failed checks, render the quality report, link it from the Prefect run. A
    failed alert is a warning (appended to ``warnings``): the run has published."""
    with stages.stage("report"):
        warning = alert(settings, run_id, results, published=True)
        if warning is not None and warnings is not None:
            warnings.append(warning)
        report = write_run_report(settings, run_id, results)
        create_link_artifact(
            key="quality-report",
            link=report_link(settings, report),  # http when make server serves reports/
            link_text=f"Data-quality report of run {run_id}",
            description="The full report: scorecard, trend, samples, GX Data Docs",
        )
    return report
