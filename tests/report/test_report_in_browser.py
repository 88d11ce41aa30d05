"""The quality report in a real headless Chromium (Debian's, installed by
``make setup-browser``): it renders, logs no console error, and shows the run's counts."""

from __future__ import annotations

import re
from pathlib import Path

import duckdb

from olist.quality_store import CheckResult, record_run, write_results
from olist.reporting import write_run_report
from olist.settings import load_settings
from tests.browser import run_chromium


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
