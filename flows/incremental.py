"""Incremental: new JSON order batches → contracts → the incremental facts → checks → publish.

Meant to run every 15 minutes. It lands only order batches (the 9 CSVs are the daily
build's), merges the rows that changed into the incremental marts (``fct_orders``,
``fct_order_items``, ``agg_hourly_metrics``, and ``dim_customers`` for the customers whose
orders changed), rebuilds every other mart built from them (new orders bring new
customers, days and revenue, and gold must add up after every publish: the revenue
reconciliation test is critical), audits them with their GX suites and dbt tests, and
publishes them. The order facts recompute only the orders whose rows were loaded after
what gold holds (``publish.published_watermark``; ``warehouse.touched``). The row-level
checks (dbt tests marked ``where: __new_rows__``, GX expectations that judge each row alone)
read only those rows; GX checks keys that include the order's on the touched orders' rows,
and reconciles the revenue the run adds with those orders' change in silver; dbt's
uniqueness tests, distributions and the marts' reconciliation read the whole tables. The
daily build checks everything. Only ``dim_products`` waits for the next
``daily`` build, which runs even if no CSV changed (``warehouse.publish.gold_up_to_date``).
With no new batch it changes nothing; with the warehouse busy (a daily build is running) it
skips, and the next run picks the batches up.
"""

from __future__ import annotations

from datetime import datetime

from prefect import flow, get_run_logger
from prefect.states import Completed, State

from config.settings import Settings, load_settings
from flows.clean import clean_flow
from flows.gate import audit_and_publish, new_run_id, recorded_run, report_run
from flows.ingest import land_order_batches
from flows.stages import StageRecorder
from flows.transform import transform_flow
from ingestion import batches, landing_zone
from warehouse import engine, publish
from warehouse import local as warehouse
from warehouse.locking import WarehouseBusyError

INCREMENTAL_MARTS = ("fct_orders", "fct_order_items", "agg_hourly_metrics")
# every mart built from the facts or the order dates: rebuilt and published with them so
# that gold adds up after each publish (tests/unit/dbt/test_incremental_marts.py keeps this
# list equal to dbt's marts but dim_products)
DOWNSTREAM_MARTS = (
    "dim_customers",
    "dim_date",
    "dim_sellers",
    "fct_order_payments",
    "agg_sales_daily",
    "agg_sales_kpi",
    "agg_geo_sales",
    "agg_top_products",
    "rpt_revenue_trends_90d",
    "fct_customer_ltv",
    "agg_cohort_retention",
    "agg_customer_growth_monthly",
    "rpt_churn_risk",
    "agg_delivery_performance",
    "agg_payment_behavior",
    "fct_seller_performance",
)
# dbt's selector of its unit tests
UNIT_TESTS = "test_type:unit"
# what an incremental run rebuilds and publishes
INCREMENTAL_PUBLISH = (*INCREMENTAL_MARTS, *DOWNSTREAM_MARTS)
# silver views the batches flow through, audited with the marts
INCREMENTAL_SUITES = [
    "stg_olist__orders",
    "stg_olist__order_items",
    "stg_olist__order_payments",
    "fct_orders",
    "dim_customers",
    "agg_sales_daily",
]


class NoFullBuildYet(RuntimeError):
    """The incremental path merges into marts that a full build must have created."""


def published_watermark(settings: Settings) -> datetime | None:
    """Up to when gold holds every row of the incremental marts (``publish.published_watermark``)."""
    with engine.open_warehouse(settings, read_only=True) as wh:
        return publish.published_watermark(wh, INCREMENTAL_MARTS)


def missing_full_build(settings: Settings) -> str | None:
    """What an incremental run needs from an earlier full build and does not find, or None:
    the audited incremental marts it merges into, in the target warehouse."""
    if not engine.warehouse_built(settings):
        return f"{settings.warehouse} has no full build yet (the file does not exist)"
    with engine.open_warehouse(settings, read_only=True) as wh:
        audited = set(wh.tables(publish.AUDIT_SCHEMA))
        name = wh.name
    lacking = [t for t in INCREMENTAL_MARTS if t not in audited]
    if lacking:
        return f"the {name} warehouse has no full build yet ({publish.AUDIT_SCHEMA}.{lacking[0]} is missing)"
    return None


