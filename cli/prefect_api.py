"""The local Prefect API of a plain ``olist`` command (no ``PREFECT_API_URL``): a running
``make server`` when one answers (:func:`use_running_server`), else an ephemeral one.

Prefect starts an ephemeral API server in a subprocess on first use. On a fresh
``PREFECT_HOME`` it first migrates its database, which on a loaded machine can outlast the
start-up timeout (../shared/STACK_NOTES.md). Starting it here, before any flow, lets the
command wait once more (longer) instead of failing with Prefect's 40-line traceback, say
why when it still fails, and tie the server's life to this process: a run killed with
``kill -9`` no longer leaves an orphaned server behind.
"""

from __future__ import annotations

import ctypes
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

STARTUP_ADVICE = (
    "Prefect's local API server did not answer in time. On a fresh PREFECT_HOME it first "
    "migrates its database, which takes longer on a busy machine. Migrate it ahead of the "
    "run with `make setup` (or `PREFECT_HOME=<the same home> prefect server database "
    "upgrade -y`), raise PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS (now {timeout} s), "
    "or point PREFECT_API_URL at a running server (`make server`), then run again. Nothing "
    "was changed."
)
# the retry waits this many times the first timeout, at least RETRY_FLOOR seconds
RETRY_FACTOR = 3
RETRY_FLOOR = 300.0

# Server settings of the ephemeral API only (a user's own value wins). On start, Prefect's
# server imports every installed collection (prefect-gcp pulls in google-cloud-aiplatform,
# prefect-dbt pulls in dbt: ~4.5 s here) to hash the block registry, and registers every
# block type again whenever that hash or the database URL changed (~7 s more on a new
# PREFECT_HOME). The ephemeral API serves one command and no UI, and a block that command
# saves registers its own type (Block.save), so both are skipped: the API's start, as
# bench.fixed times it, drops from 13 s to 7 s on a migrated PREFECT_HOME. `make server`,
# whose UI lists the block catalogue, keeps Prefect's defaults.
# each setting turned off, by its current name → the older name Prefect still reads for it
# (a user's value under either name wins)
_OFF_ON_START = {
    "PREFECT_SERVER_REGISTER_BLOCKS_ON_START": "PREFECT_API_BLOCKS_REGISTER_ON_START",
    "PREFECT_SERVER_MEMOIZE_BLOCK_AUTO_REGISTRATION": "PREFECT_MEMOIZE_BLOCK_AUTO_REGISTRATION",
}
EPHEMERAL_SERVER_ENV = dict.fromkeys(_OFF_ON_START, "false")


def ephemeral_server_env(env: Mapping[str, str]) -> dict[str, str]:
    """``env`` with :data:`EPHEMERAL_SERVER_ENV` under the settings it does not name."""
    unset = {
        name: value
        for name, value in EPHEMERAL_SERVER_ENV.items()
        if name not in env and _OFF_ON_START[name] not in env
    }
    return {**env, **unset}


class PrefectApiUnavailable(RuntimeError):
    """The ephemeral Prefect API did not start, even after a longer second wait."""


def use_running_server(say: Callable[[str], None] = print) -> str | None:
    """With no ``PREFECT_API_URL`` in the environment, point this process at the API of a
    running ``make server`` (``deployments.local``: 127.0.0.1, ``PREFECT_PORT``, default
    4200) when it answers its health check, and return that URL; else None (the ephemeral
    API, started by :func:`start_ephemeral_api`). The run then skips the ephemeral server's
    start (~7 s, ~15 s on a fresh database) and shows in the UI already open. Must run
    before Prefect is imported: Prefect reads its settings once, at import. An API URL
    set only in a Prefect profile is not seen here; set it in the environment, or
    ``OLIST_REUSE_SERVER=false`` to always start an ephemeral API."""
    if os.environ.get("PREFECT_API_URL"):
        return None
    if os.environ.get("OLIST_REUSE_SERVER", "").strip().lower() in ("0", "false", "no", "off"):
        return None
    from deployments.local import default_stack

    stack = default_stack()
    if not stack.healthy():  # nothing listening answers at once (connection refused)
        return None
    os.environ["PREFECT_API_URL"] = stack.api_url
    say(f"using the running Prefect server at {stack.api_url} (make server)")
    return stack.api_url


def uses_ephemeral_api() -> bool:
    from prefect.settings import PREFECT_API_URL, PREFECT_SERVER_EPHEMERAL_ENABLED

    return not PREFECT_API_URL.value() and bool(PREFECT_SERVER_EPHEMERAL_ENABLED.value())


