"""Orders dated after their load time (an order "placed" in 2099) stay out of gold: the
contract quarantines them with the rule they broke (their items, payments and reviews follow
as orphans), so neither the marts, nor dim_date, nor the run date of the recency marts move;
dbt's flag in silver stays as a second line; dim_date fails loudly when it cannot span gold."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import duckdb
import pytest

from tests.dbt_helpers import dbt, load_bronze
from tests.gold_consistency import revenue_mismatches
from tests.sample_window import ORDERS, ORDERS_IN_WINDOW

FUTURE = 5
TIMES = (
    "order_purchase_timestamp",
    "order_approved_at",
    "order_delivered_carrier_date",
    "order_delivered_customer_date",
    "order_estimated_delivery_date",
)


def _future_dated(window: Path, out: Path, n: int) -> list[str]:
    """A copy of the window whose first ``n`` orders are dated 2099 (every timestamp, so the
    row contracts, which compare them with each other, still pass)."""
    shutil.copytree(window, out)
    with (window / ORDERS).open(newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        header, rows = reader.fieldnames, list(reader)
    assert header is not None
    for row in rows[:n]:
        for column in TIMES:
            if row[column]:
                row[column] = "2099" + row[column][4:]
    with (out / ORDERS).open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=header, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    return [row["order_id"] for row in rows[:n]]


@pytest.fixture(scope="module")
def built(window: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, list[str]]:
    work = tmp_path_factory.mktemp("future_dated")
    future = _future_dated(window, work / "source", FUTURE)
    wh = work / "olist.duckdb"
    # 5 of the window's 74 orders: above the 1% gate a real run would refuse the file
    load_bronze(work / "source", wh, quarantine_threshold=0.2)
    dbt(wh, work, "build")  # fails on a critical test
    return wh, work, future


def test_future_dated_orders_are_quarantined_and_left_out_of_gold(built) -> None:
    wh, _, future = built
    con = duckdb.connect(str(wh), read_only=True)
    try:
        quarantined = con.execute(
            "select order_id from quarantine.orders "
            "where _reason like '%order_purchase_timestamp: not_after_load_time%' order by 1"
        ).fetchall()
        in_silver = con.execute(
            f"select count(*) from silver.stg_olist__orders where order_id in "
            f"({', '.join('?' for _ in future)})",
            future,
        ).fetchone()
        in_gold = con.execute(
            f"select count(*) from gold.fct_orders where order_id in "
            f"({', '.join('?' for _ in future)})",
            future,
        ).fetchone()
        orders = con.execute("select count(*) from gold.fct_orders").fetchone()
        items = con.execute(
            f"select count(*) from gold.fct_order_items where order_id in "
            f"({', '.join('?' for _ in future)})",
            future,
        ).fetchone()
    finally:
        con.close()
    assert quarantined == [(o,) for o in sorted(future)]
    assert in_silver == (0,) and in_gold == (0,) and items == (0,)
    assert orders == (ORDERS_IN_WINDOW - FUTURE,)
    assert revenue_mismatches(wh) == []


def test_the_build_passes_with_nothing_left_for_the_silver_flag(built) -> None:
    _, work, _ = built
    results = json.loads((work / "target" / "run_results.json").read_text(encoding="utf-8"))
    outcome = {
        r["unique_id"].split(".")[2]: (r["status"], r["failures"]) for r in results["results"]
    }
    assert outcome["stg_olist__orders_no_future_dated_order"] == ("pass", 0)
    spans = [v for k, v in outcome.items() if k.startswith("spans_every_order")]
    assert spans == [("pass", 0)]


def test_dim_date_and_the_run_date_ignore_future_dated_orders(built) -> None:
    wh, _, _ = built
    con = duckdb.connect(str(wh), read_only=True)
    try:
        last_day = con.execute("select max(date_day) from gold.dim_date").fetchone()
        purchase_days = con.execute(
            "select count(distinct cast(purchased_at as date)) from gold.fct_orders"
        ).fetchone()
        churn_bands = con.execute("select count(*) from gold.rpt_churn_risk").fetchone()
        trend_years = con.execute(
            "select distinct extract(year from date_day) from gold.rpt_revenue_trends_90d"
        ).fetchall()
    finally:
        con.close()
    assert last_day is not None and last_day[0].year < 2019
    # three days of purchases, all within 30 days of the run date: nobody is at churn risk
    assert purchase_days == (3,) and churn_bands == (0,)
    assert trend_years == [(2018,)]  # the 90-day window ends at the latest real purchase