@flow(name="incremental", log_prints=True, timeout_seconds=3600)
def incremental_flow(settings: Settings | None = None, run_id: str | None = None) -> dict | State:
    settings = settings or load_settings()
    run_id = run_id or new_run_id("incr")
    logger = get_run_logger()
    if settings.batches_location is None:
        return _nothing_new(
            run_id, "no batch landing zone configured (OLIST_BATCHES_DIR / _URI): nothing to do"
        )
    zone = landing_zone.open_zone(settings.batches_location, settings.gcs_bucket_block)
    if not zone.names(batches.BATCH_GLOB):  # before taking the warehouse: the usual case
        return _nothing_new(run_id, f"no order batch in {zone.uri}: the warehouse is unchanged")
    try:
        with engine.run_workspace(settings, holder=f"incremental run {run_id}") as settings:
            return _incremental(settings, run_id)
    except WarehouseBusyError as err:  # raised by the lock only, before any change
        message = f"warehouse busy, skipped (the next run picks the batches up): {err}"
        logger.warning(message)
        return Completed(
            name="Skipped",
            message=message,
            data={"run_id": run_id, "batches": [], "published": [], "skipped": str(err)},
        )


def _nothing_new(run_id: str, message: str, **extra: object) -> State:
    """A completed run that did nothing, named so in the UI's run list."""
    get_run_logger().info(message)
    return Completed(
        name="Nothing new",
        message=message,
        data={"run_id": run_id, "batches": [], "published": [], **extra},
    )


def _incremental(settings: Settings, run_id: str) -> dict | State:
    logger = get_run_logger()
    assert settings.batches_location is not None
    missing = missing_full_build(settings)
    if missing:
        raise NoFullBuildYet(
            f"{missing}: run the `daily` or `platform` deployment (or `olist run`) once "
            "before incremental runs"
        )
    stages = StageRecorder()
    with stages.stage("ingest"):
        landed = land_order_batches(
            settings.batches_location,
            settings.warehouse,
            run_id,
            settings.gcs_bucket_block,
            settings.max_batch_bytes,
        )
    if not landed["batches"]:
        extra = {k: v for k, v in landed.items() if k not in ("batches", "published")}
        return _nothing_new(
            run_id,
            f"no new order batch in {settings.batches_location}: the warehouse is unchanged",
            **extra,
        )
    with recorded_run(settings, run_id, stages):
        with stages.stage("contracts"):
            contract_results = clean_flow(settings, run_id=run_id, tables=[])
        # the row-level checks read only the rows gold has not published yet (this run's
        # and any a failed run left): a batch costs what it holds
        loaded_after = published_watermark(settings)
        with stages.stage("dbt"):
            dbt_results = transform_flow(
                settings,
                run_id=run_id,
                gold_schema=publish.AUDIT_SCHEMA,
                select=" ".join(INCREMENTAL_PUBLISH),
                # dbt's unit tests check the models' logic on fixed rows, not the data: the
                # daily build runs them, a batch does not pay for them again (about 2 s)
                exclude=UNIT_TESTS,
                loaded_after=loaded_after.isoformat(sep=" ") if loaded_after else None,
            )
        results, publication = audit_and_publish(
            settings,
            run_id,
            [*contract_results, *dbt_results],
            stages,
            suites=INCREMENTAL_SUITES,
            publish_only=list(INCREMENTAL_PUBLISH),
            loaded_after=loaded_after,
        )
        with warehouse.connect(settings.warehouse) as con:
            publish.record_partial_publication(con, run_id, INCREMENTAL_PUBLISH)
        report = report_run(settings, run_id, results, stages)
    logger.info(
        "%s batch(es) published to %s: %s",
        len(landed["batches"]),
        ", ".join(INCREMENTAL_PUBLISH),
        ", ".join(landed["batches"]),
    )
    return {
        "run_id": run_id,
        "published": list(INCREMENTAL_PUBLISH),
        # the marts published by the touched orders' rows (warehouse.publish.publish_marts)
        "published_by_rows": publication.by_rows,
        "report": str(report),
        "stages": [t.__dict__ for t in stages.timings],
        **landed,
    }
