"""A local BigQuery for tests and development: run crucible-emulator and copy a DuckDB
warehouse's schema into it. Never imported by the product (it reaches an emulator only through
``OLIST_BQ_API_ENDPOINT``).

crucible-emulator is installed in its own virtualenv (``make setup-bq-emulator``: it pins its
own duckdb) and started through ``crucible_serve.py`` beside this file, which fixes crucible's
handling of ``NUMERIC(P, S)``. Bronze is copied through the BigQuery API itself
(``warehouse.bigquery_emulator.copy_table``), so any BigQuery endpoint works as a target.

Use from a shell (prints the environment for ``dbt --target bigquery``, serves until Ctrl-C)::

    .venv/bin/python -m tests.support.bigquery_emulator --warehouse data/olist.duckdb
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import duckdb
from google.cloud import bigquery

from warehouse.bigquery_emulator import (
    DEFAULT_PROJECT,
    MAX_STATEMENT_BYTES,
    EmulatorError,
    TableCopy,
    client_for,
    copy_table,
)
from warehouse.local import schema_tables


def copy_schema(
    con: duckdb.DuckDBPyConnection,
    client: bigquery.Client,
    schema: str = "bronze",
    dataset: str | None = None,
    max_statement_bytes: int = MAX_STATEMENT_BYTES,
) -> list[TableCopy]:
    """Copy every table and view of a DuckDB schema (empty ones too: dbt unions the empty
    ``batch_*`` tables) into a BigQuery dataset of the same name, replacing what is there."""
    dataset = dataset or schema
    client.create_dataset(bigquery.Dataset(f"{client.project}.{dataset}"), exists_ok=True)
    tables = schema_tables(con, schema)
    if not tables:
        raise EmulatorError(f"the DuckDB schema {schema!r} has no tables to copy")
    return [copy_table(con, client, schema, t, dataset, max_statement_bytes) for t in tables]


def copy_warehouse_schema(
    warehouse: Path, client: bigquery.Client, schema: str = "bronze"
) -> list[TableCopy]:
    """``copy_schema`` from a warehouse file, opened read-only."""
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return copy_schema(con, client, schema)
    finally:
        con.close()


def dbt_env(endpoint: str, project: str = DEFAULT_PROJECT) -> dict[str, str]:
    """The environment variables that point dbt/profiles.yml's ``bigquery`` target at
    ``endpoint`` (any token: the emulator has no authentication)."""
    return {
        "OLIST_DBT_TARGET": "bigquery",
        "OLIST_BQ_METHOD": "oauth-secrets",
        "OLIST_BQ_TOKEN": "emulator",
        "OLIST_BQ_PROJECT": project,
        "OLIST_BQ_LOCATION": "US",  # the location of the datasets copy_schema creates
        "OLIST_BQ_API_ENDPOINT": endpoint,
    }


# --- the emulator process ----------------------------------------------------------------------
SERVE_SCRIPT = Path(__file__).with_name("crucible_serve.py")


def default_emulator_python(repo: Path) -> Path:
    """``$OLIST_BQ_EMULATOR_PYTHON`` or the Python of ``.venv-bq`` (make setup-bq-emulator),
    which has crucible-emulator and its own duckdb."""
    if configured := os.environ.get("OLIST_BQ_EMULATOR_PYTHON"):
        return Path(configured)
    return repo / ".venv-bq" / "bin" / "python"


def emulator_installed(python: Path) -> bool:
    return python.is_file() and (python.parent / "crucible").is_file()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Emulator:
    endpoint: str
    process: subprocess.Popen[bytes]
    log: Path


def _healthy(endpoint: str) -> bool:
    try:
        with urllib.request.urlopen(f"{endpoint}/_crucible/health", timeout=1) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError):
        return False


def _die_with_parent() -> None:
    """In the child before exec: SIGTERM when the process that started it dies (Linux), so a
    test run killed without teardown leaves no emulator behind."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass  # not Linux: teardown alone stops it


