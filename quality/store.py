"""``quality.check_results``: one row per check, whatever engine ran it (pandera, dbt, GX)."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import duckdb

from quality import runs
from warehouse.local import scalar, table_exists

if TYPE_CHECKING:
    from warehouse.engine import Warehouse

CHECK_RESULTS_DDL = """
create table if not exists quality.check_results (
    run_id             varchar not null,
    flow_run_id        varchar,
    layer              varchar not null,
    table_name         varchar not null,
    column_name        varchar,
    check_name         varchar not null,
    check_engine       varchar not null,
    severity           varchar not null,
    passed             boolean not null,
    observed_count     bigint,
    unexpected_count   bigint,
    unexpected_percent double,
    sample_values      varchar,
    observed_at        timestamp not null
)
"""


@dataclass
class CheckResult:
    run_id: str
    layer: str
    table_name: str
    check_name: str
    check_engine: str
    severity: str
    passed: bool
    column_name: str | None = None
    observed_count: int | None = None
    unexpected_count: int | None = None
    unexpected_percent: float | None = None
    sample_values: list[Any] = field(default_factory=list)
    flow_run_id: str | None = None
    observed_at: datetime = field(default_factory=lambda: datetime.now(UTC).replace(tzinfo=None))

    def row(self) -> dict[str, Any]:
        data = asdict(self)
        data["sample_values"] = json.dumps(
            [str(v) for v in self.sample_values[:5]], ensure_ascii=False
        )
        return data


COLUMNS = (
    "run_id",
    "flow_run_id",
    "layer",
    "table_name",
    "column_name",
    "check_name",
    "check_engine",
    "severity",
    "passed",
    "observed_count",
    "unexpected_count",
    "unexpected_percent",
    "sample_values",
    "observed_at",
)


def ensure_tables(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("create schema if not exists quality")
    con.execute(CHECK_RESULTS_DDL)
    runs.ensure_table(con)


# The contract stage's file-level gates (ingestion.cleaning.GATES): a table that does not
# reconcile, quarantines more than the threshold, shrinks sharply against the version it
# replaces, or lacks keys bronze rows refer to, stops the run.
CONTRACT_GATES = (
    "records_reconcile",
    "quarantined_share_at_most_",
    "row_count_drop_at_most_",
    "referenced_by_",
)
# engines of the contract stage (pandera rules, parent-key and parse checks, duplicates)
CONTRACT_ENGINES = ("pandera", "ingest", "duckdb")


def quarantines_rows(result: CheckResult) -> bool:
    """A contract check whose failing rows were quarantined rather than loaded: every
    contract-stage check except the file-level gates."""
    return result.check_engine in CONTRACT_ENGINES and not result.check_name.startswith(
        CONTRACT_GATES
    )


def run_severity(result: CheckResult) -> str:
    """What a failed check means for the run (DESIGN.md, "Data quality model").

    A critical row-level contract rule quarantines the rows that break it: the rest of the
    data is trusted and published, so for the run it is a ``warning``. Only a gate (the
    quarantined share above its threshold, a reconciliation, a critical dbt or GX test)
    stays ``critical`` and fails the run. The check's own severity is kept in
    ``quality.check_results``."""
    if result.severity == "critical" and quarantines_rows(result):
        return "warning"
    return result.severity


def verdict(results: list[CheckResult], failed_run: bool = False) -> str:
    """``fail`` with a failed gate (or a run that broke before its checks finished),
    ``warn`` with a failed warning or quarantined rows, else ``pass``."""
    failed = {run_severity(r) for r in results if not r.passed}
    if failed_run or "critical" in failed:
        return "fail"
    return "warn" if "warning" in failed else "pass"


def record_run(
    con: duckdb.DuckDBPyConnection,
    run_id: str,
    flow_run_id: str | None,
    published: bool,
    message: str | None = None,
) -> str:
    """The run's verdict, from its rows in ``quality.check_results``, on its ``quality.runs``
    row (``quality.runs.start_run`` made it; its status is the run's end's to set)."""
    ensure_tables(con)
    results = results_for_run(con, run_id)
    outcome = verdict(results, failed_run=not published)
    failed = [r for r in results if not r.passed]
    counts = [
        len(results),
        sum(run_severity(r) == "critical" for r in failed),
        sum(run_severity(r) == "warning" for r in failed),
        sum(run_severity(r) == "info" for r in failed),
    ]
    if not scalar(con, "select count(*) from quality.runs where run_id = ?", [run_id]):
        # a verdict for a run nobody started (a test, a hand-made record): the run is over
        con.execute(
            "insert into quality.runs (run_id, flow_run_id, status, started_at, finished_at) "
            "values (?, ?, ?, now()::timestamp, now()::timestamp)",
            [run_id, flow_run_id, "succeeded" if published else "failed"],
        )
    con.execute(
        "update quality.runs set flow_run_id = coalesce(flow_run_id, ?), checks = ?, "
        "critical_failed = ?, warning_failed = ?, info_failed = ?, verdict = ?, "
        "published = ?, message = coalesce(?, message), recorded_at = now()::timestamp "
        "where run_id = ?",
        [flow_run_id, *counts, outcome, published, message, run_id],
    )
    return outcome


def run_recorded(con: duckdb.DuckDBPyConnection, run_id: str) -> bool:
    """Whether the gate gave ``run_id`` its verdict already (a run that published, then
    failed, keeps the verdict of what it published)."""
    ensure_tables(con)
    return bool(
        scalar(
            con,
            "select count(*) from quality.runs where run_id = ? and verdict is not null",
            [run_id],
        )
    )


def results_for_run(con: duckdb.DuckDBPyConnection, run_id: str) -> list[CheckResult]:
    """Every check result recorded for ``run_id``, whatever engine wrote it."""
    if not table_exists(con, "quality", "check_results"):
        return []
    rows = con.execute(
        f"select {', '.join(COLUMNS)} from quality.check_results where run_id = ? "
        "order by observed_at, table_name, check_name",
        [run_id],
    ).fetchall()
    out = []
    for row in rows:
        data = dict(zip(COLUMNS, row, strict=True))
        data["sample_values"] = json.loads(data["sample_values"] or "[]")
        out.append(CheckResult(**data))
    return out


def write_results(con: duckdb.DuckDBPyConnection, results: list[CheckResult]) -> int:
    """Append results (history is append-only)."""
    ensure_tables(con)
    if not results:
        return 0
    rows = [tuple(r.row()[c] for c in COLUMNS) for r in results]
    placeholders = ", ".join("?" for _ in COLUMNS)
    con.executemany(
        f"insert into quality.check_results ({', '.join(COLUMNS)}) values ({placeholders})", rows
    )
    return len(rows)


def critical_failures(results: list[CheckResult]) -> list[CheckResult]:
    """Failed checks that fail the run: gates, not rows a contract quarantined."""
    return [r for r in results if run_severity(r) == "critical" and not r.passed]


def summarize(results: list[CheckResult]) -> dict[str, dict[str, int]]:
    """Counts of passed/failed checks by severity."""
    out: dict[str, dict[str, int]] = {}
    for r in results:
        bucket = out.setdefault(r.severity, {"passed": 0, "failed": 0})
        bucket["passed" if r.passed else "failed"] += 1
    return out


def latest_run_id(con: duckdb.DuckDBPyConnection) -> str | None:
    """The run that recorded a check result last; without check results here (a BigQuery
    run's working file holds only its own), the run that recorded its verdict last."""
    if table_exists(con, "quality", "check_results"):
        rows = con.execute(
            "select run_id from quality.check_results group by run_id "
            "order by max(observed_at) desc limit 1"
        ).fetchall()
        if rows:
            return str(rows[0][0])
    if table_exists(con, "quality", "runs"):
        rows = con.execute(
            "select run_id from quality.runs where verdict is not null "
            "order by recorded_at desc limit 1"
        ).fetchall()
        return str(rows[0][0]) if rows else None
    return None


class TrainingBlocked(RuntimeError):
    """The upstream data failed its quality gate: no model is trained on it."""


def training_blocker(source: duckdb.DuckDBPyConnection | Warehouse) -> str | None:
    """Why models must not train now: the latest run the gate judged published nothing (a
    gate failed, or the run broke); runs without a verdict (still running, or abandoned) do
    not count. A run that published is trusted, whatever it quarantined,
    so its verdict alone does not block (runs recorded before severity was fixed say
    ``fail`` for a quarantined row). None when training may start. ``source``: a DuckDB
    connection or the target warehouse."""
    sql = (
        "select run_id, verdict, critical_failed, published from quality.runs "
        "where verdict is not null order by recorded_at desc limit 1"
    )
    if isinstance(source, duckdb.DuckDBPyConnection):
        if not table_exists(source, "quality", "runs"):
            return None
        rows = source.execute(sql).fetchall()
    else:
        if "runs" not in source.tables("quality"):
            return None
        rows = list(source.query(sql).itertuples(index=False, name=None))
    if rows and not rows[0][3]:
        run_id, _, critical, _ = rows[0]
        return (
            f"the latest run {run_id} failed its quality gate ({critical} critical check(s)) "
            "and published nothing: fix the data and rerun before training"
        )
    return None
