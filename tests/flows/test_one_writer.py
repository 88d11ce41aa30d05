"""One writer at a time: an incremental run that finds the warehouse's one writer slot taken
(the DuckDB file's lock, or on BigQuery the Prefect global concurrency limit
``olist-warehouse``) skips, changes nothing, says so, and leaves its batch for the next run.

On BigQuery the API endpoint is a local server that only records what reaches it: a run
that skips must send it nothing (a request gets an error, so a run that went on would fail).
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import duckdb
import pytest

from config.settings import Settings, load_settings
from flows.incremental import incremental_flow
from synthetic.batches import generate_batch
from warehouse import locking


@pytest.fixture()
def bigquery_endpoint(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """``OLIST_BQ_API_ENDPOINT`` at a server that refuses every request; the paths asked."""
    asked: list[str] = []

    class Refuse(BaseHTTPRequestHandler):
        def _refuse(self) -> None:
            asked.append(f"{self.command} {self.path}")
            body = b'{"error": {"code": 400, "message": "this test allows no BigQuery call"}}'
            self.send_response(400)  # not retried by the client: a run that calls fails fast
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _refuse  # noqa: N815

        def log_message(self, *args: object) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Refuse)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    monkeypatch.setenv("OLIST_BQ_API_ENDPOINT", f"http://127.0.0.1:{server.server_address[1]}")
    try:
        yield asked
    finally:
        server.shutdown()
        server.server_close()


def _settings(sample_dir: Path, work: Path, engine: str) -> Settings:
    settings = load_settings(
        source_dir=sample_dir,
        warehouse=work / "olist.duckdb",
        reports_dir=work / "reports",
        dbt_target=engine,
    )
    settings.batches_dir = work / "batches"
    return settings


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_an_incremental_run_skips_while_another_run_holds_the_duckdb_lock(
    sample_dir: Path, tmp_path: Path
) -> None:
    settings = _settings(sample_dir, tmp_path, "duckdb")
    con = duckdb.connect(str(settings.warehouse))  # a warehouse with some state in it
    con.execute("create schema ops")
    con.execute("create table ops.file_ledger as select 'a-file' as file_name")
    con.close()
    before = _digest(settings.warehouse)
    batch = generate_batch(sample_dir, settings.batches_dir, n_orders=5, seed=4)

    with locking.warehouse_lock(settings.warehouse, holder="a daily build"):
        state = incremental_flow(settings, run_id="incr-blocked", return_state=True)

    _assert_skipped(state, batch, held_by="a daily build")
    assert _digest(settings.warehouse) == before  # not even opened for writing
    assert not (settings.reports_dir / "runs" / "incr-blocked").exists()


def test_an_incremental_run_skips_while_another_run_holds_the_bigquery_slot(
    sample_dir: Path,
    tmp_path: Path,
    bigquery_endpoint: list[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(locking, "GLOBAL_WAIT_SECONDS", 2.0)  # the wait for the slot, not 30 s
    settings = _settings(sample_dir, tmp_path, "bigquery")
    batch = generate_batch(sample_dir, settings.batches_dir, n_orders=5, seed=4)

    with locking.global_slot("a daily build"):
        state = incremental_flow(settings, run_id="incr-blocked-bq", return_state=True)

    _assert_skipped(state, batch, held_by=repr(locking.GLOBAL_LIMIT))
    assert bigquery_endpoint == []  # BigQuery was neither read nor written
    assert not settings.warehouse.exists()  # no scratch or local warehouse either
    assert not (settings.reports_dir / "runs" / "incr-blocked-bq").exists()


def _assert_skipped(state: object, batch: Path, held_by: str) -> None:
    """A completed run named ``Skipped`` whose message says the warehouse is busy and who
    holds it; the batch still waits in the landing folder."""
    out = state.result()  # type: ignore[attr-defined]
    assert state.name == "Skipped", state  # type: ignore[attr-defined]
    message = state.message  # type: ignore[attr-defined]
    assert message.startswith("warehouse busy, skipped") and held_by in message
    assert "Nothing was changed by this run" in message
    assert out["published"] == [] and out["batches"] == []
    assert batch.exists() and not (batch.parent / "archive").exists()
