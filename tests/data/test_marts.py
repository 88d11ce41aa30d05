"""The gold marts' headline numbers on the real sample equal an independent pandas
computation from bronze (the rows that passed the contracts), not from dbt's SQL."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pandas as pd
import pytest

NOT_PLACED = ("canceled", "unavailable")
TS = "%Y-%m-%d %H:%M:%S"


@pytest.fixture(scope="module")
def con(sample_warehouse: Path):
    con = duckdb.connect(str(sample_warehouse), read_only=True)
    yield con
    con.close()


@pytest.fixture(scope="module")
def bronze(con) -> dict[str, pd.DataFrame]:
    orders = con.sql("select * from bronze.orders").df()
    for col in ("order_purchase_timestamp", "order_delivered_customer_date"):
        orders[col] = pd.to_datetime(orders[col].replace("", None), format=TS)
    orders["order_estimated_delivery_date"] = pd.to_datetime(
        orders["order_estimated_delivery_date"], format=TS
    )
    customers = con.sql("select * from bronze.customers").df()
    orders = orders.merge(
        customers[["customer_id", "customer_unique_id", "customer_state"]], on="customer_id"
    )
    items = con.sql("select * from bronze.order_items").df()
    items["price"] = items["price"].astype(float)
    items["freight_value"] = items["freight_value"].astype(float)
    payments = con.sql("select * from bronze.order_payments").df()
    payments["payment_value"] = payments["payment_value"].astype(float)
    return {"orders": orders, "items": items, "payments": payments}


def gold(con, sql: str):
    return con.sql(sql).fetchall()


def test_row_counts_match_orders_and_people(con, bronze) -> None:
    orders = bronze["orders"]
    assert gold(con, "select count(*) from gold.fct_orders")[0][0] == len(orders)
    assert gold(con, "select count(*) from gold.fct_order_items")[0][0] == len(bronze["items"])
    people = orders["customer_unique_id"].nunique()
    assert gold(con, "select count(*) from gold.dim_customers")[0][0] == people
    assert (
        gold(con, "select sum(new_customers) from gold.agg_customer_growth_monthly")[0][0] == people
    )
    placed_people = orders.loc[~orders["order_status"].isin(NOT_PLACED), "customer_unique_id"]
    assert gold(con, "select count(*) from gold.fct_customer_ltv")[0][0] == placed_people.nunique()


def test_revenue_gmv_and_orders_add_up_across_marts(con, bronze) -> None:
    orders, items = bronze["orders"], bronze["items"]
    delivered = set(orders.loc[orders["order_status"] == "delivered", "order_id"])
    placed = set(orders.loc[~orders["order_status"].isin(NOT_PLACED), "order_id"])
    revenue = items.loc[items["order_id"].isin(delivered), "price"].sum()
    placed_items = items[items["order_id"].isin(placed)]
    gmv = (placed_items["price"] + placed_items["freight_value"]).sum()

    daily = gold(con, "select sum(revenue), sum(gmv), sum(orders) from gold.agg_sales_daily")[0]
    assert float(daily[0]) == pytest.approx(revenue, abs=0.005)
    assert float(daily[1]) == pytest.approx(gmv, abs=0.005)
    assert daily[2] == len(placed)
    kpi_revenue = gold(con, "select sum(revenue) from gold.agg_sales_kpi")[0][0]
    assert float(kpi_revenue) == pytest.approx(revenue, abs=0.005)
    ltv = gold(con, "select sum(historical_revenue) from gold.fct_customer_ltv")[0][0]
    assert float(ltv) == pytest.approx(gmv, abs=0.005)  # placed orders' value, all customers
    assert revenue > 0 and gmv > revenue


def test_cohort_sizes_and_month_one_retention_count_placed_orders_only(con, bronze) -> None:
    orders = bronze["orders"]
    orders = orders[~orders["order_status"].isin(NOT_PLACED)].copy()
    orders["month"] = orders["order_purchase_timestamp"].dt.to_period("M")
    first = orders.groupby("customer_unique_id")["month"].min().rename("cohort")
    sizes = first.value_counts()
    activity = orders.merge(first, left_on="customer_unique_id", right_index=True)
    activity["since"] = (activity["month"] - activity["cohort"]).apply(lambda d: d.n)
    month_one = activity[activity["since"] == 1].groupby("cohort")["customer_unique_id"].nunique()

    rows = gold(
        con,
        "select strftime(cohort_month, '%Y-%m'), months_since, cohort_size, retained "
        "from gold.agg_cohort_retention where months_since in (0, 1)",
    )
    mart_sizes = {c: size for c, since, size, _ in rows if since == 0}
    assert mart_sizes == {str(p): int(n) for p, n in sizes.items()}
    mart_month_one = {c: kept for c, since, _, kept in rows if since == 1 and kept}
    assert mart_month_one == {str(p): int(n) for p, n in month_one.items()}
    assert sum(mart_month_one.values()) > 0  # the sample has repeat buyers


def test_payments_top_product_and_late_rate(con, bronze) -> None:
    orders, items, payments = bronze["orders"], bronze["items"], bronze["payments"]
    placed = orders.loc[~orders["order_status"].isin(NOT_PLACED), "order_id"]
    paid = payments.loc[payments["order_id"].isin(placed), "payment_value"].sum()
    mart_paid = gold(con, "select sum(payment_value) from gold.agg_payment_behavior")[0][0]
    assert float(mart_paid) == pytest.approx(paid, abs=0.005)

    delivered = orders[orders["order_status"] == "delivered"]
    lines = items.merge(delivered[["order_id", "order_purchase_timestamp"]], on="order_id")
    lines["month"] = lines["order_purchase_timestamp"].dt.strftime("%Y-%m")
    busiest = lines["month"].value_counts().idxmax()
    month = lines[lines["month"] == busiest].groupby("product_id")["price"].agg(["sum", "count"])
    top = month.sort_values(["sum", "count"], ascending=False).index[0]
    mart_top = gold(
        con,
        "select product_id from gold.agg_top_products where grain = 'month' "
        f"and strftime(period_start, '%Y-%m') = '{busiest}' and revenue_rank = 1",
    )
    assert mart_top == [(top,)]

    sp = delivered[
        (delivered["customer_state"] == "SP") & delivered["order_delivered_customer_date"].notna()
    ]
    # late = the delivery date is after the estimated date (an order delivered on the
    # estimated day, at any hour, is on time)
    delivered_day = sp["order_delivered_customer_date"].dt.normalize()
    late = (delivered_day > sp["order_estimated_delivery_date"].dt.normalize()).mean()
    mart_late = gold(
        con,
        "select late_rate, delivered_orders from gold.agg_delivery_performance "
        "where dimension = 'customer_state' and dimension_value = 'SP'",
    )[0]
    assert float(mart_late[0]) == pytest.approx(late, abs=0.00005)
    assert mart_late[1] == len(sp)


def test_churn_risk_counts_customers_by_days_since_last_order(con, bronze) -> None:
    orders = bronze["orders"]
    run_date = orders["order_purchase_timestamp"].max().normalize()
    last = orders.groupby("customer_unique_id")["order_purchase_timestamp"].max().dt.normalize()
    days = (run_date - last).dt.days
    expected = {
        "30-59": int(((days >= 30) & (days < 60)).sum()),
        "60-89": int(((days >= 60) & (days < 90)).sum()),
        "90+": int((days >= 90).sum()),
    }
    rows = dict(gold(con, "select risk_band, count(*) from gold.rpt_churn_risk group by 1"))
    assert rows == expected
