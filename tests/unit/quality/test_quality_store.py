"""A run's severity: rows a contract quarantined are warnings for the run; only gates are
critical (DESIGN.md, "Data quality model")."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from ingestion import cleaning
from quality import alerts
from quality import store as quality_store
from quality.store import CheckResult


def _failed(engine: str, check: str, severity: str = "critical") -> CheckResult:
    return CheckResult(
        run_id="r",
        layer="bronze",
        table_name="orders",
        column_name="order_status",
        check_name=check,
        check_engine=engine,
        severity=severity,
        passed=False,
        observed_count=8135,
        unexpected_count=1,
    )


QUARANTINED = [
    _failed("pandera", "isin"),  # a row-level rule: the row went to quarantine.orders
    _failed("ingest", "order_id_exists_in_orders"),  # a child of that row, quarantined too
]
GATES = [
    _failed("ingest", "records_reconcile"),
    _failed("ingest", "quarantined_share_at_most_0.01"),
    _failed("dbt", "unique:unique_stg_olist__products_product_id"),
    _failed("great_expectations", "expect_column_values_to_be_unique"),
]


@pytest.mark.parametrize("result", QUARANTINED, ids=lambda r: r.check_name)
def test_a_quarantined_row_is_a_warning_for_the_run(result: CheckResult) -> None:
    assert quality_store.verdict([result]) == "warn"
    assert quality_store.critical_failures([result]) == []


@pytest.mark.parametrize("result", GATES, ids=lambda r: r.check_name)
def test_a_failed_gate_fails_the_run(result: CheckResult) -> None:
    assert quality_store.verdict([*QUARANTINED, result]) == "fail"
    assert quality_store.critical_failures([*QUARANTINED, result]) == [result]


def test_the_contract_gates_are_the_ones_cleaning_enforces() -> None:
    assert quality_store.CONTRACT_GATES == cleaning.GATES


def test_a_published_run_with_quarantined_rows_is_recorded_as_a_warning_and_trains(
    tmp_path: Path,
) -> None:
    con = duckdb.connect(str(tmp_path / "wh.duckdb"))
    quality_store.write_results(con, QUARANTINED)
    assert quality_store.record_run(con, "r", None, published=True) == "warn"
    row = con.execute(
        "select verdict, critical_failed, warning_failed from quality.runs where run_id = 'r'"
    ).fetchall()
    assert row == [("warn", 0, 2)]
    assert quality_store.training_blocker(con) is None
    con.close()


def test_a_run_recorded_fail_before_the_fix_but_published_does_not_block_training(
    tmp_path: Path,
) -> None:
    con = duckdb.connect(str(tmp_path / "wh.duckdb"))
    quality_store.ensure_tables(con)
    con.execute(
        "insert into quality.runs (run_id, status, started_at, checks, critical_failed, "
        "warning_failed, info_failed, verdict, published, recorded_at) values ('old', "
        "'succeeded', now()::timestamp, 40, 1, 0, 0, 'fail', true, now()::timestamp)"
    )
    assert quality_store.training_blocker(con) is None
    quality_store.record_run(con, "refused", None, published=False, message="a gate failed")
    assert "refused" in (quality_store.training_blocker(con) or "")
    con.close()


def test_the_alert_of_a_run_with_a_quarantined_row_says_published_and_warning() -> None:
    message = alerts.alert_message("r", QUARANTINED, published=True)
    assert message is not None
    subject, body = message
    assert subject == "Olist data quality, run r: 0 critical, 2 warning (published)"
    assert "[warning] bronze.orders.order_status isin (pandera): 1 unexpected" in body
    assert "(rows quarantined)" in body
