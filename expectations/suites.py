"""Expectation suites, one per warehouse table that matters, defined in code.

The same suites run on DuckDB and on BigQuery (tests/bigquery/test_gx_on_emulator.py checks
that both give the same verdicts). On BigQuery, avoid ``expect_column_values_to_be_between``
with bounds on a ``TIMESTAMP`` column: GX renders them as ``DATETIME`` literals, which the
emulator compares but real BigQuery rejects (``TIMESTAMP >= DATETIME``). The freshness check
uses ``expect_column_max_to_be_between`` instead, with a floor of the engine's kind.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

import great_expectations.expectations as gxe
from great_expectations.expectations.expectation import Expectation

from warehouse.touched import in_list

ORDER_STATUSES = [
    "created",
    "approved",
    "invoiced",
    "processing",
    "shipped",
    "delivered",
    "canceled",
    "unavailable",
]


def _meta(rationale: str) -> dict[str, str]:
    return {"rationale": rationale}


@dataclass(frozen=True)
class Baseline:
    """What the last good publication looked like, so a run can be compared with it.

    Empty on the first run: the history-based expectations are then not built. Bands are
    wide on purpose: they catch a broken feed, not a slow trend.
    """

    row_counts: dict[str, int] = field(default_factory=dict)
    mean_order_value: float | None = None
    five_star_share: float | None = None
    # freshness: the latest purchase must not be older than this (None = not checked);
    # naive UTC for DuckDB, timezone-aware for BigQuery (quality.checks.freshness_floor)
    freshness_floor: datetime | None = None
    # the published-to-audit schema map: reconciliation reads silver beside the audit
    silver_schema: str = "silver"
    # not a figure of the publication but the run's scope: the orders an incremental run
    # touched (``warehouse.touched``; None = every order). The revenue reconciliation then
    # compares what the run changes, against the published gold it starts from.
    touched_orders: tuple[str, ...] | None = None
    published_schema: str = "gold"


ROW_COUNT_DROP = 0.10  # a table shrinking by more than this since the last publication
ROW_COUNT_GROWTH = 0.50  # or growing by more than this in one run
MEAN_BAND = 0.25  # mean order value within ±25% of the last publication's
SHARE_BAND = 0.10  # 5-star share within ±10 points


def _row_count_change(table: str, baseline: Baseline) -> list[Expectation]:
    previous = baseline.row_counts.get(table)
    if not previous:
        return []
    return [
        gxe.ExpectTableRowCountToBeBetween(
            min_value=int(previous * (1 - ROW_COUNT_DROP)),
            max_value=int(previous * (1 + ROW_COUNT_GROWTH)) + 1,
            severity="warning",
            meta=_meta(
                f"Row count vs the last publication ({previous:,}): a drop above "
                f"{ROW_COUNT_DROP:.0%} or growth above {ROW_COUNT_GROWTH:.0%} in one run means "
                "a truncated or duplicated feed."
            ),
        )
    ]


def fct_orders(baseline: Baseline | None = None) -> list[Expectation]:
    baseline = baseline or Baseline()
    return [
        *_row_count_change("fct_orders", baseline),
        *_order_distributions(baseline),
        gxe.ExpectColumnValuesToNotBeNull(
            column="order_id",
            severity="critical",
            meta=_meta("An order without a key cannot be joined or counted."),
        ),
        gxe.ExpectColumnValuesToBeUnique(
            column="order_id",
            severity="critical",
            meta=_meta("Duplicate orders double revenue and every KPI built on it."),
        ),
        gxe.ExpectColumnValuesToNotBeNull(
            column="customer_unique_id",
            severity="critical",
            meta=_meta("Customer-grain KPIs and the ML features need the person behind the order."),
        ),
        gxe.ExpectColumnValuesToBeInSet(
            column="order_status",
            value_set=ORDER_STATUSES,
            severity="critical",
            meta=_meta("Revenue and GMV definitions depend on the known status set."),
        ),
        gxe.ExpectColumnValuesToBeBetween(
            column="order_value",
            min_value=0,
            severity="critical",
            meta=_meta("A negative order value is an arithmetic or parsing error."),
        ),
        gxe.ExpectColumnValuesToBeBetween(
            column="review_score",
            min_value=1,
            max_value=5,
            severity="warning",
            meta=_meta("Scores outside 1-5 mean the review feed changed."),
        ),
        gxe.ExpectColumnValuesToNotBeNull(
            column="delivered_to_customer_at",
            row_condition='col("order_status")=="delivered"',
            condition_parser="great_expectations",
            severity="warning",
            meta=_meta("Delivered orders should have a delivery date; Olist misses a few."),
        ),
        gxe.ExpectColumnMeanToBeBetween(
            column="delivery_days",
            min_value=1,
            max_value=45,
            severity="warning",
            meta=_meta(
                "Mean delivery time outside 1-45 days signals a logistics incident or bad dates."
            ),
        ),
        gxe.ExpectColumnProportionOfNonNullValuesToBeBetween(
            column="review_score",
            min_value=0.5,
            max_value=1.0,
            severity="info",
            meta=_meta("Review coverage, tracked for trends."),
        ),
    ]


def _order_distributions(baseline: Baseline) -> list[Expectation]:
    out: list[Expectation] = []
    if baseline.mean_order_value:
        mean = baseline.mean_order_value
        out.append(
            gxe.ExpectColumnMeanToBeBetween(
                column="order_value",
                min_value=round(mean * (1 - MEAN_BAND), 2),
                max_value=round(mean * (1 + MEAN_BAND), 2),
                severity="warning",
                meta=_meta(
                    f"Mean order value within ±{MEAN_BAND:.0%} of the last publication's "
                    f"({mean:.2f}): a shift means prices, freight or the item feed changed."
                ),
            )
        )
    if baseline.five_star_share is not None:
        share = baseline.five_star_share
        out.append(
            gxe.ExpectColumnValuesToBeInSet(
                column="review_score",
                value_set=[5],
                mostly=max(0.0, round(share - SHARE_BAND, 4)),
                severity="warning",
                meta=_meta(
                    f"Review mix: the 5-star share (of reviewed orders) may fall at most "
                    f"{SHARE_BAND:.0%} points below the last publication's ({share:.1%}); a "
                    "collapse means the review feed or its join broke."
                ),
            )
        )
    if baseline.freshness_floor is not None:
        out.append(
            gxe.ExpectColumnMaxToBeBetween(
                column="purchased_at",
                min_value=baseline.freshness_floor,
                severity="warning",
                meta=_meta(
                    "Freshness: the latest purchase must be recent relative to the run date "
                    "(OLIST_FRESHNESS_MAX_AGE_DAYS)."
                ),
            )
        )
    return out


def agg_sales_daily(baseline: Baseline | None = None) -> list[Expectation]:
    baseline = baseline or Baseline()
    if baseline.touched_orders is not None:
        reconciliation = _revenue_change_reconciles(baseline, baseline.touched_orders)
    else:
        reconciliation = _revenue_reconciles(baseline)
    return [
        reconciliation,
        gxe.ExpectColumnValuesToBeUnique(
            column="date_day",
            severity="critical",
            meta=_meta("One row per day, or daily KPIs double count."),
        ),
    ]


# the silver orders gold is built from (dbt's not_future_dated): an order dated after its
# load time is left out of gold on purpose and flagged by a warning test in dbt
IN_GOLD = "not coalesce(o.is_future_dated, false)"


def _revenue_reconciles(baseline: Baseline) -> Expectation:
    silver = baseline.silver_schema
    return gxe.UnexpectedRowsExpectation(
        unexpected_rows_query=(
            "select gold_revenue, silver_revenue from "
            "(select coalesce(sum(revenue), 0) as gold_revenue from {batch}) as g, "
            "(select coalesce(sum(i.price), 0) as silver_revenue "
            f"from {silver}.stg_olist__order_items as i "
            f"join {silver}.stg_olist__orders as o on i.order_id = o.order_id "
            f"where o.order_status = 'delivered' and {IN_GOLD}) as s "
            "where abs(gold_revenue - silver_revenue) >= 0.01"
        ),
        description="gold revenue equals silver revenue",
        severity="critical",
        meta=_meta(
            "Reconciliation: revenue in gold (sum of the daily mart) must equal the item "
            "price of delivered orders in silver (those gold is built from: not future-dated); "
            "a gap means orders were lost or doubled between layers."
        ),
    )


def _revenue_change_reconciles(baseline: Baseline, touched: tuple[str, ...]) -> Expectation:
    """The reconciliation of an incremental run, from totals: the silver total is carried
    by the published gold, which passed this check when it was published, and only the
    touched orders' silver rows changed since (``warehouse.touched``). So the revenue the
    run adds to gold must equal what its touched orders now make in silver minus what gold
    held for them. Both published figures come from one table, ``fct_orders``: on BigQuery
    a publish copies mart by mart, and one cut off between the daily mart and the facts
    leaves them a run apart until the next publish, which the run's touched orders (still
    after the facts' watermark) then cover. It reads the audit's daily mart, the published
    order facts and the touched orders' silver rows."""
    silver, published = baseline.silver_schema, baseline.published_schema

    def of_touched(column: str) -> str:
        return f"{column} in ({in_list(touched)})" if touched else "false"

    return gxe.UnexpectedRowsExpectation(
        unexpected_rows_query=(
            "select added, silver_now, gold_before from "
            "(select (select coalesce(sum(revenue), 0) from {batch}) - "
            "(select coalesce(sum(items_value), 0) "
            f"from {published}.fct_orders where order_status = 'delivered') as added) as a, "
            "(select coalesce(sum(i.price), 0) as silver_now "
            f"from {silver}.stg_olist__order_items as i "
            f"join {silver}.stg_olist__orders as o on i.order_id = o.order_id "
            f"where o.order_status = 'delivered' and {IN_GOLD} and {of_touched('i.order_id')} "
            f"and {of_touched('o.order_id')}) as s, "
            "(select coalesce(sum(items_value), 0) as gold_before "
            f"from {published}.fct_orders "
            f"where order_status = 'delivered' and {of_touched('order_id')}) as g "
            "where abs(added - (silver_now - gold_before)) >= 0.01"
        ),
        description="the revenue a batch adds to gold equals its orders' change in silver",
        severity="critical",
        meta=_meta(
            "Reconciliation of an incremental run: the revenue it adds to gold (the daily "
            "mart against the last publication) must equal the item price of its touched, "
            "delivered orders in silver minus what gold held for them; a gap means orders "
            "were lost or doubled between layers."
        ),
    )


