"""Stateless production runs: the platform on the ``bigquery`` target keeps everything it
remembers in BigQuery (here crucible-emulator), nothing on the job's disk.

Three "jobs", as Cloud Run would start them: each a fresh process (``olist run`` in a
subprocess) in a fresh, empty working folder, sharing only the emulator and the landing
folder. Job 1 loads three days of the real sample (the ``window`` fixture: the emulator is
slow per statement and row, and statelessness does not depend on the volume) and publishes; job 2, with the same files, finds nothing
new and changes no table; job 3, with one JSON order batch landed, appends it exactly once.
Training is skipped (``--skip-train``): the ML stages read gold through the same interface
and are covered in test_platform_on_emulator.py; here they would only add minutes.

The first tests check the engine's idempotent writes (claim, merge, append) on the emulator
itself, which the ledger's exactly-once rests on.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from google.cloud import bigquery

from synthetic.batches import generate_batch
from tests.bigquery.builds import scalar
from tests.prefect_home import seed_prefect_home
from tests.sample_window import ORDERS_IN_WINDOW
from tests.support.bigquery_emulator import Emulator, dbt_env
from warehouse.bigquery import target_client
from warehouse.engine import BigQueryWarehouse

pytestmark = [pytest.mark.bigquery_emulator, pytest.mark.slow]

PROJECT = "olist-stateless"
STATE_DATASETS = ("ops", "bronze", "quarantine", "quality", "gold")


# --- the engine's idempotent writes on the emulator --------------------------------------------
@pytest.fixture(scope="module")
def wh(emulator: Emulator) -> Iterator[BigQueryWarehouse]:
    with BigQueryWarehouse(target_client(dbt_env(emulator.endpoint, "olist-engine"))) as opened:
        yield opened


def _ledger(*rows: tuple[str, str, str]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["sha256", "status", "batch_id"]).assign(
        message=pd.Series([None] * len(rows), dtype=object)
    )


def test_a_claim_inserts_a_key_once_however_often_it_is_made(wh: BigQueryWarehouse) -> None:
    first = _ledger(("a", "loaded", "run-1"), ("b", "loaded", "run-1"))
    assert wh.claim("ops", "claims", first, ("sha256", "status")) == 2
    # a second run that slipped past the concurrency limit claims a and c: only c is new
    second = _ledger(("a", "loaded", "run-2"), ("c", "loaded", "run-2"))
    assert wh.claim("ops", "claims", second, ("sha256", "status")) == 1
    assert wh.claim("ops", "claims", second, ("sha256", "status")) == 0
    got = wh.query("select sha256, batch_id from ops.claims order by sha256")
    assert got.to_dict("list") == {
        "sha256": ["a", "b", "c"],
        "batch_id": ["run-1", "run-1", "run-2"],
    }


def test_a_merge_updates_matched_keys_and_inserts_the_rest(wh: BigQueryWarehouse) -> None:
    wh.merge("ops", "merged", pd.DataFrame({"run_id": ["r1"], "status": ["running"]}), ["run_id"])
    changed = pd.DataFrame({"run_id": ["r1", "r2"], "status": ["succeeded", "running"]})
    assert wh.merge("ops", "merged", changed, ["run_id"]) == 2
    got = wh.query("select run_id, status from ops.merged order by run_id")
    assert got.to_dict("list") == {"run_id": ["r1", "r2"], "status": ["succeeded", "running"]}


def test_an_append_creates_the_table_then_adds_rows(wh: BigQueryWarehouse) -> None:
    rows = pd.DataFrame({"id": [1, 2], "text": ['a, "quoted"\nline', None]})
    assert wh.append("bronze", "appended", rows) == 2
    assert wh.append("bronze", "appended", rows.iloc[:1]) == 1
    assert wh.scalar("select count(*) from bronze.appended") == 3
    assert wh.scalar("select count(*) from bronze.appended where text is null") == 1


# --- three jobs --------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def landing(window: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The landing folder every job reads: the sample's window, and an empty batch folder."""
    root = tmp_path_factory.mktemp("landing")
    shutil.copytree(window, root / "source")
    (root / "batches").mkdir()
    return root