def _stop(process: subprocess.Popen[bytes]) -> None:
    """End the emulator's whole process group: SIGTERM, then SIGKILL after 10 s."""
    if process.poll() is not None:
        return
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)
    except ProcessLookupError:
        pass


def _tail(path: Path, lines: int = 20) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


@contextmanager
def running_emulator(
    python: Path, log: Path, port: int | None = None, timeout: float = 60
) -> Iterator[Emulator]:
    """``crucible serve --dialect bigquery`` (through ``crucible_serve.py``, with ``python``, the
    emulator virtualenv's) on 127.0.0.1, in memory, until the block ends.

    Without ``port``, a free one is picked, and another if that one is taken meanwhile."""
    if not emulator_installed(python):
        raise EmulatorError(
            f"crucible-emulator not found beside {python}: run `make setup-bq-emulator` "
            "(or set OLIST_BQ_EMULATOR_PYTHON to a Python that has it)"
        )
    attempts = 1 if port else 3
    for attempt in range(attempts):
        chosen = port or free_port()
        endpoint = f"http://127.0.0.1:{chosen}"
        if _healthy(endpoint):  # another emulator there would answer for ours
            raise EmulatorError(f"something already serves {endpoint}; choose another port")
        with log.open("ab") as out:
            process = subprocess.Popen(
                [str(python), str(SERVE_SCRIPT), "serve", "--dialect", "bigquery"]
                + ["--host", "127.0.0.1", "--port", str(chosen)],
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,  # its own process group, so teardown ends all of it
                preexec_fn=_die_with_parent,
            )
        try:
            deadline = time.monotonic() + timeout
            while process.poll() is None and not _healthy(endpoint):
                if time.monotonic() > deadline:
                    raise EmulatorError(
                        f"crucible did not answer on {endpoint} within {timeout:.0f} s:\n"
                        + _tail(log)
                    )
                time.sleep(0.2)
            if process.poll() is not None:
                if attempt + 1 < attempts:
                    continue  # lost the port race; try another
                raise EmulatorError(
                    f"crucible exited with {process.returncode} on {endpoint}:\n" + _tail(log)
                )
            yield Emulator(endpoint, process, log)
            return
        finally:
            _stop(process)


# --- command line ------------------------------------------------------------------------------
def main(argv: list[str] | None = None, stdout: IO[str] = sys.stdout) -> int:
    from config.settings import repo_root

    parser = argparse.ArgumentParser(
        prog="python -m tests.support.bigquery_emulator",
        description="Serve a local BigQuery with a warehouse's bronze, for dbt --target bigquery.",
    )
    parser.add_argument("--warehouse", type=Path, required=True, help="DuckDB file with bronze")
    parser.add_argument("--port", type=int, default=9050)
    parser.add_argument("--project", default=DEFAULT_PROJECT)
    parser.add_argument(
        "--emulator-python", type=Path, default=default_emulator_python(repo_root())
    )
    parser.add_argument("--log", type=Path, default=Path("crucible.log"))
    args = parser.parse_args(argv)
    # SIGTERM unwinds like Ctrl-C, so the emulator is stopped on the way out
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    with running_emulator(args.emulator_python, args.log, args.port) as emulator:
        client = client_for(emulator.endpoint, args.project)
        started = time.perf_counter()
        copies = copy_warehouse_schema(args.warehouse, client)
        elapsed = time.perf_counter() - started
        total = sum(c.rows for c in copies)
        print(f"bronze: {len(copies)} tables, {total:,} rows in {elapsed:.1f} s", file=stdout)
        print("point dbt at it with:", file=stdout)
        for key, value in dbt_env(emulator.endpoint, args.project).items():
            print(f"  export {key}={value}", file=stdout)
        print("serving until Ctrl-C", file=stdout, flush=True)
        with suppress(KeyboardInterrupt):
            emulator.process.wait()
    return 0


if __name__ == "__main__":
    sys.exit(main())
