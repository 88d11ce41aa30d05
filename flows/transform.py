"""Transform: ``dbt build`` through prefect-dbt, one dbt invocation per wave of the DAG; every
dbt test outcome is recorded in ``quality.check_results`` next to pandera's and GX's."""

from __future__ import annotations

import logging
import os
from datetime import UTC, datetime

from prefect import flow, get_run_logger, task
from prefect.runtime import flow_run

from config.settings import Settings, load_settings
from quality import dbt_results
from quality import store as quality_store
from quality.store import CheckResult
from warehouse import engine, publish, touched
from warehouse import local as warehouse


@task(name="record-dbt-test-results", timeout_seconds=600)
def record_dbt_results(settings: Settings, run_id: str, started: datetime) -> list[CheckResult]:
    """Results of this invocation only: stale artifacts of an earlier build are ignored."""
    artifacts = dbt_results.load_artifacts(settings.dbt_target_path)
    if artifacts is None or artifacts.generated_at < started:
        get_run_logger().warning("dbt wrote no run results: no dbt test outcome recorded")
        return []
    # the console shows dbt's nodes as progress lines only (cli.main): this names them
    failed_nodes = any(
        r["status"] in ("error", "fail") for r in artifacts.run_results.get("results", [])
    )
    get_run_logger().log(
        logging.ERROR if failed_nodes else logging.INFO,
        dbt_results.summary_line(artifacts.run_results),
    )
    with warehouse.connect(settings.warehouse) as con:
        samples, row_count = engine.dbt_failure_probes(settings, con)
        results = dbt_results.to_check_results(artifacts, run_id, samples, row_count)
        for r in results:
            r.flow_run_id = str(flow_run.id) if flow_run.id else None
        quality_store.write_results(con, results)
    failed = [r for r in results if not r.passed]
    get_run_logger().info(
        "dbt tests: %s recorded, %s failed (%s critical)",
        len(results),
        len(failed),
        sum(r.severity == "critical" for r in failed),
    )
    return results


@flow(name="transform", log_prints=True, timeout_seconds=3 * 3600)
def transform_flow(
    settings: Settings | None = None,
    select: str | None = None,
    full_refresh: bool = False,
    run_date: str | None = None,
    run_id: str = "manual",
    gold_schema: str = "gold",
    exclude: str | None = None,
    command: str = "build",
    partition_day: str | None = None,
    loaded_after: str | None = None,
) -> list[CheckResult]:
    """``dbt build`` (or ``command``: ``run``, ``test``) of ``select`` minus ``exclude``.

    ``build`` and ``run`` go one topological wave at a time through prefect-dbt's
    orchestrator (``warehouse.dbt_waves``: 1.1× a plain ``dbt build`` where a Prefect task
    per node cost 2.7×); ``test`` (a backfill's tests of the marts it rebuilt, whose parents
    it does not rebuild) through ``PrefectDbtRunner``, a task per test. Incremental marts
    merge what changed unless ``full_refresh``; with ``partition_day`` (ISO date) they
    rebuild the orders purchased that day instead (a backfill). ``run_date`` pins the "as
    of" day of the report marts. A failing node fails the flow with its name and dbt's
    message, after the test outcomes are recorded. ``gold_schema`` is where the marts are
    written (the platform builds into an audit schema and publishes later). With
    ``loaded_after`` (a naive UTC time) the tests marked ``where: __new_rows__`` read only
    the rows loaded after it (dbt/macros/where_subquery.sql; an incremental run), and the
    order facts recompute only the orders those rows touch (``warehouse.touched``)."""
    settings = settings or load_settings()
    # profiles.yml reads locations only from the environment
    os.environ["OLIST_WAREHOUSE"] = str(settings.warehouse)
    os.environ["OLIST_DBT_TARGET"] = settings.dbt_target
    dbt_vars = {"gold_schema": gold_schema} if gold_schema != "gold" else {}
    # read only when dbt compiles a node (dbt/macros): kept out of the parse, so that a new
    # day or cut-off does not make dbt parse the whole project again
    runtime_vars = {"run_date": run_date} if run_date else {}
    runtime_vars |= {"partition_day": partition_day} if partition_day else {}
    runtime_vars |= {"loaded_after": loaded_after} if loaded_after else {}
    if loaded_after:
        runtime_vars |= touched_vars(settings, loaded_after, run_id, gold_schema)
    started = datetime.now(UTC).replace(tzinfo=None)
    try:
        if command == "test":
            ok = _test_per_node(settings, select, exclude, dbt_vars | runtime_vars)
        else:
            ok = _build_per_wave(
                settings, command, select, exclude, full_refresh, dbt_vars, runtime_vars
            )
    finally:
        warehouse.release_dbt_duckdb()
        results = record_dbt_results(settings, run_id, started)
    if not ok:
        artifacts = dbt_results.load_artifacts(settings.dbt_target_path)
        raise dbt_results.DbtFailed.from_run_results(
            command, artifacts.run_results if artifacts else {}
        )
    return results


