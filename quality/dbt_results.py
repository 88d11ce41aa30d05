"""dbt test outcomes → ``quality.check_results`` rows, like pandera's and GX's.

dbt writes every test's status and failure count to ``target/run_results.json``; the
manifest says which model and column a test guards and its configured severity. dbt's
``error`` severity is our ``critical`` (the build fails), ``warn`` is ``warning``. A test an
incremental run scoped to its new rows (``where: __new_rows__`` with the ``loaded_after``
var, dbt/macros/where_subquery.sql) observes those rows only, and says so in
``observed_count``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from quality.store import CheckResult
from warehouse import local as warehouse

SEVERITY = {"error": "critical", "warn": "warning"}
SAMPLE_ROWS = 5
NEW_ROWS = "__new_rows__"  # the placeholder of dbt/macros/where_subquery.sql


@dataclass(frozen=True)
class Artifacts:
    run_results: dict[str, Any]
    manifest: dict[str, Any]

    @property
    def generated_at(self) -> datetime:
        stamp = self.run_results["metadata"]["generated_at"].rstrip("Z")
        return datetime.fromisoformat(stamp)


def load_artifacts(target_dir: Path) -> Artifacts | None:
    """The artifacts of the last dbt invocation in ``target_dir``, if it wrote any."""
    results, manifest = target_dir / "run_results.json", target_dir / "manifest.json"
    if not (results.is_file() and manifest.is_file()):
        return None
    return Artifacts(
        json.loads(results.read_text(encoding="utf-8")),
        json.loads(manifest.read_text(encoding="utf-8")),
    )


def _tested_node(manifest: dict[str, Any], test: dict[str, Any]) -> dict[str, Any] | None:
    parent = test.get("attached_node") or next(
        (n for n in test.get("depends_on", {}).get("nodes", []) if n.startswith("source.")),
        None,
    )
    if parent is None:
        return None
    return manifest["nodes"].get(parent) or manifest["sources"].get(parent)


def _layer(node: dict[str, Any] | None) -> str:
    if node is None:
        return "unknown"
    return "bronze" if node.get("resource_type") == "source" else str(node.get("schema"))


def to_check_results(
    artifacts: Artifacts,
    run_id: str,
    samples: Callable[[str], list[Any]] | None = None,
    row_count: Callable[[str, str, str | None], int | None] | None = None,
) -> list[CheckResult]:
    """One CheckResult per data or unit test that ran (skipped tests are not results).

    ``samples(compiled_sql)`` may fetch a few failing rows; ``row_count(schema, table,
    loaded_after)`` the size of the tested relation (its rows loaded after that time, for a
    scoped test). Both are optional (only DuckDB can answer cheaply).
    """
    manifest = artifacts.manifest
    after = (artifacts.run_results.get("args", {}).get("vars") or {}).get("loaded_after")
    out: list[CheckResult] = []
    for result in artifacts.run_results["results"]:
        uid: str = result["unique_id"]
        status = result["status"]
        if status == "skipped" or not uid.startswith(("test.", "unit_test.")):
            continue
        if uid.startswith("unit_test."):
            test = manifest["unit_tests"][uid]
            model = manifest["nodes"].get(test["depends_on"]["nodes"][0])
            table, column, severity, check = test["model"], None, "critical", "unit_test"
        else:
            test = manifest["nodes"][uid]
            model = _tested_node(manifest, test)
            table = (model or {}).get("alias") or (model or {}).get("name") or "unknown"
            column = test.get("column_name")
            severity = SEVERITY.get(str(test["config"]["severity"]).lower(), "critical")
            check = test["test_metadata"]["name"] if test.get("test_metadata") else "singular"
        passed = status == "pass"
        failures = result.get("failures")
        observed = None
        if row_count is not None and model is not None and not uid.startswith("unit_test."):
            scoped = NEW_ROWS in str(test.get("config", {}).get("where") or "")
            observed = row_count(_layer(model), table, after if scoped else None)
        sample: list[Any] = []
        if not passed and samples is not None and result.get("compiled_code"):
            sample = samples(result["compiled_code"])
        if status == "error":
            sample = sample or [str(result.get("message") or "")[:500]]
        out.append(
            CheckResult(
                run_id=run_id,
                layer=_layer(model),
                table_name=table,
                column_name=column,
                check_name=f"{check}:{test['name']}",
                check_engine="dbt",
                severity=severity,
                passed=passed,
                observed_count=observed,
                unexpected_count=int(failures) if failures is not None else None,
                unexpected_percent=(
                    round(100.0 * int(failures) / observed, 4)
                    if observed and failures is not None
                    else None
                ),
                sample_values=sample,
            )
        )
    return out


def duckdb_probes(
    con: Any,
) -> tuple[Callable[[str], list[Any]], Callable[[str, str], int | None]]:
    """``samples`` and ``row_count`` for :func:`to_check_results` on a DuckDB warehouse."""

    def samples(compiled_sql: str) -> list[Any]:
        try:
            rows = con.execute(
                f"select * from ({compiled_sql}) as failing limit {SAMPLE_ROWS}"
            ).fetchall()
        except Exception as err:  # a broken test query is itself the finding
            return [f"could not fetch failing rows: {err}"[:300]]
        return [row[0] if len(row) == 1 else row for row in rows]

    def row_count(schema: str, table: str, loaded_after: str | None = None) -> int | None:
        if not warehouse.table_exists(con, schema, table):
            return None
        if loaded_after:
            return int(
                warehouse.scalar(
                    con,
                    f'select count(*) from {schema}."{table}" where _loaded_at > cast(? as timestamp)',
                    [loaded_after],
                )
                or 0
            )
        return warehouse.row_count(con, schema, table)

    return samples, row_count


# dbt's node statuses in the words its own "Done." line uses
_STATUS_WORD = {"success": "ok", "pass": "pass", "warn": "warn", "error": "error", "fail": "fail"}


def _node_name(unique_id: str) -> str:
    """``test.olist.not_null_x.1a2b`` → ``not_null_x``; a unit test by its own name."""
    parts = unique_id.split(".")
    if parts[0] == "unit_test" or len(parts) < 3:
        return parts[-1]
    return parts[2]


def summary_line(run_results: dict[str, Any], limit: int = 8) -> str:
    """One line for the console and the flow log: nodes by status, elapsed time, and the
    nodes that failed, errored or warned, by name (at most ``limit`` of each)."""
    by_status: dict[str, list[str]] = {}
    for result in run_results.get("results", []):
        status = _STATUS_WORD.get(result["status"], result["status"])
        by_status.setdefault(status, []).append(_node_name(result["unique_id"]))
    counts = ", ".join(f"{len(names)} {s}" for s, names in sorted(by_status.items()))
    total = sum(len(names) for names in by_status.values())
    line = f"dbt: {total} nodes in {run_results.get('elapsed_time', 0):.0f} s: {counts or 'none'}"
    for status in ("error", "fail", "warn", "skipped"):
        names = sorted(by_status.get(status, []))
        if names:
            more = f" and {len(names) - limit} more" if len(names) > limit else ""
            line += f"; {status}: {', '.join(names[:limit])}{more}"
    return line


_KIND_WORD = {"test": "Test", "unit_test": "Unit_test", "model": "Model", "seed": "Seed"}


def failed_nodes(run_results: dict[str, Any]) -> list[dict[str, Any]]:
    """The results that failed (a test) or errored (any node)."""
    return [r for r in run_results.get("results", []) if r["status"] in ("error", "fail")]


class DbtFailed(ValueError):
    """A dbt build, run or test with failed nodes, named one a line with dbt's message
    (``cli.main.dbt_failures`` reads them back for the console's paragraph)."""

    HEADER = "dbt failed on"

    @classmethod
    def from_run_results(cls, command: str, run_results: dict[str, Any]) -> DbtFailed:
        failed = failed_nodes(run_results)
        lines = [f"{cls.HEADER} {len(failed)} node(s) of `dbt {command}`:"]
        for r in failed:
            kind = _KIND_WORD.get(r["unique_id"].split(".")[0], "Node")
            verb = "failed" if r["status"] == "fail" else "errored"
            message = " ".join(str(r.get("message") or "").split()).replace('"', "'")
            lines.append(f'{kind} {_node_name(r["unique_id"])} {verb} with message: "{message}"')
        return cls("\n".join(lines))