def dim_customers(baseline: Baseline | None = None) -> list[Expectation]:
    baseline = baseline or Baseline()
    return [
        *_row_count_change("dim_customers", baseline),
        gxe.ExpectColumnValuesToBeUnique(
            column="customer_unique_id",
            severity="critical",
            meta=_meta("Customer grain: one row per person."),
        ),
        gxe.ExpectColumnValuesToBeBetween(
            column="orders_count",
            min_value=1,
            severity="critical",
            meta=_meta("Every customer in the dimension has at least one order."),
        ),
        gxe.ExpectColumnValuesToBeBetween(
            column="spend",
            min_value=0,
            severity="warning",
            meta=_meta("Negative spend means refunds leaked into order value."),
        ),
    ]


def orders_nested(baseline: Baseline | None = None) -> list[Expectation]:
    return [
        gxe.ExpectColumnValuesToBeUnique(
            column="order_id",
            severity="critical",
            meta=_meta("One nested row per order, or order-level answers double count."),
        ),
        gxe.ExpectColumnValuesToNotBeNull(
            column="customer_unique_id",
            severity="critical",
            meta=_meta("Every order belongs to a person; the ML grain depends on it."),
        ),
        gxe.ExpectColumnValuesToBeBetween(
            column="order_value",
            min_value=0,
            severity="critical",
            meta=_meta("Order value adds non-negative prices and freight."),
        ),
        gxe.ExpectColumnValuesToBeInSet(
            column="payment_matches",
            value_set=[True],
            mostly=0.95,
            row_condition='col("items_count")>0',
            condition_parser="great_expectations",
            severity="warning",
            meta=_meta(
                "Orders with items should be paid items + freight; Olist has a few "
                "mismatches (interest, cents), more than 5% means the payment feed broke. "
                "Orders without items (unavailable, canceled) are paid but hold nothing."
            ),
        ),
        gxe.ExpectColumnValuesToBeBetween(
            column="delivery_days",
            min_value=0,
            max_value=210,
            severity="warning",
            meta=_meta("Delivery in 0-210 days; outside it the dates are wrong."),
        ),
    ]