@task(name="find-touched-orders", timeout_seconds=600)
def touched_vars(
    settings: Settings, loaded_after: str, run_id: str = "manual", gold_schema: str = "gold"
) -> dict[str, object]:
    """The dbt vars naming the orders the rows loaded after ``loaded_after`` touch (none:
    every order is recomputed), and, when the run before ``run_id`` published (so
    ``gold_schema`` holds what its marts were built from), the people and days those orders
    had there (``warehouse.touched.before_build``)."""
    with warehouse.connect(settings.warehouse) as con:
        previous_published = publish.rows_publishable(con, run_id)
    before = None
    with engine.open_warehouse(settings, read_only=True) as wh:
        found = touched.touched_orders(wh, datetime.fromisoformat(loaded_after))
        if found is not None and previous_published:
            before = touched.before_build(wh, found.order_ids, gold_schema)
    logger = get_run_logger()
    if found is None:
        logger.info("incremental facts: every order is compared (warehouse.touched)")
        return {}
    logger.info(
        "incremental facts: %s touched order(s) rebuilt; customer and monthly marts: %s",
        len(found.order_ids),
        "every row compared" if before is None else "their owners' rows and their months rebuilt",
    )
    return touched.dbt_vars(found, before)


def _dbt_settings(settings: Settings):  # -> prefect_dbt.PrefectDbtSettings
    from prefect_dbt import PrefectDbtSettings

    return PrefectDbtSettings(
        project_dir=settings.dbt_project_dir,
        profiles_dir=settings.dbt_profiles_dir,
        target_path=settings.dbt_target_path,
    )


def _build_per_wave(
    settings: Settings,
    command: str,
    select: str | None,
    exclude: str | None,
    full_refresh: bool,
    dbt_vars: dict[str, str],
    runtime_vars: dict[str, object],
) -> bool:
    # local: prefect-dbt loads dbt (~3 s of imports), paid by the runs that build, not by
    # every module that imports this flow (an incremental run with no new batch)
    from warehouse import dbt_waves

    ok, _ = dbt_waves.build(
        _dbt_settings(settings),
        settings.dbt_target,
        select=select,
        exclude=exclude,
        full_refresh=full_refresh,
        dbt_vars=dbt_vars,
        runtime_vars=runtime_vars,
        with_tests=command == "build",
        # asset lineage in the Prefect UI: on for a server, off on the ephemeral API
        # (settings.dbt_assets_default)
        lineage=settings.dbt_assets,
    )
    return ok


def _test_per_node(
    settings: Settings, select: str | None, exclude: str | None, dbt_vars: dict[str, str]
) -> bool:
    from warehouse import dbt_waves  # local, as in _build_per_wave

    return dbt_waves.run_tests(
        _dbt_settings(settings),
        settings.dbt_target,
        select=select,
        exclude=exclude,
        dbt_vars=dbt_vars,
    )
