"""Each raw contract on small frames: what is quarantined, what is only flagged."""

from __future__ import annotations

import pandas as pd
import pytest

from contracts import CONTRACTS, SOURCES
from ingestion.cleaning import validate_frame

ITEM = {
    "order_id": "a" * 32,
    "order_item_id": "1",
    "product_id": "b" * 32,
    "seller_id": "c" * 32,
    "shipping_limit_date": "2018-01-01 10:00:00",
    "price": "10.5",
    "freight_value": "2.0",
}
PAYMENT = {
    "order_id": "a" * 32,
    "payment_sequential": "1",
    "payment_type": "credit_card",
    "payment_installments": "3",
    "payment_value": "12.5",
}
REVIEW = {
    "review_id": "d" * 32,
    "order_id": "a" * 32,
    "review_score": "5",
    "review_comment_title": None,
    "review_comment_message": None,
    "review_creation_date": "2018-01-02 00:00:00",
    "review_answer_timestamp": "2018-01-03 10:00:00",
}
CUSTOMER = {
    "customer_id": "e" * 32,
    "customer_unique_id": "f" * 32,
    "customer_zip_code_prefix": "01012",
    "customer_city": "sao paulo",
    "customer_state": "SP",
}
GEO = {
    "geolocation_zip_code_prefix": "01012",
    "geolocation_lat": "-23.5",
    "geolocation_lng": "-46.6",
    "geolocation_city": "são paulo",
    "geolocation_state": "SP",
}


def run(table: str, *rows: dict) -> tuple[dict[int, list[str]], dict[str, object]]:
    quarantine, results = validate_frame(
        pd.DataFrame(list(rows), dtype="str"), CONTRACTS[table], table, "t"
    )
    return quarantine, {r.check_name: r for r in results if not r.passed}


def test_every_source_has_a_contract_with_its_exact_columns() -> None:
    for source in SOURCES:
        model = CONTRACTS[source.table]
        assert tuple(model.to_schema().columns) == source.columns


@pytest.mark.parametrize("bad", ["NaN", "inf", "-inf", "1e400", "1,5", "", "12.5.1", " 3"])
def test_non_plain_numbers_are_quarantined(bad: str) -> None:
    quarantine, failed = run("order_items", ITEM, {**ITEM, "order_item_id": "2", "price": bad})
    assert list(quarantine) == [1]
    assert failed["str_matches"].severity == "critical" or failed.get("not_nullable")


def test_duplicate_order_lines_are_quarantined_together() -> None:
    quarantine, failed = run("order_items", ITEM, ITEM)
    assert set(quarantine) == {0, 1}
    assert failed["order_line_is_unique"].unexpected_count == 2


def test_payment_quirks_are_flagged_not_rejected() -> None:
    quarantine, failed = run(
        "order_payments",
        PAYMENT,
        {**PAYMENT, "payment_sequential": "2", "payment_type": "not_defined", "payment_value": "0"},
        {**PAYMENT, "payment_sequential": "3", "payment_installments": "0"},
    )
    assert quarantine == {}
    assert failed["payment_type_defined"].severity == "warning"
    assert failed["payment_value_positive"].severity == "info"
    assert failed["installments_at_least_one"].severity == "warning"


def test_negative_payment_is_critical() -> None:
    quarantine, _ = run("order_payments", {**PAYMENT, "payment_value": "-1.0"})
    assert list(quarantine) == [0]


def test_reused_review_ids_and_repeated_reviews_are_warnings() -> None:
    quarantine, failed = run(
        "order_reviews",
        REVIEW,
        {**REVIEW, "order_id": "b" * 32},  # same review id, other order
        {**REVIEW, "review_id": "e" * 32},  # same order, second review
    )
    assert quarantine == {}
    assert failed["field_uniqueness"].severity == "warning"


def test_injection_looking_text_is_kept_verbatim() -> None:
    text = "'); drop table bronze.orders; -- <script>alert(1)</script> =cmd|' /C calc'!A0"
    quarantine, failed = run("order_reviews", {**REVIEW, "review_comment_message": text})
    assert quarantine == {} and failed == {}


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("customer_zip_code_prefix", "1012"),
        ("customer_zip_code_prefix", "01012-000"),
        ("customer_state", "XX"),
        ("customer_id", "E" * 32),
    ],
)
def test_customer_format_violations_are_critical(column: str, value: str) -> None:
    quarantine, _ = run("customers", {**CUSTOMER, column: value})
    assert list(quarantine) == [0]


def test_points_outside_brazil_are_warnings() -> None:
    quarantine, failed = run(
        "geolocation", GEO, GEO, {**GEO, "geolocation_lat": "45.06", "geolocation_lng": "9.34"}
    )
    assert quarantine == {}
    assert failed["point_inside_brazil"].unexpected_count == 1
    assert failed["point_inside_brazil"].severity == "warning"


