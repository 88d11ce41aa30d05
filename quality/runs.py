"""``ops.platform_runs``: one row per platform run that did work, with its outcome."""

from __future__ import annotations

import duckdb

from warehouse.local import scalar, table_exists

RUNS_DDL = """
create table if not exists ops.platform_runs (
    run_id       varchar primary key,
    flow_run_id  varchar,
    source_dir   varchar,
    status       varchar not null,
    started_at   timestamp not null,
    finished_at  timestamp,
    message      varchar
)
"""


def repair_abandoned(con: duckdb.DuckDBPyConnection, by_run: str) -> list[str]:
    """Mark the ``running`` rows of runs that ended without finishing (killed, or their
    machine went down) as ``abandoned``; the ids repaired.

    Call it only while holding the warehouse's write lock (``warehouse.locking``): then no
    other run can be running, so every ``running`` row is stale."""
    if not table_exists(con, "ops", "platform_runs"):
        return []
    stale = [
        r[0]
        for r in con.execute(
            "select run_id from ops.platform_runs where status = 'running' order by started_at"
        ).fetchall()
    ]
    if stale:
        con.execute(
            "update ops.platform_runs set status = 'abandoned', finished_at = "
            "now()::timestamp, message = ? where status = 'running'",
            [
                f"the run ended without finishing (killed or crashed); marked abandoned "
                f"by run {by_run}"
            ],
        )
    return stale


def start_run(
    con: duckdb.DuckDBPyConnection, run_id: str, flow_run_id: str | None, source_dir: str
) -> list[str]:
    """Record a new ``running`` run, after repairing those a killed run left behind (the
    ids repaired)."""
    con.execute("create schema if not exists ops")
    con.execute(RUNS_DDL)
    repaired = repair_abandoned(con, run_id)
    con.execute(
        "insert into ops.platform_runs values (?, ?, ?, 'running', now()::timestamp, null, null)",
        [run_id, flow_run_id, source_dir],
    )
    return repaired


def finish_run(
    con: duckdb.DuckDBPyConnection, run_id: str, status: str, message: str | None = None
) -> None:
    con.execute(
        "update ops.platform_runs set status = ?, finished_at = now()::timestamp, "
        "message = ? where run_id = ?",
        [status, message, run_id],
    )


def last_run_succeeded(con: duckdb.DuckDBPyConnection) -> bool:
    if not table_exists(con, "ops", "platform_runs"):
        return False
    status = scalar(con, "select status from ops.platform_runs order by started_at desc limit 1")
    return status == "succeeded"
