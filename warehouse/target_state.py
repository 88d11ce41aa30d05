"""A run on BigQuery keeps nothing on its disk: its state lives in BigQuery's datasets.

The stages parse files and apply the row-local contracts with DuckDB (the same code as on a
laptop), so a BigQuery run works in a *scratch* DuckDB file in a temporary folder, deleted
when the run ends. Around it (``BigQueryWarehouse.workspace``):

1. the Prefect concurrency slot ``olist-warehouse`` (one writer at a time, ``warehouse.locking``);
2. the scratch file receives the small bookkeeping tables the stages decide with, read from
   BigQuery: the file ledger (which content is loaded), the runs (``quality.runs``: each
   run's status and verdict), partial publications and the backfill's done days. Never
   bronze rows, keys or the check history: those grow with every load, and the
   contracts' checks against earlier loads run in BigQuery itself
   (``BigQueryWarehouse.absent_keys``, ``rows_naming_absent``);
3. once the contracts commit, ``keep_bronze`` claims the loaded files in BigQuery's
   ``ops.file_ledger`` and then makes the new rows visible to dbt there: a CSV table that
   arrived in a new version replaces ``bronze.<table>``; order-batch rows are appended to
   ``bronze.batch_*`` only for the files this run's claim won, so two runs that slip past the
   slot never append one file twice (``MERGE … WHEN NOT MATCHED`` on the file's sha256);
   quarantined rows and parse errors are appended likewise;
4. ``keep_state`` (after publishing, and when the run ends, succeeded or failed) claims the
   ledger rows, merges the run rows (status and verdict) on their run id, replaces the
   backfill's done days (a restart forgets some; the table is one row per day) and appends
   the run's ``quality.check_results`` rows (a claim on each row's identity, so keeping
   twice adds nothing).
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb
import pandas as pd

from config.settings import Settings
from ingestion import csv_files as ingest
from quality import runs
from warehouse import backfill, publish
from warehouse import local as warehouse
from warehouse.locking import global_slot

if TYPE_CHECKING:
    from warehouse.engine import BigQueryWarehouse

# (schema, table, DDL, key): the bookkeeping a run reads, brought into the scratch file
HYDRATED = (
    ("ops", "partial_publications", publish.PARTIAL_DDL, ("run_id",)),
    ("quality", "runs", runs.RUNS_DDL, ("run_id",)),  # each run's lifecycle and verdict
    ("ops", "backfill_partitions", backfill.BACKFILL_DDL, ()),  # replaced whole: see keep_state
)
LEDGER = ("ops", "file_ledger", ingest.LEDGER_DDL)
# a check result is one row per check and run: its identity, for keeping it exactly once
CHECK_IDENTITY = (
    "run_id",
    "layer",
    "table_name",
    "column_name",
    "check_name",
    "check_engine",
    "observed_at",
)
BATCH_TABLES = ("batch_orders", "batch_order_items", "batch_order_payments", "batch_customers")


@contextmanager
def scratch_workspace(wh: BigQueryWarehouse, settings: Settings, holder: str) -> Iterator[Settings]:
    """The slot, a scratch file with the bookkeeping, the settings that point at it; the
    run's state is kept in BigQuery when the block ends, whatever its outcome."""
    with (
        global_slot(holder),
        tempfile.TemporaryDirectory(prefix="olist-run-") as folder,
    ):
        local = settings.model_copy(update={"warehouse": Path(folder) / "run.duckdb"})
        wh.drop_leftover_keys()
        hydrate(wh, local.warehouse)
        try:
            yield local
        finally:
            keep_state(wh, local.warehouse)


def hydrate(wh: BigQueryWarehouse, path: Path) -> None:
    """Bring the bookkeeping tables of BigQuery into the DuckDB file at ``path``."""
    listed: dict[str, list[str]] = {}
    with warehouse.connect(path) as con:
        warehouse.ensure_schemas(con)
        for schema, table, ddl in (LEDGER[:3], *((s, t, d) for s, t, d, _ in HYDRATED)):
            con.execute(ddl)
            if schema not in listed:
                listed[schema] = wh.tables(schema)
            if table not in listed[schema]:
                continue
            frame = wh.query(f"select * from `{schema}`.`{table}`")
            if frame.empty:
                continue
            con.register("_kept", frame)
            try:
                con.execute(f"insert into {schema}.{table} by name select * from _kept")
            finally:
                con.unregister("_kept")