def stg_olist__order_reviews(baseline: Baseline | None = None) -> list[Expectation]:
    return [
        gxe.ExpectColumnValuesToBeInSet(
            column="review_score",
            value_set=[1, 2, 3, 4, 5],
            severity="critical",
            meta=_meta("Scores are 1-5; anything else breaks the review KPIs."),
        ),
        gxe.ExpectColumnValuesToNotBeNull(
            column="order_id",
            severity="critical",
            meta=_meta("A review must point at an order."),
        ),
        gxe.ExpectColumnProportionOfNonNullValuesToBeBetween(
            column="comment_message",
            min_value=0.2,
            max_value=0.8,
            severity="info",
            meta=_meta("Share of reviews with a comment (about 40% in Olist), for trends."),
        ),
    ]


def stg_olist__orders(baseline: Baseline | None = None) -> list[Expectation]:
    return [
        gxe.ExpectColumnValuesToBeUnique(
            column="order_id",
            severity="critical",
            meta=_meta("Staging keeps the latest delivery of each order: one row per order."),
        ),
        gxe.ExpectColumnValuesToNotBeNull(
            column="purchased_at",
            severity="critical",
            meta=_meta("The purchase time dates every order-level metric and the ML cutoffs."),
        ),
        gxe.ExpectColumnValuesToBeInSet(
            column="order_status",
            value_set=ORDER_STATUSES,
            severity="critical",
            meta=_meta("Placed-order and revenue definitions depend on the known status set."),
        ),
        gxe.ExpectColumnPairValuesAToBeGreaterThanB(
            column_A="delivered_to_customer_at",
            column_B="purchased_at",
            or_equal=True,
            ignore_row_if="either_value_is_missing",
            severity="warning",
            meta=_meta("A delivery before its purchase is a clock or parsing error."),
        ),
        gxe.ExpectColumnPairValuesAToBeGreaterThanB(
            column_A="delivered_to_carrier_at",
            column_B="approved_at",
            or_equal=True,
            ignore_row_if="either_value_is_missing",
            severity="warning",
            meta=_meta(
                "Handed to the carrier before payment approval: a real Olist quirk (about 1% "
                "of orders), tracked so a jump shows."
            ),
        ),
    ]


