"""What the benchmarks share: the scale arguments and the scale's data set (generated once
per scale under bench/work and reused afterwards), ``measure()`` for subprocesses, medians,
the machine's description and where results go."""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from pathlib import Path

import psutil

from config.settings import RUNTIME_ENV_DEFAULTS
from synthetic.generator import generate

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
# the main bench's result files: <UTC timestamp>-scale<scale>.json (not -ingest-, -ml-, ...)
RESULT_NAME = re.compile(r"^(\d{8}T\d{6})-scale([0-9.]+)\.json$")


def scale_data(
    prog: str,
    description: str,
    argv: list[str] | None,
    repeat: int | None = None,
    extra: Callable[[argparse.ArgumentParser], None] | None = None,
) -> tuple[argparse.Namespace, Path, Path]:
    """Parse ``--scale --seed --work`` (``--repeat`` when a default is given, and what
    ``extra`` adds); return the arguments, the scale's work folder and its data folder
    (generated if absent)."""
    parser = argparse.ArgumentParser(prog=prog, description=description)
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--work", default=str(ROOT / "bench" / "work"))
    if repeat is not None:
        parser.add_argument(
            "--repeat", type=int, default=repeat, help=f"repetitions, median (default {repeat})"
        )
    if extra is not None:
        extra(parser)
    args = parser.parse_args(argv)
    work = Path(args.work) / f"scale-{args.scale:g}"
    data = work / "data"
    if not (data / "olist_orders_dataset.csv").is_file():
        print(f"generating scale {args.scale:g} into {data}", flush=True)
        generate(data, args.scale, args.seed)
    return args, work, data


def median(values: Iterable[float | None]) -> float | None:
    """Median of the values that are not None (None when there are none)."""
    present = [v for v in values if v is not None]
    return statistics.median(present) if present else None


def runtime_env(**extra: str) -> dict[str, str]:
    """This process's environment with the platform's library defaults (telemetry off,
    Prefect's startup timeout) filled in where unset, plus ``extra``."""
    env = {**RUNTIME_ENV_DEFAULTS, **os.environ}
    return {**env, **extra}


def migrate(home: Path) -> float:
    """Seconds of ``prefect server database upgrade -y`` on ``home``: what ``make setup``
    runs once, so that no run's ephemeral API migrates."""
    env = runtime_env(PREFECT_HOME=str(home))
    env.pop("PREFECT_API_URL", None)
    start = time.perf_counter()
    subprocess.run(
        [str(Path(sys.executable).with_name("prefect")), "server", "database", "upgrade", "-y"],
        env=env,
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    return time.perf_counter() - start


# the stamp ``make setup`` leaves in the home it migrated (Makefile: PREFECT_DB_STAMP)
MIGRATED_STAMP = ".olist-database-upgraded"


def migrated_home(home: Path) -> float | None:
    """``home`` migrated as ``make setup`` migrates a user's, once: the seconds it took, or
    None when it already was. The timed runs then start the API a user's ``make run`` starts,
    not a first run's, which creates and migrates the database (about 8 s more here)."""
    stamp_file = home / MIGRATED_STAMP
    if stamp_file.is_file():
        return None
    home.mkdir(parents=True, exist_ok=True)
    seconds = migrate(home)
    stamp_file.touch()
    return seconds


def private_home(dest: Path) -> Path:
    """A fresh copy of the dbt project (no ``target/``, ``logs/``) under ``dest/dbt``, for
    ``OLIST_HOME=dest``: the platform's dbt then writes its ``target/`` there, and reads its
    run results back from there, untouched by other dbt runs in the checkout (a concurrent
    test suite rewrites ``dbt/target`` at any moment). Only the dbt project location comes
    from ``OLIST_HOME`` when ``--source --warehouse --reports --batches`` and
    ``PREFECT_HOME`` / ``OLIST_MLFLOW_DIR`` are given, as the benchmarks do."""
    shutil.rmtree(dest / "dbt", ignore_errors=True)
    shutil.copytree(
        ROOT / "dbt",
        dest / "dbt",
        ignore=shutil.ignore_patterns("target", "logs", "dbt_packages", ".user.yml"),
    )
    return dest


def measure(cmd: list[str], env: dict[str, str] | None = None, log: Path | None = None) -> dict:
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


def machine() -> dict:
    """Cores, memory and Python of this machine."""
    return {
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "memory_gib": round(psutil.virtual_memory().total / 2**30, 1),
    }


def stamp() -> str:
    """A UTC timestamp for file and folder names."""
    return f"{datetime.now(UTC):%Y%m%dT%H%M%S}"


def newest_result(scale: float, results: Path = RESULTS) -> Path | None:
    """The newest main-bench result file (``<stamp>-scale<scale>.json``) of a scale."""
    found = [
        (m.group(1), p)
        for p in results.glob("*-scale*.json")
        if (m := RESULT_NAME.match(p.name)) and float(m.group(2)) == scale
    ]
    return max(found)[1] if found else None


def newest_batch_contracts(scale: float, results: Path = RESULTS) -> dict | None:
    """The newest ``bench.ingest`` result of a scale that holds a batch's contracts figure
    (older ingest results lack it)."""
    for path in sorted(results.glob(f"*-ingest-scale{scale:g}.json"), reverse=True):
        if "batch_contracts_seconds" in (result := load_json(path)):
            return result
    return None


def load_json(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))
