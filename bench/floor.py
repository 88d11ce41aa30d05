"""Compute floor: the platform's SQL executed by DuckDB alone, no orchestration.

``python -m bench.floor --scale 1`` (and ``python -m bench``, after the platform run) times,
in a fresh DuckDB file:

(a) **load**: the 9 CSVs read into ``bronze.<table>`` with the same strict ``read_csv``
    options, the same columns (all text) and the same metadata columns (``_row_number``,
    ``_batch_id``, ``_source_file``, ``_loaded_at``) as ``ingestion.csv_files``; the four
    ``bronze.batch_*`` tables are created empty, as the platform's ingest does. The dbt
    sources (``dbt/models/staging/olist/_olist__sources.yml``) read ``bronze.*``, so the
    compiled models run unchanged. The platform writes bronze in two steps (parse into
    ``landing``, then the pandera contracts copy the accepted rows to ``bronze``); the floor
    loads bronze directly and skips the contracts: they are checks, not the computation
    the marts need, and on the synthetic data they reject no row, so bronze holds the same
    rows either way.
(b) **models**: every dbt model's compiled SQL, in dependency order (a topological sort of
    the manifest's ``depends_on.nodes``), as ``create or replace table|view`` following the
    model's materialization (incremental → table; ephemeral → skipped, dbt inlines it as a
    CTE). No dbt tests, GX checks, publish step or Prefect.

The SQL comes from ``dbt compile`` run here into a scratch ``--target-path`` (not the
repo's ``dbt/target``, which concurrent dbt runs rewrite), with
``--vars '{assume_full_refresh: true}'`` so incremental models render their full-build SQL,
as in a first platform build. dbt-duckdb names relations ``"<file stem>"."schema"."name"``;
the compile points at a scratch file with the floor file's stem, so no rewrite is needed.
With ``--manifest`` (e.g. ``dbt/target/manifest.json`` of the platform's own build) the
compiled database name is rewritten to the floor's. A model that fails raises with its name.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path

import duckdb

from bench.common import ROOT, load_json, median, newest_result, scale_data
from contracts.sources import SOURCES
from ingestion.batches import BATCH_TABLES  # bronze.batch_<table> → its CSV source
from warehouse.dbt_cli import dbt_command

FLOOR_DB = "floor"  # the floor file's stem = the database name in the compiled SQL


class FloorModelError(RuntimeError):
    """A model's compiled SQL failed in the floor."""


def topological_order(deps: Mapping[str, list[str]]) -> list[str]:
    """Nodes ordered so that each comes after the nodes it depends on (dependencies that
    are not keys, e.g. sources, are ignored); ties broken by name. Raises on a cycle."""
    pending = {n: {d for d in ds if d in deps and d != n} for n, ds in deps.items()}
    order: list[str] = []
    while pending:
        ready = sorted(n for n, ds in pending.items() if not ds)
        if not ready:
            raise ValueError(f"dependency cycle among: {', '.join(sorted(pending))}")
        order += ready
        for n in ready:
            del pending[n]
        for ds in pending.values():
            ds.difference_update(ready)
    return order


def model_nodes(manifest: dict) -> dict[str, dict]:
    """The manifest's models (every package), by unique id."""
    return {uid: n for uid, n in manifest["nodes"].items() if n["resource_type"] == "model"}


def rewrite_database(sql: str, compiled_db: str, floor_db: str) -> str:
    """Point ``"<compiled_db>".`` relation prefixes at the floor's database."""
    if compiled_db == floor_db:
        return sql
    return re.sub(rf'"{re.escape(compiled_db)}"\.', f'"{floor_db}".', sql)


