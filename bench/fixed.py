"""Fixed costs: what ``olist run`` pays before and besides the data, whatever the scale.

``python -m bench.fixed`` (and ``python -m bench``, after the other sections) measures, each
in a fresh subprocess:

- **imports**: ``python -c "import cli.main"`` (what ``olist`` loads to parse its flags),
  ``python -c "import flows.platform"`` and ``python -c "import flows.incremental"`` (what
  ``olist run`` and ``olist incremental`` load before their first flow: prefect-dbt, GX and
  the ML stack load later, in the stages that run them), against a bare ``python -c
  pass``; the median of at least 3 runs, and which heavy packages each import loaded.
- **CLI error latency**: the wall time of ``olist --help``, of an unknown flag
  (``olist run --data-dir ...``) and of a missing warehouse (``olist incremental
  --warehouse <none>``), each in a fresh interpreter: refused before Prefect, dbt or GX load.
- **Prefect API start**: ``olist run`` has no ``PREFECT_API_URL`` (unless a ``make server``
  answers: then it uses that one and starts nothing), so before its first flow it starts
  Prefect's ephemeral API server (``cli.prefect_api.start_ephemeral_api``: a uvicorn
  subprocess on a SQLite database under ``PREFECT_HOME``) and the process stops it at
  exit. A subprocess starts it the same way and runs a trivial ``@flow`` twice: the first
  call minus the second is the server's start-up; the second is the per-flow overhead.
  Measured with a fresh ``PREFECT_HOME`` (the database is created and migrated by the
  first run) and with a migrated one: the home the bench's runs use, or alone (``python -m
  bench.fixed``) a home migrated as ``make setup`` does (``prefect server database upgrade
  -y``, whose time is reported too).
- **dbt parse**: ``dbtRunner().invoke(["parse", ...])`` as the platform's transform flow
  parses (project and profiles of the repo, ``--vars {gold_schema: gold_audit}``, the
  duckdb target on a scratch warehouse path), into a scratch ``--target-path``, never the
  repo's ``dbt/target``: cold (no ``partial_parse.msgpack``), warm (the partial parse of
  the previous call reused), and warm but with another warehouse path: dbt's partial-parse
  state hashes the profile's connection values, so a new ``OLIST_WAREHOUSE`` path (each
  bench run has one) means a full re-parse. The dbt import is timed apart.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

from bench.common import ROOT, median, migrate, runtime_env
from warehouse.dbt_cli import dbt_paths

MARK = "BENCH_JSON "

PREFECT_PROBE = f"""
import json, time
t0 = time.perf_counter()
from prefect import flow
from cli.prefect_api import start_ephemeral_api
t1 = time.perf_counter()

@flow(name="bench-noop", log_prints=False)
def noop() -> int:
    return 1

