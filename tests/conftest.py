"""Shared fixtures. The real sample is read from ../shared beside the checkout, never copied
into the project."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from config.settings import configure_runtime
from tests.prefect_home import seed_prefect_home

configure_runtime()
os.environ.setdefault("PANDERA_VALIDATION_DEPTH", "SCHEMA_AND_DATA")
# asset events per dbt node cost ~15 s a build; the Prefect-server e2e test turns them on
os.environ.setdefault("OLIST_DBT_ASSETS", "false")
# olist subprocesses start their own API, even beside a developer's running `make server`
# (tests/unit/cli/test_fixed_costs.py turns the reuse back on where it is the subject)
os.environ.setdefault("OLIST_REUSE_SERVER", "false")

REPO = Path(__file__).resolve().parents[1]
SAMPLE = Path(os.environ.get("OLIST_SAMPLE_DIR", REPO.parent / "shared" / "data" / "olist_sample"))


@pytest.fixture(scope="session")
def sample_dir() -> Path:
    if not (SAMPLE / "olist_orders_dataset.csv").is_file():
        pytest.fail(f"real Olist sample not found at {SAMPLE} (expected ../shared beside the repo)")
    return SAMPLE


@pytest.fixture(scope="session")
def synthetic_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One scale-0.1 synthetic data set for the whole session."""
    from synthetic.generator import generate

    out = tmp_path_factory.mktemp("synthetic")
    generate(out, scale=0.1, seed=1)
    return out


@pytest.fixture(scope="session")
def sample_warehouse(sample_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The real sample through ingest, contracts (batch ``b1``) and ``dbt build``, once a
    session: read it, or copy the file to start a test from a built warehouse (a copy costs
    milliseconds, a rebuild 20-40 s)."""
    from tests.dbt_helpers import dbt, load_bronze

    work = tmp_path_factory.mktemp("sample_warehouse")
    path = work / "olist.duckdb"
    load_bronze(sample_dir, path)
    dbt(path, work, "build")
    return path


@pytest.fixture(scope="session")
def window(sample_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sample's orders of three days with their parts (tests/sample_window.py): a
    history short enough to rebuild day by day, and the input of the flow tests whose
    behaviour does not depend on the volume. Read it, don't write it."""
    from tests.sample_window import END, ORDERS_IN_WINDOW, START, sample_window

    out = tmp_path_factory.mktemp("window")
    assert sample_window(sample_dir, out, START, END) == ORDERS_IN_WINDOW
    return out


@pytest.fixture(scope="session")
def prefect_harness() -> Iterator[None]:
    """One temporary Prefect API (its own SQLite database, migrated once) for every test
    that runs flows in this process: a start costs 15-30 s, so it is paid once per session,
    not once per module. Tests keep apart by their own names (blocks, run ids, warehouses).
    The flow tests get it through the autouse ``harness`` in tests/flows/conftest.py."""
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield


@pytest.fixture(scope="session")
def prefect_db_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An empty Prefect database, migrated once a session. A command-line test that gives
    ``olist`` a new PREFECT_HOME copies it there (``seed_prefect_home``): otherwise each first
    start of the ephemeral API migrates a new database, 10-20 s a test. The checkout's own
    ``.prefect`` is not used: a developer's may hold runs, or be open by a server."""
    home = tmp_path_factory.mktemp("prefect-template")
    subprocess.run(
        [str(Path(sys.executable).parent / "prefect"), "server", "database", "upgrade", "-y"],
        env={**os.environ, "PREFECT_HOME": str(home)},
        capture_output=True,
        check=True,
        timeout=600,
    )
    return home / "prefect.db"


@pytest.fixture()
def prefect_home(tmp_path: Path, prefect_db_template: Path) -> Path:
    """A new PREFECT_HOME for one test, with a migrated empty database."""
    return seed_prefect_home(tmp_path / "prefect", prefect_db_template)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def gcs_emulator() -> Iterator[str]:
    """``gcp-storage-emulator`` in this process on a free loopback port, in memory;
    google-cloud-storage reaches it through ``STORAGE_EMULATOR_HOST``."""
    try:
        from gcp_storage_emulator.server import create_server
    except ImportError:
        pytest.fail(
            "gcp-storage-emulator is not installed, so the GCS landing zone cannot be "
            "tested: install the dev extra (pip install -c constraints.txt -e '.[dev]')"
        )
    port = _free_port()
    server = create_server("127.0.0.1", port, in_memory=True)
    server.start()
    try:
        with pytest.MonkeyPatch.context() as mp:
            mp.setenv("STORAGE_EMULATOR_HOST", f"http://127.0.0.1:{port}")
            yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


# --- the suite's wall time, for bench.summary's "make test ≤ 15 min" target -------------------
_SUITE_START: list[float] = []


def pytest_sessionstart(session: pytest.Session) -> None:
    import time

    _SUITE_START.append(time.monotonic())


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """When the whole suite ran (``make test``: no paths, ``-k`` or ``-m``), its wall time goes
    to ``bench/results/<stamp>-test-suite.json``; a partial run writes nothing."""
    import json
    import time
    from datetime import UTC, datetime

    config = session.config
    if hasattr(config, "workerinput"):
        return  # a pytest-xdist worker: the controller times the whole suite
    whole = not config.option.keyword and not config.option.markexpr
    tests = (REPO / "tests").resolve()
    whole = whole and all((config.rootpath / a).resolve() == tests for a in config.args)
    if not whole or not _SUITE_START or session.testscollected < 100:
        return
    results = REPO / "bench" / "results"
    results.mkdir(parents=True, exist_ok=True)
    record = {
        "seconds": round(time.monotonic() - _SUITE_START[0], 1),
        "tests": session.testscollected,
        "failed": session.testsfailed,
        "exit_status": int(exitstatus),
        "at": datetime.now(UTC).isoformat(),
        "cpus": os.cpu_count(),
        "note": f"{session.testscollected} tests, {session.testsfailed} failed",
    }
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    (results / f"{stamp}-test-suite.json").write_text(json.dumps(record, indent=2) + "\n")
