"""Timestamp policy: naive São Paulo wall-clock time, kept verbatim across DST switches
(2017-02-18: 23:00-23:59 happens twice; 2017-10-15: 00:00-00:59 does not exist)."""

from __future__ import annotations

import duckdb
import pandas as pd
import pytest

from contracts import Orders
from ingestion.cleaning import validate_frame

AROUND_DST = [
    "2017-02-18 22:59:59",
    "2017-02-18 23:30:00",
    "2017-02-19 00:00:00",
    "2017-10-14 23:59:59",
    "2017-10-15 00:30:00",
    "2017-10-15 01:00:00",
]


@pytest.mark.parametrize("stamp", AROUND_DST)
def test_timestamps_around_dst_switches_pass_the_contract(stamp: str) -> None:
    row = {
        "order_id": "a" * 32,
        "customer_id": "b" * 32,
        "order_status": "created",
        "order_purchase_timestamp": stamp,
        "order_approved_at": None,
        "order_delivered_carrier_date": None,
        "order_delivered_customer_date": None,
        "order_estimated_delivery_date": "2017-11-01 00:00:00",
    }
    quarantine, results = validate_frame(pd.DataFrame([row], dtype="str"), Orders, "orders", "t")
    assert quarantine == {} and all(r.passed for r in results)


def test_the_silver_cast_keeps_wall_clock_time() -> None:
    """Staging casts text to ``timestamp`` (no time zone): the same wall-clock value comes
    back, the nonexistent hour included, and differences are plain wall-clock arithmetic."""
    con = duckdb.connect()
    con.execute("set timezone = 'America/Sao_Paulo'")
    values = ", ".join(f"('{s}')" for s in AROUND_DST)
    rows = con.sql(
        f"select strftime(cast(t as timestamp), '%Y-%m-%d %H:%M:%S') from (values {values}) v(t)"
    ).fetchall()
    assert [r[0] for r in rows] == AROUND_DST
    gap = con.sql(
        "select date_diff('minute', timestamp '2017-10-14 23:59:59', "
        "timestamp '2017-10-15 01:00:00')"
    ).fetchall()[0][0]
    assert gap == 61
