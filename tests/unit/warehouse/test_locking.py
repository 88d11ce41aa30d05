from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from warehouse.locking import WarehouseBusyError, warehouse_lock


def test_a_second_writer_fails_fast_and_names_the_holder(tmp_path: Path) -> None:
    wh = tmp_path / "wh.duckdb"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            textwrap.dedent(f"""
        import sys, time
        from pathlib import Path
        from warehouse.locking import warehouse_lock
        with warehouse_lock(Path({str(wh)!r}), "run-A"):
            print("locked", flush=True)
            sys.stdin.readline()
    """),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        with pytest.raises(WarehouseBusyError, match="run-A"), warehouse_lock(wh, "run-B"):
            pass
    finally:
        holder.communicate("\n", timeout=30)
    with warehouse_lock(wh, "run-C"):  # released when the holder ended
        pass
