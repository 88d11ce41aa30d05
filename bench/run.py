"""``make bench SCALE=1``: time ``olist generate`` and ``olist run`` at a scale.

Each command runs as a user runs it (a subprocess); peak RSS is sampled over the whole
process tree (the ephemeral Prefect server included). Per-stage figures come from the
run's ``stages.json``. Results print as a table and go to ``bench/results/*.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[1]


def measure(cmd: list[str], env: dict[str, str] | None = None, log: Path | None = None):
    """Wall seconds and peak RSS (MiB) of a command and all its children. Its output goes
    to ``log`` (a pipe nobody reads while it runs would fill up and stall the command)."""
    log = log or Path(os.devnull)
    start = time.perf_counter()
    with log.open("w", encoding="utf-8") as out:
        proc = subprocess.Popen(cmd, env=env, stdout=out, stderr=subprocess.STDOUT, text=True)
        parent = psutil.Process(proc.pid)
        peak = 0
        while proc.poll() is None:
            try:
                tree = [parent, *parent.children(recursive=True)]
                peak = max(peak, sum(p.memory_info().rss for p in tree if p.is_running()))
            except psutil.Error:
                pass
            time.sleep(0.1)
    if proc.returncode != 0:
        if log.is_file():
            sys.stderr.write(log.read_text(encoding="utf-8", errors="replace")[-4000:])
        raise SystemExit(f"benchmark command failed ({proc.returncode}): {' '.join(cmd)}")
    return {
        "seconds": round(time.perf_counter() - start, 2),
        "peak_rss_mib": round(peak / 2**20, 1),
    }


def _dbt_test_seconds(run_results: Path) -> float:
    """Summed execution time of the dbt data and unit tests of the last build (threads
    overlap, so this overstates their wall time a little)."""
    if not run_results.is_file():
        return 0.0
    results = json.loads(run_results.read_text())["results"]
    return round(
        sum(
            r["execution_time"]
            for r in results
            if r["unique_id"].startswith(("test.", "unit_test."))
        ),
        2,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--skip-train", action="store_true")
    parser.add_argument(
        "--work",
        default=str(ROOT / "bench" / "work"),
        help="scratch folder (data, warehouse, MLflow)",
    )
    args = parser.parse_args(argv)

    work = Path(args.work) / f"scale-{args.scale:g}"
    data, run_dir = work / "data", work / f"run-{datetime.now(UTC):%Y%m%dT%H%M%S}"
    run_dir.mkdir(parents=True, exist_ok=True)
    env = {
        **os.environ,
        "PREFECT_HOME": str(work / "prefect"),
        "OLIST_MLFLOW_DIR": str(run_dir / "mlruns"),
    }
    olist = [sys.executable, "-m", "olist"]

    print(f"bench: scale {args.scale:g}, seed {args.seed}, work folder {work}", flush=True)
    generate = measure(
        [
            *olist,
            "generate",
            "--scale",
            str(args.scale),
            "--seed",
            str(args.seed),
            "--out",
            str(data),
            "--force",
        ],
        env,
        run_dir / "generate.log",
    )
    print(
        f"  generate: {generate['seconds']:.1f}s, peak {generate['peak_rss_mib']:.0f} MiB",
        flush=True,
    )
    run_cmd = [
        *olist,
        "run",
        "--source",
        str(data),
        "--warehouse",
        str(run_dir / "wh.duckdb"),
        "--reports",
        str(run_dir / "reports"),
    ]
    if args.skip_train:
        run_cmd.append("--skip-train")
    run = measure(run_cmd, env, run_dir / "run.log")
    print(f"  run: log in {run_dir / 'run.log'}", flush=True)
    stages_files = sorted((run_dir / "reports" / "runs").glob("*/stages.json"))
    stages = json.loads(stages_files[-1].read_text()) if stages_files else []

    print(f"\n{'stage':<12}{'wall s':>10}{'peak RSS MiB':>16}")
    print(f"{'generate':<12}{generate['seconds']:>10.1f}{generate['peak_rss_mib']:>16.0f}")
    for s in stages:
        print(f"{s['stage']:<12}{s['seconds']:>10.1f}{s['peak_rss_mib']:>16.0f}")
    print(f"{'run (total)':<12}{run['seconds']:>10.1f}{run['peak_rss_mib']:>16.0f}")
    by_stage = {s["stage"]: s["seconds"] for s in stages}
    dbt_tests = _dbt_test_seconds(ROOT / "dbt" / "target" / "run_results.json")
    checks = by_stage.get("quality", 0.0) + dbt_tests
    if stages:
        print(
            f"checks' share of the run: {checks:.1f}s of {sum(by_stage.values()):.1f}s = "
            f"{100 * checks / max(sum(by_stage.values()), 1e-9):.0f}% (GX quality stage "
            f"{by_stage.get('quality', 0.0):.1f}s + dbt tests {dbt_tests:.1f}s; pandera runs "
            "inside the contracts stage and is not counted)"
        )
    print(
        "(stage RSS: the run process's high-water mark at the end of the stage; totals: "
        "the whole process tree, Prefect's ephemeral server included)"
    )

    result = {
        "scale": args.scale,
        "seed": args.seed,
        "at": datetime.now(UTC).isoformat(),
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "memory_gib": round(psutil.virtual_memory().total / 2**30, 1),
        },
        "generate": generate,
        "run": run,
        "stages": stages,
        "checks_seconds": checks,
    }
    out = ROOT / "bench" / "results" / f"{datetime.now(UTC):%Y%m%dT%H%M%S}-scale{args.scale:g}.json"
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"\nwritten: {out}")
    return 0
