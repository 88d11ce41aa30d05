"""One writer per warehouse: an advisory lock file beside the DuckDB file.

DuckDB itself refuses a second writer process with an opaque error; this lock makes the
loser fail fast with a message that says who holds the warehouse and since when.
"""

from __future__ import annotations

import fcntl
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
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
