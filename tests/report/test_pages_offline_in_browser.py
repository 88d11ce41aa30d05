"""The quality report and the GX Data Docs it links to, as a reader opens them from disk in
a real headless Chromium with no network: each page renders styled, logs no console error
and requests nothing outside this machine. Screenshots are kept in the test's tmp dir.
(The dbt docs and the dashboard have their own tests in this folder and tests/dashboard;
the parent flow run's Artifacts tab is looked at in tests/e2e/test_prefect_server.py.)"""

from __future__ import annotations

from pathlib import Path

import duckdb
import great_expectations.expectations as gxe

from config.settings import load_settings
from expectations import TableSuite, docs_pages, run_suites
from quality.checks import from_gx
from quality.store import record_run, write_results
from reporting.quality_report import gx_docs_dir, write_run_report
from tests.browser import Page


def _checked_run(tmp_path: Path):  # -> (settings, report page)
    """A warehouse with one gold table, a GX checkpoint over it that renders Data Docs
    where the platform does, and the run's quality report."""
    settings = load_settings(warehouse=tmp_path / "wh.duckdb", reports_dir=tmp_path / "reports")
    con = duckdb.connect(str(settings.warehouse))
    con.execute("create schema gold")
    con.execute("create table gold.t as select * from (values ('ok'), ('no'), ('ok')) t(v)")
    con.close()
    suite = TableSuite(
        "gold",
        "t",
        lambda _: [
            gxe.ExpectColumnValuesToBeInSet(
                column="v", value_set=["ok"], severity="warning", meta={"rationale": "a set"}
            ),
            gxe.ExpectColumnValuesToNotBeNull(column="v"),
        ],
    )
    outcomes = run_suites(
        f"duckdb:///{settings.warehouse}", [suite], docs_dir=gx_docs_dir(settings), run_name="r1"
    )
    results = from_gx(outcomes, "r1")
    con = duckdb.connect(str(settings.warehouse))
    write_results(con, results)
    record_run(con, "r1", None, True)
    con.close()
    return settings, write_run_report(settings, "r1", results)


def _open(page: Page, path: Path, ready: str, shot: Path) -> tuple[list[str], list[str]]:
    """Open a file, wait until ``ready`` is true, screenshot; (console errors, external)."""
    page.console.clear()
    page.requests.clear()
    page.goto(path.resolve().as_uri())
    page.wait_for(f"document.readyState === 'complete' && ({ready})")
    page.pump(2)
    page.screenshot(shot)
    return list(page.console), page.external_requests("file://")


def test_the_report_and_the_gx_data_docs_render_offline(tmp_path: Path) -> None:
    settings, report = _checked_run(tmp_path)
    (validation,) = docs_pages(gx_docs_dir(settings), "r1")
    index = gx_docs_dir(settings) / "index.html"
    with Page(tmp_path / "profile", width=1280, height=1200) as page:
        report_console, report_external = _open(
            page, report, "!!document.getElementById('failing')", tmp_path / "report.png"
        )
        docs_console, docs_external = _open(
            page,
            validation,
            "document.body.innerText.includes('Expectation Validation Result')",
            tmp_path / "gx-validation.png",
        )
        # GX's stylesheet and ours applied: a styled table, not the browser's default
        styled = page.evaluate(
            "getComputedStyle(document.querySelector('table.table')).borderCollapse"
        )
        page.evaluate("hideSucceededValidations()")  # GX's "Failed Only" without jQuery
        shown = page.evaluate("document.body.innerText")
        index_console, index_external = _open(
            page, index, "!!document.getElementById('validations')", tmp_path / "gx-index.png"
        )
        listed = page.evaluate("document.getElementById('validations').innerText")
    assert (report_console, report_external) == ([], [])
    assert (docs_console, docs_external) == ([], [])
    assert (index_console, index_external) == ([], [])
    assert styled == "collapse"
    assert "values must belong to this set" in shown
    assert "gold.t: run r1" in listed
    for shot in ("report.png", "gx-validation.png", "gx-index.png"):
        assert (tmp_path / shot).stat().st_size > 20_000, shot  # a drawn page
