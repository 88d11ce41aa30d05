"""Quality: GX checkpoints on the warehouse; every result to ``quality.check_results``.

A critical failure fails the flow; the caller then publishes nothing. The checkpoints read
the target warehouse (GX's SQL datasource on the DuckDB file, or sqlalchemy-bigquery); the
results go to the run's working warehouse with every other check, and from there to the
target's ``quality.check_results`` (``warehouse.engine.keep_state``).
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.runtime import flow_run

from config.settings import Settings, load_settings
from quality import store as quality_store
from quality.checks import CriticalQualityFailure, baseline_of, from_gx
from reporting.quality_report import gx_docs_dir
from warehouse import engine, touched
from warehouse import local as warehouse


@task(name="run-gx-checkpoint", timeout_seconds=1800)
def run_checkpoint(
    settings: Settings,
    run_id: str,
    read_schemas: dict[str, str] | None = None,
    freshness_max_age_days: int | None = None,
    docs_dir: Path | None = None,
    tables: list[str] | None = None,
    loaded_after: datetime | None = None,
) -> list[quality_store.CheckResult]:
    """The suites (all, or those of ``tables``) on the target warehouse dbt built, with the
    last publication there as their baseline; with ``loaded_after``, row-level expectations
    on the rows loaded after it, and the checks of the orders those rows touched on theirs
    (``warehouse.touched``, ``expectations.run_suites``)."""
    # local: GX (~5 s of imports) is paid by the runs that check, not by every module that
    # imports this flow (an incremental run with no new batch, ``olist --help``)
    from expectations import SUITES, run_suites

    suites = SUITES if tables is None else [s for s in SUITES if s.table in tables]
    with engine.open_warehouse(settings, read_only=True) as wh:
        baseline = baseline_of(wh, freshness_max_age_days)
        found = touched.touched_orders(wh, loaded_after) if loaded_after else None
        url, engine_kwargs = wh.gx_connection()
        outcomes = run_suites(
            url,
            suites,
            read_schemas=read_schemas,
            baseline=baseline,
            docs_dir=docs_dir,
            run_name=run_id,
            engine_kwargs=engine_kwargs or None,
            loaded_after=loaded_after,
            touched_orders=found.order_ids if found is not None else None,
        )
    results = from_gx(outcomes, run_id)
    for r in results:
        r.flow_run_id = str(flow_run.id) if flow_run.id else None
    return results


@task(name="record-check-results", timeout_seconds=600)
def record_results(warehouse_path: Path, results: list[quality_store.CheckResult]) -> int:
    with warehouse.connect(warehouse_path) as con:
        return quality_store.write_results(con, results)


def quality_artifacts(run_id: str, results: list[quality_store.CheckResult]) -> None:
    """The run's checks as a Prefect table artifact and a markdown summary by severity."""
    summary = quality_store.summarize(results)
    create_table_artifact(
        key="quality-checks",
        table=[
            {
                "table": f"{r.layer}.{r.table_name}",
                "column": r.column_name or "",
                "check": r.check_name,
                "engine": r.check_engine,
                "severity": r.severity,
                "passed": r.passed,
                "unexpected": r.unexpected_count,
            }
            for r in results
        ],
        description=f"Checks of run {run_id}",
    )
    lines = [
        f"# Data quality, run `{run_id}`",
        "",
        "| severity | passed | failed |",
        "|---|---|---|",
    ]
    lines += [f"| {sev} | {c['passed']} | {c['failed']} |" for sev, c in sorted(summary.items())]
    create_markdown_artifact(key="quality-summary", markdown="\n".join(lines))


@flow(name="quality", log_prints=True, timeout_seconds=2 * 3600)
def quality_flow(
    settings: Settings | None = None,
    run_id: str = "manual",
    upstream: list[quality_store.CheckResult] | None = None,
    read_schemas: dict[str, str] | None = None,
    tables: list[str] | None = None,
    loaded_after: datetime | None = None,
) -> list[quality_store.CheckResult]:
    """Run GX checks and fail on a critical one. ``upstream`` (contract and dbt results) is
    reported alongside; critical contract row failures were already quarantined.
    ``read_schemas`` points the gold suites at the audit schema before publishing;
    ``tables`` limits the run to those tables' suites (an incremental run's), and
    ``loaded_after`` their row-level expectations to the rows loaded after it."""
    settings = settings or load_settings()
    logger = get_run_logger()
    results = run_checkpoint(
        settings,
        run_id,
        read_schemas,
        settings.freshness_max_age_days,
        docs_dir=gx_docs_dir(settings),
        tables=tables,
        loaded_after=loaded_after,
    )
    record_results(settings.warehouse, results)
    everything = [*(upstream or []), *results]
    quality_artifacts(run_id, everything)
    for r in everything:
        if not r.passed:
            logger.warning(
                "%s check %s.%s %s: %s unexpected",
                r.severity,
                r.table_name,
                r.column_name or "*",
                r.check_name,
                r.unexpected_count,
            )
    critical = quality_store.critical_failures(results)
    if critical:
        raise CriticalQualityFailure(critical)
    return everything
