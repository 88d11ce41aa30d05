"""Incremental JSON order batches: landing folder → bronze.batch_* → archive (or rejected).

A batch file (``olist generate-batch`` writes them; an upstream shop would emit them) holds
orders with their customer, items and payments nested. Each file is recorded in
``ops.file_ledger`` by sha256 (a batch delivered twice is skipped), flattened into the
same columns as the CSV contracts, validated by the same pandera models, and appended to
``bronze.batch_<table>``; rejected rows go to ``quarantine.batch_<table>`` with a reason.
A file that is not valid JSON or lacks required fields is moved to ``rejected/`` with a
``.reason.txt`` beside it, and nothing of it is loaded. The landing folder may be any
landing zone (``olist.landing_zone``): a local folder or, in production, a GCS prefix.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from contracts import CONTRACTS
from contracts.sources import SOURCES, Reference
from olist.cleaning import CleanResult, find_orphans, gate_check, validate_frame
from olist.ingest import already_loaded, ensure_ledger, sha256_file
from olist.landing_zone import LandingZone, as_zone
from olist.quality_store import CheckResult
from olist.warehouse import ensure_schemas, row_count, scalar, table_exists

BATCH_GLOB = "*.json"
# bronze table of batch rows → the CSV source whose contract and columns it shares
BATCH_TABLES = {
    "batch_orders": "orders",
    "batch_order_items": "order_items",
    "batch_order_payments": "order_payments",
    "batch_customers": "customers",
}
BATCH_REFERENCES: tuple[Reference, ...] = (
    Reference("batch_order_items", "order_id", "batch_orders", "order_id"),
    Reference("batch_order_payments", "order_id", "batch_orders", "order_id"),
    Reference("batch_orders", "customer_id", "batch_customers", "customer_id"),
    Reference("batch_order_items", "product_id", "products", "product_id"),
    Reference("batch_order_items", "seller_id", "sellers", "seller_id"),
)
_ORDER_FIELDS = (
    "order_id",
    "order_status",
    "order_purchase_timestamp",
    "order_estimated_delivery_date",
    "customer",
    "items",
    "payments",
)
_COLUMNS = {s.table: s.columns for s in SOURCES}


class BatchFormatError(ValueError):
    """A batch file is not the JSON shape we expect; names the path inside the file."""


def _text(value: Any, where: str) -> str | None:
    """JSON scalar → text as the CSV would carry it (contracts check the format)."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise BatchFormatError(f"{where}: expected a string or a number, got {value!r}")
    return str(value) if isinstance(value, int) else repr(value)


def _require(obj: Any, keys: tuple[str, ...], where: str) -> None:
    if not isinstance(obj, dict):
        raise BatchFormatError(f"{where}: expected an object")
    missing = [k for k in keys if k not in obj]
    if missing:
        raise BatchFormatError(f"{where}: missing {', '.join(repr(k) for k in missing)}")


def flatten(doc: Any) -> dict[str, list[dict[str, str | None]]]:
    """Batch document → rows per batch table, every value as text."""
    _require(doc, ("batch_id", "orders"), "$")
    if not isinstance(doc["orders"], list):
        raise BatchFormatError("$.orders: expected a list")
    rows: dict[str, list[dict[str, str | None]]] = {t: [] for t in BATCH_TABLES}
    for i, order in enumerate(doc["orders"]):
        where = f"$.orders[{i}]"
        _require(order, _ORDER_FIELDS, where)
        customer = order["customer"]
        _require(customer, _COLUMNS["customers"], f"{where}.customer")
        rows["batch_customers"].append(
            {c: _text(customer[c], f"{where}.customer.{c}") for c in _COLUMNS["customers"]}
        )
        rows["batch_orders"].append(
            {
                c: _text(
                    customer["customer_id"] if c == "customer_id" else order.get(c), f"{where}.{c}"
                )
                for c in _COLUMNS["orders"]
            }
        )
        for key, table, child in (
            ("items", "order_items", "batch_order_items"),
            ("payments", "order_payments", "batch_order_payments"),
        ):
            if not isinstance(order[key], list):
                raise BatchFormatError(f"{where}.{key}: expected a list")
            columns = [c for c in _COLUMNS[table] if c != "order_id"]
            for j, line in enumerate(order[key]):
                _require(line, tuple(columns), f"{where}.{key}[{j}]")
                rows[child].append(
                    {
                        "order_id": _text(order["order_id"], f"{where}.order_id"),
                        **{c: _text(line[c], f"{where}.{key}[{j}].{c}") for c in columns},
                    }
                )
    return rows


