from __future__ import annotations

import pandas as pd
import pytest

from contracts import Orders, check_severity
from olist.cleaning import validate_frame

GOOD = {
    "order_id": "a" * 32,
    "customer_id": "b" * 32,
    "order_status": "delivered",
    "order_purchase_timestamp": "2018-01-01 10:00:00",
    "order_approved_at": "2018-01-01 10:10:00",
    "order_delivered_carrier_date": "2018-01-02 10:00:00",
    "order_delivered_customer_date": "2018-01-05 10:00:00",
    "order_estimated_delivery_date": "2018-01-20 00:00:00",
}


def frame(*changes: dict) -> pd.DataFrame:
    rows = []
    for i, change in enumerate(changes):
        row = {**GOOD, "order_id": f"{i:032x}", **change}
        rows.append(row)
    return pd.DataFrame(rows, dtype="str")


def test_clean_rows_pass_every_check() -> None:
    quarantine, results = validate_frame(frame({}, {}), Orders, "orders", "r1")
    assert quarantine == {}
    assert results and all(r.passed for r in results)


def test_critical_row_failure_is_quarantined_with_its_reason() -> None:
    quarantine, results = validate_frame(
        frame({}, {"order_status": "lost"}), Orders, "orders", "r1"
    )
    assert list(quarantine) == [1]
    assert quarantine[1] == ["order_status: isin"]
    failed = [r for r in results if not r.passed]
    assert [(r.column_name, r.check_name, r.severity, r.unexpected_count) for r in failed] == [
        ("order_status", "isin", "critical", 1)
    ]
    assert failed[0].sample_values == ["lost"]


def test_warning_keeps_the_row_and_is_recorded() -> None:
    quarantine, results = validate_frame(
        frame({"order_delivered_customer_date": None}), Orders, "orders", "r1"
    )
    assert quarantine == {}
    failed = {r.check_name: r for r in results if not r.passed}
    assert failed["delivered_has_delivery_date"].severity == "warning"


def test_lazy_validation_reports_every_failure_in_one_pass() -> None:
    _, results = validate_frame(
        frame(
            {"order_status": "lost"},
            {"customer_id": "nope"},
            {"order_approved_at": "2017-12-31 00:00:00"},
        ),
        Orders,
        "orders",
        "r1",
    )
    failed = {r.check_name for r in results if not r.passed}
    assert {"isin", "str_matches", "approval_not_before_purchase"} <= failed


def test_duplicate_keys_are_critical() -> None:
    quarantine, _ = validate_frame(
        frame({"order_id": "c" * 32}, {"order_id": "c" * 32}), Orders, "orders", "r1"
    )
    assert set(quarantine) == {0, 1}


@pytest.mark.parametrize(
    ("column", "check", "severity"),
    [
        ("order_id", "field_uniqueness", "critical"),
        (None, "delivered_has_delivery_date", "warning"),
        (None, "carrier_not_before_approval", "warning"),
        (None, "approval_not_before_purchase", "critical"),
    ],
)
def test_severities(column: str | None, check: str, severity: str) -> None:
    assert check_severity(Orders, column, check) == severity
