"""Backfill: rebuild the incremental facts one purchase day at a time, then everything else.

``olist backfill --start 2017-01-01 --end 2017-03-31`` (or the ``backfill`` deployment)
lands and validates any new source file as the platform does, then rebuilds
``fct_orders``, ``fct_order_items`` and ``agg_hourly_metrics`` for each day of the range
from the data in the warehouse (after a logic fix, or to build history day by day), each
day recorded in ``ops.backfill_partitions``. It stops at the first failing day, and the same
command resumes after the last day done (``max_days`` bounds one run, for long ranges).
When every day is done, the other marts are rebuilt once (whole: ``dim_customers``, which
an incremental build merges, with ``--full-refresh``), the tests and GX checks run, and
the marts are published as a platform run publishes them; a backfill over the whole history
ends in the same gold tables as a full run.
"""

from __future__ import annotations

from datetime import date

from prefect import flow, get_run_logger, task

from config.settings import Settings, load_settings
from flows.clean import clean_flow
from flows.gate import audit_and_publish, new_run_id, recorded_run, report_run
from flows.incremental import INCREMENTAL_MARTS
from flows.ingest import ingest_flow
from flows.stages import StageRecorder
from flows.transform import transform_flow
from warehouse import backfill, publish
from warehouse import local as warehouse
from warehouse.engine import open_warehouse, run_workspace

MARTS = " ".join(INCREMENTAL_MARTS)
# the views and tables the day partitions read
UPSTREAM = " ".join(f"+{m}" for m in INCREMENTAL_MARTS)


@task(name="record-partition", task_run_name="record {day}", timeout_seconds=300)
def record_partition(settings: Settings, backfill_id: str, day: date, run_id: str) -> int:
    with open_warehouse(settings, read_only=True) as wh:
        orders = backfill.orders_on(wh, publish.AUDIT_SCHEMA, day)
    with warehouse.connect(settings.warehouse) as con:
        backfill.mark_done(con, backfill_id, day, run_id, orders)
    return orders


def build_partitions(settings: Settings, run_id: str, backfill_id: str, todo: list[date]) -> None:
    logger = get_run_logger()
    transform_flow.with_options(flow_run_name="backfill upstream views")(
        settings,
        run_id=run_id,
        gold_schema=publish.AUDIT_SCHEMA,
        command="run",
        select=UPSTREAM,
        exclude=MARTS,
    )
    for i, day in enumerate(todo, 1):
        transform_flow.with_options(flow_run_name=f"partition {day.isoformat()}")(
            settings,
            run_id=run_id,
            gold_schema=publish.AUDIT_SCHEMA,
            command="run",
            select=MARTS,
            partition_day=day.isoformat(),
        )
        orders = record_partition(settings, backfill_id, day, run_id)
        logger.info("day %s rebuilt (%s/%s this run): %s orders", day, i, len(todo), orders)


@flow(name="backfill", log_prints=True, timeout_seconds=24 * 3600)
def backfill_flow(
    start: date,
    end: date,
    settings: Settings | None = None,
    restart: bool = False,
    max_days: int | None = None,
    run_id: str | None = None,
) -> dict:
    """Rebuild the days ``start``..``end`` (both included); see the module docstring."""
    settings = settings or load_settings()
    start, end = backfill.parse_day(start), backfill.parse_day(end)
    every_day = backfill.days(start, end)
    backfill_id = backfill.backfill_id(start, end)
    run_id = run_id or new_run_id("backfill")
    logger = get_run_logger()
    with run_workspace(settings, holder=f"backfill {backfill_id} ({run_id})") as settings:
        stages = StageRecorder()
        with stages.stage("ingest"):
            summary = ingest_flow(settings, batch_id=run_id)
        with recorded_run(settings, run_id, stages):
            with stages.stage("contracts"):
                contract_results = clean_flow(settings, run_id=run_id, tables=summary["landed"])
            with warehouse.connect(settings.warehouse) as con:
                if restart and (forgotten := backfill.forget(con, backfill_id)):
                    logger.info("restart: forgot the %s days done before", forgotten)
                done = backfill.done_days(con, backfill_id)
            todo = [day for day in every_day if day not in done]
            this_run = todo[:max_days] if max_days else todo
            logger.info(
                "backfill %s: %s days, %s done before, %s in this run",
                backfill_id,
                len(every_day),
                len(every_day) - len(todo),
                len(this_run),
            )
            with stages.stage("partitions"):
                if this_run:
                    build_partitions(settings, run_id, backfill_id, this_run)
            remaining = len(todo) - len(this_run)
            outcome = {
                "run_id": run_id,
                "backfill_id": backfill_id,
                "days_built": [d.isoformat() for d in this_run],
                "remaining": remaining,
                "published": False,
            }
            if remaining:
                logger.info(
                    "stopped after %s days (max_days); %s to go: run the same range again "
                    "to resume. Nothing is published until every day is done.",
                    len(this_run),
                    remaining,
                )
                return outcome
            with stages.stage("dbt"):
                # the other marts rebuilt whole, dim_customers too: a backfill after a logic
                # fix can change facts without changing what its merge compares
                dbt_results = transform_flow(
                    settings,
                    run_id=run_id,
                    gold_schema=publish.AUDIT_SCHEMA,
                    exclude=MARTS,
                    full_refresh=True,
                )
                dbt_results += transform_flow(
                    settings,
                    run_id=run_id,
                    gold_schema=publish.AUDIT_SCHEMA,
                    command="test",
                    select=MARTS,
                )
            results, _ = audit_and_publish(
                settings, run_id, [*contract_results, *dbt_results], stages
            )
            report = report_run(settings, run_id, results, stages)
    return outcome | {
        "published": True,
        "report": str(report),
        "stages": [t.__dict__ for t in stages.timings],
    }
