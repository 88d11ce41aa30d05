"""How the quality report writes values, shares and table names (the page itself is tested
in tests/report)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import pytest

from quality.store import CheckResult
from reporting.quality_report import format_value, rationale, table_label, unexpected_percent


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (datetime(2018, 1, 2, 3, 4, 5), "2018-01-02 03:04:05"),
        ("datetime.datetime(2018, 1, 2, 3, 4)", "2018-01-02 03:04:00"),
        ("datetime.date(2018, 1, 2)", "2018-01-02"),
        ("Decimal('12.50')", "12.50"),
        (Decimal("12.50"), "12.50"),
        ("Timestamp('2018-01-02 00:00:00')", "2018-01-02 00:00:00"),
        (0.30000000000000004, "0.3"),
        ("{'a': 1, 'b': 'x'}", "a=1, b='x'"),
        ({"a": datetime(2018, 1, 2), "b": 2}, "a=2018-01-02 00:00:00, b=2"),
        ("(1, 2)", "1, 2"),
        ("SP", "SP"),
    ],
)
def test_sample_values_read_as_people_write_them(value: object, text: str) -> None:
    assert format_value(value) == text


def _result(**kw: object) -> CheckResult:
    base: dict = dict(
        run_id="r", layer="gold", table_name="fct_orders", check_name="c",
        check_engine="dbt", severity="warning", passed=False,
    )  # fmt: skip
    return CheckResult(**{**base, **kw})


@pytest.mark.parametrize(
    ("kw", "text"),
    [
        ({"unexpected_percent": 1.2345}, "1.23 %"),
        ({"unexpected_percent": 0.001}, "<0.01 %"),
        ({"unexpected_percent": 0.0}, "0 %"),
        ({"unexpected_count": 1, "observed_count": 8}, "12.50 %"),
        ({"unexpected_count": 1}, ""),
    ],
)
def test_the_unexpected_share_is_given_or_computed(kw: dict, text: str) -> None:
    assert unexpected_percent(_result(**kw)) == text


def test_the_audit_copy_is_named_by_its_gold_table() -> None:
    assert table_label(_result(layer="gold_audit")) == "gold.fct_orders"
    assert table_label(_result(layer="silver", table_name="stg_olist__orders")) == (
        "silver.stg_olist__orders"
    )


def test_a_gx_check_gives_its_own_rationale_and_a_dbt_test_that_of_its_kind() -> None:
    gx = _result(
        layer="silver",
        table_name="stg_olist__orders",
        check_name="expect_column_pair_values_a_to_be_greater_than_b",
        check_engine="great_expectations",
        column_name="delivered_to_customer_at, purchased_at",
    )
    assert rationale(gx) == "A delivery before its purchase is a clock or parsing error."
    assert "grain" in rationale(_result(check_name="unique_combination:x_y"))
    assert "repeats" in rationale(_result(check_name="unique:unique_fct_orders_order_id"))
    assert rationale(_result(check_name="something_new:x")) == ""