def statements(manifest: dict, floor_db: str) -> list[tuple[str, str, str, str]]:
    """(model name, materialization, relation, ``create or replace`` statement) per model
    to build, in dependency order; ephemeral models are skipped."""
    nodes = model_nodes(manifest)
    out = []
    for uid in topological_order({u: n["depends_on"]["nodes"] for u, n in nodes.items()}):
        node = nodes[uid]
        materialized = node["config"]["materialized"]
        if materialized == "ephemeral":
            continue
        code = node.get("compiled_code")
        if not code:
            raise FloorModelError(
                f"model {node['name']}: no compiled_code in the manifest (not from a full "
                "build or compile of every model)"
            )
        kind = "view" if materialized == "view" else "table"
        relation = rewrite_database(node["relation_name"], node["database"], floor_db)
        sql = rewrite_database(code, node["database"], floor_db)
        out.append(
            (node["name"], materialized, relation, f"create or replace {kind} {relation} as\n{sql}")
        )
    return out


def compile_manifest(work: Path) -> dict:
    """``dbt compile`` of the models into ``work/target`` against a scratch warehouse named
    like the floor file; returns the manifest. Reuses ``work``'s partial parse."""
    env = {
        **os.environ,
        "OLIST_WAREHOUSE": str(work / "compile" / f"{FLOOR_DB}.duckdb"),
        "OLIST_DBT_TARGET": "duckdb",
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    }
    (work / "compile").mkdir(parents=True, exist_ok=True)
    cmd = dbt_command(
        work,
        "compile",
        "--target",
        "duckdb",
        "--no-populate-cache",
        "--select",
        "resource_type:model",
        "--vars",
        "{assume_full_refresh: true}",
        project_dir=ROOT / "dbt",
    )
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, cwd=ROOT / "dbt")
    if proc.returncode != 0:
        sys.stderr.write(proc.stdout[-4000:] + proc.stderr[-2000:])
        raise SystemExit("bench.floor: dbt compile failed")
    return load_json(work / "target" / "manifest.json")


def load_sql(data: Path) -> list[tuple[str, str]]:
    """(table, statement) creating ``bronze.<table>`` from each CSV as ``ingestion.csv_files``
    parses it (text columns + metadata), then the empty ``bronze.batch_*`` tables."""
    out = []
    for s in SOURCES:
        columns = ", ".join(f"'{c}': 'VARCHAR'" for c in s.columns)
        keep = ", ".join(f'"{c}"' for c in s.columns)
        path = (data / s.file).as_posix().replace("'", "''")
        out.append(
            (
                s.table,
                f"create or replace table bronze.{s.table} as "
                f"select row_number() over () as _row_number, {keep}, "
                f"'floor' as _batch_id, '{s.file}' as _source_file, "
                f"localtimestamp::timestamp as _loaded_at "
                f"from read_csv('{path}', header=true, delim=',', quote='\"', escape='\"', "
                f"new_line='\\n', encoding='utf-8', auto_detect=false, columns={{{columns}}}, "
                f"all_varchar=true, null_padding=false)",
            )
        )
    for table, source in BATCH_TABLES.items():
        out.append(
            (
                table,
                f"create or replace table bronze.{table} as select * from bronze.{source} limit 0",
            )
        )
    return out


def run_floor(data: Path, work: Path, manifest: dict) -> dict:
    """Load the CSVs and build every model in a fresh ``work/floor.duckdb``; seconds of
    each part, of each model, and the built ``fct_orders`` row count."""
    db = work / f"{FLOOR_DB}.duckdb"
    for stale in (db, db.with_name(db.name + ".wal")):
        stale.unlink(missing_ok=True)
    steps = statements(manifest, FLOOR_DB)
    con = duckdb.connect(str(db))
    try:
        start = time.perf_counter()
        con.execute("create schema if not exists bronze")
        for table, sql in load_sql(data):
            try:
                con.execute(sql)
            except duckdb.Error as err:
                raise FloorModelError(f"loading bronze.{table}: {err}") from err
        loaded = time.perf_counter()
        per_model: dict[str, float] = {}
        schemas: set[str] = set()
        for name, _, relation, sql in steps:
            schema = relation.rsplit(".", 1)[0]  # "db"."schema"
            if schema not in schemas:
                schemas.add(schema)
                con.execute(f"create schema if not exists {schema}")
            t0 = time.perf_counter()
            try:
                con.execute(sql)
            except duckdb.Error as err:
                raise FloorModelError(f"model {name} failed in the floor: {err}") from err
            per_model[name] = round(time.perf_counter() - t0, 3)
        done = time.perf_counter()
        fct_orders = None
        for name, _, relation, _ in steps:
            if name == "fct_orders":
                row = con.execute(f"select count(*) from {relation}").fetchone()
                fct_orders = int(row[0]) if row else None
    finally:
        con.close()
    return {
        "load_seconds": round(loaded - start, 2),
        "models_seconds": round(done - loaded, 2),
        "total_seconds": round(done - start, 2),
        "models": len(steps),
        "fct_orders_rows": fct_orders,
        "model_seconds": per_model,
    }


