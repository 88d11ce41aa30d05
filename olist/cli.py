"""``olist``: the command line, thin over the flows.

Settings come from flags, then ``OLIST_*`` / ``MLFLOW_TRACKING_URI``, then repo defaults.
"""

from __future__ import annotations

import argparse
import sys
import textwrap
import time
from datetime import date
from pathlib import Path

from olist.settings import Settings, configure_runtime, load_settings, repo_root

DEFAULT_SCALE = 1.0
DEFAULT_SEED = 1
EXIT_QUALITY = 2


def _settings(args: argparse.Namespace) -> Settings:
    settings = load_settings(
        source_dir=getattr(args, "source", None),
        warehouse=getattr(args, "warehouse", None),
        reports_dir=getattr(args, "reports", None),
    )
    if batches := getattr(args, "batches", None):
        settings.batches_dir = Path(batches).resolve()
        settings.batches_uri = None  # the flag beats OLIST_BATCHES_URI
    return settings


def _say(msg: str) -> None:
    print(f"[olist] {msg}", flush=True)


def _explain(title: str, body: str) -> None:
    print(f"\n{title}\n" + textwrap.fill(body, width=88), file=sys.stderr)


def _has_sources(folder: Path) -> bool:
    from contracts.sources import SOURCES

    return all((folder / s.file).is_file() for s in SOURCES)


def cmd_generate(args: argparse.Namespace) -> int:
    from olist.synthetic.generator import generate

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
    from olist.synthetic.batches import generate_batch

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
    from olist.synthetic.calibration import COMPARABLE, compare

    print(f"{'statistic':45s} {'real':>12s} {'synthetic':>12s}")
    for name, real, synthetic in compare(args.real, args.synthetic):
        mark = "" if name in COMPARABLE else "  (sample is status-biased)"
        print(f"{name:45s} {real:12.4f} {synthetic:12.4f}{mark}")
    return 0


def _run_flow(name: str, args: argparse.Namespace) -> int:
    """Run one flow, turning the platform's known failures into a paragraph and exit 2."""
    settings = _settings(args)
    from flows.incremental import NoFullBuildYet
    from olist.ingest import MissingSourceError, SchemaDriftError, SourceFormatError
    from olist.locking import WarehouseBusyError, warehouse_lock
    from olist.quality import CriticalQualityFailure
    from olist.quality_store import TrainingBlocked

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
                from olist.synthetic.generator import generate

                generate(settings.source_dir, DEFAULT_SCALE, DEFAULT_SEED, progress=_say)
            from flows.platform import platform_flow

            result = platform_flow(settings, skip_train=args.skip_train)
            if result["up_to_date"]:
                _say(
                    f"nothing new in {settings.source_location}: every file was already loaded and "
                    f"the last run succeeded, so {settings.warehouse} is unchanged."
                )
                return 0
            _say("done.")
            print(f"  warehouse : {settings.warehouse}")
            print(f"  reports   : {result['report']}")
            print(
                f"  mlflow    : {settings.mlflow_tracking_uri} (artifacts in "
                f"{settings.mlflow_artifact_root})"
            )
            print(
                "  stages    : "
                + ", ".join(f"{s['stage']} {s['seconds']:.1f}s" for s in result["stages"])
            )
            return 0
        if name == "incremental":
            from flows.incremental import incremental_flow

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
            from flows.backfill import backfill_flow

            if args.end < args.start:
                _explain(
                    "Nothing to backfill.", f"--end {args.end} is before --start {args.start}."
                )
                return EXIT_QUALITY
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


def cmd_report(args: argparse.Namespace) -> int:
    """Re-render a run's quality report from ``quality.check_results`` (no flow, no API)."""
    from olist import quality_store, warehouse
    from olist.reporting import write_run_report

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


def _stage_flows() -> dict:
    from flows.clean import clean_flow
    from flows.ingest import ingest_flow
    from flows.quality import quality_flow
    from flows.score import score_flow
    from flows.train import train_flow
    from flows.transform import transform_flow

    return {
        "ingest": ingest_flow,
        "clean": clean_flow,
        "transform": transform_flow,
        "quality": quality_flow,
        "train": train_flow,
        "score": score_flow,
    }


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
  2  refused: a critical quality gate failed, a source is missing or has drifted from its
     contract, or the warehouse is busy; nothing was published and the last good
     publication stays (the message says which and what to do)
  1  crash: an unexpected error (a traceback follows)"""

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
            help="DuckDB warehouse file (default: warehouse/olist.duckdb; env OLIST_WAREHOUSE)",
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
                "in the data)",
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
        "fct_order_items and agg_hourly_metrics, rebuild dim_customers, check and publish "
        "those. Needs one full build first (`olist run`). Nothing new: nothing changes.",
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
    configure_runtime(prefect_home=repo_root() / ".prefect")
    return int(args.func(args) or 0)


if __name__ == "__main__":
    raise SystemExit(main())
