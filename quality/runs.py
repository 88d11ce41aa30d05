"""``quality.runs``: one row per platform run that did work, from its start to its verdict.

The row is written when the run starts (``running``), receives the gate's verdict when the
run publishes or fails (``quality.store.record_run``) and its outcome when it ends
(``succeeded``, ``failed``, or ``abandoned`` when the next run finds it killed). One table
answers both "did the last run finish?" (publish, the next platform run) and "may models
train on what it published?" (the training gate, the report's trend)."""

from __future__ import annotations

import duckdb

from warehouse.local import scalar, table_exists, transaction

RUNS_DDL = """
create table if not exists quality.runs (
    run_id            varchar primary key,
    flow_run_id       varchar,
    source_dir        varchar,
    status            varchar not null,
    started_at        timestamp not null,
    finished_at       timestamp,
    message           varchar,
    checks            bigint,
    critical_failed   bigint,
    warning_failed    bigint,
    info_failed       bigint,
    verdict           varchar,
    published         boolean,
    recorded_at       timestamp
)
"""

# Warehouses made before the fold kept a run in two tables: its lifecycle in
# ``ops.platform_runs`` and its verdict in a ``quality.runs`` without ``status``. Their DDL,
# only so that ``ensure_table`` can fold either of them when the other is missing.
_OLD_LIFECYCLE_DDL = """
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
_OLD_VERDICTS_DDL = """
create table if not exists quality.runs_before_fold (
    run_id            varchar not null,
    flow_run_id       varchar,
    checks            bigint not null,
    critical_failed   bigint not null,
    warning_failed    bigint not null,
    info_failed       bigint not null,
    verdict           varchar not null,
    published         boolean not null,
    message           varchar,
    recorded_at       timestamp not null
)
"""
# A verdict without a lifecycle row (recorded before ops.platform_runs existed) is a run that
# ended when its verdict was recorded: succeeded if it published, else failed. The old verdict
# table had no key, so a run recorded twice keeps its latest verdict.
_FOLD = """
insert into quality.runs by name
select
    coalesce(p.run_id, v.run_id) as run_id,
    coalesce(p.flow_run_id, v.flow_run_id) as flow_run_id,
    p.source_dir,
    coalesce(p.status, case when v.published then 'succeeded' else 'failed' end) as status,
    coalesce(p.started_at, v.recorded_at) as started_at,
    case when p.run_id is null then v.recorded_at else p.finished_at end as finished_at,
    coalesce(p.message, v.message) as message,
    v.checks,
    v.critical_failed,
    v.warning_failed,
    v.info_failed,
    v.verdict,
    v.published,
    v.recorded_at
from ops.platform_runs as p
full outer join (
    select * from quality.runs_before_fold
    qualify row_number() over (partition by run_id order by recorded_at desc) = 1
) as v on p.run_id = v.run_id
where coalesce(p.run_id, v.run_id) not in (select run_id from quality.runs)
"""


def _columns(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> set[str]:
    return {
        str(c)
        for (c,) in con.execute(
            "select column_name from information_schema.columns "
            "where table_schema = ? and table_name = ?",
            [schema, table],
        ).fetchall()
    }


def ensure_table(con: duckdb.DuckDBPyConnection) -> None:
    """``quality.runs`` as this version writes it. A warehouse file made before the fold (a
    ``quality.runs`` of verdicts without ``status``, and ``ops.platform_runs``) is folded
    once, in one transaction: every run becomes one row with its lifecycle and its verdict,
    and both old tables are dropped, so the fold never runs twice and no reader finds two
    runs tables. Needs a connection that may write; readers that may hold a read-only one
    query only columns both versions have (``verdict``, ``published``, ``recorded_at``)."""
    con.execute("create schema if not exists quality")
    old_verdicts = table_exists(con, "quality", "runs") and "status" not in _columns(
        con, "quality", "runs"
    )
    if not old_verdicts and not table_exists(con, "ops", "platform_runs"):
        con.execute(RUNS_DDL)
        return
    with transaction(con):
        if old_verdicts:
            con.execute("alter table quality.runs rename to runs_before_fold")
        con.execute(_OLD_VERDICTS_DDL)  # either table may be missing: fold an empty one
        con.execute("create schema if not exists ops")
        con.execute(_OLD_LIFECYCLE_DDL)
        con.execute(RUNS_DDL)
        con.execute(_FOLD)
        con.execute("drop table quality.runs_before_fold")
        con.execute("drop table ops.platform_runs")


def repair_abandoned(con: duckdb.DuckDBPyConnection, by_run: str) -> list[str]:
    """Mark the ``running`` rows of runs that ended without finishing (killed, or their
    machine went down) as ``abandoned``; the ids repaired.

    Call it only while holding the warehouse's write lock (``warehouse.locking``): then no
    other run can be running, so every ``running`` row is stale."""
    ensure_table(con)
    stale = [
        r[0]
        for r in con.execute(
            "select run_id from quality.runs where status = 'running' order by started_at"
        ).fetchall()
    ]
    if stale:
        con.execute(
            "update quality.runs set status = 'abandoned', finished_at = "
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
    repaired = repair_abandoned(con, run_id)
    con.execute(
        "insert into quality.runs (run_id, flow_run_id, source_dir, status, started_at) "
        "values (?, ?, ?, 'running', now()::timestamp)",
        [run_id, flow_run_id, source_dir],
    )
    return repaired


def finish_run(
    con: duckdb.DuckDBPyConnection, run_id: str, status: str, message: str | None = None
) -> None:
    """The run's outcome; a message already recorded (the verdict's) stays unless replaced."""
    ensure_table(con)
    con.execute(
        "update quality.runs set status = ?, finished_at = now()::timestamp, "
        "message = coalesce(?, message) where run_id = ?",
        [status, message, run_id],
    )


def last_run_succeeded(con: duckdb.DuckDBPyConnection) -> bool:
    if not table_exists(con, "quality", "runs") and not table_exists(con, "ops", "platform_runs"):
        return False  # no run yet: create nothing in a warehouse this may leave unchanged
    ensure_table(con)
    status = scalar(con, "select status from quality.runs order by started_at desc limit 1")
    return status == "succeeded"
