"""The warehouse file kept in GCS between runs, for jobs whose disk starts empty (Cloud Run).

The local DuckDB file holds what the platform must remember from one run to the next, on
either dbt target: the file ledger (exactly-once ingestion), bronze (which the batch
contracts check references against), the audited marts on ``duckdb``, the quality history
(the training gate reads it), the run history and the backfill's done days. A Cloud Run job
starts with an empty disk, so with ``OLIST_STATE_URI=gs://bucket/prefix`` every run that
changes the warehouse goes through ``shared_warehouse``:

1. It takes a slot of the Prefect global concurrency limit ``olist-warehouse`` (limit 1,
   created on first use): one writer across every job and worker that talks to the same
   Prefect API, as the local lock file is one writer per machine. The slot is a lease the
   holder renews, so a job that dies frees it within ``LEASE_SECONDS``. A run that cannot
   get it within ``WAIT_SECONDS`` raises ``WarehouseBusyError``, as a held local lock does
   (an incremental run then skips).
2. It downloads ``<prefix>/<file name>`` over the local file, when the object exists (the
   first run starts empty).
3. After the run, succeeded or failed (a failed run still moved the ledger, bronze and the
   quality history), if the file changed, it checkpoints the file and uploads it, on the condition that the
   object is still the generation it downloaded (GCS enforces this; a second writer that
   got past the slot would fail here instead of overwriting).

Without ``OLIST_STATE_URI`` nothing of this happens: the file stays where it is, under the
local lock (a laptop, a worker with a disk).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from olist import warehouse
from olist.landing_zone import gcs_bucket
from olist.locking import WarehouseBusyError, warehouse_lock
from olist.settings import Settings, parse_gs_uri

LIMIT = "olist-warehouse"
WAIT_SECONDS = 30.0
LEASE_SECONDS = 300.0


@dataclass(frozen=True)
class StateObject:
    """Where a warehouse file is kept: ``gs://<bucket>/<name>``."""

    bucket: str
    name: str
    block: str | None = None

    @property
    def uri(self) -> str:
        return f"gs://{self.bucket}/{self.name}"

    def blob(self) -> Any:
        block = gcs_bucket(self.bucket, self.block)
        client = block.gcp_credentials.get_cloud_storage_client()
        return client.bucket(self.bucket).blob(self.name)


def state_object(settings: Settings) -> StateObject | None:
    """The object that keeps ``settings.warehouse``, or None without ``state_uri``."""
    if settings.state_uri is None:
        return None
    bucket, prefix = parse_gs_uri(settings.state_uri)
    name = f"{prefix}/{settings.warehouse.name}" if prefix else settings.warehouse.name
    return StateObject(bucket, name, settings.gcs_bucket_block)


def pull(settings: Settings) -> int:
    """Replace the local file with the kept one; the generation pulled, 0 when nothing is
    kept yet (the local file is then left as it is)."""
    kept = state_object(settings)
    if kept is None:
        raise ValueError("no OLIST_STATE_URI: the warehouse file is not kept in GCS")
    blob = kept.blob()
    if not blob.exists():
        return 0
    blob.reload()
    generation = int(blob.generation)
    settings.warehouse.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=settings.warehouse.parent, delete=False) as tmp:
        partial = Path(tmp.name)
    try:
        blob.download_to_filename(str(partial), if_generation_match=generation)
        os.replace(partial, settings.warehouse)  # never a half-written warehouse
    finally:
        partial.unlink(missing_ok=True)
    settings.warehouse.with_name(settings.warehouse.name + ".wal").unlink(missing_ok=True)
    return generation


def push(settings: Settings, pulled_generation: int) -> int:
    """Checkpoint the local file and keep it, if the kept object is still the one pulled
    (``pulled_generation``, 0: none existed); the new generation."""
    kept = state_object(settings)
    if kept is None:
        raise ValueError("no OLIST_STATE_URI: the warehouse file is not kept in GCS")
    with warehouse.connect(settings.warehouse) as con:
        con.execute("checkpoint")  # everything in the file itself, nothing left in the WAL
    blob = kept.blob()
    blob.upload_from_filename(
        str(settings.warehouse),
        content_type="application/octet-stream",
        if_generation_match=pulled_generation,
    )
    return int(blob.generation)


@contextmanager
def _global_slot(holder: str) -> Iterator[None]:
    """The ``olist-warehouse`` slot on the Prefect server, or ``WarehouseBusyError``."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.actions import GlobalConcurrencyLimitCreate
    from prefect.concurrency.sync import concurrency
    from prefect.exceptions import ObjectAlreadyExists, ObjectNotFound

    with get_client(sync_client=True) as client:
        try:
            client.read_global_concurrency_limit_by_name(LIMIT)
        except ObjectNotFound:
            with suppress(ObjectAlreadyExists):  # another job created it meanwhile
                client.create_global_concurrency_limit(
                    GlobalConcurrencyLimitCreate(name=LIMIT, limit=1)
                )
    try:
        with concurrency(
            LIMIT,
            occupy=1,
            timeout_seconds=WAIT_SECONDS,
            lease_duration=LEASE_SECONDS,
            strict=True,
        ):
            yield
    except TimeoutError:
        raise WarehouseBusyError(
            f"the warehouse kept in GCS is being written by another run (Prefect concurrency "
            f"limit {LIMIT!r} is full after {WAIT_SECONDS:.0f} s; {holder} waited). Nothing "
            "was changed by this run."
        ) from None


@contextmanager
def shared_warehouse(settings: Settings, holder: str) -> Iterator[None]:
    """The run's hold on the warehouse: the local lock, and with ``state_uri`` first the
    global slot and the kept file, which is kept again when the block ends (see above)."""
    if settings.state_uri is None:
        with warehouse_lock(settings.warehouse, holder=holder):
            yield
        return
    with _global_slot(holder):
        generation = pull(settings)
        pulled = _stamp(settings.warehouse)
        with warehouse_lock(settings.warehouse, holder=holder):
            try:
                yield
            finally:
                if settings.warehouse.exists() and _stamp(settings.warehouse) != pulled:
                    push(settings, generation)


def _stamp(path: Path) -> tuple[int, int, bool] | None:
    """Size, modification time and a pending WAL: unchanged means the run wrote nothing."""
    if not path.exists():
        return None
    stat = path.stat()
    return stat.st_size, stat.st_mtime_ns, path.with_name(path.name + ".wal").exists()


def pull_for_reading(settings: Settings) -> None:
    """Bring the kept file to a job that only reads it (the training gate), when the file
    is kept in GCS and not here yet."""
    if settings.state_uri is not None and not settings.warehouse.exists():
        pull(settings)