def _die_with_parent() -> None:  # pragma: no cover - runs in the child, before exec
    """In the server's process: get SIGTERM when the process that started it dies."""
    pr_set_pdeathsig = 1
    ctypes.CDLL(None).prctl(pr_set_pdeathsig, signal.SIGTERM)


@contextmanager
def _children_die_with_us(once_started: Callable[[], None] | None = None) -> Iterator[None]:
    """Processes started meanwhile (Prefect's server) end when this process ends, even
    when it is killed (Linux ``PR_SET_PDEATHSIG``; elsewhere Prefect's atexit stop), and
    get :data:`EPHEMERAL_SERVER_ENV` under the variables the user did not set. The first
    one started is followed by ``once_started`` (see :func:`start_ephemeral_api`)."""
    original = subprocess.Popen
    linux = sys.platform.startswith("linux")
    pending = [once_started] if once_started else []

    class Popen(original):  # type: ignore[misc, valid-type]
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            if linux:
                kwargs.setdefault("preexec_fn", _die_with_parent)
            env = kwargs.get("env")
            kwargs["env"] = ephemeral_server_env(os.environ if env is None else env)
            super().__init__(*args, **kwargs)
            if pending:
                _meanwhile(pending.pop())

    subprocess.Popen = Popen  # type: ignore[misc]
    try:
        yield
    finally:
        subprocess.Popen = original  # type: ignore[misc]


def _meanwhile(work: Callable[[], None]) -> None:
    """Run ``work`` while the server starts; a failure is left to the stage that needs
    the same work again, which reports it in its own context."""
    try:
        work()
    except Exception:  # noqa: BLE001 - see the docstring
        return


def _healthy(url: str) -> bool:
    import httpx

    try:
        return httpx.get(f"{url}/health", timeout=5).status_code == 200
    except httpx.HTTPError:
        return False


def start_ephemeral_api(
    timeout: float | None = None,
    retry_timeout: float | None = None,
    say: Callable[[str], None] = print,
    while_starting: Callable[[], None] | None = None,
) -> str | None:
    """Start Prefect's ephemeral API server (the flows then reuse it) and return its URL;
    None when a server is configured (``PREFECT_API_URL``). A start that times out is
    given one longer wait (the same process, if it is still migrating; else a new one);
    a second failure raises ``PrefectApiUnavailable`` with what to do.

    ``while_starting`` runs in this thread once the server's process is started and
    before its health is polled: the server takes ~6 s to answer, on a core of its own,
    and a command can meanwhile import what its stages will need (``cli.main``:
    importing dbt and GX there cut an `olist run`'s start from 15.4 to 11.0 s). The
    wait for the server counts its own polls, not this work, so it cannot time out the
    start. An exception it raises is ignored (the stage repeats the import and reports
    it); it does not run when no server is started."""
    if not uses_ephemeral_api():
        return None
    from prefect.server.api.server import SubprocessASGIServer
    from prefect.settings import PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS

    first = float(timeout or PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS.value())
    second = float(retry_timeout or max(RETRY_FACTOR * first, RETRY_FLOOR))
    server = SubprocessASGIServer()
    try:
        with _children_die_with_us(once_started=while_starting):
            server.start(timeout=max(1, round(first)))
        return server.api_url
    except RuntimeError as err:
        if "ephemeral Prefect API server" not in str(err):
            raise
        first_error = err
    say(
        f"Prefect's local API did not start within {first:.0f} s (a fresh PREFECT_HOME "
        f"migrates its database first, slower on a busy machine): waiting once more, up to "
        f"{second:.0f} s"
    )
    process = server.server_process
    deadline = time.monotonic() + second
    if process is not None and process.poll() is None:  # still starting: keep waiting
        while time.monotonic() < deadline and process.poll() is None:
            if _healthy(server.api_url):
                server.running = True
                return server.api_url
            time.sleep(0.5)
    server.stop()  # never leave a half-started server behind
    server = SubprocessASGIServer()
    remaining = deadline - time.monotonic()
    try:
        if remaining < 1:
            raise RuntimeError(
                "Timed out while attempting to connect to ephemeral Prefect API server."
            )
        with _children_die_with_us():
            server.start(timeout=round(remaining))
        return server.api_url
    except RuntimeError as err:
        server.stop()
        raise PrefectApiUnavailable(
            STARTUP_ADVICE.format(timeout=f"{first:.0f}")
            + f" (Prefect said: {' '.join(str(first_error).split())[:300]})"
        ) from err
