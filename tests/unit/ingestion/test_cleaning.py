from __future__ import annotations

import pandas as pd
import pytest

from contracts import Orders, check_severity
from ingestion.cleaning import validate_frame

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


@pytest.mark.parametrize(
    ("records", "corrections", "passed"),
    [
        (95, (), True),  # 5 % fewer: within the 10 % allowed
        (50, (), False),  # half the file: cut short
        (50, ("orders",), True),  # declared a correction by table
        (50, ("olist_orders_dataset.csv",), True),  # or by file name
    ],
)
def test_a_sharp_row_count_drop_is_refused_unless_declared_a_correction(
    records: int, corrections: tuple[str, ...], passed: bool
) -> None:
    import duckdb

    from contracts.sources import SOURCES
    from ingestion.cleaning import row_count_drop
    from ingestion.csv_files import ensure_ledger

    con = duckdb.connect()
    ensure_ledger(con)
    for count, status in ((100, "loaded"), (records, "landed")):
        con.execute(
            "insert into ops.file_ledger values ('olist_orders_dataset.csv', 'orders', ?, 1, "
            "?, 0, 0, 'b', ?, now()::timestamp, null, null)",
            [status, count, status],
        )
    orders = next(s for s in SOURCES if s.table == "orders")
    check = row_count_drop(con, orders, "r1", 0.1, corrections)
    assert check is not None and check.passed is passed
    if not passed:
        assert "olist_orders_dataset.csv: 50 records, 50.0% fewer" in check.sample_values[0]
        assert "OLIST_CORRECTIONS=orders" in check.sample_values[0]


def test_row_drop_and_corrections_come_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from config.settings import load_settings

    monkeypatch.setenv("OLIST_MAX_ROW_DROP", "0.25")
    monkeypatch.setenv("OLIST_CORRECTIONS", "orders, order_reviews")
    monkeypatch.setenv("OLIST_MAX_BATCH_BYTES", "1000")
    settings = load_settings()
    assert settings.max_batch_bytes == 1000
    assert settings.max_row_drop == 0.25
    assert settings.corrections == ["orders", "order_reviews"]
