"""When a platform run with no new source file may skip: only after a run that succeeded
and published every mart, never after an incremental run that published some of them."""

from __future__ import annotations

import time

import duckdb
import pytest

from quality import runs
from warehouse import publish


@pytest.fixture
def con():
    con = duckdb.connect()
    yield con
    con.close()


def _run(con: duckdb.DuckDBPyConnection, run_id: str, status: str, partial: bool = False) -> None:
    runs.start_run(con, run_id, None, "src")
    if partial:
        publish.record_partial_publication(con, run_id, ["fct_orders"])
    runs.finish_run(con, run_id, status)
    time.sleep(0.002)  # started_at orders the runs


def test_a_fresh_warehouse_is_not_up_to_date(con) -> None:
    assert not publish.gold_up_to_date(con)


def test_a_successful_full_run_is_up_to_date(con) -> None:
    _run(con, "full", "succeeded")
    assert publish.gold_up_to_date(con)


def test_an_incremental_publish_after_it_is_not(con) -> None:
    _run(con, "full", "succeeded")
    _run(con, "incr-1", "succeeded", partial=True)
    assert not publish.gold_up_to_date(con)


def test_the_next_full_run_catches_up(con) -> None:
    _run(con, "full", "succeeded")
    _run(con, "incr-1", "succeeded", partial=True)
    _run(con, "daily", "succeeded")
    assert publish.gold_up_to_date(con)


def test_a_failed_last_run_is_not_up_to_date(con) -> None:
    _run(con, "full", "succeeded")
    _run(con, "daily", "failed")
    assert not publish.gold_up_to_date(con)
