"""``olist``: the command line, thin over the flows.

Settings come from flags, then ``OLIST_*`` / ``MLFLOW_TRACKING_URI``, then repo defaults.
"""

from __future__ import annotations

import argparse
import contextlib
import errno
import importlib
import logging
import os
import re
import sys
import textwrap
import time
import traceback
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, NoReturn

from config.settings import Settings, configure_runtime, load_settings, repo_root

DEFAULT_SCALE = 1.0
DEFAULT_SEED = 1
# Exit codes: 0 published (or nothing to do); 2 refused (a quality gate, a dbt test or a model
# dbt cannot build from the data, drift, missing input, a busy warehouse), with a paragraph;
# 1 a crash (disk full, a read-only folder, a bug), with a paragraph, the traceback in a log.
EXIT_QUALITY = 2
EXIT_CRASH = 1
# stages that read a warehouse an earlier run built (ingest and clean create it)
NEEDS_WAREHOUSE = ("transform", "quality", "train", "score")


def _settings(args: argparse.Namespace, dbt_assets: bool | None = None) -> Settings:
    settings = load_settings(
        source_dir=getattr(args, "source", None),
        warehouse=getattr(args, "warehouse", None),
        reports_dir=getattr(args, "reports", None),
        dbt_assets=dbt_assets,
    )
    if batches := getattr(args, "batches", None):
        settings.batches_dir = Path(batches).resolve()
        settings.batches_uri = None  # the flag beats OLIST_BATCHES_URI
    return settings


def _say(msg: str) -> None:
    print(f"[olist] {msg}", flush=True)


def _explain(title: str, body: str) -> None:
    text = textwrap.fill(body, width=88, break_long_words=False, break_on_hyphens=False)
    print(f"\n{title}\n{text}", file=sys.stderr)


def _has_sources(folder: Path) -> bool:
    from contracts.sources import SOURCES

    return all((folder / s.file).is_file() for s in SOURCES)


def cmd_generate(args: argparse.Namespace) -> int:
    from synthetic.generator import generate

    out = Path(args.out) if args.out else _settings(args).source_dir
    if _has_sources(out) and not args.force:
        _say(f"{out} already holds the 9 source files (use --force to regenerate)")
        return 0
    start = time.perf_counter()
    summary = generate(out, scale=args.scale, seed=args.seed, progress=_say)
    _say(
        f"wrote {sum(summary.rows.values()):,} rows to {out} in "
        f"{time.perf_counter() - start:.1f}s ({summary.customers:,} unique customers)"
    )
    return 0


def cmd_generate_batch(args: argparse.Namespace) -> int:
    from synthetic.batches import generate_batch

    settings = _settings(args)
    history = Path(args.source) if args.source else settings.source_dir
    out = Path(args.out) if args.out else settings.batches_dir
    assert out is not None
    path = generate_batch(
        history, out, n_orders=args.orders, seed=args.seed, window_minutes=args.minutes
    )
    _say(f"wrote {args.orders:,} orders to {path}")
    return 0


def cmd_calibrate(args: argparse.Namespace) -> int:
    from synthetic.calibration import COMPARABLE, compare

    print(f"{'statistic':45s} {'real':>12s} {'synthetic':>12s}")
    for name, real, synthetic in compare(args.real, args.synthetic):
        mark = "" if name in COMPARABLE else "  (sample is status-biased)"
        print(f"{name:45s} {real:12.4f} {synthetic:12.4f}{mark}")
    return 0


def _print_summary(settings: Settings, result: dict) -> None:
    """Where everything a run wrote is, the champions, and what to try next."""
    print(f"  warehouse : {settings.warehouse}")
    print(f"  quality   : {result['report']}")
    if result.get("model_report"):
        print(f"  models    : {result['model_report']}")
    for task, model in (result.get("models") or {}).items():
        version = model["champion_version"]
        champion = f"{model['model']} v{version}" if version else f"{model['model']}: none yet"
        print(f"  {task:<10}: {champion} ({model['decision']})")
    print(
        f"  mlflow    : {settings.mlflow_tracking_uri} (artifacts in "
        f"{settings.mlflow_artifact_root})"
    )
    print(
        "  stages    : " + ", ".join(f"{s['stage']} {s['seconds']:.1f}s" for s in result["stages"])
    )
    print("  next      : make dashboard (KPIs) · make server (Prefect UI) · make docs (dbt docs)")


