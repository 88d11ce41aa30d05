"""dbt test outcomes become check results with our severities and the tested table."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb

from quality.dbt_results import Artifacts, duckdb_probes, load_artifacts, to_check_results


def _artifacts(results: list[dict], tests: dict[str, dict]) -> Artifacts:
    manifest = {
        "nodes": {
            "model.olist.fct_orders": {
                "resource_type": "model",
                "name": "fct_orders",
                "alias": "fct_orders",
                "schema": "gold",
            },
            **tests,
        },
        "sources": {
            "source.olist.olist.orders": {
                "resource_type": "source",
                "name": "orders",
                "schema": "bronze",
            }
        },
        "unit_tests": {
            "unit_test.olist.fct_orders.ut": {
                "name": "ut",
                "model": "fct_orders",
                "depends_on": {"nodes": ["model.olist.fct_orders"]},
            }
        },
    }
    return Artifacts(
        {"metadata": {"generated_at": "2026-01-01T00:00:00Z"}, "results": results}, manifest
    )


def _test(name: str, severity: str, parent: str | None, column: str | None = None) -> dict:
    return {
        "name": name,
        "resource_type": "test",
        "column_name": column,
        "attached_node": parent,
        "depends_on": {"nodes": [parent or "source.olist.olist.orders"]},
        "test_metadata": {"name": name.split("_")[0]},
        "config": {"severity": severity},
    }


def test_severities_map_to_critical_and_warning_and_skips_are_not_results() -> None:
    tests = {
        "test.olist.unique_a": _test("unique_a", "ERROR", "model.olist.fct_orders", "order_id"),
        "test.olist.accepted_b": _test("accepted_b", "warn", "model.olist.fct_orders", "x"),
        "test.olist.not_null_c": _test("not_null_c", "ERROR", None, "order_id"),
        "test.olist.skipped_d": _test("skipped_d", "ERROR", "model.olist.fct_orders"),
    }
    artifacts = _artifacts(
        [
            {"unique_id": "test.olist.unique_a", "status": "fail", "failures": 3},
            {"unique_id": "test.olist.accepted_b", "status": "warn", "failures": 2},
            {"unique_id": "test.olist.not_null_c", "status": "pass", "failures": 0},
            {"unique_id": "test.olist.skipped_d", "status": "skipped", "failures": None},
            {"unique_id": "unit_test.olist.fct_orders.ut", "status": "fail", "failures": 1},
            {"unique_id": "model.olist.fct_orders", "status": "success", "failures": None},
        ],
        tests,
    )
    results = {r.check_name: r for r in to_check_results(artifacts, "r1")}
    assert set(results) == {
        "unique:unique_a",
        "accepted:accepted_b",
        "not:not_null_c",
        "unit_test:ut",
    }
    unique = results["unique:unique_a"]
    assert (unique.severity, unique.passed, unique.unexpected_count) == ("critical", False, 3)
    assert (unique.layer, unique.table_name, unique.column_name) == (
        "gold",
        "fct_orders",
        "order_id",
    )
    assert results["accepted:accepted_b"].severity == "warning"
    assert not results["accepted:accepted_b"].passed
    source = results["not:not_null_c"]
    assert (source.layer, source.table_name, source.passed) == ("bronze", "orders", True)
    unit = results["unit_test:ut"]
    assert (unit.severity, unit.passed, unit.check_engine) == ("critical", False, "dbt")


def test_duckdb_probes_fetch_failing_rows_and_the_tested_table_size() -> None:
    con = duckdb.connect()
    con.execute("create schema gold")
    con.execute("create table gold.fct_orders as select * from range(10) t(order_id)")
    tests = {
        "test.olist.unique_a": _test("unique_a", "ERROR", "model.olist.fct_orders", "order_id")
    }
    artifacts = _artifacts(
        [
            {
                "unique_id": "test.olist.unique_a",
                "status": "fail",
                "failures": 2,
                "compiled_code": "select order_id from gold.fct_orders where order_id >= 8",
            }
        ],
        tests,
    )
    samples, row_count = duckdb_probes(con)
    (result,) = to_check_results(artifacts, "r1", samples, row_count)
    assert result.observed_count == 10
    assert result.unexpected_percent == 20.0
    assert sorted(result.sample_values) == [8, 9]


def test_missing_artifacts_are_none(tmp_path: Path) -> None:
    assert load_artifacts(tmp_path) is None
    (tmp_path / "run_results.json").write_text(json.dumps({"metadata": {}, "results": []}))
    assert load_artifacts(tmp_path) is None  # no manifest beside it


def test_the_summary_counts_nodes_by_status_and_names_the_failures() -> None:
    from quality.dbt_results import summary_line

    results = [{"unique_id": f"model.olist.m{i}", "status": "success"} for i in range(3)]
    results += [
        {"unique_id": "test.olist.not_null_fct_orders_order_id.1a", "status": "fail"},
        {"unique_id": "test.olist.accepted_values_x.2b", "status": "warn"},
        {"unique_id": "model.olist.fct_orders", "status": "error"},
        {"unique_id": "model.olist.agg_sales", "status": "skipped"},
    ]
    line = summary_line({"results": results, "elapsed_time": 31.7})
    assert line.startswith("dbt: 7 nodes in 32 s: 1 error, 1 fail, 3 ok, 1 skipped, 1 warn")
    assert "; error: fct_orders; fail: not_null_fct_orders_order_id; warn: " in line
    assert line.endswith("warn: accepted_values_x; skipped: agg_sales")
