"""Fixtures of the flow tests."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest

from config.settings import Settings


@pytest.fixture(autouse=True)
def harness(prefect_harness: None) -> None:
    """Every flow test runs against the session's one Prefect test API (tests/conftest.py)."""


@pytest.fixture()
def receiver() -> Iterator[tuple[str, list[dict]]]:
    """A local webhook endpoint: its URL, and the JSON bodies it received."""
    received: list[dict] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 (http.server's name)
            length = int(self.headers.get("Content-Length", 0))
            received.append(json.loads(self.rfile.read(length)))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/hook", received
    server.shutdown()


@pytest.fixture(scope="session")
def window_run(
    window: Path, tmp_path_factory: pytest.TempPathFactory, prefect_harness: None
) -> Settings:
    """The platform flow (without training) on the sample's window, once a session, as run
    ``WINDOW_RUN_ID``: the published starting point of the backfill, incremental and
    publish-gate tests. Read it, or copy its warehouse (and reports) first: a copy costs
    milliseconds, a run about a minute."""
    from config.settings import load_settings
    from flows.platform import platform_flow
    from tests.sample_window import WINDOW_RUN_ID

    work = tmp_path_factory.mktemp("window_run")
    settings = load_settings(
        source_dir=window, warehouse=work / "olist.duckdb", reports_dir=work / "reports"
    )
    settings.batches_dir = None
    platform_flow(settings, skip_train=True, run_id=WINDOW_RUN_ID)
    return settings