def _ddl(table: str, columns: tuple[str, ...], reason: bool) -> str:
    cols = ", ".join(f'"{c}" varchar' for c in columns)
    extra = ", _reason varchar" if reason else ""
    return (
        f"(_row_number bigint, {cols}, _batch_id varchar, _source_file varchar, "
        f"_loaded_at timestamp{extra})"
    )


def ensure_batch_tables(con: duckdb.DuckDBPyConnection) -> None:
    """Empty batch tables exist from the first run on, so dbt can always union them."""
    ensure_schemas(con)
    for table, source in BATCH_TABLES.items():
        cols = _COLUMNS[source]
        con.execute(f"create table if not exists bronze.{table} {_ddl(table, cols, False)}")
        con.execute(f"create table if not exists quarantine.{table} {_ddl(table, cols, True)}")


@dataclass
class BatchIngest:
    landed: list[Path] = field(default_factory=list)
    skipped: list[Path] = field(default_factory=list)
    rejected: list[tuple[Path, str]] = field(default_factory=list)


def land_batches(
    con: duckdb.DuckDBPyConnection, folder: Path | LandingZone, run_id: str
) -> BatchIngest:
    """Parse every new batch file in ``folder`` into ``landing.batch_*``.

    The paths in the result are the local copies' (gone afterwards for a bucket): only
    their names, which are the files' own, mean anything to a caller."""
    zone = as_zone(folder)
    names = zone.names(BATCH_GLOB)
    with zone.local_copies(names) as local:
        return _land_batch_files(con, [local / name for name in names], run_id)


def _land_batch_files(
    con: duckdb.DuckDBPyConnection, paths: list[Path], run_id: str
) -> BatchIngest:
    ensure_batch_tables(con)
    ensure_ledger(con)
    result = BatchIngest()
    frames: dict[str, list[pd.DataFrame]] = {t: [] for t in BATCH_TABLES}
    loaded_at = datetime.now(UTC).replace(tzinfo=None)
    seen: set[str] = set()
    for path in paths:
        digest = sha256_file(path)
        if digest in seen or already_loaded(con, digest):  # a re-delivery, now or before
            result.skipped.append(path)
            continue
        seen.add(digest)
        try:
            doc = json.loads(path.read_bytes().decode("utf-8"))
            rows = flatten(doc)
        except (UnicodeDecodeError, json.JSONDecodeError, BatchFormatError) as err:
            reason = f"{path.name}: {err}"
            result.rejected.append((path, reason))
            con.execute(
                "insert into ops.file_ledger values (?, 'order_batch', ?, ?, 0, 0, 0, ?, "
                "'rejected', ?, ?, ?)",
                [path.name, digest, path.stat().st_size, run_id, loaded_at, loaded_at, reason],
            )
            continue
        for table, table_rows in rows.items():
            frame = pd.DataFrame(
                table_rows, columns=list(_COLUMNS[BATCH_TABLES[table]]), dtype="str"
            )
            frames[table].append(
                frame.assign(_batch_id=str(doc["batch_id"]), _source_file=path.name)
            )
        con.execute(
            "insert into ops.file_ledger values (?, 'order_batch', ?, ?, ?, 0, 0, ?, "
            "'landed', ?, null, null)",
            [path.name, digest, path.stat().st_size, len(rows["batch_orders"]), run_id, loaded_at],
        )
        result.landed.append(path)
    if not result.landed:
        return result
    for table, parts in frames.items():
        source = BATCH_TABLES[table]
        frame = (
            pd.concat(parts, ignore_index=True)
            if parts
            else pd.DataFrame(columns=[*_COLUMNS[source], "_batch_id", "_source_file"], dtype="str")
        )
        frame.insert(0, "_row_number", pd.Series(range(1, len(frame) + 1), dtype="int64"))
        frame["_loaded_at"] = pd.Series([loaded_at] * len(frame), dtype="datetime64[us]")
        con.execute(
            f"create or replace table landing.{table} {_ddl(table, _COLUMNS[source], False)}"
        )
        con.register("_batch_frame", frame)
        try:
            con.execute(f"insert into landing.{table} select * from _batch_frame")
        finally:
            con.unregister("_batch_frame")
    return result


