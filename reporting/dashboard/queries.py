"""The dashboard's numbers: plain functions over a read-only connection to the published
gold schema, one per section, each taking the same :class:`Filters`.

Definitions are the marts' own (``dbt/README.md``): revenue = item price of delivered
orders, GMV = price + freight of placed orders, orders = placed orders, late = delivered on
a date after the estimated date. Filters work at month grain, the grain of the KPI mart;
a section whose mart has no state or category says so instead of pretending.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import duckdb
import pandas as pd

PLACED = "order_status not in ('canceled', 'unavailable')"


@dataclass(frozen=True)
class Filters:
    """Purchase months ``start``..``end`` (first days, both included); empty = every state or
    category."""

    start: date
    end: date
    states: tuple[str, ...] = field(default_factory=tuple)
    categories: tuple[str, ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class Options:
    months: list[date]
    states: list[str]
    categories: list[str]


def _df(con: duckdb.DuckDBPyConnection, sql: str, params: list | None = None) -> pd.DataFrame:
    return con.execute(sql, params or []).df()


def has_table(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    return bool(
        con.execute(
            "select count(*) from information_schema.tables "
            "where table_schema = 'gold' and table_name = ?",
            [name],
        ).fetchone()[0]
    )


def options(con: duckdb.DuckDBPyConnection) -> Options:
    months = [
        r[0]
        for r in con.execute(
            "select distinct month_start from gold.agg_sales_kpi order by 1"
        ).fetchall()
    ]
    states = [
        r[0]
        for r in con.execute(
            "select distinct customer_state from gold.agg_sales_kpi "
            "where customer_state is not null order by 1"
        ).fetchall()
    ]
    categories = [
        r[0]
        for r in con.execute(
            "select distinct category from gold.agg_sales_kpi order by 1"
        ).fetchall()
    ]
    return Options(months, states, categories)


def _kpi_where(f: Filters, month: str = "month_start") -> tuple[str, list]:
    """Filters on a table with a month column, customer_state and category."""
    clauses, params = [f"{month} between ? and ?"], [f.start, f.end]
    if f.states:
        clauses.append("list_contains(?, customer_state)")
        params.append(list(f.states))
    if f.categories:
        clauses.append("list_contains(?, category)")
        params.append(list(f.categories))
    return " and ".join(clauses), params


def _orders_where(f: Filters, alias: str = "o") -> tuple[str, list]:
    """Filters on gold.fct_orders: purchase month, state, and (category) an item in one of
    the categories."""
    clauses = [f"date_trunc('month', {alias}.purchased_at) between ? and ?"]
    params: list = [f.start, f.end]
    if f.states:
        clauses.append(f"list_contains(?, {alias}.customer_state)")
        params.append(list(f.states))
    if f.categories:
        clauses.append(
            "exists (select 1 from gold.fct_order_items i "
            f"where i.order_id = {alias}.order_id and list_contains(?, i.category))"
        )
        params.append(list(f.categories))
    return " and ".join(clauses), params


def headline(con: duckdb.DuckDBPyConnection, f: Filters) -> dict[str, float | int | None]:
    """Revenue and GMV (agg_sales_kpi), placed orders and customers, AOV, on-time rate and
    mean review (fct_orders)."""
    where, params = _kpi_where(f)
    revenue, gmv = con.execute(
        f"select coalesce(sum(revenue), 0), coalesce(sum(gmv), 0) from gold.agg_sales_kpi "
        f"where {where}",
        params,
    ).fetchone()
    where, params = _orders_where(f)
    orders, customers, delivered, on_time, review = con.execute(
        f"""
        select
            count(case when {PLACED} then 1 end),
            count(distinct case when {PLACED} then customer_unique_id end),
            count(case when order_status = 'delivered' and delivered_to_customer_at is not null
                then 1 end),
            count(case when order_status = 'delivered' and delivered_to_customer_at is not null
                and not is_late then 1 end),
            avg(review_score)
        from gold.fct_orders o where {where}
        """,
        params,
    ).fetchone()
    return {
        "revenue": float(revenue),
        "gmv": float(gmv),
        "orders": int(orders),
        "customers": int(customers),
        "aov": float(gmv) / orders if orders else None,
        "on_time_rate": on_time / delivered if delivered else None,
        "avg_review": float(review) if review is not None else None,
    }


def monthly_sales(con: duckdb.DuckDBPyConnection, f: Filters) -> pd.DataFrame:
    """Per purchase month: revenue and GMV (agg_sales_kpi) and placed orders (fct_orders)."""
    kpi_where, kpi_params = _kpi_where(f)
    orders_where, orders_params = _orders_where(f)
    return _df(
        con,
        f"""
        with money as (
            select month_start, sum(revenue) as revenue, sum(gmv) as gmv
            from gold.agg_sales_kpi where {kpi_where} group by month_start
        ),
        counts as (
            select cast(date_trunc('month', purchased_at) as date) as month_start,
                count(*) as orders
            from gold.fct_orders o where {orders_where} and {PLACED} group by 1
        )
        select coalesce(money.month_start, counts.month_start) as month,
            cast(coalesce(money.revenue, 0) as double) as revenue,
            cast(coalesce(money.gmv, 0) as double) as gmv,
            coalesce(counts.orders, 0) as orders
        from money full join counts on money.month_start = counts.month_start
        order by month
        """,
        kpi_params + orders_params,
    )


def cohorts(con: duckdb.DuckDBPyConnection, f: Filters) -> pd.DataFrame:
    """agg_cohort_retention for the cohorts in the date range (all states and categories)."""
    return _df(
        con,
        "select cohort_month, months_since, cohort_size, retained, "
        "cast(retention_rate as double) as retention_rate from gold.agg_cohort_retention "
        "where cohort_month between ? and ? order by cohort_month, months_since",
        [f.start, f.end],
    )


def top_sellers(con: duckdb.DuckDBPyConnection, f: Filters, limit: int = 15) -> pd.DataFrame:
    """fct_seller_performance over the date range: the sellers with the most revenue."""
    return _df(
        con,
        """
        select p.seller_id, s.seller_city, s.seller_state,
            sum(p.orders) as orders, sum(p.items) as items,
            cast(sum(p.revenue) as double) as revenue,
            cast(avg(p.avg_review_score) as double) as avg_review_score,
            count(case when p.is_delay_outlier then 1 end) as delay_outlier_months
        from gold.fct_seller_performance p
        left join gold.dim_sellers s on p.seller_id = s.seller_id
        where p.month_start between ? and ?
        group by p.seller_id, s.seller_city, s.seller_state
        order by revenue desc, p.seller_id
        limit ?
        """,
        [f.start, f.end, limit],
    )


def delivery(con: duckdb.DuckDBPyConnection, f: Filters) -> pd.DataFrame:
    """Delivered orders per customer state: count, mean delivery days, late rate."""
    where, params = _orders_where(f)
    return _df(
        con,
        f"""
        select customer_state, count(*) as delivered_orders,
            avg(delivery_days) as avg_delivery_days,
            avg(case when is_late then 1.0 else 0.0 end) as late_rate
        from gold.fct_orders o
        where {where} and order_status = 'delivered' and delivered_to_customer_at is not null
        group by customer_state order by delivered_orders desc, customer_state
        """,
        params,
    )


def payments(con: duckdb.DuckDBPyConnection, f: Filters) -> pd.DataFrame:
    """Payments of placed orders by payment type (fct_order_payments)."""
    where, params = _orders_where(f)
    return _df(
        con,
        f"""
        select p.payment_type, count(distinct p.order_id) as orders,
            cast(sum(p.payment_value) as double) as payment_value,
            avg(p.payment_installments) as avg_installments
        from gold.fct_order_payments p
        inner join gold.fct_orders o on p.order_id = o.order_id
        where {where} and o.{PLACED}
        group by p.payment_type order by payment_value desc
        """,
        params,
    )


def geography(con: duckdb.DuckDBPyConnection, f: Filters) -> pd.DataFrame:
    """Revenue and GMV per customer state (agg_sales_kpi)."""
    where, params = _kpi_where(f)
    return _df(
        con,
        f"""
        select customer_state, cast(sum(revenue) as double) as revenue,
            cast(sum(gmv) as double) as gmv
        from gold.agg_sales_kpi where {where} and customer_state is not null
        group by customer_state order by revenue desc, customer_state
        """,
        params,
    )


def churn_bands(con: duckdb.DuckDBPyConnection, f: Filters) -> pd.DataFrame:
    """rpt_churn_risk: customers by days since their last order (state filter only: a
    customer's risk is measured to the run date, not within the date range)."""
    clauses, params = ["true"], []
    if f.states:
        clauses.append("list_contains(?, customer_state)")
        params.append(list(f.states))
    return _df(
        con,
        f"""
        select risk_band, count(*) as customers
        from gold.rpt_churn_risk where {" and ".join(clauses)}
        group by risk_band order by risk_band
        """,
        params,
    )


def churn_model_list(con: duckdb.DuckDBPyConnection, f: Filters, limit: int = 20) -> pd.DataFrame:
    """The churn model's top customers by value at risk (gold.rpt_customer_churn_risk, written
    by scoring); empty before the first scoring run."""
    if not has_table(con, "rpt_customer_churn_risk"):
        return pd.DataFrame()
    clauses, params = ["true"], []
    if f.states:
        clauses.append("list_contains(?, c.customer_state)")
        params.append(list(f.states))
    return _df(
        con,
        f"""
        select r.risk_rank, r.customer_unique_id, c.customer_state,
            r.churn_probability, r.predicted_ltv, r.value_at_risk, r.recency_days
        from gold.rpt_customer_churn_risk r
        left join gold.dim_customers c on r.customer_unique_id = c.customer_unique_id
        where {" and ".join(clauses)}
        order by r.risk_rank limit ?
        """,
        [*params, limit],
    )
