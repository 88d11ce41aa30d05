"""The dbt docs site (``make docs``) built over a warehouse from the real sample, in a real
headless Chromium: it loads nothing from outside this machine, logs no console error, and
shows a model's columns with their descriptions and the catalog's types."""

from __future__ import annotations

import functools
import re
import shutil
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from reporting.dbt_docs import generate
from tests.browser import Page, chromium

# resources a page loads by itself: tags' src/href and CSS url(), absolute or protocol-relative
EXTERNAL_RESOURCE = re.compile(
    r"""<(?:script|link|img|iframe)\b[^>]*\b(?:src|href)\s*=\s*["']?(?:https?:)?//"""
    r"""|url\(\s*["']?(?:https?:)?//|@import\s+["'](?:https?:)?//""",
    re.IGNORECASE,
)


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def site(sample_warehouse: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    work = tmp_path_factory.mktemp("dbt_docs")
    warehouse = work / "olist.duckdb"
    shutil.copy(sample_warehouse, warehouse)  # dbt opens it read-write: leave the shared one
    return generate(warehouse, work / "out")


@pytest.fixture(scope="module")
def served(site: Path) -> Iterator[str]:
    handler = functools.partial(_QuietHandler, directory=str(site))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_the_site_has_the_catalog_and_no_external_resource(site: Path) -> None:
    import json

    catalog = json.loads((site / "catalog.json").read_text())
    assert "model.olist.fct_orders" in catalog["nodes"]  # read from the warehouse
    for page in ("index.html", "static_index.html"):
        html = (site / page).read_text(encoding="utf-8")
        assert not EXTERNAL_RESOURCE.search(html), EXTERNAL_RESOURCE.search(html)


def test_the_external_resource_check_catches_one() -> None:
    """The detector itself can fail."""
    assert EXTERNAL_RESOURCE.search('<link rel="stylesheet" href="https://cdn.example/x.css">')
    assert EXTERNAL_RESOURCE.search("<script src=//cdn.example/x.js></script>")
    assert EXTERNAL_RESOURCE.search("body{background:url('https://cdn.example/x.png')}")
    assert not EXTERNAL_RESOURCE.search('<a href="https://docs.getdbt.com">docs</a>')


def test_the_site_renders_a_model_offline(served: str, tmp_path: Path) -> None:
    chromium()
    with Page(tmp_path / "profile", width=1280, height=1400) as page:
        page.goto(f"{served}/#!/model/model.olist.fct_orders")
        page.wait_for("document.body.innerText.includes('is_late')")
        page.wait_for("document.body.innerText.includes('estimated delivery date')")
        page.pump(2)
        text = page.evaluate("document.body.innerText")
        shot = page.screenshot(tmp_path / "dbt-docs.png")
        console = list(page.console)
        external = page.external_requests(served)
    assert console == []
    assert external == []
    assert "fct_orders" in text and "BOOLEAN" in text.upper()
    assert shot.stat().st_size > 30_000


def test_the_site_builds_before_any_run_without_creating_a_warehouse(tmp_path: Path) -> None:
    """``make docs`` on a fresh clone: descriptions, tests and lineage, an empty catalog, and
    no empty warehouse file left where ``olist run`` will write."""
    import json

    missing = tmp_path / "data" / "olist.duckdb"
    site = generate(missing, tmp_path / "out")
    manifest = json.loads((site / "manifest.json").read_text())
    assert "model.olist.agg_cohort_retention" in manifest["nodes"]
    assert json.loads((site / "catalog.json").read_text())["nodes"] == {}
    assert (site / "index.html").is_file() and not missing.parent.exists()
