"""The KPI dashboard: a Streamlit script over the published gold marts (read-only).

Started by ``make dashboard`` (``python -m reporting.dashboard``); the warehouse comes from
``OLIST_WAREHOUSE`` like everywhere else. Every number is a query in
:mod:`reporting.dashboard.queries`; this file only lays them out.
"""

from __future__ import annotations

from datetime import date

import altair as alt
import duckdb
import pandas as pd
import streamlit as st

from config.settings import load_settings
from reporting.dashboard import queries
from reporting.dashboard.queries import Filters
from warehouse import local as warehouse

st.set_page_config(
    page_title="Olist KPIs", page_icon="📦", layout="wide", initial_sidebar_state="expanded"
)


def money(value: float | None) -> str:
    return "–" if value is None else f"R$ {value:,.2f}"


def share(value: float | None) -> str:
    return "–" if value is None else f"{value:.1%}"


def month_label(value) -> str:  # noqa: ANN001 - a date from DuckDB
    return pd.Timestamp(value).strftime("%Y-%m")


def _month_param(name: str, months: list[date], default: date) -> date:
    value = st.query_params.get(name)
    return next((m for m in months if month_label(m) == value), default)


def sidebar_filters(options: queries.Options) -> Filters:
    """The filters, starting from the link's query parameters when it has them
    (``?from=2017-01&to=2017-12&state=SP&state=RJ&category=toys``), so a view can be shared."""
    st.sidebar.header("Filters")
    months = options.months
    start, end = st.sidebar.select_slider(
        "Purchase months",
        options=months,
        value=(_month_param("from", months, months[0]), _month_param("to", months, months[-1])),
        format_func=month_label,
    )
    states = st.sidebar.multiselect(
        "Customer state",
        options.states,
        default=[s for s in st.query_params.get_all("state") if s in options.states],
        placeholder="All states",
    )
    categories = st.sidebar.multiselect(
        "Product category",
        options.categories,
        default=[c for c in st.query_params.get_all("category") if c in options.categories],
        placeholder="All categories",
    )
    return Filters(start, end, tuple(states), tuple(categories))


def headline(con: duckdb.DuckDBPyConnection, f: Filters) -> None:
    h = queries.headline(con, f)
    money_cols, count_cols = st.columns(3), st.columns(4)
    money_cols[0].metric("Revenue", money(h["revenue"]), help="Item price of delivered orders.")
    money_cols[1].metric("GMV", money(h["gmv"]), help="Price + freight of placed orders.")
    money_cols[2].metric("AOV", money(h["aov"]), help="GMV / orders.")
    count_cols[0].metric(
        "Orders", f"{h['orders']:,}", help="Placed orders (not canceled or unavailable)."
    )
    count_cols[1].metric("Customers", f"{h['customers']:,}", help="Distinct customer_unique_id.")
    count_cols[2].metric(
        "On-time rate",
        share(h["on_time_rate"]),
        help="Delivered orders whose delivery date is on or before the estimated date.",
    )
    review = h["avg_review"]
    count_cols[3].metric(
        "Avg review",
        "–" if review is None else f"{review:.2f} / 5",
        help="Mean latest-review score of the reviewed orders.",
    )


def sales(con: duckdb.DuckDBPyConnection, f: Filters) -> None:
    st.subheader("Revenue and orders over time")
    monthly = queries.monthly_sales(con, f)
    if monthly.empty:
        st.info("No orders in this selection.")
        return
    left, right = st.columns(2)
    left.line_chart(monthly, x="month", y=["revenue", "gmv"], y_label="R$", x_label="month")
    right.bar_chart(monthly, x="month", y="orders", y_label="placed orders", x_label="month")


def cohorts(con: duckdb.DuckDBPyConnection, f: Filters) -> None:
    st.subheader("Cohort retention")
    st.caption(
        "Customers by the month of their first placed order; the share placing an order again "
        "N months later (placed orders only). Date range applies to the cohort month; "
        "state and category do not apply."
    )
    frame = queries.cohorts(con, f)
    if frame.empty:
        st.info("No cohort in this date range.")
        return
    frame["cohort"] = frame["cohort_month"].map(month_label)
    chart = (
        alt.Chart(frame[frame["months_since"] > 0])
        .mark_rect()
        .encode(
            x=alt.X("months_since:O", title="months since first order"),
            y=alt.Y("cohort:O", title="cohort"),
            color=alt.Color("retention_rate:Q", title="retention", scale=alt.Scale(scheme="blues")),
            tooltip=["cohort", "months_since", "cohort_size", "retained", "retention_rate"],
        )
    )
    st.altair_chart(chart, width="stretch")