def stg_olist__order_items(baseline: Baseline | None = None) -> list[Expectation]:
    return [
        gxe.ExpectCompoundColumnsToBeUnique(
            column_list=["order_id", "order_item_id"],
            severity="critical",
            meta=_meta("An item line is (order, position); a duplicate doubles GMV."),
        ),
        gxe.ExpectColumnValuesToBeBetween(
            column="price",
            min_value=0,
            strict_min=True,
            severity="critical",
            meta=_meta("Every item has a positive price; zero or less breaks revenue."),
        ),
        gxe.ExpectColumnValuesToBeBetween(
            column="freight_value",
            min_value=0,
            severity="critical",
            meta=_meta("Freight is never negative; free shipping is 0."),
        ),
        gxe.ExpectColumnValuesToNotBeNull(
            column="seller_id",
            severity="critical",
            meta=_meta("Seller KPIs need the seller behind every item."),
        ),
    ]


def stg_olist__order_payments(baseline: Baseline | None = None) -> list[Expectation]:
    return [
        gxe.ExpectCompoundColumnsToBeUnique(
            column_list=["order_id", "payment_sequential"],
            severity="critical",
            meta=_meta("A payment is (order, sequence); a duplicate doubles paid value."),
        ),
        gxe.ExpectColumnValuesToBeInSet(
            column="payment_type",
            value_set=["credit_card", "boleto", "voucher", "debit_card"],
            severity="warning",
            meta=_meta(
                "Known payment types; Olist has a few 'not_defined' payments, kept and "
                "counted here so a new type or a surge is seen."
            ),
        ),
        gxe.ExpectColumnValuesToBeBetween(
            column="payment_value",
            min_value=0,
            severity="critical",
            meta=_meta("A negative payment is a sign or parsing error."),
        ),
        gxe.ExpectColumnValuesToBeBetween(
            column="payment_installments",
            min_value=1,
            max_value=24,
            mostly=0.999,
            severity="warning",
            meta=_meta("Instalments run 1-24; Olist has a handful of 0s."),
        ),
    ]