start_ephemeral_api(say=lambda message: None)  # as `olist` starts it, before its flow
noop()
t2 = time.perf_counter()
noop()
t3 = time.perf_counter()
print({MARK!r} + json.dumps({{"import": t1 - t0, "first_flow": t2 - t1, "second_flow": t3 - t2}}))
"""

DBT_PROBE = f"""
import json, sys, time
t0 = time.perf_counter()
from dbt.cli.main import dbtRunner
t1 = time.perf_counter()
res = dbtRunner().invoke(sys.argv[1:])
t2 = time.perf_counter()
print({MARK!r} + json.dumps({{"import": t1 - t0, "parse": t2 - t1, "success": res.success}}))
"""


def _probe(code: str, env: dict[str, str], args: list[str] | None = None) -> dict:
    """Run ``code`` in a fresh interpreter; its ``MARK`` line as a dict plus the wall time."""
    start = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-c", code, *(args or [])],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    wall = time.perf_counter() - start
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith(MARK)]
    if proc.returncode != 0 or not lines:
        sys.stderr.write(proc.stdout[-3000:] + proc.stderr[-3000:])
        raise SystemExit(f"bench.fixed: probe failed ({proc.returncode})")
    return {**json.loads(lines[-1][len(MARK) :]), "wall": wall}


def import_seconds(module: str | None, env: dict[str, str]) -> float:
    """Wall time of ``python -c "import module"`` (``pass`` when None)."""
    start = time.perf_counter()
    subprocess.run(
        [sys.executable, "-c", f"import {module}" if module else "pass"],
        env=env,
        cwd=ROOT,
        check=True,
    )
    return time.perf_counter() - start


def imports(repeat: int) -> dict:
    """Median import wall times, each in a fresh interpreter."""
    env = runtime_env()
    out = {}
    for label, module in (
        ("python", None),
        ("cli.main", "cli.main"),
        ("flows.platform", "flows.platform"),
        ("flows.incremental", "flows.incremental"),
    ):
        runs = [import_seconds(module, env) for _ in range(repeat)]
        out[label] = {"seconds": round(median(runs) or 0, 2), "runs": [round(r, 2) for r in runs]}
        if module:
            out[label]["loads"] = heavy_loaded(module, env)
    return out


# the packages whose import costs seconds, by the stage that needs them
HEAVY = (
    "prefect",
    "duckdb",
    "pandera",
    "prefect_dbt",
    "dbt",
    "great_expectations",
    "mlflow",
    "optuna",
    "xgboost",
    "sklearn",
)


def heavy_loaded(module: str, env: dict[str, str]) -> list[str]:
    """Which of ``HEAVY`` ``import module`` loads, in a fresh interpreter."""
    code = f"import json, sys, {module}; print({MARK!r} + json.dumps(sorted(sys.modules)))"
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, cwd=ROOT, capture_output=True, text=True
    )
    lines = [ln for ln in done.stdout.splitlines() if ln.startswith(MARK)]
    loaded = set(json.loads(lines[-1][len(MARK) :])) if lines else set()
    return [name for name in HEAVY if name in loaded]


def cli_latency(work: Path, repeat: int) -> dict:
    """Median wall time of ``olist`` answering without running a flow (see the docstring);
    ``OLIST_REUSE_SERVER=false``: no probe of a local server either."""
    env = runtime_env(OLIST_REUSE_SERVER="false")
    cases = {
        "help": ["--help"],
        "unknown flag": ["run", "--data-dir", str(work / "does-not-exist")],
        "missing warehouse": ["incremental", "--warehouse", str(work / "none" / "wh.duckdb")],
    }
    out = {}
    for label, args in cases.items():
        runs = []
        for _ in range(repeat):
            start = time.perf_counter()
            subprocess.run(
                [sys.executable, "-m", "cli", *args], env=env, cwd=ROOT, capture_output=True
            )
            runs.append(time.perf_counter() - start)
        out[label] = {"seconds": round(median(runs) or 0, 2), "runs": [round(r, 2) for r in runs]}
    return out


def prefect_start(home: Path, fresh: bool, repeat: int) -> dict:
    """Ephemeral Prefect API start-up (see the module docstring), median of ``repeat``."""
    env = runtime_env(PREFECT_HOME=str(home))
    env.pop("PREFECT_API_URL", None)  # the ephemeral server, as `olist run` gets it
    runs = []
    for _ in range(repeat):
        if fresh:
            shutil.rmtree(home, ignore_errors=True)
        runs.append(_probe(PREFECT_PROBE, env))
    for r in runs:
        r["api_start"] = r["first_flow"] - r["second_flow"]
        r["exit"] = r["wall"] - r["import"] - r["first_flow"] - r["second_flow"]
    return {
        key: round(median(r[key] for r in runs) or 0, 2)
        for key in ("import", "first_flow", "second_flow", "api_start", "exit", "wall")
    } | {"prefect_home": str(home), "runs": runs}


def dbt_parse(work: Path, repeat: int) -> dict:
    """Cold, warm and new-warehouse-path ``dbt parse`` times (see the module docstring)."""
    target, logs = work / "target", work / "logs"

    def parse(warehouse: Path) -> dict:
        env = runtime_env(OLIST_WAREHOUSE=str(warehouse), OLIST_DBT_TARGET="duckdb")
        args = [
            "parse",
            *dbt_paths(work, ROOT / "dbt"),
            "--target",
            "duckdb",
            "--vars",
            json.dumps({"gold_schema": "gold_audit"}),
            "--quiet",
        ]
        result = _probe(DBT_PROBE, env, args)
        if not result["success"]:
            raise SystemExit(f"bench.fixed: dbt parse failed (log in {logs})")
        perf = target / "perf_info.json"
        if perf.is_file():
            info = json.loads(perf.read_text())
            result["partial_parse"] = bool(info.get("is_partial_parse_enabled"))
            result["parsed_paths"] = info.get("parsed_path_count")
        return result

    runs: dict[str, list[dict]] = {"cold": [], "warm": [], "new_path": []}
    for i in range(repeat):
        shutil.rmtree(target, ignore_errors=True)
        runs["cold"].append(parse(work / "a" / "wh.duckdb"))
        runs["warm"].append(parse(work / "a" / "wh.duckdb"))
        runs["new_path"].append(parse(work / f"b{i}" / "wh.duckdb"))
    out: dict = {kind: round(median(r["parse"] for r in rs) or 0, 2) for kind, rs in runs.items()}
    out["import"] = round(median(r["import"] for rs in runs.values() for r in rs) or 0, 2)
    out["runs"] = runs
    return out


def fixed_costs(work: Path, prefect_home: Path | None = None, repeat: int = 1) -> dict:
    """Every fixed cost; imports at least 3 times, the others ``repeat`` times."""
    work.mkdir(parents=True, exist_ok=True)
    print("  fixed costs: imports", flush=True)
    result: dict = {"imports": imports(max(3, repeat))}
    print("  fixed costs: CLI errors", flush=True)
    result["cli_errors"] = cli_latency(work, max(3, repeat))
    print("  fixed costs: Prefect API start (fresh PREFECT_HOME)", flush=True)
    result["prefect_fresh_home"] = prefect_start(work / "prefect-fresh", True, repeat)
    print("  fixed costs: Prefect API start (migrated PREFECT_HOME)", flush=True)
    home = prefect_home or work / "prefect-warm"
    if prefect_home is None:  # migrated as `make setup` migrates, not by a first run
        shutil.rmtree(home, ignore_errors=True)
        result["migration_seconds"] = round(migrate(home), 2)
    result["prefect"] = prefect_start(home, False, repeat)
    print("  fixed costs: dbt parse (cold, warm, new warehouse path)", flush=True)
    result["dbt_parse"] = dbt_parse(work / "dbt", repeat)
    return result


def print_fixed(f: dict) -> None:
    """The fixed costs, one line each."""
    imp, pf, pw, dbt = f["imports"], f["prefect_fresh_home"], f["prefect"], f["dbt_parse"]
    base = imp["python"]["seconds"]
    print("\nfixed costs (do not scale with data; medians):")
    print(f"  {'python start-up (python -c pass)':<48}{base:>8.2f}s")
    for module in ("cli.main", "flows.platform", "flows.incremental"):
        if module not in imp:
            continue
        s = imp[module]["seconds"]
        loads = ", ".join(imp[module].get("loads", [])) or "none of them"
        print(f"  {'import ' + module:<48}{s:>8.2f}s  ({s - base:.2f}s over bare python)")
        print(f"  {'':<48}{'':>9}  heavy packages loaded: {loads}")
    for label, r in f.get("cli_errors", {}).items():
        print(f"  {'olist, ' + label:<48}{r['seconds']:>8.2f}s")
    print(f"  {'Prefect API start, migrated PREFECT_HOME':<48}{pw['api_start']:>8.2f}s")
    print(f"  {'Prefect API start, fresh PREFECT_HOME':<48}{pf['api_start']:>8.2f}s  (migrations)")
    if "migration_seconds" in f:
        migration = f["migration_seconds"]
        print(f"  {'database migration at set-up (make setup, once)':<48}{migration:>8.2f}s")
    print(f"  {'Prefect per-flow overhead (2nd trivial flow)':<48}{pw['second_flow']:>8.2f}s")
    print(f"  {'Prefect exit (server stop)':<48}{pw['exit']:>8.2f}s")
    print(f"  {'import dbt.cli.main':<48}{dbt['import']:>8.2f}s")
    print(f"  {'dbt parse, cold (no partial parse)':<48}{dbt['cold']:>8.2f}s")
    print(f"  {'dbt parse, warm (partial parse reused)':<48}{dbt['warm']:>8.2f}s")
    print(f"  {'dbt parse, another warehouse path':<48}{dbt['new_path']:>8.2f}s  (full re-parse)")
    total = imp["flows.platform"]["seconds"] + pw["api_start"] + pw["exit"] + dbt["warm"]
    print(
        f"  ≈ fixed cost of one `olist run`: {total:.1f}s with a warm partial parse "
        f"(imports + API start + exit + parse), "
        f"{total - dbt['warm'] + dbt['new_path']:.1f}s on a new warehouse path"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.fixed", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--repeat", type=int, default=3, help="repetitions, median (default 3)")
    parser.add_argument("--work", default=str(ROOT / "bench" / "work"), help="scratch folder")
    args = parser.parse_args(argv)
    result = fixed_costs(Path(args.work) / "fixed", repeat=args.repeat)
    print_fixed(result)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
