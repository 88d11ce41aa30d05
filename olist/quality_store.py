"""``quality.check_results``: one row per check, whatever engine ran it (pandera, dbt, GX)."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

import duckdb

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
    return [r for r in results if r.severity == "critical" and not r.passed]


def summarize(results: list[CheckResult]) -> dict[str, dict[str, int]]:
    """Counts of passed/failed checks by severity."""
    out: dict[str, dict[str, int]] = {}
    for r in results:
        bucket = out.setdefault(r.severity, {"passed": 0, "failed": 0})
        bucket["passed" if r.passed else "failed"] += 1
    return out
