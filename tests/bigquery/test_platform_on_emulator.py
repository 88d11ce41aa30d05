"""The platform flow on the ``bigquery`` target, against crucible-emulator, under the Prefect
test harness: bronze goes to BigQuery, dbt builds the marts into ``gold_audit`` there, the GX
suites check them there, and only a run without a critical failure publishes them to
BigQuery's ``gold``; the customer scores land beside them. An incremental run then merges an
order batch into the audited facts in BigQuery and publishes them, and a backfill rebuilds the
window day by day there and publishes the same gold. A planted critical
defect fails the next run and leaves BigQuery's ``gold`` as it was.

The flow runs in a project of its own on the package's emulator (``olist-flow``), so the
package's other modules, which read ``olist-ci``, see nothing of it. The module also checks
that the ML stages read the same history from BigQuery as from DuckDB (the package's builds
of the whole sample, in ``olist-ci``). The runs keep nothing on the disk: the ledger, bronze,
the quality history and the runs are read back from BigQuery.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from google.cloud import bigquery

from config.settings import Settings, load_settings
from expectations import SUITES
from flows.backfill import backfill_flow
from flows.incremental import INCREMENTAL_PUBLISH, incremental_flow
from flows.platform import platform_flow
from ml.features import History, build_features, score_cutoff
from synthetic.batches import generate_batch
from tests.bigquery.builds import PROJECT, Build, scalar
from tests.sample_window import END, START
from tests.sample_window import ORDERS_IN_WINDOW as WINDOW_ORDERS
from tests.support.bigquery_emulator import Emulator, dbt_env
from warehouse import gold
from warehouse.bigquery import target_client
from warehouse.engine import BigQueryWarehouse

pytestmark = [pytest.mark.bigquery_emulator, pytest.mark.slow]

FLOW_PROJECT = "olist-flow"


# --- the ML stages read gold from BigQuery -----------------------------------------------------
def test_the_features_from_bigquery_equal_those_from_duckdb(
    built: Build, duckdb_built: Path, emulator: Emulator
) -> None:
    assert built.returncode == 0, f"dbt build --target bigquery failed:\n{built.report}"
    with BigQueryWarehouse(target_client(dbt_env(emulator.endpoint, PROJECT))) as wh:
        on_bigquery = gold.history_from(wh)
    con = duckdb.connect(str(duckdb_built), read_only=True)
    try:
        on_duckdb = History.from_warehouse(con)
    finally:
        con.close()
    assert len(on_bigquery.orders) == len(on_duckdb.orders) == 8135
    assert len(on_bigquery.items) == len(on_duckdb.items)
    assert on_bigquery.last_purchase == on_duckdb.last_purchase
    cutoff = score_cutoff(on_duckdb)
    assert score_cutoff(on_bigquery) == cutoff

    def features(history: History) -> pd.DataFrame:
        frame = build_features(history, cutoff)
        return frame.sort_values("customer_unique_id").reset_index(drop=True)

    expected = features(on_duckdb)
    assert len(expected) == 8016  # every customer with an order
    pd.testing.assert_frame_equal(
        features(on_bigquery), expected, check_dtype=False, check_exact=False, rtol=1e-9
    )


# --- the platform flow, published to BigQuery --------------------------------------------------
@pytest.fixture(scope="module")
def flow_env(emulator: Emulator, prefect_harness: None) -> Iterator[dict[str, str]]:
    """The ``OLIST_BQ_*`` variables for ``olist-flow``, and its datasets as docs/gcp.md makes
    them once (the flow runs never create datasets). The flows run against the session's
    Prefect test API (tests/conftest.py), not one of their own: a start costs 15-30 s."""
    env = dbt_env(emulator.endpoint, FLOW_PROJECT)
    with target_client(env) as target:
        for dataset in ("bronze", "gold"):
            target.client.create_dataset(f"{FLOW_PROJECT}.{dataset}", exists_ok=True)
    with pytest.MonkeyPatch.context() as patch:
        for name, setting in env.items():
            patch.setenv(name, setting)
        yield env


@pytest.fixture(scope="module")
def bq(flow_env: dict[str, str]) -> Iterator[bigquery.Client]:
    with target_client(flow_env) as target:
        yield target.client


@pytest.fixture(scope="module")
def settings(window: Path, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    work = tmp_path_factory.mktemp("platform_on_bigquery")
    settings = load_settings(
        source_dir=window,
        warehouse=work / "olist.duckdb",
        reports_dir=work / "reports",
        dbt_target="bigquery",
    )
    settings.batches_dir = work / "batches"
    return settings


def _count(bq: bigquery.Client, dataset: str, table: str) -> int:
    return int(scalar(bq, f"select count(*) from `{FLOW_PROJECT}`.{dataset}.{table}"))


def _tables(bq: bigquery.Client, dataset: str) -> set[str]:
    return {t.table_id for t in bq.list_tables(f"{FLOW_PROJECT}.{dataset}")}


@pytest.fixture(scope="module")
def good_run(settings: Settings, bq: bigquery.Client) -> dict:
    return platform_flow(settings, skip_train=True, score=True, run_id="bq-good")


def test_a_clean_run_audits_in_bigquery_and_publishes_there(
    good_run: dict, settings: Settings, bq: bigquery.Client
) -> None:
    assert not good_run["up_to_date"]
    marts = _tables(bq, "gold_audit")
    assert {"fct_orders", "fct_order_items", "dim_customers", "agg_hourly_metrics"} <= marts
    published = _tables(bq, "gold")
    assert marts <= published
    for mart in marts:  # gold is the audited copy
        assert _count(bq, "gold", mart) == _count(bq, "gold_audit", mart), mart
        differ = scalar(
            bq,
            f"select count(*) from (select * from `{FLOW_PROJECT}`.gold.{mart} except distinct "
            f"select * from `{FLOW_PROJECT}`.gold_audit.{mart})",
        )
        assert differ == 0, mart
    assert _count(bq, "gold", "fct_orders") == WINDOW_ORDERS
    # everything the run remembers is in BigQuery; nothing is left on the job's disk
    assert not settings.warehouse.exists()
    assert _count(bq, "bronze", "orders") == WINDOW_ORDERS
    assert (
        scalar(
            bq,
            "select count(*) from quality.runs where run_id = 'bq-good' and published "
            "and critical_failed = 0",
        )
        == 1
    )
    gx = scalar(
        bq,
        "select count(*) from quality.check_results where run_id = 'bq-good' "
        "and check_engine = 'great_expectations'",
    )
    assert gx >= len(SUITES)  # every suite ran, on BigQuery (nothing local to read)
    assert (settings.reports_dir / "quality" / "bq-good.html").is_file()


def test_the_scores_land_in_bigquery_gold_one_row_per_customer(
    good_run: dict, settings: Settings, bq: bigquery.Client
) -> None:
    customers = scalar(
        bq, f"select count(distinct customer_unique_id) from `{FLOW_PROJECT}`.gold.fct_orders"
    )
    assert customers > 0
    assert _count(bq, "gold", "customer_scores") == customers
    # nothing on the job's disk: the scores live in the target only
    assert not settings.warehouse.exists()
    # no champion in this run's registry: the scores are null, and say so by their version
    assert (
        scalar(
            bq,
            f"select count(*) from `{FLOW_PROJECT}`.gold.customer_scores "
            "where churn_probability is null and churn_model_version is null",
        )
        == customers
    )
    history = gold.read_history(settings)  # what the next training would read
    assert len(history.orders) == WINDOW_ORDERS


@pytest.fixture(scope="module")
def incremental_run(good_run: dict, settings: Settings, sample_dir: Path) -> dict:
    assert settings.batches_dir is not None
    generate_batch(sample_dir, settings.batches_dir, n_orders=15, seed=5)
    return incremental_flow(settings, run_id="bq-incr")


def test_an_incremental_run_merges_a_batch_in_bigquery_and_publishes_the_facts(
    incremental_run: dict, settings: Settings, bq: bigquery.Client
) -> None:
    assert incremental_run["published"] == list(INCREMENTAL_PUBLISH)
    batch_orders = _count(bq, "bronze", "batch_orders")
    assert batch_orders + _count(bq, "quarantine", "batch_orders") == 15  # appended once
    assert batch_orders > 0
    assert _count(bq, "gold", "fct_orders") == WINDOW_ORDERS + batch_orders
    assert _count(bq, "gold", "fct_orders") == _count(bq, "gold_audit", "fct_orders")
    new_customers = scalar(
        bq,
        f"select count(*) from `{FLOW_PROJECT}`.bronze.batch_customers b "
        f"left join `{FLOW_PROJECT}`.gold.dim_customers d using (customer_unique_id) "
        "where d.customer_unique_id is null",
    )
    assert new_customers == 0  # dim_customers was rebuilt and published with the facts
    # GX's row-level checks, and the order key's uniqueness, read the batch's orders only:
    # the orders it touched, found in BigQuery (warehouse.touched)
    for check in ("expect_column_values_to_not_be_null", "expect_column_values_to_be_unique"):
        observed = scalar(
            bq,
            "select observed_count from quality.check_results where run_id = 'bq-incr' "
            "and check_engine = 'great_expectations' and table_name = 'fct_orders' "
            f"and check_name = '{check}' and column_name = 'order_id'",
        )
        assert observed == batch_orders, check
    assert (
        scalar(
            bq,
            "select count(*) from quality.runs where run_id = 'bq-incr' and published",
        )
        == 1
    )


@pytest.fixture(scope="module")
def backfill_run(incremental_run: dict, settings: Settings) -> dict:
    return backfill_flow(START, END, settings, run_id="bq-backfill")


def test_a_backfill_rebuilds_the_days_in_bigquery_and_publishes_the_same_gold(
    backfill_run: dict, settings: Settings, bq: bigquery.Client
) -> None:
    assert backfill_run["published"] and backfill_run["remaining"] == 0
    assert backfill_run["days_built"] == ["2018-03-01", "2018-03-02", "2018-03-03"]
    per_day = scalar(
        bq,
        "select sum(orders) from ops.backfill_partitions where backfill_id = "
        f"'{backfill_run['backfill_id']}'",
    )
    assert per_day == WINDOW_ORDERS  # counted in BigQuery's gold_audit, day by day
    batch_orders = _count(bq, "bronze", "batch_orders")
    assert _count(bq, "gold", "fct_orders") == WINDOW_ORDERS + batch_orders  # nothing lost
    assert _count(bq, "gold", "fct_orders") == _count(bq, "gold_audit", "fct_orders")


def test_a_critical_failure_publishes_nothing_to_bigquery(
    backfill_run: dict, settings: Settings, bq: bigquery.Client, sample_dir: Path
) -> None:
    before = {mart: _count(bq, "gold", mart) for mart in _tables(bq, "gold_audit")}
    # a duplicated product id in BigQuery's bronze, and new batch orders so the run has
    # something to publish
    # (crucible miscounts the columns of ``insert … select * … limit 1``: a CTAS it is)
    products = f"`{FLOW_PROJECT}`.bronze.products"
    bq.query(
        f"create or replace table {products} as select * from {products} union all "
        f"(select * from {products} order by product_id limit 1)"
    ).result()
    assert settings.batches_dir is not None
    generate_batch(sample_dir, settings.batches_dir, n_orders=20, seed=11)
    with pytest.raises(ValueError, match="unique_stg_olist__products_product_id"):
        platform_flow(settings, skip_train=True, score=True, run_id="bq-bad")

    assert {mart: _count(bq, "gold", mart) for mart in before} == before  # untouched
    assert (
        scalar(
            bq,
            "select count(*) from quality.runs where run_id = 'bq-bad' and not published "
            "and verdict = 'fail'",
        )
        == 1
    )
