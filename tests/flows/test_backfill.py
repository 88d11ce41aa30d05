"""The backfill and incremental flows under the Prefect test harness, on three real days of
the sample. A backfill stops and resumes by day, publishes only when every day is done, and
ends in the gold tables of a full platform run on the same files; an incremental run
publishes a new batch to every mart built from the facts, and does nothing without one; the
next daily run rebuilds the rest even though no CSV changed."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import duckdb
import pytest

from config.settings import Settings, load_settings
from flows.backfill import backfill_flow
from flows.incremental import INCREMENTAL_PUBLISH, NoFullBuildYet, incremental_flow
from flows.platform import platform_flow
from synthetic.batches import generate_batch
from tests.gold_consistency import revenue_mismatches
from tests.sample_window import END, START
from tests.warehouse_query import value
from warehouse import publish
from warehouse.locking import warehouse_lock


def _settings(source: Path, work: Path) -> Settings:
    settings = load_settings(
        source_dir=source, warehouse=work / "olist.duckdb", reports_dir=work / "reports"
    )
    settings.batches_dir = None
    return settings


def _incremental_settings(window: Path, work: Path, copy_of: Settings | None = None) -> Settings:
    """Settings with a batch landing folder, on a copy of ``copy_of``'s warehouse if given."""
    settings = _settings(window, work)
    if copy_of is not None:
        shutil.copy(copy_of.warehouse, settings.warehouse)
    settings.batches_dir = work / "batches"
    return settings


@pytest.fixture(scope="module")
def full_run(window_run: Settings) -> Settings:
    """The platform flow (without training) on the window, the session's one
    (tests/flows/conftest.py): read it, or copy it first."""
    return window_run


def _gold(path: Path) -> dict[str, list[tuple]]:
    """Every gold table, rows sorted, without load timestamps (they differ per warehouse)."""
    con = duckdb.connect(str(path), read_only=True)
    try:
        tables = [
            t
            for (t,) in con.execute(
                "select table_name from information_schema.tables "
                "where table_schema = 'gold' order by 1"
            ).fetchall()
        ]
        out = {}
        for table in tables:
            columns = [
                c
                for (c,) in con.execute(
                    "select column_name from information_schema.columns where table_schema = "
                    "'gold' and table_name = ? order by ordinal_position",
                    [table],
                ).fetchall()
                if c != "_loaded_at"
            ]
            rows = con.execute(f"select {', '.join(columns)} from gold.{table}").fetchall()
            out[table] = sorted(rows, key=repr)
        return out
    finally:
        con.close()


def test_a_backfill_resumes_by_day_and_ends_in_the_full_runs_gold(
    window: Path, full_run: Settings, tmp_path: Path
) -> None:
    full = full_run

    filled = _settings(window, tmp_path / "backfill")
    first = backfill_flow(START, END, settings=filled, max_days=1)
    assert first["days_built"] == ["2018-03-01"]
    assert first["remaining"] == 2 and not first["published"]
    con = duckdb.connect(str(filled.warehouse), read_only=True)
    try:
        ledger = con.execute(
            "select partition_day, orders from ops.backfill_partitions order by 1"
        ).fetchall()
        published = con.execute(
            "select count(*) from information_schema.tables where table_schema = 'gold'"
        ).fetchone()
    finally:
        con.close()
    assert ledger == [(date(2018, 3, 1), 26)]
    assert published == (0,)  # nothing is published before every day is done

    second = backfill_flow(START, END, settings=filled)
    assert second["days_built"] == ["2018-03-02", "2018-03-03"]  # resumed, not restarted
    assert second["published"] and second["remaining"] == 0

    expected, actual = _gold(full.warehouse), _gold(filled.warehouse)
    assert set(actual) == set(expected)
    assert len(expected["fct_orders"]) == 74
    for table in expected:
        assert actual[table] == expected[table], table


def test_a_backfill_rebuilds_dim_customers_whole(
    window: Path, full_run: Settings, tmp_path: Path
) -> None:
    """A backfill (after a logic fix) rebuilds dim_customers from every order: its merge
    would keep a row whose totals still match the facts, as here every customer's."""
    settings = _settings(window, tmp_path)
    shutil.copy(full_run.warehouse, settings.warehouse)
    con = duckdb.connect(str(settings.warehouse))
    try:
        con.execute("update gold_audit.dim_customers set customer_city = 'before the fix'")
    finally:
        con.close()

    out = backfill_flow(START, START, settings=settings)

    assert out["published"]
    stale = "select count(*) from gold.dim_customers where customer_city = 'before the fix'"
    assert value(settings.warehouse, stale) == 0


@pytest.fixture(scope="module")
def after_batch(
    window: Path, full_run: Settings, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Settings, Path, dict]:
    """An incremental run of a 30-order batch on a copy of the full run: its settings, the
    batch file and the flow's result. Read it, or copy the warehouse first."""
    settings = _incremental_settings(window, tmp_path_factory.mktemp("batch"), copy_of=full_run)
    batch = generate_batch(window, settings.batches_dir, n_orders=30, seed=3)
    return settings, batch, incremental_flow(settings)


