"""Backfill bookkeeping: the day partitions of a date range, and which are done.

``ops.backfill_partitions`` records each day a backfill has rebuilt, so a backfill that
stopped (a crash, a timeout, ``--max-days``) resumes at the first day not done. A backfill
is named by its range: running the same range again continues it; ``restart`` forgets it.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import TYPE_CHECKING

import duckdb

from warehouse.local import scalar

BACKFILL_DDL = """
create table if not exists ops.backfill_partitions (
    backfill_id   varchar not null,
    partition_day date not null,
    run_id        varchar not null,
    orders        bigint,
    finished_at   timestamp not null,
    primary key (backfill_id, partition_day)
)
"""

if TYPE_CHECKING:
    from warehouse.engine import Warehouse


def parse_day(value: str | date) -> date:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{value!r} is not a date: expected YYYY-MM-DD") from None


def days(start: date, end: date) -> list[date]:
    """Every day from ``start`` to ``end``, both included."""
    if end < start:
        raise ValueError(f"the backfill range ends ({end}) before it starts ({start})")
    return [start + timedelta(days=i) for i in range((end - start).days + 1)]


def backfill_id(start: date, end: date) -> str:
    return f"{start.isoformat()}..{end.isoformat()}"


def ensure_ledger(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("create schema if not exists ops")
    con.execute(BACKFILL_DDL)


def done_days(con: duckdb.DuckDBPyConnection, backfill: str) -> set[date]:
    ensure_ledger(con)
    rows = con.execute(
        "select partition_day from ops.backfill_partitions where backfill_id = ?", [backfill]
    ).fetchall()
    return {day for (day,) in rows}


def forget(con: duckdb.DuckDBPyConnection, backfill: str) -> int:
    """Drop a backfill's record so it starts over; returns how many days it had done."""
    ensure_ledger(con)
    n = scalar(
        con, "select count(*) from ops.backfill_partitions where backfill_id = ?", [backfill]
    )
    con.execute("delete from ops.backfill_partitions where backfill_id = ?", [backfill])
    return int(n or 0)


def mark_done(
    con: duckdb.DuckDBPyConnection, backfill: str, day: date, run_id: str, orders: int
) -> None:
    ensure_ledger(con)
    con.execute(
        "insert or replace into ops.backfill_partitions values (?, ?, ?, ?, now()::timestamp)",
        [backfill, day, run_id, orders],
    )


def orders_on(wh: Warehouse, schema: str, day: date) -> int:
    """Orders of ``day`` in ``schema.fct_orders`` after its partition was rebuilt."""
    n = wh.scalar(
        f"select count(*) from {schema}.fct_orders where cast(purchased_at as date) = @day",
        {"day": day},
    )
    return int(n or 0)  # type: ignore[call-overload]