# Expectations that judge each row on its own (a value, or a pair of one row's values) with
# no tolerance: an incremental run may check them on the rows it loaded only, since an old
# row passed them when it was loaded and the run does not change it. Everything else reads
# the whole table: uniqueness (a new row may duplicate an old one), means, maxima, shares,
# row counts, reconciliations, and any rule with ``mostly`` < 1 (a proportion of the table).
_ROW_LEVEL = (
    gxe.ExpectColumnValuesToNotBeNull,
    gxe.ExpectColumnValuesToBeInSet,
    gxe.ExpectColumnValuesToBeBetween,
    gxe.ExpectColumnPairValuesAToBeGreaterThanB,
)


def judges_rows_alone(expectation: Expectation) -> bool:
    """True when ``expectation`` holds for a table if it holds for each row on its own."""
    mostly = getattr(expectation, "mostly", None)
    return isinstance(expectation, _ROW_LEVEL) and (mostly is None or mostly >= 1)


def judges_orders_alone(expectation: Expectation, order_key: str | None) -> bool:
    """True when ``expectation`` holds for a table if it holds for each order's rows on
    their own: the uniqueness of a key that includes the order's (``order_key``). Two rows
    that share such a key belong to one order, so an incremental run checks it on the rows
    of the orders it touched; every other order's rows are as the last publication had them
    (``warehouse.touched``)."""
    if order_key is None:
        return False
    if isinstance(expectation, gxe.ExpectColumnValuesToBeUnique):
        return expectation.column == order_key
    if isinstance(expectation, gxe.ExpectCompoundColumnsToBeUnique):
        return order_key in expectation.column_list
    return False


@dataclass(frozen=True)
class TableSuite:
    schema: str
    table: str
    build: Callable[[Baseline], list[Expectation]]
    # the table's load-time column (naive UTC), when it has one: an incremental run checks
    # the row-level expectations on the rows loaded since its watermark only
    load_column: str | None = None
    # the column naming the row's order, when every row belongs to one: an incremental run
    # that knows its touched orders reads their rows only (judges_orders_alone, and the new
    # rows through a literal list of keys, which DuckDB pushes into a staging view)
    order_key: str | None = None

    @property
    def name(self) -> str:
        return f"{self.schema}.{self.table}"


SUITES: tuple[TableSuite, ...] = (
    TableSuite("silver", "orders_nested", orders_nested),
    TableSuite(
        "silver",
        "stg_olist__orders",
        stg_olist__orders,
        load_column="_loaded_at",
        order_key="order_id",
    ),
    TableSuite(
        "silver",
        "stg_olist__order_items",
        stg_olist__order_items,
        load_column="_loaded_at",
        order_key="order_id",
    ),
    TableSuite(
        "silver",
        "stg_olist__order_payments",
        stg_olist__order_payments,
        load_column="_loaded_at",
        order_key="order_id",
    ),
    TableSuite(
        "silver", "stg_olist__order_reviews", stg_olist__order_reviews, load_column="_loaded_at"
    ),
    TableSuite("gold", "fct_orders", fct_orders, load_column="_loaded_at", order_key="order_id"),
    TableSuite("gold", "dim_customers", dim_customers),
    TableSuite("gold", "agg_sales_daily", agg_sales_daily),
)