def refusal_before_imports(args: argparse.Namespace) -> tuple[str, str] | None:
    """What a flow command refuses from its arguments and paths alone, as (title, paragraph),
    or None. Checked before any flow module is imported, so a mistyped path answers at once
    instead of after ~10 s of Prefect, dbt and GX imports: nothing here may import them
    (tests/unit/cli checks ``sys.modules``)."""
    command = args.command
    if command == "backfill" and args.end < args.start:
        return "Nothing to backfill.", f"--end {args.end} is before --start {args.start}."
    # the paths only: whether dbt asset events are on would ask Prefect (an import)
    settings = _settings(args, dbt_assets=False)
    # (`olist run` generates the data set into a source folder that is not there)
    if command == "ingest" and settings.source_uri is None and not settings.source_dir.is_dir():
        return (
            "Missing source files.",
            f"{settings.source_dir}: no such folder. Point --source (or OLIST_SOURCE_DIR) at a "
            "folder with the 9 Olist CSVs (the Kaggle download or `olist generate --out DIR`).",
        )
    if command not in (*NEEDS_WAREHOUSE, "incremental"):
        return None
    # warehouse.engine loads DuckDB and pandas (~1 s), not Prefect, dbt or GX; it alone
    # knows which engine the settings choose (BigQuery is always there)
    from warehouse.engine import warehouse_built

    if warehouse_built(settings):
        return None
    if command == "incremental":
        return (
            "No full build yet: nothing was loaded.",
            f"{settings.warehouse} has no full build yet (the file does not exist): an "
            "incremental run merges into the marts a full build created. Run the whole "
            "platform once (`olist run`, or the `daily` or `platform` deployment), or point "
            "--warehouse / OLIST_WAREHOUSE at an existing DuckDB file.",
        )
    return (
        "No warehouse yet: nothing was done.",
        f"`olist {command}` reads the warehouse an earlier run built, and "
        f"{settings.warehouse} does not exist. Run the whole platform once "
        "(`olist run`, or `make run`), or point --warehouse / OLIST_WAREHOUSE at an "
        "existing DuckDB file.",
    )


# What a command's stages import, loaded while Prefect's ephemeral API starts
# (cli.prefect_api.start_ephemeral_api's while_starting): the server's process needs ~6 s
# to answer, on the other core, and GX's import alone takes 5-9 s (it loads scipy, altair
# and SQLAlchemy's dialects), dbt's 2 s. Loaded there, an `olist run` at scale 1 starts
# its flow ~1 s later and its dbt and quality stages 2-3 s sooner (more on a cold page
# cache). `olist incremental` with no new batch (its usual 15-minute case) runs neither
# dbt nor GX and must not import them: it loads them only when batch files wait in a
# local batches folder.
WARM_IMPORTS = {
    "platform": ("flows.platform", "warehouse.dbt_waves", "expectations.checkpoints"),
    "backfill": ("flows.backfill", "warehouse.dbt_waves", "expectations.checkpoints"),
    "incremental": ("warehouse.dbt_waves", "expectations.checkpoints"),
}


def _batches_waiting(settings: Settings) -> bool:
    """Batch files in the local batches folder (a bucket is not listed for this)."""
    from ingestion.batches import BATCH_GLOB

    folder = settings.batches_dir
    return settings.batches_uri is None and folder is not None and any(folder.glob(BATCH_GLOB))


def _importer(modules: tuple[str, ...]) -> Callable[[], None]:
    def load() -> None:
        for module in modules:
            importlib.import_module(module)

    return load


