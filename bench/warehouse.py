"""``make bench-warehouse SCALE=1``: dbt build time, and nested vs star queries on DuckDB.

Loads the scale's synthetic data (generated once, reused) through ingest + contracts into a
fresh DuckDB file, then times ``dbt build`` (full), a second ``dbt build`` with nothing new
(the incremental marts merge zero rows), and the gold questions that need items and
payments, asked of ``silver.orders_nested`` and of the star (``fct_order_items`` +
``fct_order_payments``). Each query reports the median warm time of 5 runs and, from a cold
connection, DuckDB's profiler figures: bytes read from the database file and rows scanned.
Both forms must return the same answer; figures are printed, never asserted.
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from bench.common import ROOT, scale_data
from ingestion import batches, cleaning
from ingestion import csv_files as ingest
from warehouse import local as warehouse
from warehouse.dbt_cli import dbt_command

QUERIES: dict[str, dict[str, str]] = {
    "payment mix of multi-item orders": {
        "star": """
            select p.payment_type, count(distinct p.order_id) as orders,
                   sum(p.payment_value) as paid
            from gold.fct_order_payments p
            join (select order_id from gold.fct_order_items group by order_id
                  having count(*) >= 2) multi on p.order_id = multi.order_id
            group by p.payment_type order by p.payment_type""",
        "nested": """
            select p.payment_type, count(distinct order_id) as orders,
                   sum(p.value) as paid
            from (select order_id, unnest(payments) as p from silver.orders_nested
                  where len(items) >= 2)
            group by p.payment_type order by p.payment_type""",
    },
    "freight share by category of voucher orders": {
        "star": """
            select i.category, round(sum(i.freight_value) / sum(i.item_value), 6) as share
            from gold.fct_order_items i
            where i.order_id in (select order_id from gold.fct_order_payments
                                 where payment_type = 'voucher')
            group by i.category order by i.category""",
        "nested": """
            select i.category,
                   round(sum(i.freight_value) / sum(i.price + i.freight_value), 6) as share
            from (select unnest(items) as i from silver.orders_nested
                  where len(list_filter(payments, lambda p: p.payment_type = 'voucher')) > 0)
            group by i.category order by i.category""",
    },
    "orders whose payments differ from their items": {
        "star": """
            select count(*) from (
                select i.order_id, sum(i.item_value) as value
                from gold.fct_order_items i group by i.order_id) items
            join (select order_id, sum(payment_value) as paid
                  from gold.fct_order_payments group by order_id) pays
              on items.order_id = pays.order_id
            where abs(items.value - pays.paid) >= 0.01""",
        "nested": """
            select count(*) from silver.orders_nested
            where len(items) > 0 and len(payments) > 0
              and abs(list_sum(list_transform(items, lambda i: i.price + i.freight_value))
                      - list_sum(list_transform(payments, lambda p: p.value))) >= 0.01""",
    },
}


def dbt_build(wh: Path, work: Path, *extra: str) -> float:
    env = {**os.environ, "OLIST_WAREHOUSE": str(wh), "OLIST_DBT_TARGET": "duckdb"}
    command = dbt_command(work, "build", *extra, project_dir=ROOT / "dbt")
    start = time.perf_counter()
    proc = subprocess.run(command, env=env, capture_output=True, text=True)
    if proc.returncode != 0:
        sys.stderr.write(proc.stdout[-4000:])
        raise SystemExit("dbt build failed")
    return round(time.perf_counter() - start, 2)


def profile(wh: Path, work: Path, sql: str) -> dict[str, float | int]:
    """Cold-connection profile (bytes read, rows scanned) and the warm median time."""
    out = work / "profile.json"
    con = duckdb.connect(str(wh), read_only=True)
    try:
        con.execute("pragma enable_profiling = 'json'")
        con.execute(f"pragma profiling_output = '{out.as_posix()}'")
        con.execute(sql).fetchall()
        con.execute("pragma disable_profiling")
        figures = json.loads(out.read_text())
        times = []
        for _ in range(5):
            start = time.perf_counter()
            con.execute(sql).fetchall()
            times.append(time.perf_counter() - start)
    finally:
        con.close()
    return {
        "median_ms": round(1000 * statistics.median(times), 2),
        "bytes_read": int(figures.get("io", {}).get("total_bytes_read", 0)),
        "rows_scanned": int(figures.get("query", {}).get("total_rows_scanned", 0)),
    }


def same_answer(wh: Path, a: str, b: str) -> bool:
    con = duckdb.connect(str(wh), read_only=True)
    try:
        return [tuple(map(str, r)) for r in con.execute(a).fetchall()] == [
            tuple(map(str, r)) for r in con.execute(b).fetchall()
        ]
    finally:
        con.close()


def main(argv: list[str] | None = None) -> int:
    args, work, data = scale_data("python -m bench.warehouse", __doc__.splitlines()[0], argv)
    run = work / "warehouse"
    shutil.rmtree(run, ignore_errors=True)
    run.mkdir(parents=True)
    wh = run / "olist.duckdb"

    print(f"bench.warehouse: scale {args.scale:g}; loading bronze", flush=True)
    start = time.perf_counter()
    with warehouse.connect(wh) as con:
        landed = ingest.ingest_folder(con, data, "bench")
        batches.ensure_batch_tables(con)
        cleaning.clean_all(con, "bench", landed.tables)
    load_s = round(time.perf_counter() - start, 2)
    print(f"  ingest + contracts: {load_s:.1f}s", flush=True)
    full_s = dbt_build(wh, run)
    print(f"  dbt build (full):   {full_s:.1f}s", flush=True)
    again_s = dbt_build(wh, run)
    print(f"  dbt build (nothing new, incremental): {again_s:.1f}s", flush=True)

    with warehouse.connect(wh, read_only=True) as con:
        orders = int(warehouse.scalar(con, "select count(*) from gold.fct_orders") or 0)
    print(f"\n{'query':<48}{'form':<8}{'median ms':>11}{'MiB read':>10}{'rows scanned':>14}")
    queries = {}
    for name, forms in QUERIES.items():
        if not same_answer(wh, forms["star"], forms["nested"]):
            raise SystemExit(f"{name}: the nested and star forms disagree")
        queries[name] = {form: profile(wh, run, sql) for form, sql in forms.items()}
        for form, f in queries[name].items():
            print(
                f"{name:<48}{form:<8}{f['median_ms']:>11.1f}"
                f"{f['bytes_read'] / 2**20:>10.2f}{f['rows_scanned']:>14,}"
            )
    result = {
        "scale": args.scale,
        "seed": args.seed,
        "at": datetime.now(UTC).isoformat(),
        "orders": orders,
        "load_seconds": load_s,
        "dbt_build_full_seconds": full_s,
        "dbt_build_incremental_noop_seconds": again_s,
        "queries": queries,
    }
    out = (
        ROOT
        / "bench"
        / "results"
        / f"{datetime.now(UTC):%Y%m%dT%H%M%S}-warehouse-scale{args.scale:g}.json"
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"\nwritten: {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
