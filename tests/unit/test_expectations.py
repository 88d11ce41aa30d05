"""GX on DuckDB: the pinned GX must push checks down and give exact counts (this guards the
private persisted-connection name we extend)."""

from __future__ import annotations

from pathlib import Path

import duckdb
import great_expectations.expectations as gxe

from expectations import TableSuite, run_suites
from expectations.suites import SUITES


def test_every_expectation_has_a_severity_and_a_rationale() -> None:
    for suite in SUITES:
        for expectation in suite.build():
            assert str(expectation.severity).split(".")[-1].lower() in {
                "critical",
                "warning",
                "info",
            }
            assert expectation.meta and expectation.meta.get("rationale")


def test_checkpoint_counts_failures_exactly_and_releases_the_file(tmp_path: Path) -> None:
    path = tmp_path / "wh.duckdb"
    con = duckdb.connect(str(path))
    con.execute("create schema gold")
    con.execute("create table gold.t as select (i % 900) as k, i as v from range(1000) r(i)")
    con.close()
    suite = TableSuite(
        "gold",
        "t",
        lambda: [
            gxe.ExpectColumnValuesToBeUnique(
                column="k", severity="critical", meta={"rationale": "key"}
            ),
            gxe.ExpectColumnValuesToBeBetween(
                column="v",
                min_value=0,
                max_value=989,
                severity="warning",
                meta={"rationale": "range"},
            ),
        ],
    )
    outcomes = {o.expectation: o for o in run_suites(f"duckdb:///{path}", [suite])}
    unique = outcomes["expect_column_values_to_be_unique"]
    between = outcomes["expect_column_values_to_be_between"]
    assert (unique.success, unique.severity, unique.element_count, unique.unexpected_count) == (
        False,
        "critical",
        1000,
        200,
    )
    assert (between.success, between.severity, between.unexpected_count) == (False, "warning", 10)
    duckdb.connect(str(path)).close()  # GX let go of the file