def sellers(con: duckdb.DuckDBPyConnection, f: Filters) -> None:
    st.subheader("Top sellers")
    st.caption(
        "By revenue in the date range (fct_seller_performance); state and category do not apply."
    )
    st.dataframe(
        queries.top_sellers(con, f),
        hide_index=True,
        column_config={
            "revenue": st.column_config.NumberColumn(format="R$ %.2f"),
            "avg_review_score": st.column_config.NumberColumn(format="%.2f"),
        },
    )


def delivery(con: duckdb.DuckDBPyConnection, f: Filters) -> None:
    st.subheader("Delivery")
    st.caption("Delivered orders by customer state; late = delivered on a date after the estimate.")
    frame = queries.delivery(con, f)
    if frame.empty:
        st.info("No delivered order in this selection.")
        return
    left, right = st.columns(2)
    left.bar_chart(frame, x="customer_state", y="late_rate", y_label="late rate", x_label="state")
    right.bar_chart(
        frame, x="customer_state", y="avg_delivery_days", y_label="days", x_label="state"
    )


def payments_and_geography(con: duckdb.DuckDBPyConnection, f: Filters) -> None:
    left, right = st.columns(2)
    left.subheader("Payments")
    pay = queries.payments(con, f)
    left.bar_chart(pay, x="payment_type", y="payment_value", y_label="R$", x_label="payment type")
    left.dataframe(
        pay,
        hide_index=True,
        column_config={
            "payment_value": st.column_config.NumberColumn(format="R$ %.2f"),
            "avg_installments": st.column_config.NumberColumn(format="%.1f"),
        },
    )
    right.subheader("Geography")
    geo = queries.geography(con, f)
    right.bar_chart(geo, x="customer_state", y="revenue", y_label="revenue (R$)", x_label="state")


def churn(con: duckdb.DuckDBPyConnection, f: Filters) -> None:
    st.subheader("Churn risk")
    st.caption(
        "Customers by days since their last order, measured to the run date (rpt_churn_risk); "
        "state applies, date range and category do not."
    )
    left, right = st.columns(2)
    left.bar_chart(queries.churn_bands(con, f), x="risk_band", y="customers", x_label="days")
    listed = queries.churn_model_list(con, f)
    if listed.empty:
        right.info("No churn-model scores yet: `olist train` and `olist score` write them.")
    else:
        right.caption("The churn model's customers with the most value at risk")
        right.dataframe(
            listed,
            hide_index=True,
            column_config={
                "churn_probability": st.column_config.NumberColumn(format="%.3f"),
                "predicted_ltv": st.column_config.NumberColumn(format="R$ %.2f"),
                "value_at_risk": st.column_config.NumberColumn(format="R$ %.2f"),
            },
        )


def main() -> None:
    settings = load_settings()
    st.title("Olist marketplace KPIs")
    if not settings.warehouse.is_file():
        st.error(f"No warehouse at {settings.warehouse}: run `make run` (or `olist run`) first.")
        return
    try:
        with warehouse.connect(settings.warehouse, read_only=True) as con:
            if not queries.has_table(con, "agg_sales_kpi"):
                st.error(f"{settings.warehouse} has no published gold marts yet: run `olist run`.")
                return
            f = sidebar_filters(queries.options(con))
            headline(con, f)
            sales(con, f)
            cohorts(con, f)
            left, right = st.columns(2)
            with left:
                delivery(con, f)
            with right:
                churn(con, f)
            payments_and_geography(con, f)
            sellers(con, f)
    except duckdb.IOException as err:
        st.warning(f"The warehouse is busy (a run is writing it): reload in a moment. {err}")
        return
    st.caption(f"Published gold marts of {settings.warehouse}.", help="olist-dashboard-end")


main()
