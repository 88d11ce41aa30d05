"""Expectation suites, one per warehouse table that matters, defined in code."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import great_expectations.expectations as gxe
from great_expectations.expectations.expectation import Expectation

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


def fct_orders() -> list[Expectation]:
    return [
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


def dim_customers() -> list[Expectation]:
    return [
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


@dataclass(frozen=True)
class TableSuite:
    schema: str
    table: str
    build: Callable[[], list[Expectation]]

    @property
    def name(self) -> str:
        return f"{self.schema}.{self.table}"


SUITES: tuple[TableSuite, ...] = (
    TableSuite("gold", "fct_orders", fct_orders),
    TableSuite("gold", "dim_customers", dim_customers),
)