def _frame(con: duckdb.DuckDBPyConnection, sql: str) -> pd.DataFrame:
    return con.sql(sql).df()


def _claim_ledger(wh: BigQueryWarehouse, con: duckdb.DuckDBPyConnection) -> None:
    """Every decided ledger row not in BigQuery yet. An order batch is claimed on its content
    alone (exactly once, whoever else tries); a CSV version on content and run, since an
    earlier version delivered again is loaded again (it restores that version)."""
    if not warehouse.table_exists(con, "ops", "file_ledger"):
        return
    decided = _frame(con, "select * from ops.file_ledger where status <> 'landed'")
    batch = decided["table_name"] == "order_batch"
    wh.claim("ops", "file_ledger", decided[batch], ("sha256", "status"))
    wh.claim("ops", "file_ledger", decided[~batch], ("sha256", "status", "batch_id"))


def keep_state(wh: BigQueryWarehouse, path: Path) -> None:
    """The bookkeeping of the scratch file at ``path`` into BigQuery (idempotent)."""
    from warehouse.bigquery import replace_from_duckdb

    if not path.exists():
        return
    with warehouse.connect(path, read_only=True) as con:
        _claim_ledger(wh, con)
        for schema, table, _, keys in HYDRATED:
            if not warehouse.table_exists(con, schema, table):
                continue
            if not keys:  # a restarted backfill forgets days: the (small) table is replaced
                replace_from_duckdb(con, wh.target, schema, schema, [table])
                continue
            frame = _frame(con, f"select * from {schema}.{table}")
            if not frame.empty:
                wh.merge(schema, table, frame, keys)
        if warehouse.table_exists(con, "quality", "check_results"):
            results = _frame(con, "select * from quality.check_results")
            if not results.empty:
                wh.claim("quality", "check_results", results, CHECK_IDENTITY)


def _literal(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def keep_bronze(wh: BigQueryWarehouse, path: Path, run_id: str) -> dict[str, int]:
    """The files the contracts loaded in the scratch file at ``path``, claimed and kept in
    BigQuery's ``bronze`` and ``quarantine``; table → rows now kept."""
    from warehouse.bigquery import replace_from_duckdb

    kept: dict[str, int] = {}
    with warehouse.connect(path, read_only=True) as con:
        _claim_ledger(wh, con)
        won = wh.query(
            "select file_name from `ops`.`file_ledger` where table_name = 'order_batch' "
            f"and status = 'loaded' and batch_id = {_literal(run_id)}"
        )
        owned = tuple(str(name) for name in won["file_name"])
        loaded_now = {
            str(t)
            for (t,) in con.execute(
                "select distinct table_name from ops.file_ledger where status = 'loaded' "
                "and batch_id = ? and table_name <> 'order_batch'",
                [run_id],
            ).fetchall()
        }
        # a CSV version loaded by this run is the whole table
        snapshots = [t for t in warehouse.schema_tables(con, "bronze") if t in loaded_now]
        if snapshots:  # a new version of a source file is the whole table
            wh.ensure_schema("bronze")
            kept |= replace_from_duckdb(con, wh.target, "bronze", "bronze", snapshots)
        for schema in ("bronze", "quarantine"):
            for table in warehouse.schema_tables(con, schema):
                if schema == "bronze" and table not in BATCH_TABLES:
                    continue  # a snapshot (above)
                rows = _frame(con, f"select * from {schema}.{table}")
                if table in BATCH_TABLES:
                    rows = rows[rows["_source_file"].isin(owned)]
                kept[f"{schema}.{table}"] = wh.append(schema, table, rows)
    return kept