def _job(
    name: str,
    emulator: Emulator,
    landing: Path,
    tmp_path_factory: pytest.TempPathFactory,
    template: Path,
) -> tuple[Path, subprocess.CompletedProcess[str]]:
    """``olist run --skip-train`` in a new empty folder, in a new process. Its Prefect home
    (a copy of the session's migrated, empty database, to spare a minute of migrations) is
    beside the folder, not in it."""
    folder = tmp_path_factory.mktemp(f"job-{name}")
    prefect_home = seed_prefect_home(tmp_path_factory.mktemp(f"prefect-{name}"), template)
    env = {
        **os.environ,
        **dbt_env(emulator.endpoint, PROJECT),
        "PREFECT_HOME": str(prefect_home),
        "OLIST_MLFLOW_DIR": str(folder / "mlruns"),
        "OLIST_SOURCE_DIR": str(landing / "source"),
        "OLIST_BATCHES_DIR": str(landing / "batches"),
        "OLIST_WAREHOUSE": str(folder / "data" / "olist.duckdb"),
        "OLIST_REPORTS_DIR": str(folder / "reports"),
    }
    for inherited in ("PREFECT_API_URL", "MLFLOW_TRACKING_URI"):
        env.pop(inherited, None)
    proc = subprocess.run(
        [sys.executable, "-m", "cli", "run", "--skip-train"],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        timeout=1800,
    )
    assert proc.returncode == 0, f"job {name} failed:\n{proc.stdout[-4000:]}\n{proc.stderr[-8000:]}"
    return folder, proc


def _no_warehouse_file(folder: Path) -> None:
    left = [str(p.relative_to(folder)) for p in folder.rglob("*.duckdb*")]
    assert not left, f"a stateless job left DuckDB files behind: {left}"


@pytest.fixture(scope="module")
def bq(emulator: Emulator) -> Iterator[bigquery.Client]:
    with target_client(dbt_env(emulator.endpoint, PROJECT)) as target:
        yield target.client


def _count(bq: bigquery.Client, table: str, where: str = "true") -> int:
    return int(scalar(bq, f"select count(*) from `{PROJECT}`.{table} where {where}"))


def _snapshot(bq: bigquery.Client) -> dict[str, int]:
    """Rows of every table in the state and gold datasets."""
    counts = {}
    for dataset in STATE_DATASETS:
        for t in bq.list_tables(f"{PROJECT}.{dataset}"):
            counts[f"{dataset}.{t.table_id}"] = _count(bq, f"{dataset}.{t.table_id}")
    return counts


def _rows(bq: bigquery.Client, sql: str) -> list[tuple]:
    return [tuple(r.values()) for r in bq.query(sql).result()]


@pytest.fixture(scope="module")
def job1(
    emulator: Emulator,
    landing: Path,
    tmp_path_factory: pytest.TempPathFactory,
    bq: bigquery.Client,
    prefect_db_template: Path,
) -> tuple[Path, subprocess.CompletedProcess[str]]:
    return _job("1", emulator, landing, tmp_path_factory, prefect_db_template)


@pytest.fixture(scope="module")
def after_job1(job1: tuple[Path, subprocess.CompletedProcess[str]], bq: bigquery.Client) -> dict:
    return {
        "tables": _snapshot(bq),
        "ledger": sorted(_rows(bq, f"select * from `{PROJECT}`.ops.file_ledger"), key=str),
        "runs": sorted(_rows(bq, f"select * from `{PROJECT}`.quality.runs"), key=str),
    }


@pytest.fixture(scope="module")
def job2(
    after_job1: dict,
    emulator: Emulator,
    landing: Path,
    tmp_path_factory: pytest.TempPathFactory,
    prefect_db_template: Path,
) -> tuple[Path, subprocess.CompletedProcess[str]]:
    return _job("2", emulator, landing, tmp_path_factory, prefect_db_template)


