"""One emulator and one dbt build of the sample for the BigQuery test modules that need them
(test_dbt_build_on_emulator.py, test_gx_on_emulator.py): package scope, so a test run pays
for the bronze copy and the ``dbt build --target bigquery`` once.

Nothing starts until a test asks for it: each fixture first asks for the emulator's Python,
so without ``make setup-bq-emulator`` the tests skip locally and fail in CI.
test_bigquery_load.py has module fixtures of its own (a different warehouse and emulator),
which override these names there.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from google.cloud import bigquery

from tests.bigquery.builds import (
    PROJECT,
    REPO,
    REVIEW_TEXT,
    Build,
    bigquery_profile,
    dbt_bigquery,
    failures,
    gold_tables,
    scalar,
)
from tests.bigquery.emulator import require_emulator_python
from tests.dbt_helpers import load_bronze
from tests.support.bigquery_emulator import Emulator, copy_warehouse_schema, running_emulator
from warehouse.bigquery_emulator import client_for
from warehouse.dbt_cli import dbt_command


@pytest.fixture(scope="package")
def emulator_python() -> Path:
    return require_emulator_python()


@pytest.fixture(scope="package")
def work(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("bigquery_emulator")


@pytest.fixture(scope="package")
def warehouse(sample_dir: Path, work: Path) -> Path:
    """The sample's bronze, as the platform makes it (strict ingest + contracts)."""
    path = work / "wh.duckdb"
    load_bronze(sample_dir, path)
    return path


@pytest.fixture(scope="package")
def emulator(emulator_python: Path, work: Path) -> Iterator[Emulator]:
    with running_emulator(emulator_python, work / "crucible.log") as running:
        yield running


@pytest.fixture(scope="package")
def client(emulator: Emulator) -> Iterator[bigquery.Client]:
    bq = client_for(emulator.endpoint, PROJECT)
    yield bq
    bq.close()


@pytest.fixture(scope="package")
def duckdb_build(
    emulator_python: Path, warehouse: Path, work: Path
) -> Iterator[tuple[Path, subprocess.Popen[str]]]:
    """The same project run on DuckDB, on a copy of the warehouse, in the background while
    the emulator is loaded and built (about 10 s off the wall time). Asks for the emulator
    first, so nothing starts when it is missing."""
    path = work / "duckdb-build.duckdb"
    shutil.copyfile(warehouse, path)
    env = {**os.environ, "OLIST_DBT_TARGET": "duckdb", "OLIST_WAREHOUSE": str(path)}
    with (work / "duckdb-run.txt").open("w") as out:
        proc = subprocess.Popen(
            dbt_command(work / "duckdb", "run", project_dir=REPO / "dbt"),
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            text=True,
        )
    yield path, proc
    if proc.poll() is None:
        proc.kill()
        proc.wait()


@pytest.fixture(scope="package")
def duckdb_built(duckdb_build: tuple[Path, subprocess.Popen[str]], work: Path) -> Path:
    """The DuckDB build, finished and successful: the warehouse file it wrote."""
    path, proc = duckdb_build
    returncode = proc.wait(timeout=900)
    log = (work / "duckdb-run.txt").read_text()
    assert returncode == 0, f"dbt run on DuckDB failed:\n{log[-5000:]}"
    return path


@pytest.fixture(scope="package")
def built(
    duckdb_build: tuple[Path, subprocess.Popen[str]],  # first: it runs meanwhile
    emulator: Emulator,
    client: bigquery.Client,
    warehouse: Path,
    work: Path,
) -> Build:
    copies = copy_warehouse_schema(warehouse, client)
    bronze_rows = {
        c.table: scalar(client, f"select count(*) from bronze.`{c.table}`") for c in copies
    }
    review_text = tuple(
        next(iter(client.query(REVIEW_TEXT.format(newline="'\\n'")).result())).values()
    )
    proc = dbt_bigquery(emulator, work, "build")
    report = failures(proc, work) if proc.returncode else ""
    gold = {t: bigquery_profile(client, t) for t in gold_tables(client)}
    return Build(bronze_rows, review_text, proc.returncode, report, gold)