def floor(data: Path, work: Path, repeat: int = 1, manifest_path: Path | None = None) -> dict:
    """Compile (or read ``manifest_path``), then ``repeat`` floor runs; medians and raw."""
    work.mkdir(parents=True, exist_ok=True)
    print(f"  floor: {f'reading {manifest_path}' if manifest_path else 'dbt compile'}", flush=True)
    start = time.perf_counter()
    manifest = load_json(manifest_path) if manifest_path else compile_manifest(work)
    compile_s = round(time.perf_counter() - start, 2)
    runs = []
    for i in range(repeat):
        runs.append(run_floor(data, work, manifest))
        r = runs[-1]
        print(
            f"  floor {i + 1}/{repeat}: load {r['load_seconds']:.1f}s + {r['models']} models "
            f"{r['models_seconds']:.1f}s = {r['total_seconds']:.1f}s",
            flush=True,
        )
    shutil.rmtree(work / "compile", ignore_errors=True)
    return {
        "compile_seconds": compile_s,
        "manifest": str(manifest_path or work / "target" / "manifest.json"),
        "load_seconds": median(r["load_seconds"] for r in runs),
        "models_seconds": median(r["models_seconds"] for r in runs),
        "total_seconds": median(r["total_seconds"] for r in runs),
        "models": runs[0]["models"],
        "fct_orders_rows": runs[0]["fct_orders_rows"],
        "slowest_models": sorted(
            runs[-1]["model_seconds"].items(), key=lambda kv: kv[1], reverse=True
        )[:5],
        "repeats": runs,
    }


def print_floor(result: dict, platform_seconds: float | None, stage_sum: float | None) -> None:
    """The floor's figures and the platform / floor ratios."""
    print(
        f"\ncompute floor (DuckDB alone, median): load CSVs {result['load_seconds']:.2f}s + "
        f"{result['models']} models {result['models_seconds']:.2f}s = "
        f"{result['total_seconds']:.2f}s  (fct_orders: {result['fct_orders_rows'] or 0:,} rows)"
    )
    slow = ", ".join(f"{n} {s:.2f}s" for n, s in result["slowest_models"])
    print(f"  slowest models: {slow}")
    total = result["total_seconds"]
    if platform_seconds is not None and total:
        print(
            f"  platform without training / floor: {platform_seconds:.1f}s / {total:.2f}s = "
            f"{platform_seconds / total:.1f}x (targets: ≤ 4x at scale 1, ≤ 2x at scale 10)"
        )
    if stage_sum is not None and total:
        print(f"  (sum of the flow's stages / floor: {stage_sum / total:.1f}x)")


def main(argv: list[str] | None = None) -> int:
    def extra(parser: argparse.ArgumentParser) -> None:
        parser.add_argument(
            "--manifest",
            type=Path,
            help="use this dbt manifest's compiled SQL (default: dbt compile into a scratch "
            "target path)",
        )

    args, work, data = scale_data(
        "python -m bench.floor", __doc__.splitlines()[0], argv, repeat=1, extra=extra
    )
    result = floor(data, work / "floor", args.repeat, args.manifest)
    platform_s = stage_sum = None
    if latest := newest_result(args.scale):
        without = load_json(latest).get("platform_without_training") or {}
        platform_s, stage_sum = without.get("wall_seconds"), without.get("stage_sum_seconds")
        if platform_s is not None:
            print(f"\n(platform figures from {latest.name})")
    print_floor(result, platform_s, stage_sum)
    print(json.dumps({k: v for k, v in result.items() if k != "repeats"}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