def clean_batches(
    con: duckdb.DuckDBPyConnection, run_id: str, threshold: float = 0.01
) -> tuple[list[CleanResult], list[CheckResult], bool]:
    """Validate landed batch rows and append them to bronze in one transaction."""
    landed = [t for t in BATCH_TABLES if table_exists(con, "landing", t)]
    if not landed:
        return [], [], True
    rejected: dict[str, pd.DataFrame] = {}
    checks: list[CheckResult] = []
    for table in landed:
        source = BATCH_TABLES[table]
        df = con.sql(f"select * from landing.{table}").df()
        reasons, table_checks = validate_frame(
            df[list(_COLUMNS[source])], CONTRACTS[source], table, run_id
        )
        checks.extend(table_checks)
        numbers = df["_row_number"].to_numpy()
        rejected[table] = pd.DataFrame(
            {
                "_row_number": pd.Series([int(numbers[i]) for i in reasons], dtype="int64"),
                "_reason": pd.Series(["; ".join(r) for r in reasons.values()], dtype="str"),
            }
        )
    merged, orphan_checks = find_orphans(con, rejected, run_id, BATCH_REFERENCES)
    rejected.update(merged)
    checks.extend(orphan_checks)
    results: list[CleanResult] = []
    con.execute("begin transaction")
    try:
        for table in landed:
            con.register("_rejected", rejected[table])
            try:
                con.execute(
                    f"insert into bronze.{table} select * from landing.{table} "
                    f"where _row_number not in (select _row_number from _rejected)"
                )
                con.execute(
                    f"insert into quarantine.{table} select l.*, r._reason "
                    f"from landing.{table} l join _rejected r using (_row_number)"
                )
            finally:
                con.unregister("_rejected")
            results.append(
                CleanResult(
                    table,
                    row_count(con, "landing", table) - len(rejected[table]),
                    len(rejected[table]),
                    [],
                )
            )
        gate_ok = True
        for file_name, records, quarantined in _per_file(con, rejected.get("batch_orders")):
            loaded = int(
                scalar(
                    con,
                    "select count(*) from bronze.batch_orders where _source_file = ? and "
                    "_loaded_at = (select max(_loaded_at) from landing.batch_orders)",
                    [file_name],
                )
                or 0
            )
            share = quarantined / records if records else 0.0
            file_checks = [
                gate_check(
                    run_id,
                    "batch_orders",
                    "records_reconcile",
                    loaded + quarantined == records,
                    records,
                    abs(records - loaded - quarantined),
                    f"{file_name}: {records} orders, {loaded} loaded, {quarantined} quarantined",
                ),
                gate_check(
                    run_id,
                    "batch_orders",
                    f"quarantined_share_at_most_{threshold:g}",
                    share <= threshold,
                    records,
                    quarantined,
                    f"{file_name}: {share:.2%} of orders quarantined",
                ),
            ]
            checks.extend(file_checks)
            gate_ok &= all(c.passed for c in file_checks)
            con.execute(
                "update ops.file_ledger set status = 'loaded', loaded = ?, "
                "quarantined = ?, finished_at = now()::timestamp where file_name = ? "
                "and status = 'landed' and table_name = 'order_batch'",
                [loaded, quarantined, file_name],
            )
        for table in landed:
            con.execute(f"drop table landing.{table}")
        if not gate_ok:
            con.execute("rollback")
            return results, checks, False
        con.execute("commit")
    except Exception:
        con.execute("rollback")
        raise
    return results, checks, True


def _per_file(
    con: duckdb.DuckDBPyConnection, rejected_orders: pd.DataFrame | None
) -> list[tuple[str, int, int]]:
    """(file, orders in the ledger, orders quarantined) for every landed batch file."""
    landed = con.sql("select _row_number, _source_file from landing.batch_orders").df()
    bad = set() if rejected_orders is None else set(rejected_orders["_row_number"].tolist())
    quarantined = landed[landed["_row_number"].isin(bad)].groupby("_source_file").size()
    return [
        (name, int(records), int(quarantined.get(name, 0)))
        for name, records in con.execute(
            "select file_name, source_records from ops.file_ledger "
            "where table_name = 'order_batch' and status = 'landed'"
        ).fetchall()
    ]


def file_away(con: duckdb.DuckDBPyConnection, folder: Path | LandingZone) -> dict[str, list[str]]:
    """Move batch files whose fate the ledger records out of the landing folder: loaded
    ones (and re-deliveries of loaded content) to ``archive/``, unreadable ones to
    ``rejected/`` with a ``.reason.txt``. Files of an uncommitted load stay put."""
    zone = as_zone(folder)
    moved: dict[str, list[str]] = {"archive": [], "rejected": []}
    names = zone.names(BATCH_GLOB)
    with zone.local_copies(names) as local:  # the ledger knows content by sha256 only
        for name in names:
            rows = con.execute(
                "select status, message from ops.file_ledger where sha256 = ? and status in "
                "('loaded', 'rejected') order by status",
                [sha256_file(local / name)],
            ).fetchall()
            if not rows:
                continue
            status, message = rows[0]  # 'loaded' sorts before 'rejected'
            if status == "loaded":
                zone.file_away(name, "archive")
                moved["archive"].append(name)
            else:
                zone.file_away(name, "rejected", reason=f"{message}")
                moved["rejected"].append(name)
    return moved
