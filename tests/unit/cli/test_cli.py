from __future__ import annotations

import argparse
import errno
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from cli.main import build_parser
from config.settings import load_settings
from warehouse.locking import warehouse_lock


def olist(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cli", *args],
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

    from quality.store import CheckResult, write_results

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
    sample_dir: Path, tmp_path: Path, prefect_home: Path
) -> None:
    from synthetic.batches import generate_batch

    batch = generate_batch(sample_dir, tmp_path / "batches", n_orders=3, seed=2)
    done = olist(
        "incremental", "--batches", str(tmp_path / "batches"),
        "--warehouse", str(tmp_path / "wh.duckdb"), "--reports", str(tmp_path / "reports"),
        env={"PREFECT_HOME": str(prefect_home)},
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
        "from cli.main import main\n"
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


def test_train_without_a_warehouse_explains_instead_of_a_traceback(tmp_path: Path) -> None:
    done = olist("train", "--warehouse", str(tmp_path / "none" / "wh.duckdb"))
    assert done.returncode == 2, done.stderr[-2000:]
    assert "No warehouse yet" in done.stderr and "olist run" in done.stderr
    assert "Traceback" not in done.stderr + done.stdout
    assert not (tmp_path / "none").exists()  # no folder, no lock file


def test_a_read_only_warehouse_folder_gives_a_paragraph_exit_1_and_a_log(
    tmp_path: Path, sample_dir: Path, prefect_home: Path
) -> None:
    folder = tmp_path / "readonly"
    folder.mkdir()
    folder.chmod(0o555)
    args = [
        sys.executable,
        "-m",
        "cli",
        "ingest",
        "--source",
        str(sample_dir),
        "--warehouse",
        str(folder / "wh.duckdb"),
    ]  # fmt: skip  (ingest has no --reports: the log's folder comes from OLIST_REPORTS_DIR)
    # root writes anywhere; in a user namespace without a mapping it is held to the mode
    prefix = ["unshare", "-U"] if os.geteuid() == 0 else []
    done = subprocess.run(
        [*prefix, *args],
        capture_output=True,
        text=True,
        timeout=300,
        env={
            **os.environ,
            "PREFECT_HOME": str(prefect_home),
            "OLIST_REPORTS_DIR": str(tmp_path / "reports"),
        },
    )
    assert done.returncode == 1, done.stderr[-2000:]
    assert "A folder is read-only" in done.stderr
    assert f"Make {folder} writable" in " ".join(done.stderr.split())
    assert str(folder) in done.stderr and "OLIST_WAREHOUSE" in done.stderr
    assert "Traceback" not in done.stderr + done.stdout
    (log,) = (tmp_path / "reports" / "logs").glob("olist-*.log")
    assert str(log) in " ".join(done.stderr.split())
    assert "PermissionError" in log.read_text(encoding="utf-8")


@pytest.fixture()
def in_process(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """``cli.main.main`` in this process with a stage flow a test replaces: no Prefect API,
    no console-handler changes; returns a warehouse file that exists."""
    import cli.main
    import cli.prefect_api

    monkeypatch.setattr(cli.prefect_api, "start_ephemeral_api", lambda **_: None)
    monkeypatch.setattr(cli.main, "_tracebacks_to", lambda log: None)
    warehouse = tmp_path / "wh.duckdb"
    warehouse.touch()
    return warehouse


def _stage_raising(monkeypatch: pytest.MonkeyPatch, stage: str, err: Exception) -> None:
    import cli.main

    def flow(*args: object, **kwargs: object) -> None:
        raise err

    monkeypatch.setattr(cli.main, "_stage_flows", lambda: {stage: flow})


def _dbt_failed() -> ValueError:
    from quality.dbt_results import DbtFailed

    return DbtFailed.from_run_results(
        "build",
        {
            "results": [
                {"unique_id": "model.olist.stg_olist__orders", "status": "success"},
                {
                    "unique_id": "test.olist.unique_stg_olist__products_product_id.1a2b",
                    "status": "fail",
                    "message": "Got 1 result, configured to fail if != 0",
                },
                {
                    "unique_id": "model.olist.fct_orders",
                    "status": "error",
                    "message": "Conversion Error: Could not convert string '12,5' to\n"
                    "DECIMAL(18,2)",
                },
            ]
        },
    )


def test_dbt_test_failures_and_cast_errors_are_refusals_with_a_paragraph(
    in_process: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from cli.main import main

    _stage_raising(monkeypatch, "transform", _dbt_failed())
    monkeypatch.setenv("OLIST_REPORTS_DIR", str(in_process.parent))  # transform has no --reports
    code = main(["transform", "--warehouse", str(in_process)])
    err = " ".join(capsys.readouterr().err.split())
    assert code == 2
    assert "dbt refused the data" in err
    assert "test unique_stg_olist__products_product_id failed" in err
    assert "model fct_orders errored: Conversion Error: Could not convert string '12,5'" in err
    assert "Traceback" not in err


@pytest.mark.parametrize(
    "err",
    [
        OSError(errno.ENOSPC, "No space left on device", "/data/warehouse/olist.duckdb"),
        RuntimeError(
            'IO Error: Could not write file "/data/warehouse/olist.duckdb": No space left on device'
        ),  # fmt: skip  (DuckDB's wording)
    ],
    ids=["oserror", "duckdb"],
)
def test_a_full_disk_is_a_crash_with_a_paragraph_naming_the_file(
    in_process: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    err: Exception,
) -> None:
    from cli.main import main

    _stage_raising(monkeypatch, "quality", err)
    reports = in_process.parent / "reports"
    code = main(["quality", "--warehouse", str(in_process), "--reports", str(reports)])
    text = " ".join(capsys.readouterr().err.split())
    assert code == 1
    assert "The disk is full" in text and "/data/warehouse/olist.duckdb" in text
    assert "df -h /data/warehouse" in text
    assert "Traceback" not in text
    (log,) = (reports / "logs").glob("olist-*.log")
    assert "Traceback" in log.read_text(encoding="utf-8") and str(log) in text


def test_an_unexpected_error_is_a_crash_with_a_paragraph_and_the_traceback_in_a_log(
    in_process: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from cli.main import main

    _stage_raising(monkeypatch, "score", KeyError("customer_unique_id"))
    reports = in_process.parent / "reports"
    monkeypatch.setenv("OLIST_REPORTS_DIR", str(reports))  # score has no --reports
    code = main(["score", "--warehouse", str(in_process)])
    text = " ".join(capsys.readouterr().err.split())
    assert code == 1
    assert "The run crashed" in text and "KeyError: 'customer_unique_id'" in text
    assert "Traceback" not in text
    (log,) = (reports / "logs").glob("olist-*.log")
    assert "KeyError" in log.read_text(encoding="utf-8")


def test_a_failing_flow_logs_its_traceback_to_a_file_not_the_console(
    tmp_path: Path, prefect_home: Path
) -> None:
    import duckdb

    warehouse = tmp_path / "wh.duckdb"
    duckdb.connect(str(warehouse)).close()  # a warehouse nothing was built in
    done = olist(
        "quality", "--warehouse", str(warehouse), "--reports", str(tmp_path / "reports"),
        env={"PREFECT_HOME": str(prefect_home)},
    )  # fmt: skip
    assert done.returncode == 2, done.stderr[-2000:]
    assert "Critical data-quality failure" in done.stderr
    assert "Traceback" not in done.stderr + done.stdout
    (log,) = (tmp_path / "reports" / "logs").glob("olist-*.log")
    assert f"traceback in {log}" in done.stderr
    assert "Traceback" in log.read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("err", "title"),
    [
        (
            RuntimeError('IO Error: Cannot open file "/srv/wh/olist.duckdb": Permission denied'),
            "A folder is read-only",
        ),  # fmt: skip  (DuckDB's wording)
        (
            OSError(errno.EROFS, "Read-only file system", "/srv/wh/olist.duckdb"),
            "A folder is read-only",
        ),  # fmt: skip
        (RuntimeError("403 Permission denied on resource project olist"), "The run crashed"),
    ],
    ids=["duckdb-eacces", "erofs", "cloud-403"],
)
def test_only_a_local_permission_error_is_called_a_read_only_folder(
    err: Exception, title: str
) -> None:
    from cli.main import describe_crash

    assert describe_crash(err, None)[0].startswith(title)


def _dbt_record(message: str, flow_run: str = "f1", task_name: str | None = None):
    """A record as prefect-dbt's orchestrator logs a dbt line: the transform flow's logger,
    from its own module (or, with ``task_name``, any other task's record)."""
    import logging

    return logging.makeLogRecord(
        {
            "name": "prefect.task_runs" if task_name else "prefect.flow_runs",
            "module": "x" if task_name else "_orchestrator",
            "msg": message,
            "levelno": logging.INFO,
            "levelname": "INFO",
            "task_name": task_name,
            "flow_run_id": flow_run,
            "flow_run_name": "quick-fox",
        }
    )


def test_dbt_node_lines_become_a_progress_line_every_n_nodes() -> None:
    from cli.main import DbtProgress

    progress = DbtProgress(every=2)
    shown = [
        progress.rewrite(_dbt_record(text))
        for text in (
            "Running with dbt=1.11.16",
            "1 of 1 START sql view model silver.a .... [RUN]",
            "1 of 1 OK created sql view model silver.a .... [OK in 0.2s]",
            "Done. PASS=0 WARN=0 ERROR=0 SKIP=0 NO-OP=0 TOTAL=1",
            "1 of 3 WARN 4 accepted_values_a ... [WARN 4 in 0.1s]",  # the next wave
            "2 of 3 PASS not_null_a ... [PASS in 0.1s]",
            "3 of 3 PASS unique_a ... [PASS in 0.1s]",
        )
    ]
    lines = [r for r in shown if r is not None]
    assert [r.getMessage().split(" in ")[0] for r in lines] == [
        "dbt: 2 nodes done (1 ok, 1 warn)",
        "dbt: 4 nodes done (1 ok, 2 pass, 1 warn)",
    ]
    assert lines[1].name == "prefect.flow_runs"


def test_dbt_progress_restarts_for_each_dbt_invocation_and_leaves_other_records() -> None:
    from cli.main import DbtProgress

    progress = DbtProgress(every=10)
    assert progress.rewrite(_dbt_record("1 of 1 ERROR creating model x", "f1")) is not None
    assert progress.rewrite(_dbt_record("1 of 1 PASS test y", "f2")) is None
    line = progress.rewrite(_dbt_record("1 of 1 FAIL 2 test z", "f2"))
    assert line is not None and "2 nodes done (1 fail, 1 pass)" in line.getMessage()
    other = _dbt_record("published 20 marts", task_name="publish-gold")
    assert progress.rewrite(other) is other
    # a task that completed: its stage's "done after" line says so; a failed one stays
    assert progress.rewrite(_dbt_record("Finished in state Completed()", task_name="x")) is None
    failed = _dbt_record("Finished in state Failed('boom')", task_name="x")
    assert progress.rewrite(failed) is failed
    # a backfill's `dbt test` runs a task per node
    node = _dbt_record("1 of 2 PASS test y", "f3", task_name="execute_dbt_node")
    assert progress.rewrite(node) is None


def test_a_failed_node_makes_the_progress_line_an_error() -> None:
    import logging

    from cli.main import DbtProgress

    line = DbtProgress(every=25).rewrite(_dbt_record("1 of 9 FAIL 3 not_null_x"))
    assert line is not None and line.levelno == logging.ERROR
    assert "(1 fail)" in line.getMessage()


def test_an_incremental_run_loads_dbt_and_gx_early_only_when_batch_files_wait(
    tmp_path: Path,
) -> None:
    """``olist incremental`` imports dbt and GX while Prefect's API starts only when its
    local batches folder holds a batch file: with none (the usual 15-minute case) it runs
    neither stage and must not pay their imports."""
    from cli.main import _batches_waiting

    folder = tmp_path / "batches"
    settings = load_settings().model_copy(update={"batches_dir": folder, "batches_uri": None})
    assert not _batches_waiting(settings)  # no folder yet
    folder.mkdir()
    (folder / "notes.txt").write_text("not a batch", encoding="utf-8")
    assert not _batches_waiting(settings)
    (folder / "orders_001.json").write_text("{}", encoding="utf-8")
    assert _batches_waiting(settings)
    in_a_bucket = settings.model_copy(update={"batches_uri": "gs://bucket/batches"})
    assert not _batches_waiting(in_a_bucket)  # a bucket is not listed for this
