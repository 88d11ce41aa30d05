"""The warehouse kept in GCS between jobs whose disks start empty (Cloud Run), under the
Prefect test harness, with GCS stood in for by gcp-storage-emulator.

Each "job" is a run with a new, empty warehouse folder and the same ``state_uri``: the
second job finds the first one's sources already loaded (exactly-once across jobs), the
third merges an order batch into the marts the first one built, and a fourth reads the
result. A job that finds the ``olist-warehouse`` slot taken skips, as with the local lock.
"""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from prefect.testing.utilities import prefect_test_harness

from flows.incremental import incremental_flow
from flows.platform import platform_flow
from olist import landing_zone, state
from olist.settings import Settings, load_settings
from olist.synthetic.batches import generate_batch
from tests.sample_window import ORDERS_IN_WINDOW
from tests.warehouse_query import value


@pytest.fixture(scope="module", autouse=True)
def harness():
    with prefect_test_harness(server_startup_timeout=120):
        yield


@pytest.fixture
def bucket(gcs_emulator: str) -> str:
    name = f"olist-state-{uuid.uuid4().hex[:8]}"
    landing_zone.gcs_bucket(name).create_bucket()
    return name


def _job(work: Path, source: Path, bucket: str, batches: Path) -> Settings:
    """Settings of a new job: an empty folder for its warehouse, the shared state."""
    settings = load_settings(
        source_dir=source, warehouse=work / "olist.duckdb", reports_dir=work / "reports"
    )
    settings.batches_dir = batches
    settings.state_uri = f"gs://{bucket}/state"
    assert not settings.warehouse.exists()
    return settings


def test_jobs_with_empty_disks_continue_from_the_warehouse_kept_in_gcs(
    window: Path, bucket: str, tmp_path: Path, sample_dir: Path
) -> None:
    batches = tmp_path / "batches"
    first = _job(tmp_path / "job1", window, bucket, batches)
    platform_flow(first, skip_train=True, run_id="job1")
    kept = state.state_object(first)
    assert kept is not None and kept.uri == f"gs://{bucket}/state/olist.duckdb"
    assert kept.blob().exists()

    # a new disk, the same sources: the ledger came along, so nothing is loaded twice
    second = _job(tmp_path / "job2", window, bucket, batches)
    assert platform_flow(second, skip_train=True, run_id="job2")["up_to_date"]

    # a new disk and an order batch: merged into the marts the first job built
    generate_batch(sample_dir, batches, n_orders=12, seed=3)
    third = _job(tmp_path / "job3", window, bucket, batches)
    outcome = incremental_flow(third, run_id="job3")
    assert outcome["published"] and len(outcome["batches"]) == 1
    batch_orders = value(third.warehouse, "select count(*) from bronze.batch_orders")
    assert isinstance(batch_orders, int) and batch_orders > 0

    # what the third job kept is what a fourth one reads
    fourth = _job(tmp_path / "job4", window, bucket, batches)
    assert state.pull(fourth) > 0
    assert (
        value(fourth.warehouse, "select count(*) from gold.fct_orders")
        == ORDERS_IN_WINDOW + batch_orders
    )
    assert (
        value(
            fourth.warehouse,
            "select count(*) from quality.runs where run_id in ('job1', 'job3') and published",
        )
        == 2
    )


def test_a_job_that_finds_the_warehouse_taken_skips(
    window: Path, bucket: str, tmp_path: Path, sample_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(state, "WAIT_SECONDS", 1.0)
    batches = tmp_path / "batches"
    generate_batch(sample_dir, batches, n_orders=5, seed=4)
    holder = _job(tmp_path / "job-a", window, bucket, batches)
    other = _job(tmp_path / "job-b", window, bucket, batches)
    with state.shared_warehouse(holder, holder="job a"):
        outcome = incremental_flow(other, run_id="job-b")
    assert "skipped" in outcome and "olist-warehouse" in outcome["skipped"]
    assert not other.warehouse.exists()  # it pulled nothing and changed nothing
    assert len(list(batches.glob("*.json"))) == 1  # the batch waits for the next run
