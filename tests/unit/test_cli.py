from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from olist.cli import build_parser
from olist.locking import warehouse_lock


def olist(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "olist", *args],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, **(env or {})},
    )


def test_help_lists_every_command() -> None:
    text = build_parser().format_help()
    for command in (
        "generate",
        "generate-batch",
        "run",
        "ingest",
        "clean",
        "transform",
        "quality",
        "train",
        "score",
        "calibrate",
        "report",
        "incremental",
        "backfill",
    ):
        assert command in text


def test_a_second_writer_gets_exit_2_and_a_clear_message(tmp_path: Path, sample_dir: Path) -> None:
    warehouse = tmp_path / "wh.duckdb"
    with warehouse_lock(warehouse, "a test holding the warehouse"):
        proc = olist("ingest", "--source", str(sample_dir), "--warehouse", str(warehouse))
    assert proc.returncode == 2
    assert "The warehouse is busy" in proc.stderr
    assert "a test holding the warehouse" in proc.stderr
    assert not warehouse.exists()  # nothing was written


def test_generate_writes_the_nine_files_and_is_a_no_op_when_present(tmp_path: Path) -> None:
    out = tmp_path / "raw"
    first = olist("generate", "--scale", "0.01", "--seed", "3", "--out", str(out))
    assert first.returncode == 0, first.stderr
    assert len(list(out.glob("*.csv"))) == 9
    again = olist("generate", "--scale", "0.01", "--seed", "3", "--out", str(out))
    assert again.returncode == 0 and "already holds the 9 source files" in again.stdout


@pytest.mark.parametrize("missing", ["--real", "--synthetic"])
def test_calibrate_needs_both_folders(missing: str) -> None:
    args = ["calibrate", "--real", "a", "--synthetic", "b"]
    idx = args.index(missing)
    proc = olist(*(args[:idx] + args[idx + 2 :]))
    assert proc.returncode == 2 and missing in proc.stderr


def test_report_re_renders_a_run_from_history(tmp_path: Path) -> None:
    import duckdb

    from olist.quality_store import CheckResult, write_results

    wh = tmp_path / "wh.duckdb"
    con = duckdb.connect(str(wh))
    write_results(
        con,
        [
            CheckResult(
                "r-old", "gold", "fct_orders", "expect_a", "great_expectations", "info", True
            ),
            CheckResult(
                "r-new",
                "gold",
                "fct_orders",
                "expect_b",
                "dbt",
                "warning",
                False,
                unexpected_count=7,
            ),
        ],
    )
    con.close()
    done = olist("report", "--warehouse", str(wh), "--reports", str(tmp_path / "reports"))
    assert done.returncode == 0, done.stderr
    page = (tmp_path / "reports" / "quality" / "r-new.html").read_text(encoding="utf-8")
    assert "expect_b" in page and "expect_a" not in page  # the latest run, only its checks
    missing = olist("report", "--warehouse", str(wh), "--run", "nope")
    assert missing.returncode == 2 and "Nothing to report" in missing.stderr + missing.stdout


def test_backfill_refuses_a_range_that_ends_before_it_starts(tmp_path: Path) -> None:
    done = olist(
        "backfill", "--start", "2018-03-05", "--end", "2018-03-01",
        "--warehouse", str(tmp_path / "wh.duckdb"),
    )  # fmt: skip
    assert done.returncode == 2
    assert "--end 2018-03-01 is before --start 2018-03-05" in done.stderr
    assert not (tmp_path / "wh.duckdb").exists()


def test_backfill_rejects_a_date_that_is_not_one() -> None:
    done = olist("backfill", "--start", "2018-02-30", "--end", "2018-03-01")
    assert done.returncode == 2
    assert "'2018-02-30' is not a date: use YYYY-MM-DD" in done.stderr


def test_incremental_before_any_full_build_says_what_to_run_first(
    sample_dir: Path, tmp_path: Path
) -> None:
    from olist.synthetic.batches import generate_batch

    batch = generate_batch(sample_dir, tmp_path / "batches", n_orders=3, seed=2)
    done = olist(
        "incremental", "--batches", str(tmp_path / "batches"),
        "--warehouse", str(tmp_path / "wh.duckdb"), "--reports", str(tmp_path / "reports"),
        env={"PREFECT_HOME": str(tmp_path / "prefect")},
    )  # fmt: skip
    assert done.returncode == 2, done.stderr[-2000:]
    assert "No full build yet" in done.stderr and "olist run" in done.stderr
    assert batch.exists()  # nothing was taken from the landing folder
