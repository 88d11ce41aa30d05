"""Quality: GX checkpoints on the warehouse; every result to ``quality.check_results``.

A critical failure fails the flow; the caller then publishes nothing. On the ``bigquery``
dbt target the checkpoints read the marts and silver in BigQuery (``olist.bigquery_gx``);
the results are still recorded in the local DuckDB warehouse, like every other check.
"""

from __future__ import annotations

from pathlib import Path

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.runtime import flow_run

from expectations import SUITES, ExpectationOutcome, TableSuite, run_suites
from olist import quality_store, warehouse
from olist.quality import (
    CriticalQualityFailure,
    baseline_from_bigquery,
    baseline_from_published,
    from_gx,
)
from olist.reporting import gx_docs_dir
from olist.settings import Settings, load_settings


@task(name="run-gx-checkpoint", timeout_seconds=1800)
def run_checkpoint(
    warehouse_path: Path,
    run_id: str,
    read_schemas: dict[str, str] | None = None,
    freshness_max_age_days: int | None = None,
    docs_dir: Path | None = None,
    tables: list[str] | None = None,
    dbt_target: str = "duckdb",
) -> list[quality_store.CheckResult]:
    """The suites (all, or those of ``tables``) on the warehouse ``dbt_target`` built:
    the DuckDB file at ``warehouse_path``, or on ``bigquery`` the datasets of the
    ``OLIST_BQ_*`` project (``warehouse_path`` is then not read)."""
    suites = SUITES if tables is None else [s for s in SUITES if s.table in tables]
    if dbt_target == "bigquery":
        outcomes = _run_on_bigquery(suites, run_id, read_schemas, freshness_max_age_days, docs_dir)
    else:
        with warehouse.connect(warehouse_path, read_only=True) as con:
            baseline = baseline_from_published(con, freshness_max_age_days)
        outcomes = run_suites(
            f"duckdb:///{warehouse_path.as_posix()}",
            suites,
            read_schemas=read_schemas,
            baseline=baseline,
            docs_dir=docs_dir,
            run_name=run_id,
        )
    results = from_gx(outcomes, run_id)
    for r in results:
        r.flow_run_id = str(flow_run.id) if flow_run.id else None
    return results


def _run_on_bigquery(
    suites: tuple[TableSuite, ...] | list[TableSuite],
    run_id: str,
    read_schemas: dict[str, str] | None,
    freshness_max_age_days: int | None,
    docs_dir: Path | None,
) -> list[ExpectationOutcome]:
    """GX through sqlalchemy-bigquery; the baseline from BigQuery's published ``gold``."""
    from olist.bigquery_gx import gx_bigquery

    target = gx_bigquery()
    try:
        baseline = baseline_from_bigquery(target.client, freshness_max_age_days)
        return run_suites(
            target.connection_string,
            suites,
            read_schemas=read_schemas,
            baseline=baseline,
            docs_dir=docs_dir,
            run_name=run_id,
            engine_kwargs=target.engine_kwargs,
        )
    finally:
        target.client.close()


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
) -> list[quality_store.CheckResult]:
    """Run GX checks and fail on a critical one. ``upstream`` (contract and dbt results) is
    reported alongside; critical contract row failures were already quarantined.
    ``read_schemas`` points the gold suites at the audit schema before publishing;
    ``tables`` limits the run to those tables' suites (an incremental run's)."""
    settings = settings or load_settings()
    logger = get_run_logger()
    results = run_checkpoint(
        settings.warehouse,
        run_id,
        read_schemas,
        settings.freshness_max_age_days,
        docs_dir=gx_docs_dir(settings),
        tables=tables,
        dbt_target=settings.dbt_target,
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
