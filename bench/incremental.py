"""Incremental latency: one JSON batch of new orders end to end on a loaded warehouse.

``python -m bench.incremental --scale 1`` (and ``python -m bench``, on the warehouse its
platform run built) writes one seeded batch of 1,000 orders (``olist generate-batch``'s
generator, continuing the scale's history) into a batches folder, then runs ``olist
incremental`` as a user does (a subprocess: ingest → contracts → incremental dbt → GX and
dbt checks → publish → report) and measures its wall time and the process tree's peak RSS.
The flow writes its own stage split (``<reports>/runs/incr-*/stages.json``), shown too.
After each run the batch's order ids are counted in ``gold.fct_orders``: all of them must
be there, else the benchmark fails. Each repeat lands a new batch (a new seed); figures are
medians. Standalone, the history is the scale's warehouse from ``bench.ml`` (built once
with ``olist run --skip-train``) copied to a scratch file, so repeats keep adding to a copy;
dbt runs in a private copy of the project (``bench.common.private_home``).
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import duckdb

from bench.common import (
    measure,
    median,
    migrated_home,
    private_home,
    runtime_env,
    scale_data,
    stamp,
)
from synthetic.batches import generate_batch


def batch_order_ids(path: Path) -> list[str]:
    """The order ids of a batch file."""
    return [o["order_id"] for o in json.loads(path.read_text(encoding="utf-8"))["orders"]]


def orders_in_gold(warehouse: Path, order_ids: list[str]) -> int:
    """How many of ``order_ids`` ``gold.fct_orders`` holds (read-only connection)."""
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        row = con.execute(
            "select count(*) from gold.fct_orders where order_id in (select unnest(?))",
            [order_ids],
        ).fetchone()
    finally:
        con.close()
    return int(row[0]) if row else 0


def _new_stages(reports: Path, before: set[Path]) -> list[dict]:
    """The stage split of the incremental run that wrote a new ``stages.json``."""
    new = sorted(set((reports / "runs").glob("incr-*/stages.json")) - before)
    return json.loads(new[-1].read_text()) if new else []


def olist_incremental(warehouse: Path, reports: Path, batches: Path) -> list[str]:
    """The ``olist`` arguments of one batch (its checks read the warehouse's history, not
    the CSVs, so there is no ``--source``)."""
    return ["incremental", "--warehouse", str(warehouse), "--reports", str(reports)] + [
        "--batches",
        str(batches),
    ]


def incremental(
    data: Path,
    warehouse: Path,
    work: Path,
    env: dict[str, str],
    repeat: int = 1,
    seed: int = 1,
    orders: int = 1_000,
) -> dict:
    """``repeat`` batches of ``orders`` through ``olist incremental`` on ``warehouse``;
    medians and every repeat's figures. Fails when a batch's orders are not all in gold."""
    batches, reports = work / "batches", work / "reports"
    runs = []
    for i in range(repeat):
        batch_seed = seed * 1000 + i + 1
        path = generate_batch(data, batches, n_orders=orders, seed=batch_seed)
        ids = batch_order_ids(path)
        before_rows = orders_in_gold(warehouse, ids)
        if before_rows:
            # this seed's batch was loaded into the history before (a warehouse a bench run
            # already added it to): it would measure a re-delivery, and no order would be new
            raise SystemExit(
                f"bench.incremental: batch {path.name}: {before_rows} of its {len(ids)} orders "
                "are in gold.fct_orders already: give it a history without this seed's "
                "batches (bench.ml's warehouse, which it uses by default)"
            )
        before = set((reports / "runs").glob("incr-*/stages.json"))
        cmd = [sys.executable, "-m", "cli", *olist_incremental(warehouse, reports, batches)]
        figures = measure(cmd, env, work / f"incremental-{i + 1}.log")
        in_gold = orders_in_gold(warehouse, ids)
        if in_gold != len(ids):
            raise SystemExit(
                f"bench.incremental: batch {path.name} ({len(ids)} orders): "
                f"{in_gold} reached gold.fct_orders (log: "
                f"{work / f'incremental-{i + 1}.log'})"
            )
        stages = _new_stages(reports, before)
        runs.append({**figures, "batch": path.name, "orders_in_gold": in_gold, "stages": stages})
        split = ", ".join(f"{s['stage']} {s['seconds']:.1f}s" for s in stages)
        print(
            f"  incremental {i + 1}/{repeat}: {len(ids):,} orders in {figures['seconds']:.1f}s, "
            f"peak {figures['peak_rss_mib']:.0f} MiB ({split or 'no stage split'})",
            flush=True,
        )
    names = list(dict.fromkeys(s["stage"] for r in runs for s in r["stages"]))
    return {
        "orders": orders,
        "seconds": median(r["seconds"] for r in runs),
        "peak_rss_mib": median(r["peak_rss_mib"] for r in runs),
        "stages": [
            {
                "stage": name,
                "seconds": median(
                    next((s["seconds"] for s in r["stages"] if s["stage"] == name), None)
                    for r in runs
                ),
            }
            for name in names
        ],
        "repeats": runs,
    }


def print_incremental(result: dict, scale: float) -> None:
    """The median latency, its stage split and the target."""
    print(
        f"\nincremental latency at scale {scale:g} (median of {len(result['repeats'])}): "
        f"{result['orders']:,}-order batch end to end in {result['seconds']:.1f}s, peak RSS "
        f"{result['peak_rss_mib']:.0f} MiB (target: scale 10 ≤ 1.2x scale 1)"
    )
    if result["stages"]:
        split = ", ".join(f"{s['stage']} {s['seconds']:.1f}s" for s in result["stages"])
        inside = sum(s["seconds"] or 0 for s in result["stages"])
        print(f"  in the flow: {split} (sum {inside:.1f}s; the rest is start-up and exit)")


def main(argv: list[str] | None = None) -> int:
    args, work, data = scale_data(
        "python -m bench.incremental", __doc__.splitlines()[0], argv, repeat=1
    )
    history = work / "ml" / "wh.duckdb"
    if not history.is_file():
        from bench.ml import _warehouse

        history = Path(_warehouse(work, data))
    run_dir = work / f"incremental-{stamp()}"
    run_dir.mkdir(parents=True)
    wh = run_dir / "wh.duckdb"
    print(f"bench.incremental: copying {history} → {wh}", flush=True)
    shutil.copyfile(history, wh)
    migrated_home(work / "prefect")
    env = runtime_env(
        PREFECT_HOME=str(work / "prefect"),
        OLIST_MLFLOW_DIR=str(run_dir / "mlruns"),
        OLIST_HOME=str(private_home(run_dir / "home")),
    )
    result = incremental(data, wh, run_dir, env, args.repeat, args.seed)
    print_incremental(result, args.scale)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
