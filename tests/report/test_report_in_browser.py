"""The quality report in a real headless Chromium (Debian's, installed by
``make setup-browser``): it renders, logs no console error, and shows the run's counts."""

from __future__ import annotations

import re
from pathlib import Path

import duckdb

from config.settings import load_settings
from quality.store import CheckResult, record_run, write_results
from reporting.quality_report import write_run_report
from tests.browser import Page, run_chromium


def render(page: Path, profile: Path) -> tuple[str, list[str]]:
    """The DOM after load, and every console message Chromium logged."""
    proc = run_chromium(
        page.resolve().as_uri(), profile, "--enable-logging=stderr", "--v=0", "--dump-dom"
    )
    console = [line for line in proc.stderr.splitlines() if "CONSOLE" in line]
    return proc.stdout, console


def _text(dom: str, element_id: str) -> str:
    match = re.search(rf"id=\"{element_id}\"[^>]*>([^<]*)<", dom)
    assert match, f"#{element_id} not in the rendered page"
    return match.group(1).strip()


def test_the_report_renders_without_console_errors_and_shows_the_counts(tmp_path: Path) -> None:
    settings = load_settings(warehouse=tmp_path / "wh.duckdb", reports_dir=tmp_path / "reports")
    con = duckdb.connect(str(settings.warehouse))
    results = [
        CheckResult("r1", "gold", "fct_orders", "unique", "dbt", "critical", True),
        CheckResult(
            "r1",
            "gold",
            "fct_orders",
            "mean",
            "great_expectations",
            "warning",
            False,
            column_name="order_value",
            unexpected_count=1,
            sample_values=[312.5],
        ),
        CheckResult("r1", "bronze", "orders", "dup", "pandera", "info", False, unexpected_count=4),
        CheckResult("r1", "bronze", "orders", "keys", "pandera", "info", False, unexpected_count=2),
    ]
    write_results(con, results)
    record_run(con, "r1", None, True)
    con.close()
    page = write_run_report(settings, "r1", results)

    dom, console = render(page, tmp_path / "profile")
    assert console == []
    assert _text(dom, "verdict") == "warn"
    assert (_text(dom, "passed-critical"), _text(dom, "failed-critical")) == ("1", "0")
    assert _text(dom, "failed-warning") == "1"
    assert _text(dom, "failed-info") == "2"
    assert '<svg id="trend"' in dom and "312.5" in dom


def test_the_console_check_catches_a_script_error(tmp_path: Path) -> None:
    """The detector itself can fail: a page with a broken script logs a console error."""
    broken = tmp_path / "broken.html"
    broken.write_text("<!doctype html><p id='x'>1</p><script>no_such_function()</script>")
    _, console = render(broken, tmp_path / "profile")
    assert any("no_such_function" in line for line in console)


def test_the_report_reads_well_one_row_per_table_named_columns_formatted_values_and_why(
    tmp_path: Path,
) -> None:
    """The audit copy is reported as its gold table; a pair check names its columns; sample
    values read as dates, not Python reprs; the unexpected share and the rationale show; the
    page fits a 1,280 px window even with dbt's long test names."""
    settings = load_settings(warehouse=tmp_path / "wh.duckdb", reports_dir=tmp_path / "reports")
    long_name = "expression_is_true:" + "expression_is_true_fct_orders_" * 6
    results = [
        CheckResult("r2", "gold_audit", "fct_orders", "unique:unique_fct_orders_order_id",
                    "dbt", "critical", True),
        CheckResult("r2", "gold_audit", "fct_orders", long_name, "dbt", "warning", False,
                    observed_count=8, unexpected_count=1),
        CheckResult("r2", "gold", "fct_orders", "expect_column_values_to_be_unique", "great_expectations",
                    "critical", True, column_name="order_id"),
        CheckResult(
            "r2", "silver", "stg_olist__orders",
            "expect_column_pair_values_a_to_be_greater_than_b", "great_expectations", "warning",
            False, column_name="delivered_to_carrier_at, approved_at", observed_count=8000,
            unexpected_count=99, unexpected_percent=1.2345,
            sample_values=[
                "(datetime.datetime(2018, 1, 2, 3, 4, 5), datetime.datetime(2018, 1, 3, 0, 0))",
                "{'price': Decimal('12.50'), 'freight': 0.30000000000000004}",
            ],
        ),
    ]  # fmt: skip
    duckdb.connect(str(settings.warehouse)).close()
    page_path = write_run_report(settings, "r2", results)

    with Page(tmp_path / "profile", width=1280, height=1000) as page:
        page.goto(page_path.resolve().as_uri())
        page.wait_for("!!document.getElementById('failing')")
        widths = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
        scorecard = page.evaluate(
            "Array.from(document.querySelectorAll('#scorecard tr td:first-child'))"
            ".map(td => td.innerText)"
        )
        failing = page.evaluate("document.getElementById('failing').innerText")
        console = list(page.console)
    assert widths[0] <= widths[1] == 1280
    assert scorecard == ["gold.fct_orders", "silver.stg_olist__orders"]
    assert "delivered_to_carrier_at, approved_at" in failing
    assert "2018-01-02 03:04:05, 2018-01-03 00:00:00" in failing
    assert "price=12.50, freight=0.3" in failing and "datetime.datetime" not in failing
    assert "1.23 %" in failing and "12.50 %" in failing  # given, and computed from counts
    assert "Handed to the carrier before payment approval" in failing  # the suite's own
    assert "arithmetic invariant" in failing  # a dbt test's, by its kind
    assert console == []