def _copy_after_batch(window: Path, after: Settings, work: Path) -> Settings:
    """Settings on a copy of ``after``'s warehouse and batch folder (archive included)."""
    settings = _incremental_settings(window, work, copy_of=after)
    assert after.batches_dir is not None and settings.batches_dir is not None
    shutil.copytree(after.batches_dir, settings.batches_dir)
    return settings


def test_an_incremental_run_publishes_a_new_batch_to_every_mart_built_from_the_facts(
    window: Path, after_batch: tuple[Settings, Path, dict], tmp_path: Path
) -> None:
    settings, batch, out = after_batch

    assert out["batches"] == [batch.name] and out["published"] == list(INCREMENTAL_PUBLISH)
    wh = settings.warehouse
    assert value(wh, "select count(*) from gold.fct_orders") == 74 + 30
    assert value(wh, "select sum(orders) from gold.agg_hourly_metrics") == value(
        wh,
        "select count(*) from gold.fct_orders "
        "where order_status not in ('canceled', 'unavailable')",
    )
    # the new orders' customers are in the dimension, and every revenue mart adds up
    assert (
        value(
            wh,
            "select count(*) from gold.fct_orders as o left join gold.dim_customers as c "
            "using (customer_unique_id) where c.customer_unique_id is null",
        )
        == 0
    )
    assert revenue_mismatches(wh) == []
    # the keyed marts got the touched orders' rows only (the run before published), and
    # gold is the audit schema again
    assert out["published_by_rows"] == list(publish.ROW_MARTS)
    for table in publish.ROW_MARTS:
        for a, b in (("gold", "gold_audit"), ("gold_audit", "gold")):
            differ = f"select count(*) from (select * from {a}.{table} except all select * from {b}.{table})"
            assert value(wh, differ) == 0, (table, a)
    assert (
        value(
            wh, f"select count(*) from quality.runs where run_id = '{out['run_id']}' and published"
        )
        == 1
    )
    assert not any(settings.batches_dir.glob("*.json"))  # filed away

    # row-level checks read the batch's 30 orders, and so does GX's uniqueness of the order
    # key (the orders the batch touched: warehouse.touched); dbt's the whole mart
    def observed(engine: str, check: str, column: str) -> int:
        return value(
            wh,
            "select observed_count from quality.check_results where run_id = "
            f"'{out['run_id']}' and table_name = 'fct_orders' and check_engine = '{engine}' "
            f"and check_name = '{check}' and column_name = '{column}'",
        )

    assert observed("dbt", "not_null:not_null_fct_orders_order_id", "order_id") == 30
    assert observed("dbt", "unique:unique_fct_orders_order_id", "order_id") == 74 + 30
    assert observed("great_expectations", "expect_column_values_to_not_be_null", "order_id") == 30
    assert observed("great_expectations", "expect_column_values_to_be_unique", "order_id") == 30
    # dbt's unit tests (the models' logic on fixed rows) are the daily build's
    unit_tests = value(
        wh,
        "select count(*) from quality.check_results where check_name like 'unit_test:%' "
        f"and run_id = '{out['run_id']}'",
    )
    assert unit_tests == 0

    # the next run (on a copy, so the other tests keep the fixture's) finds nothing new
    again_settings = _copy_after_batch(window, settings, tmp_path)
    again = incremental_flow(again_settings, return_state=True)
    assert again.name == "Nothing new" and "no order batch in" in again.message
    assert again.result()["batches"] == [] and again.result()["published"] == []
    assert value(again_settings.warehouse, "select count(*) from gold.fct_orders") == 74 + 30


def test_a_daily_run_after_an_incremental_batch_rebuilds_every_revenue_mart(
    window: Path, after_batch: tuple[Settings, Path, dict], tmp_path: Path
) -> None:
    settings = _copy_after_batch(window, after_batch[0], tmp_path)
    assert after_batch[2]["published"]

    # the daily deployment, with no CSV changed since the last full run
    daily = platform_flow(settings, skip_train=True, score=False)

    assert daily["up_to_date"] is False
    assert value(settings.warehouse, "select count(*) from gold.fct_orders") == 74 + 30
    assert revenue_mismatches(settings.warehouse) == []
    again = platform_flow(settings, skip_train=True, score=False, return_state=True)
    assert again.name == "Nothing new" and again.result()["up_to_date"] is True
    assert again.message.startswith(f"nothing new since run {daily['run_id']}")


def test_an_incremental_run_skips_while_another_run_holds_the_warehouse(
    window: Path, full_run: Settings, tmp_path: Path
) -> None:
    settings = _incremental_settings(window, tmp_path, copy_of=full_run)
    batch = generate_batch(window, settings.batches_dir, n_orders=5, seed=4)
    with warehouse_lock(settings.warehouse, holder="a daily build"):
        state = incremental_flow(settings, return_state=True)
    out = state.result()
    assert state.name == "Skipped" and state.message.startswith("warehouse busy, skipped")
    assert "a daily build" in out["skipped"] and out["published"] == []
    assert batch.exists()  # left for the next run


def test_an_incremental_run_needs_a_full_build_first(window: Path, tmp_path: Path) -> None:
    settings = _incremental_settings(window, tmp_path)
    generate_batch(window, settings.batches_dir, n_orders=5, seed=4)
    with pytest.raises(NoFullBuildYet, match="run the `daily` or `platform` deployment"):
        incremental_flow(settings)
