"""``quality.runs``: one row per run, its lifecycle and its verdict. A run killed mid-way
leaves a ``running`` row; the next start, which holds the warehouse lock, repairs it. A
warehouse file made before the fold (``ops.platform_runs`` beside a verdict-only
``quality.runs``) is folded into the one table once."""

from __future__ import annotations

from pathlib import Path

import duckdb

from quality import runs
from quality import store as quality_store
from warehouse.local import table_exists


def test_the_next_start_marks_a_killed_runs_row_abandoned(tmp_path: Path) -> None:
    con = duckdb.connect(str(tmp_path / "wh.duckdb"))
    assert runs.start_run(con, "done", None, "src") == []
    runs.finish_run(con, "done", "succeeded")
    runs.start_run(con, "killed", None, "src")  # kill -9 here: no finish_run

    assert runs.start_run(con, "next", None, "src") == ["killed"]

    rows = con.execute(
        "select run_id, status, finished_at is not null, message from quality.runs "
        "order by started_at, run_id"
    ).fetchall()
    by_id = {r[0]: r[1:] for r in rows}
    assert by_id["done"][:2] == ("succeeded", True)
    status, finished, message = by_id["killed"]
    assert (status, finished) == ("abandoned", True) and "marked abandoned by run next" in message
    assert by_id["next"][0] == "running"
    assert not runs.last_run_succeeded(con)  # the next run still counts as unfinished
    con.close()


def test_a_run_is_one_row_with_its_lifecycle_and_its_verdict(tmp_path: Path) -> None:
    con = duckdb.connect(str(tmp_path / "wh.duckdb"))
    runs.start_run(con, "r1", "flow-1", "/data/src")
    assert not quality_store.run_recorded(con, "r1")  # started, not judged yet
    assert quality_store.record_run(con, "r1", "flow-1", published=True) == "pass"
    runs.finish_run(con, "r1", "succeeded")

    assert con.execute(
        "select run_id, flow_run_id, source_dir, status, finished_at is not null, verdict, "
        "published, recorded_at is not null from quality.runs"
    ).fetchall() == [("r1", "flow-1", "/data/src", "succeeded", True, "pass", True, True)]
    assert quality_store.run_recorded(con, "r1") and runs.last_run_succeeded(con)
    con.close()


def test_a_failed_run_keeps_its_error_beside_its_verdict(tmp_path: Path) -> None:
    con = duckdb.connect(str(tmp_path / "wh.duckdb"))
    runs.start_run(con, "bad", None, "src")
    runs.finish_run(con, "bad", "failed", "dbt test failed")
    quality_store.record_run(con, "bad", None, published=False, message="dbt test failed")

    assert con.execute(
        "select status, verdict, published, message from quality.runs"
    ).fetchall() == [("failed", "fail", False, "dbt test failed")]
    assert "bad" in (quality_store.training_blocker(con) or "")
    con.close()


OLD_LIFECYCLE = """
create table ops.platform_runs (
    run_id varchar primary key, flow_run_id varchar, source_dir varchar,
    status varchar not null, started_at timestamp not null, finished_at timestamp,
    message varchar
)
"""
OLD_VERDICTS = """
create table quality.runs (
    run_id varchar not null, flow_run_id varchar, checks bigint not null,
    critical_failed bigint not null, warning_failed bigint not null, info_failed bigint not null,
    verdict varchar not null, published boolean not null, message varchar,
    recorded_at timestamp not null
)
"""


def _old_warehouse(path: Path) -> None:
    """A file as the version before the fold left it: two runs tables."""
    con = duckdb.connect(str(path))
    con.execute("create schema ops")
    con.execute("create schema quality")
    con.execute(OLD_LIFECYCLE)
    con.execute(OLD_VERDICTS)
    con.execute(
        "insert into ops.platform_runs values "
        "('a', 'f-a', 'src', 'succeeded', '2026-11-01 10:00', '2026-11-01 10:05', null), "
        "('b', 'f-b', 'src', 'failed', '2026-11-02 10:00', '2026-11-02 10:01', 'boom'), "
        "('c', null, 'src', 'abandoned', '2026-11-03 10:00', '2026-11-03 11:00', 'killed')"
    )
    con.execute(
        "insert into quality.runs values "
        "('old', null, 30, 0, 0, 0, 'pass', true, null, '2026-10-01 09:00'), "
        "('a', 'f-a', 40, 0, 2, 0, 'warn', true, null, '2026-11-01 10:04'), "
        "('b', 'f-b', 40, 1, 0, 0, 'fail', false, 'boom', '2026-11-02 10:01')"
    )
    con.close()


def test_an_old_warehouse_file_is_folded_into_one_runs_table_once(tmp_path: Path) -> None:
    path = tmp_path / "old.duckdb"
    _old_warehouse(path)
    con = duckdb.connect(str(path))

    assert runs.start_run(con, "new", None, "src") == []  # the first write folds the file

    assert not table_exists(con, "ops", "platform_runs")
    rows = con.execute(
        "select run_id, flow_run_id, status, started_at::varchar, verdict, published, "
        "warning_failed, message from quality.runs order by started_at"
    ).fetchall()
    assert rows[:4] == [
        # a verdict recorded before the lifecycle table existed: over when it was recorded
        ("old", None, "succeeded", "2026-10-01 09:00:00", "pass", True, 0, None),
        ("a", "f-a", "succeeded", "2026-11-01 10:00:00", "warn", True, 2, None),
        ("b", "f-b", "failed", "2026-11-02 10:00:00", "fail", False, 0, "boom"),
        ("c", None, "abandoned", "2026-11-03 10:00:00", None, None, None, "killed"),
    ]
    assert rows[4][:3] == ("new", None, "running")
    # the readers see the folded history: the latest verdict is a's successor b's
    assert "the latest run b failed" in (quality_store.training_blocker(con) or "")
    runs.start_run(con, "newer", None, "src")  # nothing left to fold: no row twice
    assert con.execute("select count(*), count(distinct run_id) from quality.runs").fetchall() == [
        (6, 6)
    ]
    con.close()


def test_an_old_file_folds_on_the_first_read_of_the_last_run(tmp_path: Path) -> None:
    """``platform`` asks whether gold is up to date before it starts a run."""
    path = tmp_path / "old.duckdb"
    _old_warehouse(path)
    con = duckdb.connect(str(path))
    assert not runs.last_run_succeeded(con)  # c, abandoned, started last
    assert not table_exists(con, "ops", "platform_runs")
    con.close()
