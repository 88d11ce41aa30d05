"""Fixed costs of a command: argument and path errors answer before Prefect, dbt
or GX load; ``olist incremental`` loads only what its stages run; a running ``make server``
is used instead of starting an ephemeral API.

Each case runs in a fresh interpreter and reads its ``sys.modules``, so a top-level import
re-added anywhere on the path makes it fail."""

from __future__ import annotations

import http.server
import json
import os
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

# what a refusal must not have loaded; DuckDB and pandas too, but for the warehouse checks
# (warehouse.engine, which alone knows the engine, loads them: ~1 s, not ~10)
HEAVY = ("prefect", "dbt", "prefect_dbt", "great_expectations", "mlflow", "optuna", "xgboost")
DATA = ("duckdb", "pandas", "pandera")

MAIN = """
import json, sys
from cli.main import main
try:
    code = main(sys.argv[1:])
except SystemExit as exit:
    code = exit.code
print("RESULT " + json.dumps({"exit": code, "modules": sorted(sys.modules)}))
"""


def _run(code: str, *args: str, env: dict[str, str] | None = None) -> tuple[dict, str]:
    done = subprocess.run(
        [sys.executable, "-c", code, *args],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, **(env or {})},
    )
    lines = [ln for ln in done.stdout.splitlines() if ln.startswith("RESULT ")]
    assert lines, done.stdout[-2000:] + done.stderr[-2000:]
    return json.loads(lines[-1][len("RESULT ") :]), done.stderr


def _loaded(modules: list[str], names: tuple[str, ...]) -> list[str]:
    return [name for name in names if name in modules]


@pytest.mark.parametrize(
    ("args", "code", "says"),
    [
        (["--help"], 0, ""),
        (["incremental", "--help"], 0, ""),
        (["run", "--data-dir", "/does/not/exist"], 2, "unrecognized arguments: --data-dir"),
        (["run", "--source", "{tmp}/missing"], 2, "missing: no such folder"),
        (["backfill", "--start", "2018-03-05", "--end", "2018-03-01"], 2, "is before --start"),
        (["ingest"], 2, "missing: no such folder"),
    ],
)
def test_argument_and_source_errors_answer_before_any_heavy_import(
    tmp_path: Path, args: list[str], code: int, says: str
) -> None:
    argv = [a.replace("{tmp}", str(tmp_path)) for a in args]
    env = {"OLIST_SOURCE_DIR": str(tmp_path / "missing"), "OLIST_REUSE_SERVER": "false"}
    result, stderr = _run(MAIN, *argv, env=env)
    assert result["exit"] == code, stderr[-2000:]
    assert says in " ".join(stderr.split())  # the message wraps where the path's length says
    assert _loaded(result["modules"], HEAVY + DATA) == []


@pytest.mark.parametrize(
    ("command", "says"),
    [("incremental", "No full build yet"), ("train", "No warehouse yet"), ("score", "")],
)
def test_a_missing_warehouse_is_refused_before_prefect_dbt_or_gx_load(
    tmp_path: Path, command: str, says: str
) -> None:
    wh = tmp_path / "none" / "wh.duckdb"
    result, stderr = _run(
        MAIN, command, "--warehouse", str(wh), env={"OLIST_REUSE_SERVER": "false"}
    )
    assert result["exit"] == 2, stderr[-2000:]
    assert says in stderr and "olist run" in stderr and str(wh) in stderr
    assert _loaded(result["modules"], HEAVY) == []
    assert not wh.parent.exists()


IMPORT = """
import json, sys
import flows.incremental
print("RESULT " + json.dumps({"modules": sorted(sys.modules)}))
"""


def test_the_incremental_flow_module_loads_no_ml_stack_and_no_stage_it_may_not_run() -> None:
    """MLflow, Optuna, XGBoost and scikit-learn are never run by an incremental run; dbt
    and GX only once a batch is there (their stages import them), so a run with no new
    batch, the usual 15-minute case, does not pay them."""
    result, _ = _run(IMPORT)
    ml = ("mlflow", "optuna", "xgboost", "sklearn", "pymc")
    assert _loaded(result["modules"], ml) == []
    assert _loaded(result["modules"], ("dbt", "prefect_dbt", "great_expectations")) == []
    assert "prefect" in result["modules"]  # the check can see an import


class _Health(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 - the http.server hook's name
        body = b"true" if self.path == "/api/health" else b"{}"
        self.send_response(200 if self.path == "/api/health" else 404)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def health_endpoint() -> Iterator[int]:
    """A real HTTP server answering Prefect's ``/api/health`` as a server does (``true``)."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Health)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


CHOOSE = """
import json, os
from cli.prefect_api import use_running_server
chosen = use_running_server(say=lambda message: None)
from prefect.settings import PREFECT_API_URL
from cli.prefect_api import uses_ephemeral_api
print("RESULT " + json.dumps({"chosen": chosen, "api": PREFECT_API_URL.value(),
                              "ephemeral": uses_ephemeral_api()}))
"""


def _choose(env: dict[str, str]) -> dict:
    base = {
        k: v
        for k, v in os.environ.items()
        if k not in ("PREFECT_API_URL", "PREFECT_PORT", "OLIST_REUSE_SERVER")
    }
    done = subprocess.run(
        [sys.executable, "-c", CHOOSE],
        capture_output=True,
        text=True,
        timeout=300,
        env={**base, **env},
    )
    lines = [ln for ln in done.stdout.splitlines() if ln.startswith("RESULT ")]
    assert lines, done.stdout[-2000:] + done.stderr[-2000:]
    return json.loads(lines[-1][len("RESULT ") :])


def test_a_running_local_server_is_used_instead_of_an_ephemeral_api(health_endpoint: int) -> None:
    url = f"http://127.0.0.1:{health_endpoint}/api"
    result = _choose({"PREFECT_PORT": str(health_endpoint)})
    assert result == {"chosen": url, "api": url, "ephemeral": False}


def test_with_no_server_answering_the_ephemeral_api_is_started() -> None:
    result = _choose({"PREFECT_PORT": str(_free_port())})
    assert result == {"chosen": None, "api": None, "ephemeral": True}


def test_a_configured_api_url_or_the_opt_out_wins_over_a_running_server(
    health_endpoint: int,
) -> None:
    port = {"PREFECT_PORT": str(health_endpoint)}
    elsewhere = "http://127.0.0.1:1/api"
    configured = _choose({**port, "PREFECT_API_URL": elsewhere})
    assert configured == {"chosen": None, "api": elsewhere, "ephemeral": False}
    opted_out = _choose({**port, "OLIST_REUSE_SERVER": "false"})
    assert opted_out == {"chosen": None, "api": None, "ephemeral": True}


STAGES = """
import json, sys
from cli.main import _stage_flows
flows = _stage_flows()
print("RESULT " + json.dumps({"stages": sorted(flows), "modules": sorted(sys.modules)}))
"""


def test_a_stage_command_imports_only_its_own_flow() -> None:
    """``olist ingest`` must not load MLflow through the train flow: the stage flows are
    imported when one is called, not all when the table of them is built."""
    result, _ = _run(STAGES)
    assert result["stages"] == ["clean", "ingest", "quality", "score", "train", "transform"]
    assert _loaded(result["modules"], HEAVY) == []