def _run_flow(name: str, args: argparse.Namespace) -> int:
    """Run one flow, turning the platform's known failures into a paragraph and exit 2."""
    settings = _settings(args)
    from cli.prefect_api import start_ephemeral_api
    from flows.incremental import NoFullBuildYet
    from ingestion.csv_files import MissingSourceError, SchemaDriftError, SourceFormatError
    from quality.checks import CriticalQualityFailure
    from quality.store import TrainingBlocked
    from warehouse.locking import WarehouseBusyError, warehouse_lock

    try:
        if name == "platform":
            if settings.source_uri is None and not _has_sources(settings.source_dir):
                if settings.source_dir != load_settings().source_dir or args.source:
                    raise MissingSourceError(
                        f"{settings.source_dir}: the 9 Olist CSVs are not there"
                    )
                _say(
                    f"no data in {settings.source_dir}: generating the default synthetic "
                    f"data set (scale {DEFAULT_SCALE}, seed {DEFAULT_SEED})"
                )
                from synthetic.generator import generate

                generate(settings.source_dir, DEFAULT_SCALE, DEFAULT_SEED, progress=_say)
            start_ephemeral_api(say=_say, while_starting=_importer(WARM_IMPORTS["platform"]))
            from flows.platform import platform_flow

            result = platform_flow(settings, skip_train=args.skip_train)
            if result["up_to_date"]:
                _say(
                    f"nothing new in {settings.source_location}: every file was already loaded and "
                    f"the last run succeeded, so {settings.warehouse} is unchanged."
                )
                return 0
            _say("done.")
            for warning in result.get("warnings", []):
                _say(f"warning: {warning}")
            _print_summary(settings, result)
            return 0
        if name == "incremental":
            from flows.incremental import incremental_flow

            warm = WARM_IMPORTS["incremental"] if _batches_waiting(settings) else ()
            start_ephemeral_api(say=_say, while_starting=_importer(warm))
            result = incremental_flow(settings)
            if result.get("skipped"):
                _say(f"skipped: {result['skipped']}")
            elif not result["batches"]:
                _say(f"no new order batch in {settings.batches_location}: nothing changed")
            else:
                _say(
                    f"{len(result['batches'])} batch(es) published to "
                    f"{', '.join(result['published'])}; report: {result['report']}"
                )
            return 0
        if name == "backfill":
            start_ephemeral_api(say=_say, while_starting=_importer(WARM_IMPORTS["backfill"]))
            from flows.backfill import backfill_flow

            result = backfill_flow(
                args.start, args.end, settings, restart=args.restart, max_days=args.max_days
            )
            _say(f"backfill {result['backfill_id']}: {len(result['days_built'])} days rebuilt")
            if result["remaining"]:
                _say(f"{result['remaining']} days to go: run the same command again to resume")
            else:
                _say(f"published; report: {result['report']}")
            return 0
        options = {}
        if name == "transform":
            options = {"full_refresh": args.full_refresh, "run_date": args.run_date}
        if name == "train":
            updates = {
                "train_trials": args.trials,
                "train_timeout_seconds": args.timeout,
                "churn_horizon_days": args.horizon,
                "ml_seed": args.seed,
            }
            settings = settings.model_copy(
                update={k: v for k, v in updates.items() if v is not None}
            )
        with warehouse_lock(settings.warehouse, holder=f"olist {name}"):
            start_ephemeral_api(say=_say)
            result = _stage_flows()[name](settings, **options)
        if name == "train":
            for decision in result.values():
                _say(f"{decision.model_name}: {decision.reason}")
            _say(f"model report: {settings.reports_dir / 'ml'}")
        return 0
    except TrainingBlocked as err:
        _explain("Training did not start.", str(err))
        return EXIT_QUALITY
    except NoFullBuildYet as err:
        _explain("No full build yet: nothing was loaded.", str(err))
        return EXIT_QUALITY
    except SchemaDriftError as err:
        _explain(
            "Schema drift: nothing was loaded.",
            f"{len(err.files)} file(s) do not match their contracts: "
            + "; ".join(f"{file}: column {column!r} is {what}" for file, column, what in err.drifts)
            + f". The run stopped before writing anything, so the last good "
            f"data in {settings.warehouse} is unchanged. Fix the file or the contract in "
            f"contracts/sources.py and run again.",
        )
        return EXIT_QUALITY
    except WarehouseBusyError as err:
        _explain("The warehouse is busy.", str(err))
        return EXIT_QUALITY
    except SourceFormatError as err:
        _explain("A source file cannot be read as UTF-8 CSV: nothing was loaded.", str(err))
        return EXIT_QUALITY
    except MissingSourceError as err:
        _explain(
            "Missing source files.",
            f"{err}. Point --source at a folder with the 9 Olist "
            f"CSVs (the Kaggle download or `olist generate --out DIR`).",
        )
        return EXIT_QUALITY
    except CriticalQualityFailure as err:
        _explain(
            "Critical data-quality failure: nothing was trained or scored.",
            f"{err}. The check results are in quality.check_results of "
            f"{settings.warehouse}; the report is under {settings.reports_dir}/quality.",
        )
        return EXIT_QUALITY
    except ValueError as err:
        nodes = dbt_failures(err)
        if nodes is None:
            raise
        _explain(*_dbt_paragraph(name, nodes, settings))
        return EXIT_QUALITY


# quality.dbt_results.DbtFailed: `Test x failed with message: "..."`, a node a line
_DBT_FAILURES = "dbt failed on"
_DBT_NODE = re.compile(r'^(\w+) (\S+) (\w+?)(?:ed)? with message: "(.*)"\s*$', re.M)


def dbt_failures(err: BaseException) -> list[tuple[str, str, str, str]] | None:
    """(resource type, name, status, message) of every dbt node that failed, when ``err``
    is a ``DbtFailed`` (its text: it may reach here as a copy); None for any other error."""
    text = str(err)
    if _DBT_FAILURES not in text:
        return None
    return [
        (kind.lower(), node, status, " ".join(message.split()))
        for kind, node, status, message in _DBT_NODE.findall(text)
    ]


def _dbt_paragraph(
    command: str, nodes: list[tuple[str, str, str, str]], settings: Settings
) -> tuple[str, str]:
    tests = [n for n in nodes if n[0] in ("test", "unit_test")]
    models = [n for n in nodes if n not in tests]
    listed = (
        "; ".join(
            f"{kind} {node} {'failed' if status == 'fail' else status + 'ed'}: {message[:200]}"
            for kind, node, status, message in [*tests, *models][:6]
        )
        or "see the dbt log"
    )
    if len(nodes) > 6:
        listed += f"; and {len(nodes) - 6} more"
    why = []
    if tests:
        why.append("a failing dbt test is a critical check")
    if models:
        why.append(
            "a model that errors usually meets a value it cannot cast or join (a conversion "
            "error names the value): the row is in bronze, so fix the source file or "
            "tighten its contract in contracts/"
        )
    kept = (
        "The last good gold is unchanged (this run built into gold_audit)."
        if command in ("platform", "incremental", "backfill")
        else "gold may hold the models built before the failure: rerun `olist run` to "
        "publish an audited build."
    )
    return (
        "dbt refused the data: nothing was published.",
        f"dbt build stopped on {len(nodes)} node(s): {listed}. {'; '.join(why).capitalize()}. "
        f"{kept} The check results are in quality.check_results of {settings.warehouse} and "
        f"the report under {settings.reports_dir / 'quality'}. Fix the data or the model "
        "under dbt/models, then run the same command again.",
    )


