"""``ops.platform_runs``: one row per platform run that did work, with its outcome."""

from __future__ import annotations

import duckdb

from olist.warehouse import scalar, table_exists

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


def start_run(
    con: duckdb.DuckDBPyConnection, run_id: str, flow_run_id: str | None, source_dir: str
) -> None:
    con.execute("create schema if not exists ops")
    con.execute(RUNS_DDL)
    con.execute(
        "insert into ops.platform_runs values (?, ?, ?, 'running', now()::timestamp, null, null)",
        [run_id, flow_run_id, source_dir],
    )


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
