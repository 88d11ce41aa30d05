"""One writer per warehouse: an advisory lock file beside the DuckDB file, and for BigQuery a
Prefect global concurrency limit (``global_slot``).

DuckDB itself refuses a second writer process with an opaque error; this lock makes the
loser fail fast with a message that says who holds the warehouse and since when.
"""

from __future__ import annotations

import fcntl
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from datetime import UTC, datetime
from pathlib import Path


class WarehouseBusyError(RuntimeError):
    pass


def lock_path(warehouse: Path) -> Path:
    return warehouse.with_name(warehouse.name + ".lock")


@contextmanager
def warehouse_lock(warehouse: Path, holder: str) -> Iterator[None]:
    """Hold the warehouse's write lock for the duration of the block, or fail at once."""
    path = lock_path(warehouse)
    path.parent.mkdir(parents=True, exist_ok=True)
    fh = path.open("a+", encoding="utf-8")
    try:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            fh.seek(0)
            info = fh.read().strip() or "{}"
            raise WarehouseBusyError(
                f"{warehouse} is being written by another run ({info}); wait for it to finish "
                f"or stop it, then run again. Nothing was changed by this run."
            ) from None
        fh.seek(0)
        fh.truncate()
        fh.write(
            json.dumps(
                {
                    "pid": os.getpid(),
                    "holder": holder,
                    "since": datetime.now(UTC).isoformat(timespec="seconds"),
                }
            )
        )
        fh.flush()
        yield
    finally:
        fh.close()  # closing the descriptor releases the lock


GLOBAL_LIMIT = "olist-warehouse"
GLOBAL_WAIT_SECONDS = 30.0
GLOBAL_LEASE_SECONDS = 300.0


@contextmanager
def global_slot(holder: str) -> Iterator[None]:
    """The ``olist-warehouse`` slot of the Prefect server (a global concurrency limit of 1,
    created on first use), or ``WarehouseBusyError``: one writer across every job and worker
    that talks to the same Prefect API, as the lock file above is one writer per machine. The
    slot is a lease the holder renews, so a job that dies frees it within the lease."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.actions import GlobalConcurrencyLimitCreate
    from prefect.concurrency.sync import concurrency
    from prefect.exceptions import ObjectAlreadyExists, ObjectNotFound

    with get_client(sync_client=True) as client:
        try:
            client.read_global_concurrency_limit_by_name(GLOBAL_LIMIT)
        except ObjectNotFound:
            with suppress(ObjectAlreadyExists):  # another job created it meanwhile
                client.create_global_concurrency_limit(
                    GlobalConcurrencyLimitCreate(name=GLOBAL_LIMIT, limit=1)
                )
    try:
        with concurrency(
            GLOBAL_LIMIT,
            occupy=1,
            timeout_seconds=GLOBAL_WAIT_SECONDS,
            lease_duration=GLOBAL_LEASE_SECONDS,
            strict=True,
        ):
            yield
    except TimeoutError:
        raise WarehouseBusyError(
            f"the warehouse is being written by another run (Prefect concurrency limit "
            f"{GLOBAL_LIMIT!r} is full after {GLOBAL_WAIT_SECONDS:.0f} s; {holder} waited). "
            "Nothing was changed by this run."
        ) from None
