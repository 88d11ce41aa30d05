from __future__ import annotations

import argparse
import os
import re
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


def _subparsers() -> dict[str, argparse.ArgumentParser]:
    action = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    return dict(action.choices)


def _options(parser: argparse.ArgumentParser) -> dict[str, argparse.Action]:
    return {
        a.option_strings[-1]: a
        for a in parser._actions
        if a.option_strings and not isinstance(a, argparse._HelpAction)
    }


# The options each command actually reads (what its flow or function uses from settings).
USED = {
    "generate": {"--scale", "--seed", "--out", "--force"},
    "generate-batch": {"--source", "--out", "--orders", "--minutes", "--seed"},
    "run": {"--source", "--batches", "--warehouse", "--reports", "--skip-train"},
    "ingest": {"--source", "--batches", "--warehouse"},
    "clean": {"--batches", "--warehouse"},
    "transform": {"--warehouse", "--full-refresh", "--run-date"},
    "quality": {"--warehouse", "--reports"},
    "train": {"--warehouse", "--reports", "--trials", "--timeout", "--horizon", "--seed"},
    "score": {"--warehouse"},
    "incremental": {"--batches", "--warehouse", "--reports"},
    "backfill": {
        "--start",
        "--end",
        "--max-days",
        "--restart",
        "--source",
        "--batches",
        "--warehouse",
        "--reports",
    },  # fmt: skip
    "report": {"--run", "--warehouse", "--reports"},
    "calibrate": {"--real", "--synthetic"},
}


@pytest.mark.parametrize("command", sorted(USED))
def test_each_command_lists_only_the_options_it_uses(command: str) -> None:
    assert set(_options(_subparsers()[command])) == USED[command]


@pytest.mark.parametrize("command", sorted(USED))
def test_every_option_has_help_that_states_its_default(command: str) -> None:
    for name, action in _options(_subparsers()[command]).items():
        assert action.help, f"olist {command} {name} has no help"
        if not action.required:
            assert "default" in action.help, f"olist {command} {name}: no default in its help"


def test_run_help_says_what_it_does_and_its_exit_codes() -> None:
    text = _subparsers()["run"].format_help()
    assert "quality" in text and "publish" in text and "champion" in text
    codes = text[text.index("exit codes") :]
    assert re.search(r"^\s*0\s+published", codes, re.M)
    assert re.search(r"^\s*2\s+refused", codes, re.M)
    assert re.search(r"^\s*1\s+crash", codes, re.M)


def test_run_with_a_missing_source_folder_answers_at_once_with_exit_2(tmp_path: Path) -> None:
    """A path error is a usage error raised while parsing, before Prefect, dbt or GX load:
    nothing heavy is imported and nothing is written."""
    code = (
        "import sys\n"
        "from olist.cli import main\n"
        "try:\n"
        "    main(['run', '--source', sys.argv[1], '--warehouse', sys.argv[2]])\n"
        "except SystemExit as exit:\n"
        "    heavy = [m for m in ('prefect', 'dbt', 'great_expectations', 'mlflow') "
        "if m in sys.modules]\n"
        "    print('exit', exit.code, 'heavy', heavy)\n"
    )
    wh = tmp_path / "wh.duckdb"
    proc = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path / "nonexistent"), str(wh)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert "exit 2 heavy []" in proc.stdout, proc.stdout + proc.stderr
    assert "nonexistent: no such folder" in proc.stderr
    assert not wh.exists()
