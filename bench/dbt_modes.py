"""``python -m bench.dbt_modes --scale 1``: the same ``dbt build`` four ways, to choose how
the transform stage runs dbt under Prefect.

- ``cli``: plain ``dbt build`` in a subprocess, no Prefect (the yardstick);
- ``runner``: prefect-dbt's ``PrefectDbtRunner`` inside a flow, one Prefect task per dbt node
  (what ``flows/transform.py`` did before the per-wave build);
- ``per_wave``: prefect-dbt's ``PrefectDbtOrchestrator`` (beta, private import) with
  ``ExecutionMode.PER_WAVE``: one ``dbt build`` invocation per topological wave (what
  ``flows/transform.py`` runs, through ``warehouse.dbt_waves``);
- ``per_node``: the orchestrator with ``ExecutionMode.PER_NODE``: a task per node in a
  process pool.

Bronze is loaded once (ingest + contracts); each mode then builds a fresh copy of that file
from scratch, so every mode does the same work. A Prefect mode runs in its own process with
the ephemeral API, and only the build inside the flow is timed (the API's start is a fixed
cost ``bench.fixed`` measures). Every mode runs ``--repeat`` times; medians are printed with
the ratio to ``cli`` and written to ``bench/results/<stamp>-dbt-modes-scale<N>.json``.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from bench.common import ROOT, median, runtime_env, scale_data, stamp
from warehouse.dbt_cli import dbt_paths

MODES = ("cli", "runner", "per_wave", "per_node")
TARGET_RATIO = 1.3  # issue target: the dbt stage through Prefect ≤ 1.3× a plain dbt build


def _load_bronze(data: Path, wh: Path) -> None:
    from ingestion import batches, cleaning
    from ingestion import csv_files as ingest
    from warehouse import local as warehouse

    with warehouse.connect(wh) as con:
        landed = ingest.ingest_folder(con, data, "bench")
        batches.ensure_batch_tables(con)
        cleaning.clean_all(con, "bench", landed.tables)


def _cli(wh: Path, work: Path) -> float:
    env = runtime_env(OLIST_WAREHOUSE=str(wh), OLIST_DBT_TARGET="duckdb")
    dbt = str(Path(sys.executable).with_name("dbt"))
    started = time.perf_counter()
    proc = subprocess.run([dbt, "build", *dbt_paths(work)], env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if proc.returncode != 0:
        sys.stderr.write(proc.stdout[-4000:])
        raise SystemExit("dbt build (cli) failed")
    return seconds


def _in_flow(mode: str, wh: Path, work: Path) -> float:
    """Run in a child process (``--child``): the flow, then the build's seconds on stdout."""
    env = runtime_env(
        OLIST_WAREHOUSE=str(wh),
        OLIST_DBT_TARGET="duckdb",
        PREFECT_HOME=str(work / "prefect"),
    )
    proc = subprocess.run(
        [sys.executable, "-m", "bench.dbt_modes", "--child", mode, str(wh), str(work)],
        env=env,
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    if proc.returncode != 0:
        sys.stderr.write((proc.stdout + proc.stderr)[-4000:])
        raise SystemExit(f"dbt build ({mode}) failed")
    return float(proc.stdout.strip().splitlines()[-1])


def _child(mode: str, wh: Path, work: Path) -> float:
    from prefect import flow
    from prefect_dbt import PrefectDbtRunner, PrefectDbtSettings

    settings = PrefectDbtSettings(
        project_dir=ROOT / "dbt", profiles_dir=ROOT / "dbt", target_path=work / "target"
    )

    @flow(name=f"bench-dbt-{mode}")
    def build() -> float:
        started = time.perf_counter()
        if mode == "runner":
            PrefectDbtRunner(settings=settings, raise_on_failure=True, disable_assets=True).invoke(
                ["build", "--target", "duckdb"]
            )
        elif mode == "per_wave":  # as flows/transform.py runs it
            from warehouse import dbt_waves

            ok, _ = dbt_waves.build(settings, "duckdb")
            if not ok:
                raise SystemExit("dbt build (per_wave) failed")
        else:
            from prefect_dbt.core._orchestrator import (
                ExecutionMode,
                PrefectDbtOrchestrator,
                TestStrategy,
            )

            PrefectDbtOrchestrator(
                settings=settings,
                execution_mode=ExecutionMode(mode),
                # IMMEDIATE (the default) makes each model wait for its parents' tests; on
                # this project that graph has cycles (a relationships test between two marts
                # both upstream of a third), and the orchestrator refuses it
                test_strategy=TestStrategy.DEFERRED,
                disable_assets=True,
                create_summary_artifact=False,
                write_run_results=True,
                concurrency=2,
            ).run_build(target="duckdb")
        return time.perf_counter() - started

    return build()


def main(argv: list[str] | None = None) -> int:
    if argv is None and len(sys.argv) > 1 and sys.argv[1] == "--child":
        mode, wh, work = sys.argv[2], Path(sys.argv[3]), Path(sys.argv[4])
        print(f"{_child(mode, wh, work):.3f}", flush=True)
        return 0
    args, work, data = scale_data(
        "python -m bench.dbt_modes",
        __doc__.splitlines()[0],
        argv,
        repeat=3,
        extra=lambda p: p.add_argument(
            "--modes", default=",".join(MODES), help=f"comma-separated, of {', '.join(MODES)}"
        ),
    )
    modes = [m for m in args.modes.split(",") if m]
    if unknown := sorted(set(modes) - set(MODES)):
        raise SystemExit(f"unknown mode(s): {', '.join(unknown)}; choose from {', '.join(MODES)}")
    run = work / "dbt-modes"
    shutil.rmtree(run, ignore_errors=True)
    run.mkdir(parents=True)
    base = run / "loaded.duckdb"
    print(f"bench.dbt_modes: scale {args.scale:g}; loading bronze once", flush=True)
    _load_bronze(data, base)

    seconds: dict[str, list[float]] = {m: [] for m in modes}
    for i in range(args.repeat):
        for mode in modes:
            folder = run / f"{mode}-{i}"
            folder.mkdir()
            wh = folder / "olist.duckdb"
            shutil.copyfile(base, wh)
            took = _cli(wh, folder) if mode == "cli" else _in_flow(mode, wh, folder)
            seconds[mode].append(round(took, 2))
            print(f"  {mode:<9} run {i + 1}/{args.repeat}: {took:6.1f}s", flush=True)

    medians = {m: median(v) for m, v in seconds.items()}
    cli = medians.get("cli")
    print(f"\n{'mode':<10}{'median s':>10}{'× cli':>8}   target ≤ {TARGET_RATIO}× cli")
    for mode, value in medians.items():
        ratio = f"{value / cli:.2f}" if cli and value else "-"
        print(f"{mode:<10}{value or 0:>10.1f}{ratio:>8}")
    out = ROOT / "bench" / "results" / f"{stamp()}-dbt-modes-scale{args.scale:g}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(
        json.dumps(
            {
                "scale": args.scale,
                "repeat": args.repeat,
                "seconds": seconds,
                "medians": medians,
                "ratio_to_cli": {
                    m: round(v / cli, 2) for m, v in medians.items() if cli and v is not None
                },
                "cpus": os.cpu_count(),
            },
            indent=2,
        )
        + "\n"
    )
    print(f"written: {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
