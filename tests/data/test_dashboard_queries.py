"""The dashboard's queries on the real sample agree with other gold marts than the ones they
read, unfiltered and under each filter."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb
import pytest

from reporting.dashboard import queries
from reporting.dashboard.queries import Filters


@pytest.fixture(scope="module")
def con(sample_warehouse: Path):
    con = duckdb.connect(str(sample_warehouse), read_only=True)
    yield con
    con.close()


@pytest.fixture(scope="module")
def everything(con) -> Filters:
    months = queries.options(con).months
    return Filters(months[0], months[-1])


def test_unfiltered_headline_equals_the_daily_sales_mart(con, everything: Filters) -> None:
    h = queries.headline(con, everything)
    revenue, gmv, orders = con.execute(
        "select sum(revenue), sum(gmv), sum(orders) from gold.agg_sales_daily"
    ).fetchone()
    assert h["revenue"] == pytest.approx(float(revenue), abs=0.005)
    assert h["gmv"] == pytest.approx(float(gmv), abs=0.005)
    assert h["orders"] == orders
    assert h["aov"] == pytest.approx(float(gmv) / orders)


def test_a_state_filter_matches_the_geo_mart(con, everything: Filters) -> None:
    sp = Filters(everything.start, everything.end, states=("SP",))
    h = queries.headline(con, sp)
    revenue, orders = con.execute(
        "select sum(revenue), sum(orders) from gold.agg_geo_sales where customer_state = 'SP'"
    ).fetchone()
    assert h["revenue"] == pytest.approx(float(revenue), abs=0.005)
    assert h["orders"] == orders
    assert 0 < h["revenue"] < queries.headline(con, everything)["revenue"]
    assert set(queries.delivery(con, sp)["customer_state"]) == {"SP"}


def test_a_category_filter_counts_orders_with_an_item_in_it(con, everything: Filters) -> None:
    category = con.execute(
        "select category from gold.fct_order_items group by 1 order by count(*) desc limit 1"
    ).fetchone()[0]
    h = queries.headline(con, Filters(everything.start, everything.end, categories=(category,)))
    orders, revenue = con.execute(
        "select count(distinct order_id), "
        "sum(case when order_status = 'delivered' then price else 0 end) "
        "from gold.fct_order_items where category = ? "
        "and order_status not in ('canceled', 'unavailable')",
        [category],
    ).fetchone()
    assert h["orders"] == orders
    assert h["revenue"] == pytest.approx(float(revenue), abs=0.005)


def test_a_date_range_keeps_only_its_months(con, everything: Filters) -> None:
    months = queries.options(con).months
    start, end = months[len(months) // 3], months[2 * len(months) // 3]
    monthly = queries.monthly_sales(con, Filters(start, end))
    assert monthly["month"].min().date() >= start and monthly["month"].max().date() <= end
    revenue, orders = con.execute(
        "select sum(revenue), sum(orders) from gold.agg_sales_daily "
        "where date_trunc('month', date_day) between ? and ?",
        [start, end],
    ).fetchone()
    assert monthly["revenue"].sum() == pytest.approx(float(revenue), abs=0.01)
    assert monthly["orders"].sum() == orders


def test_an_empty_selection_gives_zeros_not_errors(con) -> None:
    nothing = Filters(date(1990, 1, 1), date(1990, 2, 1), states=("XX",))
    h = queries.headline(con, nothing)
    assert (h["revenue"], h["orders"], h["aov"], h["on_time_rate"]) == (0.0, 0, None, None)
    assert queries.monthly_sales(con, nothing).empty
    assert queries.churn_model_list(con, nothing).empty  # no scoring in this warehouse
