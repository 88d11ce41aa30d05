"""``ops.platform_runs``: a run killed mid-way leaves a ``running`` row; the next start,
which holds the warehouse lock, repairs it."""

from __future__ import annotations

from pathlib import Path

import duckdb

from quality import runs


def test_the_next_start_marks_a_killed_runs_row_abandoned(tmp_path: Path) -> None:
    con = duckdb.connect(str(tmp_path / "wh.duckdb"))
    assert runs.start_run(con, "done", None, "src") == []
    runs.finish_run(con, "done", "succeeded")
    runs.start_run(con, "killed", None, "src")  # kill -9 here: no finish_run

    assert runs.start_run(con, "next", None, "src") == ["killed"]

    rows = con.execute(
        "select run_id, status, finished_at is not null, message from ops.platform_runs "
        "order by started_at, run_id"
    ).fetchall()
    by_id = {r[0]: r[1:] for r in rows}
    assert by_id["done"][:2] == ("succeeded", True)
    status, finished, message = by_id["killed"]
    assert (status, finished) == ("abandoned", True) and "marked abandoned by run next" in message
    assert by_id["next"][0] == "running"
    assert not runs.last_run_succeeded(con)  # the next run still counts as unfinished
    con.close()
