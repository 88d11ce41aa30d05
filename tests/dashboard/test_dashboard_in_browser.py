"""The KPI dashboard served by Streamlit over a warehouse built from the real sample, in a
real headless Chromium: it renders every section, logs no console error, requests nothing
outside this machine, and its headline numbers equal the gold tables."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from tests.browser import Page, chromium

METRICS = """
Object.fromEntries(Array.from(document.querySelectorAll('[data-testid="stMetric"]')).map(m => [
  m.querySelector('[data-testid="stMetricLabel"]').innerText.trim(),
  m.querySelector('[data-testid="stMetricValue"]').innerText.trim()]))
"""
DONE = "document.body.innerText.includes('Published gold marts of')"
SECTIONS = (
    "Revenue and orders over time",
    "Cohort retention",
    "Top sellers",
    "Delivery",
    "Payments",
    "Geography",
    "Churn risk",
)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def dashboard(sample_warehouse: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``python -m reporting.dashboard`` (what ``make dashboard`` runs) on a free port."""
    chromium()  # skip (or fail in CI) before starting a server nobody will look at
    port = _free_port()
    home = tmp_path_factory.mktemp("dashboard_home")
    proc = subprocess.Popen(
        [sys.executable, "-m", "reporting.dashboard", "--warehouse", str(sample_warehouse),
         "--port", str(port)],
        env={**os.environ, "HOME": str(home)},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as resp:
                    if resp.status == 200:
                        break
            except OSError:
                pass
            assert proc.poll() is None, proc.stdout.read() if proc.stdout else "exited"
            assert time.monotonic() < deadline, "the dashboard did not start"
            time.sleep(0.5)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def test_the_dashboard_renders_offline_and_its_headline_equals_the_gold_tables(
    dashboard: str, sample_warehouse: Path, tmp_path: Path
) -> None:
    with Page(tmp_path / "profile", width=1280, height=3200) as page:
        page.goto(dashboard)
        page.wait_for(DONE)
        page.wait_for("document.querySelectorAll('[data-testid=\"stVegaLiteChart\"]').length >= 8")
        page.pump(3)  # let the charts draw and any late error arrive
        metrics = page.evaluate(METRICS)
        text = page.evaluate("document.body.innerText")
        screenshot = page.screenshot(tmp_path / "dashboard.png")
        console = list(page.console)
        external = page.external_requests(dashboard, dashboard.replace("http", "ws", 1))

    with duckdb.connect(str(sample_warehouse), read_only=True) as con:
        revenue, orders = con.execute(
            "select sum(revenue), sum(orders) from gold.agg_sales_daily"
        ).fetchone()
    assert metrics["Revenue"] == f"R$ {float(revenue):,.2f}"
    assert metrics["Orders"] == f"{orders:,}"
    assert console == []
    assert external == []
    for section in SECTIONS:
        assert section in text
    assert "No warehouse" not in text and "busy" not in text
    assert screenshot.stat().st_size > 50_000  # a drawn page, not a blank one


def test_a_shared_link_opens_the_dashboard_filtered(
    dashboard: str, sample_warehouse: Path, tmp_path: Path
) -> None:
    """``?state=SP`` starts the state filter on SP: the headline is SP's, as in the geo mart."""
    with Page(tmp_path / "profile", width=1280, height=1200) as page:
        page.goto(f"{dashboard}/?state=SP")
        page.wait_for(DONE)
        page.pump(1)
        metrics = page.evaluate(METRICS)
        sidebar = page.evaluate("document.querySelector('[data-testid=stSidebar]').innerText")
        console = list(page.console)
    with duckdb.connect(str(sample_warehouse), read_only=True) as con:
        revenue, orders = con.execute(
            "select sum(revenue), sum(orders) from gold.agg_geo_sales where customer_state = 'SP'"
        ).fetchone()
    assert metrics["Revenue"] == f"R$ {float(revenue):,.2f}"
    assert metrics["Orders"] == f"{orders:,}"
    assert "SP" in sidebar
    assert console == []