@pytest.mark.parametrize(
    ("table", "row", "column", "value"),
    [
        ("order_items", ITEM, "price", "99999999999999999999.99"),  # numeric(18, 2) overflow
        ("order_items", ITEM, "price", "9999999999999999.999"),  # rounds past 16 digits
        ("order_items", ITEM, "order_item_id", "99999999999"),  # not a 32-bit integer
        ("order_payments", PAYMENT, "payment_installments", "4294967296"),
        ("order_payments", PAYMENT, "payment_value", "1" + "0" * 16),
        ("geolocation", GEO, "geolocation_lat", "1" * 400),
        ("order_items", ITEM, "shipping_limit_date", "2018-02-30 10:00:00"),
        ("order_reviews", REVIEW, "review_answer_timestamp", "2018-01-03 25:00:00"),
    ],
)
def test_a_value_the_warehouse_type_cannot_hold_is_quarantined(
    table: str, row: dict, column: str, value: str
) -> None:
    quarantine, failed = run(table, {**row, column: value})
    assert quarantine and all(r.startswith(f"{column}: ") for r in quarantine[0])
    assert any(failed[name].column_name == column for name in failed)


def test_an_impossible_order_date_is_quarantined_and_a_missing_one_is_not() -> None:
    order = {
        "order_id": "a" * 32,
        "customer_id": "e" * 32,
        "order_status": "created",
        "order_purchase_timestamp": "2018-13-01 00:00:00",
        "order_approved_at": None,
        "order_delivered_carrier_date": None,
        "order_delivered_customer_date": None,
        "order_estimated_delivery_date": "2018-02-01 00:00:00",
    }
    quarantine, failed = run("orders", order)
    assert quarantine == {0: ["order_purchase_timestamp: is_calendar_timestamp"]}
    assert failed["is_calendar_timestamp"].column_name == "order_purchase_timestamp"


ORDER = {
    "order_id": "a" * 32,
    "customer_id": "e" * 32,
    "order_status": "delivered",
    "order_purchase_timestamp": "2018-01-01 10:00:00",
    "order_approved_at": "2018-01-01 11:00:00",
    "order_delivered_carrier_date": "2018-01-02 10:00:00",
    "order_delivered_customer_date": "2018-01-05 10:00:00",
    "order_estimated_delivery_date": "2018-01-20 00:00:00",
}


def _in(hours: float) -> str:
    when = pd.Timestamp.now(tz="America/Sao_Paulo").tz_localize(None) + pd.Timedelta(hours=hours)
    return f"{when:%Y-%m-%d %H:%M:%S}"


def test_an_order_dated_after_its_load_is_quarantined_naming_the_column() -> None:
    future = {
        **ORDER,
        "order_id": "b" * 32,
        "order_status": "created",
        "order_purchase_timestamp": "2099-01-01 10:00:00",
        "order_approved_at": None,
        "order_delivered_carrier_date": None,
        "order_delivered_customer_date": None,
        "order_estimated_delivery_date": "2099-02-01 00:00:00",
    }
    quarantine, failed = run("orders", ORDER, future)
    assert quarantine == {1: ["order_purchase_timestamp: not_after_load_time"]}
    assert failed["not_after_load_time"].severity == "critical"
    assert failed["not_after_load_time"].sample_values == ["2099-01-01 10:00:00"]


def test_the_estimate_may_lie_ahead_and_clocks_get_a_tolerance() -> None:
    ahead = {
        **ORDER,
        "order_status": "shipped",
        "order_purchase_timestamp": _in(-48),
        "order_approved_at": _in(2),  # a clock a little ahead of ours
        "order_delivered_carrier_date": None,
        "order_delivered_customer_date": None,
        "order_estimated_delivery_date": _in(24 * 20),
    }
    quarantine, _ = run("orders", ahead)
    assert quarantine == {}


def test_the_tolerance_is_a_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OLIST_FUTURE_TOLERANCE_HOURS", "0")
    late = {**ORDER, "order_approved_at": _in(2), "order_purchase_timestamp": _in(1)}
    quarantine, _ = run("orders", late)
    assert set(quarantine[0]) == {
        "order_purchase_timestamp: not_after_load_time",
        "order_approved_at: not_after_load_time",
    }


def test_a_review_answered_in_the_future_is_quarantined() -> None:
    quarantine, _ = run("order_reviews", {**REVIEW, "review_answer_timestamp": _in(24 * 400)})
    assert quarantine == {0: ["review_answer_timestamp: not_after_load_time"]}
