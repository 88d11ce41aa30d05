"""The local Prefect API of a plain ``olist`` command: a slow first start (a fresh
PREFECT_HOME migrating its database) gets one longer wait, a start that never comes says
what to do, and the server dies with the process that started it, even on ``kill -9``.

Each case runs in its own interpreter: Prefect reads PREFECT_HOME once, at import."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

START = """
import os, sys, time
from config.settings import configure_runtime
configure_runtime()
from cli.prefect_api import PrefectApiUnavailable, start_ephemeral_api
from prefect.server.api.server import SubprocessASGIServer
timeout, retry = float(sys.argv[1]), float(sys.argv[2])
def children():
    return [int(p) for p in os.listdir("/proc") if p.isdigit() and
            open(f"/proc/{p}/stat").read().rsplit(")", 1)[1].split()[1] == str(os.getpid())
            and open(f"/proc/{p}/stat").read().rsplit(")", 1)[1].split()[0] != "Z"]
def meanwhile():
    print("MEANWHILE", children(), flush=True)
    raise ImportError("a stage's module that does not import")
try:
    url = start_ephemeral_api(timeout=timeout, retry_timeout=retry,
                              say=lambda m: print("SAY", m, flush=True),
                              while_starting=meanwhile)
except PrefectApiUnavailable as err:
    print("UNAVAILABLE", err, flush=True)
    print("CHILDREN", children(), flush=True)
    sys.exit(3)
import httpx
print("HEALTH", httpx.get(url + "/health").status_code, flush=True)
pid = SubprocessASGIServer().server_process.pid
print("SERVER", pid, flush=True)
environ = dict(v.split("=", 1) for v in open(f"/proc/{pid}/environ").read().split("\\0") if v)
keys = ("PREFECT_SERVER_REGISTER_BLOCKS_ON_START", "PREFECT_SERVER_MEMOIZE_BLOCK_AUTO_REGISTRATION",
        "PREFECT_MEMOIZE_BLOCK_AUTO_REGISTRATION")
print("ENV", {k: environ.get(k) for k in keys}, flush=True)
if sys.argv[3:] == ["hang"]:
    time.sleep(600)
"""


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One fresh PREFECT_HOME for the module: its database is not migrated yet."""
    return tmp_path_factory.mktemp("prefect-home")


def _env(home: Path) -> dict[str, str]:
    env = {**os.environ, "PREFECT_HOME": str(home)}
    env.pop("PREFECT_API_URL", None)
    return env


def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def test_a_start_slower_than_the_timeout_is_given_one_longer_wait(home: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-c", START, "1", "600"],
        env=_env(home),
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "SAY Prefect's local API did not start within 1 s" in done.stdout
    assert "waiting once more, up to 600 s" in done.stdout
    assert "HEALTH 200" in done.stdout


def test_a_start_that_never_comes_says_what_to_do_and_leaves_no_server(home: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-c", START, "1", "1"],
        env=_env(home),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 3, done.stderr[-3000:]
    assert "UNAVAILABLE Prefect's local API server did not answer in time" in done.stdout
    assert "prefect server database upgrade -y" in done.stdout and "make setup" in done.stdout
    assert "CHILDREN []" in done.stdout  # the half-started server was stopped


def test_the_server_dies_with_the_run_that_started_it(home: Path) -> None:
    """And it skips the block catalogue (cli.prefect_api.EPHEMERAL_SERVER_ENV) under the
    variables the user did not set; the command's own work (``while_starting``) ran
    while that server process was starting, and its failure did not stop the start."""
    proc = subprocess.Popen(
        [sys.executable, "-c", START, "600", "600", "hang"],
        env={**_env(home), "PREFECT_MEMOIZE_BLOCK_AUTO_REGISTRATION": "true"},
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert proc.stdout is not None
        server, meanwhile = None, None
        for line in proc.stdout:
            if line.startswith("MEANWHILE "):
                meanwhile = line.split(" ", 1)[1].strip()
            if line.startswith("SERVER "):
                server = int(line.split()[1])
                break
        assert server is not None and _alive(server)
        assert meanwhile == f"[{server}]"  # after the server's process started, once
        assert next(proc.stdout).strip() == "ENV " + repr(
            {
                "PREFECT_SERVER_REGISTER_BLOCKS_ON_START": "false",
                # the user's value, under the older name, wins (Prefect adds the new one)
                "PREFECT_SERVER_MEMOIZE_BLOCK_AUTO_REGISTRATION": "True",
                "PREFECT_MEMOIZE_BLOCK_AUTO_REGISTRATION": "true",
            }
        )
        proc.send_signal(signal.SIGKILL)  # no atexit, no finally: only the kernel acts
        proc.wait(timeout=30)
        deadline = time.monotonic() + 60
        while _alive(server) and time.monotonic() < deadline:
            time.sleep(0.5)
        assert not _alive(server), f"the Prefect server {server} outlived its run"
    finally:
        if proc.poll() is None:
            proc.kill()