@pytest.fixture(scope="module")
def batch_orders(
    job2: tuple[Path, subprocess.CompletedProcess[str]], window: Path, landing: Path
) -> int:
    path = generate_batch(window, landing / "batches", n_orders=15, seed=5)
    return len(json.loads(path.read_text())["orders"])


@pytest.fixture(scope="module")
def job3(
    batch_orders: int,
    emulator: Emulator,
    landing: Path,
    tmp_path_factory: pytest.TempPathFactory,
    prefect_db_template: Path,
) -> tuple[Path, subprocess.CompletedProcess[str]]:
    return _job("3", emulator, landing, tmp_path_factory, prefect_db_template)


def test_job_1_loads_the_sample_into_bigquery_and_publishes(
    job1: tuple[Path, subprocess.CompletedProcess[str]], bq: bigquery.Client, landing: Path
) -> None:
    folder, _ = job1
    _no_warehouse_file(folder)
    assert _count(bq, "ops.file_ledger", "status = 'loaded'") == 9
    csv_orders = len(pd.read_csv(landing / "source" / "olist_orders_dataset.csv", dtype=str))
    assert csv_orders == ORDERS_IN_WINDOW
    kept = _count(bq, "bronze.orders") + _count(bq, "quarantine.orders")
    assert kept == csv_orders  # every record of the file is in bronze or quarantine
    run_id = scalar(bq, f"select run_id from `{PROJECT}`.quality.runs")
    assert _count(bq, "quality.runs", "published") == 1
    assert _count(bq, "quality.check_results", f"run_id = '{run_id}'") > 0
    engines = {
        e
        for (e,) in _rows(
            bq, f"select distinct check_engine from `{PROJECT}`.quality.check_results"
        )
    }
    assert {"pandera", "great_expectations"} <= engines  # contracts and GX, one history
    assert _count(bq, "quality.runs", "status = 'succeeded' and published") == 1
    assert _count(bq, "gold.fct_orders") == _count(bq, "gold_audit.fct_orders") > 0


def test_job_2_with_the_same_files_finds_nothing_new_and_changes_no_table(
    job2: tuple[Path, subprocess.CompletedProcess[str]], after_job1: dict, bq: bigquery.Client
) -> None:
    folder, proc = job2
    _no_warehouse_file(folder)
    assert "nothing new" in (proc.stdout + proc.stderr).lower()
    assert _snapshot(bq) == after_job1["tables"]
    assert (
        sorted(_rows(bq, f"select * from `{PROJECT}`.ops.file_ledger"), key=str)
        == after_job1["ledger"]
    )
    assert (
        sorted(_rows(bq, f"select * from `{PROJECT}`.quality.runs"), key=str) == after_job1["runs"]
    )


def test_job_3_appends_one_order_batch_exactly_once(
    job3: tuple[Path, subprocess.CompletedProcess[str]],
    after_job1: dict,
    batch_orders: int,
    bq: bigquery.Client,
    landing: Path,
) -> None:
    folder, _ = job3
    _no_warehouse_file(folder)
    assert _count(bq, "ops.file_ledger", "table_name = 'order_batch' and status = 'loaded'") == 1
    loaded = _count(bq, "bronze.batch_orders")
    quarantined = _count(bq, "quarantine.batch_orders")
    assert loaded + quarantined == batch_orders
    assert loaded > 0
    distinct = int(
        scalar(bq, f"select count(distinct order_id) from `{PROJECT}`.bronze.batch_orders")
    )
    assert distinct == loaded  # no order appended twice
    assert _count(bq, "quality.runs", "published") == 2
    before = after_job1["tables"]["gold.fct_orders"]
    assert _count(bq, "gold.fct_orders") == before + loaded
    assert list((landing / "batches" / "archive").glob("*.json"))  # filed away after the load
