"""``make bench SCALE=1 [REPEAT=3]``: the platform end to end at a scale, against its floor.

In order, at one scale of seeded synthetic data:

1. ``olist generate`` once, then ``olist run`` ``--repeat`` times, each a fresh warehouse
   on the same data. Each command runs as a user runs it (a subprocess); peak RSS is
   sampled over the whole process tree (Prefect's ephemeral server included); the
   per-stage split comes from the run's own ``<reports>/runs/<run_id>/stages.json``.
   Printed: per-stage medians, and the platform without training (the stages but
   ``train``; the run's wall time minus ``train``), which the ≤ 60 s target is about.
2. The compute floor (``bench.floor``): the same dbt models' SQL run by DuckDB alone on
   the same CSVs, and the ratio platform without training / floor.
3. Incremental latency (``bench.incremental``): 1,000-order JSON batches through ``olist
   incremental`` on the last run's warehouse as the loaded history.
4. Fixed costs (``bench.fixed``): imports, Prefect API start, dbt parse cold and warm.
5. The dbt stage as the platform runs it against a plain ``dbt build`` of the same bronze
   (``bench.dbt_modes`` with the modes ``cli`` and ``per_wave``).

The issue's targets (2 cores) are medians of 3: ``make bench SCALE=1 REPEAT=3``; ``make
bench-summary`` checks the newest scale-1 and scale-10 results against them. Everything
goes to one ``bench/results/<stamp>-scale<scale>.json`` (every repeat's raw figures
included). The warehouses of all but the last repeat are deleted to bound disk use (logs
and reports stay in ``bench/work``). The runs use a private copy of the dbt project
(``OLIST_HOME``, see ``bench.common.private_home``): the platform reads its dbt run results
back from ``<project>/target``, which another dbt run in the checkout (a test suite) would
rewrite under it. Figures are printed, never asserted.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, datetime
from pathlib import Path

from bench import dbt_modes, fixed, floor, incremental
from bench import summary as bench_summary
from bench.common import (
    RESULTS,
    ROOT,
    machine,
    measure,
    median,
    migrated_home,
    private_home,
    runtime_env,
    stamp,
)

__all__ = ["main", "measure"]


def _dbt_test_seconds(run_results: Path) -> float:
    """Summed execution time of the dbt data and unit tests of the last build (threads
    overlap, so this overstates their wall time a little)."""
    if not run_results.is_file():
        return 0.0
    try:
        results = json.loads(run_results.read_text())["results"]
    except (ValueError, KeyError):
        return 0.0
    return round(
        sum(
            r["execution_time"]
            for r in results
            if r["unique_id"].startswith(("test.", "unit_test."))
        ),
        2,
    )


def without_training(run: dict, stages: list[dict]) -> dict:
    """One run's figures less the ``train`` stage: the stages' sum, and wall minus train."""
    train = sum(s["seconds"] for s in stages if s["stage"] == "train")
    return {
        "stage_sum_seconds": round(sum(s["seconds"] for s in stages) - train, 2),
        "wall_seconds": round(run["seconds"] - train, 2),
        "train_seconds": round(train, 2),
    }


def stage_medians(repeats: list[list[dict]]) -> list[dict]:
    """Per stage (in first-seen order), the median seconds and peak RSS over the repeats
    that have it."""
    names = list(dict.fromkeys(s["stage"] for stages in repeats for s in stages))

    def pick(name: str, key: str) -> list[float]:
        return [s[key] for stages in repeats for s in stages if s["stage"] == name]

    return [
        {
            "stage": name,
            "seconds": median(pick(name, "seconds")),
            "peak_rss_mib": median(pick(name, "peak_rss_mib")),
            "n": len(pick(name, "seconds")),
        }
        for name in names
    ]


def summarise_runs(runs: list[dict]) -> dict:
    """Medians of the repeats: per stage, the whole run, without training, checks."""
    return {
        "stages": stage_medians([r["stages"] for r in runs]),
        "run": {
            "seconds": median(r["run"]["seconds"] for r in runs),
            "peak_rss_mib": median(r["run"]["peak_rss_mib"] for r in runs),
        },
        "platform_without_training": {
            "stage_sum_seconds": median(r["without_training"]["stage_sum_seconds"] for r in runs),
            "wall_seconds": median(r["without_training"]["wall_seconds"] for r in runs),
            "peak_rss_mib": median(r["run"]["peak_rss_mib"] for r in runs),
            # the tree's peak covers the whole run: with training, an upper bound
            "rss_includes_train": any(r["without_training"]["train_seconds"] for r in runs),
        },
        "checks_seconds": median(r["checks_seconds"] for r in runs),
    }


def print_stages(generate: dict, summary: dict, repeat: int) -> None:
    print(f"\n{'stage':<12}{'wall s':>10}{'peak RSS MiB':>16}   (medians of {repeat})")
    print(f"{'generate':<12}{generate['seconds']:>10.1f}{generate['peak_rss_mib']:>16.0f}   (once)")
    for s in summary["stages"]:
        print(f"{s['stage']:<12}{s['seconds']:>10.1f}{s['peak_rss_mib']:>16.0f}")
    run = summary["run"]
    print(f"{'run (total)':<12}{run['seconds']:>10.1f}{run['peak_rss_mib']:>16.0f}")
    print(
        "(stage RSS: the run process's high-water mark at the end of the stage; totals: "
        "the whole process tree, Prefect's ephemeral server included)"
    )
    by_stage = {s["stage"]: s["seconds"] for s in summary["stages"]}
    total = sum(by_stage.values())
    if total:
        checks = summary["checks_seconds"]
        print(
            f"checks' share of the run: {checks:.1f}s of {total:.1f}s = "
            f"{100 * checks / total:.0f}% (GX quality stage {by_stage.get('quality', 0.0):.1f}s "
            "+ dbt tests; pandera runs inside the contracts stage and is not counted)"
        )
    w = summary["platform_without_training"]
    rss_note = " (whole run incl. training: an upper bound)" if w["rss_includes_train"] else ""
    print(
        f"\nplatform without training: {w['wall_seconds']:.1f}s wall (run minus train), "
        f"{w['stage_sum_seconds']:.1f}s in the flow's stages; "
        f"peak RSS {w['peak_rss_mib']:.0f} MiB{rss_note} (target ≤ 6 GiB at scale 10)"
    )


def platform_run(data: Path, run_dir: Path, env: dict[str, str], skip_train: bool) -> dict:
    """One ``olist run`` into a fresh warehouse under ``run_dir`` (``env`` has
    ``PREFECT_HOME`` and ``OLIST_HOME``): its figures and stages."""
    env = {**env, "OLIST_MLFLOW_DIR": str(run_dir / "mlruns")}
    cmd = [sys.executable, "-m", "cli", "run", "--source", str(data)]
    cmd += ["--warehouse", str(run_dir / "wh.duckdb"), "--reports", str(run_dir / "reports")]
    cmd += ["--batches", str(run_dir / "batches")]  # empty: the CSVs only
    cmd += ["--skip-train"] if skip_train else []
    run = measure(cmd, env, run_dir / "run.log")
    stages_files = sorted((run_dir / "reports" / "runs").glob("*/stages.json"))
    stages = json.loads(stages_files[-1].read_text()) if stages_files else []
    checks = sum(s["seconds"] for s in stages if s["stage"] == "quality")
    # dbt's target folder of that warehouse (config.settings.Settings.dbt_target_path)
    checks += _dbt_test_seconds(run_dir / "dbt-target" / "wh" / "run_results.json")
    return {
        "run_dir": str(run_dir),
        "run": run,
        "stages": stages,
        "without_training": without_training(run, stages),
        "checks_seconds": round(checks, 2),
    }


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--scale", type=float, default=1.0, help="1 = 99,441 orders")
    parser.add_argument("--seed", type=int, default=1, help="data seed (batches derive theirs)")
    parser.add_argument(
        "--repeat",
        type=int,
        default=1,
        help="platform runs (fresh warehouses), floor runs, incremental batches, dbt parse "
        "and Prefect starts; medians are reported (targets: 3)",
    )
    parser.add_argument(
        "--skip-train", action="store_true", help="olist run --skip-train (no train, no score)"
    )
    parser.add_argument("--batch-orders", type=int, default=1_000, help="orders per batch")
    parser.add_argument("--no-floor", action="store_true", help="skip the compute floor")
    parser.add_argument("--no-incremental", action="store_true", help="skip incremental latency")
    parser.add_argument("--no-fixed", action="store_true", help="skip the fixed costs")
    parser.add_argument(
        "--no-dbt-modes",
        action="store_true",
        help="skip the dbt stage against a plain dbt build (bench.dbt_modes cli,per_wave)",
    )
    parser.add_argument(
        "--work",
        default=str(ROOT / "bench" / "work"),
        help="scratch folder (data, warehouses, MLflow, logs)",
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.repeat < 1:
        raise SystemExit("--repeat must be at least 1")
    work = Path(args.work) / f"scale-{args.scale:g}"
    data, bench_dir = work / "data", work / f"run-{stamp()}"
    bench_dir.mkdir(parents=True, exist_ok=True)
    home = private_home(bench_dir / "home")  # this bench's own dbt/target
    env = runtime_env(PREFECT_HOME=str(work / "prefect"), OLIST_HOME=str(home))

    print(
        f"bench: scale {args.scale:g}, seed {args.seed}, repeat {args.repeat}, "
        f"work folder {bench_dir}",
        flush=True,
    )
    migration = migrated_home(work / "prefect")
    if migration is not None:
        print(f"  Prefect database migrated (as make setup does): {migration:.1f}s", flush=True)
    generate = measure(
        [sys.executable, "-m", "cli", "generate", "--scale", str(args.scale)]
        + ["--seed", str(args.seed), "--out", str(data), "--force"],
        env,
        bench_dir / "generate.log",
    )
    print(
        f"  generate: {generate['seconds']:.1f}s, peak {generate['peak_rss_mib']:.0f} MiB",
        flush=True,
    )
    runs: list[dict] = []
    for i in range(args.repeat):
        run_dir = bench_dir / f"repeat-{i + 1}"
        run_dir.mkdir()
        print(f"  run {i + 1}/{args.repeat}: log in {run_dir / 'run.log'}", flush=True)
        runs.append(platform_run(data, run_dir, env, args.skip_train))
        r = runs[-1]
        print(
            f"  run {i + 1}/{args.repeat}: {r['run']['seconds']:.1f}s, peak "
            f"{r['run']['peak_rss_mib']:.0f} MiB; without training "
            f"{r['without_training']['wall_seconds']:.1f}s",
            flush=True,
        )
        if i > 0:  # keep the last warehouse only (the incremental history)
            for old in Path(runs[-2]["run_dir"]).glob("wh.duckdb*"):
                old.unlink()
    summary = summarise_runs(runs)
    history = Path(runs[-1]["run_dir"]) / "wh.duckdb"

    floor_result = incr = fixed_result = None
    if not args.no_floor:
        print("\ncompute floor", flush=True)
        floor_result = floor.floor(data, work / "floor", args.repeat)
        (work / "floor" / "floor.duckdb").unlink(missing_ok=True)
    if not args.no_incremental:
        print(f"\nincremental latency on {history}", flush=True)
        incr = incremental.incremental(
            data,
            history,
            bench_dir / "incremental",
            {**env, "OLIST_MLFLOW_DIR": str(Path(runs[-1]["run_dir"]) / "mlruns")},
            args.repeat,
            args.seed,
            args.batch_orders,
        )
    if not args.no_fixed:
        print("\nfixed costs", flush=True)
        fixed_result = fixed.fixed_costs(bench_dir / "fixed", work / "prefect", args.repeat)
    if not args.no_dbt_modes:
        print("\ndbt stage through Prefect against a plain dbt build", flush=True)
        dbt_modes.main(
            ["--scale", f"{args.scale:g}", "--seed", str(args.seed), "--work", args.work]
            + ["--repeat", str(args.repeat), "--modes", f"cli,{bench_summary.PRODUCT_DBT_MODE}"]
        )

    print(f"\n=== bench at scale {args.scale:g}, seed {args.seed}, repeat {args.repeat} ===")
    print_stages(generate, summary, args.repeat)
    w = summary["platform_without_training"]
    if floor_result:
        floor.print_floor(floor_result, w["wall_seconds"], w["stage_sum_seconds"])
        if floor_result["total_seconds"]:
            floor_result["ratio"] = round(w["wall_seconds"] / floor_result["total_seconds"], 2)
            floor_result["ratio_stage_sum"] = round(
                w["stage_sum_seconds"] / floor_result["total_seconds"], 2
            )
    if incr:
        incremental.print_incremental(incr, args.scale)
    if fixed_result:
        fixed.print_fixed(fixed_result)

    result = {
        "scale": args.scale,
        "seed": args.seed,
        "repeat": args.repeat,
        "skip_train": args.skip_train,
        "at": datetime.now(UTC).isoformat(),
        "machine": machine(),
        "dbt_assets": env.get("OLIST_DBT_ASSETS", "true"),
        "work": str(bench_dir),
        "generate": generate,
        **summary,
        "repeats": runs,
        "floor": floor_result,
        "incremental": incr,
        "fixed": fixed_result,
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / f"{stamp()}-scale{args.scale:g}.json"
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"\nwritten: {out}\n\n=== targets (newest results of every benchmark) ===")
    bench_summary.main([])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