def _os_error(err: BaseException) -> tuple[int, str | None] | None:
    """(errno, file) of a disk-full or permission error anywhere in ``err``'s chain; DuckDB
    and dbt report those as text, so their messages are read too."""
    seen: set[int] = set()
    current: BaseException | None = err
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, OSError) and current.errno in _DISK_ERRNOS:
            return current.errno, current.filename
        text = str(current)
        quoted = re.search(r'"(/[^"]+)"|\'(/[^\']+)\'', text)
        path = (quoted.group(1) or quoted.group(2)) if quoted else None
        for code, phrase in _DISK_PHRASES:
            # a bare "Permission denied" may be a cloud API's: only with a local path
            if phrase in text and (path or code != errno.EACCES):
                return code, path
        current = current.__cause__ or current.__context__
    return None


_DISK_ERRNOS = (errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES, errno.EPERM)
_DISK_PHRASES = (
    (errno.ENOSPC, "No space left on device"),
    (errno.EDQUOT, "Disk quota exceeded"),
    (errno.EROFS, "Read-only file system"),
    (errno.EACCES, "Permission denied"),
)


def describe_crash(err: BaseException, settings: Settings | None) -> tuple[str, str]:
    """A crash as (title, paragraph): what failed, which file or setting, what to do."""
    warehouse = settings.warehouse if settings else Path("data/olist.duckdb")
    disk = _os_error(err)
    if disk is not None:
        code, file = disk
        where = Path(file) if file else warehouse
        folder = where if where.is_dir() else where.parent
        if code in (errno.ENOSPC, errno.EDQUOT):
            return (
                "The disk is full: the run stopped.",
                f"Writing {where} failed ({os.strerror(code)}). Publishing is all or nothing "
                "(DuckDB rolls an unfinished write back), so gold holds the last good run "
                "or, if this one got past publish, this one's. Free "
                f"space on the disk that holds {folder} (`df -h {folder}`), or point "
                "--warehouse / OLIST_WAREHOUSE and --reports at a larger disk, then run the "
                "same command again.",
            )
        return (
            "A folder is read-only or not writable: the run stopped.",
            f"{where} cannot be written ({os.strerror(code)}). The platform writes the "
            "warehouse file with its lock file and dbt's target folder beside it "
            f"({warehouse.parent}), the reports under "
            f"{settings.reports_dir if settings else 'reports/'}, and Prefect's state under "
            f"PREFECT_HOME. Make {folder} writable for this user, or point --warehouse / "
            "OLIST_WAREHOUSE (or --reports) at a writable one, then run again.",
        )
    text = str(err)
    from cli.prefect_api import STARTUP_ADVICE, PrefectApiUnavailable

    if isinstance(err, PrefectApiUnavailable):
        return ("Prefect's local API did not start: nothing was run.", text)
    if "ephemeral Prefect API server" in text:
        timeout = os.environ.get("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "90")
        return (
            "Prefect's local API did not start: nothing was run.",
            STARTUP_ADVICE.format(timeout=timeout),
        )
    if "Failed to invoke dbt command" in text:
        return (
            "dbt could not run: nothing was published.",
            f"{' '.join(text.split())[:400]}. This is dbt failing before it built anything "
            "(a project, profile or connection problem), not the data: check dbt/ and "
            "dbt/profiles.yml (OLIST_DBT_TARGET, OLIST_WAREHOUSE, OLIST_BQ_*), then run again.",
        )
    first = " ".join(text.split())[:300] or "(no message)"
    return (
        "The run crashed.",
        f"{type(err).__name__}: {first}. This is an error of the platform or its "
        "environment, not a refusal of the data. Publishing is all or nothing, so gold in "
        f"{warehouse} holds the last good run (or this one, if it got past publish: see "
        "quality.runs). Run the same command again; if it fails the "
        "same way, report it with the log file below.",
    )


def _log_dir(args: argparse.Namespace) -> Path:
    reports = getattr(args, "reports", None) or os.environ.get("OLIST_REPORTS_DIR")
    return (Path(reports) if reports else repo_root() / "reports") / "logs"


class CrashLog:
    """Where this command's tracebacks go: a file under the reports folder, created on the
    first write, else in the temp folder (the reports folder may be the full or read-only
    one)."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.name = f"olist-{datetime.now(UTC):%Y%m%dT%H%M%S}-{os.getpid()}.log"
        self.path = _log_dir(args) / self.name

    def write(self, text: str) -> None:
        import tempfile

        for path in (self.path, Path(tempfile.gettempdir()) / self.name):
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
                with path.open("a", encoding="utf-8") as fh:
                    fh.write(text.rstrip("\n") + "\n")
                self.path = path
                return
            except OSError:
                continue


def _tracebacks_to(log: CrashLog) -> None:
    """Keep tracebacks out of the console: Prefect logs a failed task or flow with its
    traceback; the console shows the line, ``log`` the traceback. Patched on the handler
    class, so consoles Prefect sets up later (a flow run's) behave the same."""
    from prefect.logging.handlers import PrefectConsoleHandler

    original = getattr(PrefectConsoleHandler, "_olist_format", PrefectConsoleHandler.format)

    def format(self: logging.Handler, record: logging.LogRecord) -> str:  # noqa: A001
        if not record.exc_info:
            return original(self, record)
        log.write(
            f"{record.name}: {record.getMessage()}\n"
            + "".join(traceback.format_exception(*record.exc_info))
        )
        saved = record.exc_info, record.exc_text, record.stack_info
        record.exc_info, record.exc_text, record.stack_info = None, None, None
        try:
            return original(self, record) + f" (traceback in {log.path})"
        finally:
            record.exc_info, record.exc_text, record.stack_info = saved

    PrefectConsoleHandler._olist_format = original  # type: ignore[attr-defined]
    PrefectConsoleHandler.format = format  # type: ignore[method-assign]


# prefect-dbt's orchestrator (pinned 0.7.25, warehouse.dbt_waves) logs dbt's lines through
# the transform flow's logger, from this module, once a wave has run; `test` (a backfill's)
# runs each node as a task of the name below
DBT_LOG_MODULE = "_orchestrator"
DBT_NODE_TASK = "execute_dbt_node"
_DBT_NODE_DONE = re.compile(r"^\s*(\d+) of (\d+) (OK|PASS|WARN|ERROR|FAIL|SKIP|NO-OP)\b")
_TASK_COMPLETED = "Finished in state Completed()"
_DBT_STATUS = {"OK": "ok", "PASS": "pass", "WARN": "warn", "ERROR": "error", "FAIL": "fail"}


class DbtProgress:
    """What the console shows of dbt's log records: one progress line every ``every``
    finished nodes instead of a START and a result line per node, the banner of every
    wave's dbt invocation, and (for a backfill's tests) a task "Finished in state" line per
    node; of other tasks, every line but "Finished in state Completed()". The records
    still reach the Prefect API, so the UI keeps all of dbt's log; the flow logs dbt's own
    summary and the failures by name (flows.transform)."""

    def __init__(self, every: int = 25) -> None:
        self.every = every
        self._flow_run: object = None
        self._counts: dict[str, int] = {}
        self._done = 0
        self._started = 0.0

    @staticmethod
    def _from_dbt(record: logging.LogRecord) -> bool:
        return (
            getattr(record, "task_name", None) == DBT_NODE_TASK or record.module == DBT_LOG_MODULE
        )

    def rewrite(self, record: logging.LogRecord) -> logging.LogRecord | None:
        """The record to print for ``record`` (itself, a progress line) or None."""
        if not self._from_dbt(record):
            # each stage prints a line with its time when it ends (flows.platform): a task
            # that completed adds nothing there (a failed one is an error and stays)
            if record.name == "prefect.task_runs" and record.getMessage() == _TASK_COMPLETED:
                return None
            return record
        match = _DBT_NODE_DONE.match(record.getMessage())
        if match is None:  # START lines, banners, the task's "Finished in state", details
            return None
        flow_run = getattr(record, "flow_run_id", None)
        if flow_run != self._flow_run:  # a new dbt invocation (a backfill runs one a day)
            self._flow_run, self._counts, self._done = flow_run, {}, 0
            self._started = time.monotonic()
        status = _DBT_STATUS.get(match.group(3), match.group(3).lower())
        self._counts[status] = self._counts.get(status, 0) + 1
        self._done += 1
        failed = status in ("error", "fail")
        # every ``every`` nodes, and at once when one fails; the waves number their nodes
        # each from 1, so there is no total to count to: the flow's summary line ends it
        if self._done % self.every and not failed:
            return None
        counts = ", ".join(f"{n} {s}" for s, n in sorted(self._counts.items()))
        line = (
            f"dbt: {self._done} nodes done ({counts}) in {time.monotonic() - self._started:.0f} s"
        )
        failed_so_far = self._counts.get("error", 0) + self._counts.get("fail", 0)
        return logging.makeLogRecord(
            record.__dict__
            | {
                # the flow run's line format (a node's task run has no name yet)
                "name": "prefect.flow_runs",
                "msg": line,
                "args": None,
                "levelno": logging.ERROR if failed_so_far else logging.INFO,
                "levelname": "ERROR" if failed_so_far else "INFO",
                "exc_info": None,
                "exc_text": None,
            }
        )


def _quiet_dbt_nodes(progress: DbtProgress) -> None:
    """Route every console record through ``progress`` (patched on the handler class, like
    :func:`_tracebacks_to`, so consoles Prefect sets up later behave the same)."""
    from prefect.logging.handlers import PrefectConsoleHandler

    original = getattr(PrefectConsoleHandler, "_olist_emit", PrefectConsoleHandler.emit)

    def emit(self: logging.Handler, record: logging.LogRecord) -> None:
        shown = progress.rewrite(record)
        if shown is not None:
            original(self, shown)

    PrefectConsoleHandler._olist_emit = original  # type: ignore[attr-defined]
    PrefectConsoleHandler.emit = emit  # type: ignore[method-assign]


def cmd_report(args: argparse.Namespace) -> int:
    """Re-render a run's quality report from ``quality.check_results`` (no flow, no API)."""
    from quality import store as quality_store
    from reporting.quality_report import write_run_report
    from warehouse import local as warehouse

    settings = _settings(args)
    if not settings.warehouse.is_file():
        _explain("No warehouse.", f"{settings.warehouse} does not exist: run `olist run` first.")
        return EXIT_QUALITY
    with warehouse.connect(settings.warehouse, read_only=True) as con:
        run_id = args.run or quality_store.latest_run_id(con)
        results = quality_store.results_for_run(con, run_id) if run_id else []
    if not results:
        _explain(
            "Nothing to report.",
            f"no check results for run {run_id!r} in {settings.warehouse} (quality.check_results).",
        )
        return EXIT_QUALITY
    out = write_run_report(settings, str(run_id), results)
    _say(f"report of run {run_id} ({len(results)} checks): {out}")
    return 0


# each stage command's flow, as module:attribute
STAGE_FLOWS = {
    "ingest": "flows.ingest:ingest_flow",
    "clean": "flows.clean:clean_flow",
    "transform": "flows.transform:transform_flow",
    "quality": "flows.checks:quality_flow",
    "train": "flows.train:train_flow",
    "score": "flows.score:score_flow",
}


def _stage_flows() -> dict[str, Callable[..., Any]]:
    """Each stage's flow, imported when it is called: a stage pays its own imports only
    (`olist ingest` does not load MLflow, `olist train` not dbt)."""

    def lazy(path: str) -> Callable[..., Any]:
        def run(*args: Any, **kwargs: Any) -> Any:
            module, _, name = path.partition(":")
            return getattr(importlib.import_module(module), name)(*args, **kwargs)

        return run

    return {stage: lazy(path) for stage, path in STAGE_FLOWS.items()}


def _iso_date(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a date: use YYYY-MM-DD") from None


def _existing_folder(value: str) -> str:
    """A folder the command reads from: a missing one is a usage error (exit 2) raised while
    parsing, before Prefect, dbt or GX are imported, so it answers at once."""
    if not Path(value).is_dir():
        raise argparse.ArgumentTypeError(f"{value}: no such folder")
    return value


RUN_DESCRIPTION = """Run the whole platform once: land the source CSVs (and any JSON order batches) in the
warehouse, apply the pandera contracts (rejected rows go to quarantine), build the dbt
warehouse into an audit schema, run the dbt tests and GX checkpoints, publish the gold marts
only if no critical check failed, train the churn and LTV models (the challenger becomes
champion only if it beats the current one), score every customer, and write the
data-quality report. With no new or changed source file since the last successful run it
changes nothing and says so. With no --source and no data in data/raw it first generates
the default synthetic data set."""

RUN_EPILOG = """exit codes:
  0  published (or nothing new to do)
  2  refused: a critical quality gate failed (rows a contract quarantines are only
     warnings), a dbt model or test failed on the data, a source is missing or has drifted
     from its contract, or the warehouse is busy; nothing was published and the last good
     publication stays (the message says which and what to do)
  1  crash: disk full, a read-only folder, Prefect's API not starting, a bug; a paragraph
     names the file or setting, the traceback goes to a log file under reports/logs/"""

STAGES = [
    # name, help, the options it reads
    ("ingest", "land the 9 CSVs and any JSON order batches in bronze", ("source", "batches")),
    (
        "clean",
        "apply the pandera contracts to what was landed (rejected rows go to quarantine)",
        ("batches",),
    ),
    ("transform", "dbt build (staging, intermediate, marts) through prefect-dbt", ()),
    ("quality", "run the GX checkpoints and write GX Data Docs", ("reports",)),
    (
        "train",
        "train, compare and gate the churn and LTV models (MLflow registry)",
        ("reports",),
    ),
    ("score", "score every customer with the champion models; segment customers", ()),
]


def build_parser() -> argparse.ArgumentParser:
    raw = argparse.RawDescriptionHelpFormatter
    parser = argparse.ArgumentParser(
        prog="olist",
        description="Olist marketplace data & ML platform: generate data, run the Prefect "
        "flows (ingest, contracts, dbt, GX quality, MLflow churn model, scoring).",
        epilog="Paths default to folders under the repository; each path flag also reads an "
        "environment variable (named in its help). `olist COMMAND --help` lists a command's "
        "options.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def warehouse(p: argparse.ArgumentParser) -> None:
        p.add_argument(
            "--warehouse",
            metavar="FILE",
            help="DuckDB warehouse file (default: data/olist.duckdb; env OLIST_WAREHOUSE)",
        )

    def source(p: argparse.ArgumentParser, text: str = "folder with the 9 Olist CSVs") -> None:
        p.add_argument(
            "--source",
            metavar="DIR",
            type=_existing_folder,
            help=f"{text} (default: data/raw; env OLIST_SOURCE_DIR, or a gs:// bucket in "
            "OLIST_SOURCE_URI)",
        )

    def batches(p: argparse.ArgumentParser) -> None:
        p.add_argument(
            "--batches",
            metavar="DIR",
            help="landing folder of JSON order batches (default: data/batches; env "
            "OLIST_BATCHES_DIR, or a gs:// bucket in OLIST_BATCHES_URI)",
        )

    def reports(p: argparse.ArgumentParser) -> None:
        p.add_argument(
            "--reports",
            metavar="DIR",
            help="folder the HTML reports are written to (default: reports/; env "
            "OLIST_REPORTS_DIR)",
        )

    options = {"source": source, "batches": batches, "reports": reports}

    p = sub.add_parser(
        "generate",
        help="write a synthetic Olist data set (9 CSVs)",
        description="Write a synthetic Olist data set: the 9 CSVs of the Kaggle download, "
        "with the same columns and a realistic shape. Does nothing if the folder already "
        "holds them, unless --force.",
    )
    p.add_argument(
        "--scale",
        type=float,
        default=DEFAULT_SCALE,
        help="size relative to the full data set, 1.0 = 99,441 orders (default: %(default)s)",
    )
    p.add_argument(
        "--seed", type=int, default=DEFAULT_SEED, help="random seed (default: %(default)s)"
    )
    p.add_argument(
        "--out",
        metavar="DIR",
        help="output folder (default: data/raw; env OLIST_SOURCE_DIR)",
    )
    p.add_argument("--force", action="store_true", help="overwrite existing files (default: off)")
    p.set_defaults(func=cmd_generate)

    p = sub.add_parser(
        "generate-batch",
        help="write one incremental JSON order batch",
        description="Write one JSON order batch that continues a history's timeline, for "
        "`olist incremental`.",
    )
    source(p, "history folder whose timeline the batch continues")
    p.add_argument(
        "--out",
        metavar="DIR",
        help="batch landing folder (default: data/batches; env OLIST_BATCHES_DIR)",
    )
    p.add_argument(
        "--orders", type=int, default=1_000, help="orders in the batch (default: %(default)s)"
    )
    p.add_argument(
        "--minutes",
        type=int,
        default=15,
        help="purchase window of the batch in minutes (default: %(default)s)",
    )
    p.add_argument(
        "--seed", type=int, default=DEFAULT_SEED, help="random seed (default: %(default)s)"
    )
    p.set_defaults(func=cmd_generate_batch)

    p = sub.add_parser(
        "run",
        help="run the whole platform: ingest, contracts, dbt, quality gate, train, score",
        description=RUN_DESCRIPTION,
        epilog=RUN_EPILOG,
        formatter_class=raw,
    )
    source(p)
    batches(p)
    warehouse(p)
    reports(p)
    p.add_argument(
        "--skip-train",
        action="store_true",
        help="stop after the quality gate and publishing; keep the current champions "
        "(default: off)",
    )
    p.set_defaults(func=lambda a: _run_flow("platform", a))

    for stage, text, uses in STAGES:
        p = sub.add_parser(stage, help=text, description=f"One stage alone: {text}.")
        for option in uses:
            options[option](p)
        warehouse(p)
        if stage == "transform":
            p.add_argument(
                "--full-refresh",
                action="store_true",
                help="rebuild the incremental marts from scratch (default: off)",
            )
            p.add_argument(
                "--run-date",
                metavar="YYYY-MM-DD",
                help="'as of' date for recency and report marts (default: the latest purchase "
                "of gold's orders)",
            )
        if stage == "train":
            p.add_argument(
                "--trials",
                type=int,
                help="Optuna trials per task (default: 10; env OLIST_TRAIN_TRIALS)",
            )
            p.add_argument(
                "--timeout",
                type=float,
                metavar="SECONDS",
                help="Optuna time budget per task (default: 120; env OLIST_TRAIN_TIMEOUT_SECONDS)",
            )
            p.add_argument(
                "--horizon",
                type=int,
                metavar="DAYS",
                help="label window after each cutoff (default: 180; env OLIST_HORIZON_DAYS)",
            )
            p.add_argument(
                "--seed",
                type=int,
                help="seed for Optuna and the models (default: 7; env OLIST_ML_SEED)",
            )
        p.set_defaults(func=lambda a, s=stage: _run_flow(s, a))

    p = sub.add_parser(
        "incremental",
        help="land new JSON order batches and publish them to the incremental marts",
        description="Land new JSON order batches (--batches), merge them into fct_orders, "
        "fct_order_items, agg_hourly_metrics and dim_customers (the customers they change), "
        "rebuild the other marts built from them, check and publish those. Needs one full "
        "build first (`olist run`). Nothing new: nothing changes.",
    )
    batches(p)
    warehouse(p)
    reports(p)
    p.set_defaults(func=lambda a: _run_flow("incremental", a))

    p = sub.add_parser(
        "backfill",
        help="rebuild the incremental facts day by day over a date range, then publish",
        description="Rebuild fct_orders, fct_order_items and agg_hourly_metrics one purchase "
        "day at a time from START to END (both included), then the other marts; check and "
        "publish. Each finished day is recorded in ops.backfill_partitions: the same command "
        "resumes after the last day done.",
    )
    p.add_argument("--start", required=True, type=_iso_date, help="first day, YYYY-MM-DD")
    p.add_argument("--end", required=True, type=_iso_date, help="last day, YYYY-MM-DD")
    p.add_argument(
        "--max-days",
        type=int,
        help="rebuild at most this many days in this run, resume with the same command "
        "(default: every day left)",
    )
    p.add_argument(
        "--restart", action="store_true", help="forget the days done and start over (default: off)"
    )
    source(p)
    batches(p)
    warehouse(p)
    reports(p)
    p.set_defaults(func=lambda a: _run_flow("backfill", a))

    p = sub.add_parser(
        "report",
        help="re-render a run's data-quality report from history",
        description="Re-render a run's data-quality report from quality.check_results, "
        "without running any flow.",
    )
    p.add_argument("--run", help="run id (default: the latest run with check results)")
    warehouse(p)
    reports(p)
    p.set_defaults(func=cmd_report)

    p = sub.add_parser(
        "calibrate",
        help="compare a synthetic folder's shape with real data",
        description="Print shape statistics of a real and a synthetic data folder side by side.",
    )
    p.add_argument("--real", required=True, metavar="DIR", help="folder with the real 9 CSVs")
    p.add_argument(
        "--synthetic", required=True, metavar="DIR", help="folder with the synthetic 9 CSVs"
    )
    p.set_defaults(func=cmd_calibrate)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    log = CrashLog(args)
    try:
        configure_runtime(prefect_home=repo_root() / ".prefect")
        if args.func not in (cmd_calibrate, cmd_generate, cmd_generate_batch, cmd_report):
            # the commands that run flows: what their arguments and paths alone refuse is
            # said before Prefect, dbt or GX load (seconds of imports), then the API is
            # chosen before Prefect reads its settings
            refusal = refusal_before_imports(args)
            if refusal is not None:
                _explain(*refusal)
                return EXIT_QUALITY
            from cli.prefect_api import use_running_server

            use_running_server(say=_say)
            _tracebacks_to(log)
            _quiet_dbt_nodes(DbtProgress())
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        _explain("Interrupted.", "The run was stopped; the next run repairs its bookkeeping.")
        return 130
    except Exception as err:  # a crash: a paragraph here, the traceback in the log
        log.write("".join(traceback.format_exception(err)))
        try:
            settings: Settings | None = _settings(args)
        except Exception:  # noqa: BLE001 - a bad setting may be the crash itself
            settings = None
        title, body = describe_crash(err, settings)
        _explain(title, f"{body} The traceback is in {log.path}.")
        return EXIT_CRASH


def leave(code: int) -> NoReturn:
    """End the process after what a normal exit does for us, without the interpreter's
    teardown. Threads are wound down and the ``atexit`` handlers run (Prefect stops
    its temporary server and flushes its logs to the API; ``logging`` flushes the console),
    then the process ends. Skipped is only the freeing of the modules: that is where
    duckdb 2.0's nanobind bindings print ~45 lines of "nanobind: leaked instance" for the
    DuckDB type objects that great_expectations' SQL data source machinery (SQLAlchemy
    with duckdb-engine) still holds in module-level state after the quality checks closed
    their connections. Nothing is open then; the warehouse file was closed by every
    stage."""
    import atexit
    import threading

    # what the interpreter does first at exit: threading's exit hooks (thread pools stop
    # taking work), then the non-daemon threads are joined
    threading._shutdown()  # type: ignore[attr-defined]
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):  # a closed pipe: nothing to say
            stream.flush()
    os._exit(code)


def entry() -> NoReturn:
    """The ``olist`` command (``main`` is what tests call in-process)."""
    leave(main())


if __name__ == "__main__":
    entry()
