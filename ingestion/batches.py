"""Incremental JSON order batches: landing folder → bronze.batch_* → archive (or rejected).

A batch file (``olist generate-batch`` writes them; an upstream shop would emit them) holds
orders with their customer, items and payments nested. Each file is recorded in
``ops.file_ledger`` by sha256 (a batch delivered twice is skipped), flattened into the
same columns as the CSV contracts, validated by the same pandera models, and appended to
``bronze.batch_<table>``. An order any of whose rows fails a contract is quarantined
whole (order, items, payments, customer) in ``quarantine.batch_<table>`` with a reason.

No file can stop the others: one that cannot be read for whatever reason (too large, not
UTF-8, compressed, not JSON, nested too deeply, missing fields, wrong types) or that
quarantines more than the threshold share of its orders is moved to ``rejected/`` with a
``.reason.txt`` beside it and one ``rejected`` ledger row, and nothing of it is loaded.
Files are taken in name order, their delivery order: an order delivered again in a later
file of the same run wins, as a later run's would. The landing folder may be any landing
zone (``ingestion.landing_zone``): a local folder or, in production, a GCS prefix.
"""

from __future__ import annotations

import json
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from contracts import CONTRACTS
from contracts.sources import BATCH_REFERENCES, SOURCES
from ingestion.cleaning import (
    CleanResult,
    find_orphans,
    gate_check,
    merge_check_results,
    validate_frame,
)
from ingestion.csv_files import already_loaded, ensure_ledger, sha256_file
from ingestion.landing_zone import LandingZone, as_zone
from quality.store import CheckResult
from warehouse.engine import Warehouse
from warehouse.local import ensure_schemas, scalar, table_exists

BATCH_GLOB = "*.json"
# bronze table of batch rows → the CSV source whose contract and columns it shares
BATCH_TABLES = {
    "batch_orders": "orders",
    "batch_order_items": "order_items",
    "batch_order_payments": "order_payments",
    "batch_customers": "customers",
}
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


# A batch is a few thousand orders (a few MB); anything far larger is a mistake, and parsing
# it would hold the whole file (and its Python objects) in memory.
MAX_BATCH_BYTES = 256 * 1024 * 1024


def read_batch(
    path: Path, max_bytes: int = MAX_BATCH_BYTES
) -> tuple[str, dict[str, list[dict[str, str | None]]]]:
    """Parse and flatten one batch file; any reason it cannot be read is a
    ``BatchFormatError`` naming the file, so one bad file never stops the others.
    Returns the batch id and the rows per batch table."""
    limit = max_bytes
    size = path.stat().st_size
    if size > limit:
        raise BatchFormatError(
            f"{path.name}: {size:,} bytes, more than the {limit:,} a batch may have "
            f"(OLIST_MAX_BATCH_BYTES); split it into smaller batches"
        )
    raw = path.read_bytes()
    if raw[:2] == b"\x1f\x8b" or raw[:4] == b"PK\x03\x04":
        kind = "gzip" if raw[:2] == b"\x1f\x8b" else "zip (or xlsx)"
        raise BatchFormatError(f"{path.name}: {kind} bytes, not JSON text; decompress it first")
    try:
        doc = json.loads(raw.decode("utf-8-sig"))  # a byte-order mark is harmless
        rows = flatten(doc)
        return str(doc["batch_id"]), rows
    except UnicodeDecodeError as err:
        raise BatchFormatError(
            f"{path.name}: not UTF-8 (byte {raw[err.start]:#04x} at offset {err.start})"
        ) from None
    except json.JSONDecodeError as err:
        raise BatchFormatError(f"{path.name}: not valid JSON: {err}") from None
    except RecursionError:
        raise BatchFormatError(
            f"{path.name}: nested too deeply to parse (a batch is orders → items/payments)"
        ) from None
    except BatchFormatError as err:
        raise BatchFormatError(f"{path.name}: {err}") from None
    except (ValueError, OverflowError, MemoryError) as err:
        raise BatchFormatError(
            f"{path.name}: cannot be read: {type(err).__name__}: {err}"
        ) from None


def land_batches(
    con: duckdb.DuckDBPyConnection,
    folder: Path | LandingZone,
    run_id: str,
    max_bytes: int = MAX_BATCH_BYTES,
) -> BatchIngest:
    """Parse every new batch file in ``folder`` into ``landing.batch_*``.

    The paths in the result are the local copies' (gone afterwards for a bucket): only
    their names, which are the files' own, mean anything to a caller."""
    zone = as_zone(folder)
    names = zone.names(BATCH_GLOB)
    with zone.local_copies(names) as local:
        return _land_batch_files(con, [local / name for name in names], run_id, max_bytes)


def _reject_file(
    con: duckdb.DuckDBPyConnection,
    name: str,
    digest: str,
    size: int,
    records: int,
    run_id: str,
    started_at: datetime,
    reason: str,
) -> None:
    """One ``rejected`` ledger row per content, however often a run is retried."""
    con.execute(
        "insert into ops.file_ledger select ?, 'order_batch', ?, ?, ?, 0, 0, ?, 'rejected', "
        "?, now()::timestamp, ? where not exists (select 1 from ops.file_ledger "
        "where sha256 = ? and status = 'rejected')",
        [name, digest, size, records, run_id, started_at, reason, digest],
    )


def _land_batch_files(
    con: duckdb.DuckDBPyConnection, paths: list[Path], run_id: str, max_bytes: int
) -> BatchIngest:
    """Files are taken in name order, which is their delivery order: each file gets its own
    ``_loaded_at`` (a microsecond apart), so an order delivered in two files of one run
    resolves as across runs, the later delivery winning."""
    ensure_batch_tables(con)
    ensure_ledger(con)
    # attempts that never reached bronze (a killed or refused run) are retried from scratch
    con.execute(
        "delete from ops.file_ledger where table_name = 'order_batch' and status = 'landed'"
    )
    for table in BATCH_TABLES:
        con.execute(f"drop table if exists landing.{table}")
    result = BatchIngest()
    frames: dict[str, list[pd.DataFrame]] = {t: [] for t in BATCH_TABLES}
    started_at = datetime.now(UTC).replace(tzinfo=None)
    seen: set[str] = set()
    for path in paths:
        digest = sha256_file(path)
        if digest in seen or already_loaded(con, digest):  # a re-delivery, now or before
            result.skipped.append(path)
            continue
        seen.add(digest)
        try:
            batch_id, rows = read_batch(path, max_bytes)
        except BatchFormatError as err:
            reason = str(err)
            result.rejected.append((path, reason))
            _reject_file(con, path.name, digest, path.stat().st_size, 0, run_id, started_at, reason)
            continue
        loaded_at = started_at + timedelta(microseconds=len(result.landed))
        for table, table_rows in rows.items():
            frame = pd.DataFrame(
                table_rows, columns=list(_COLUMNS[BATCH_TABLES[table]]), dtype="str"
            )
            frames[table].append(
                frame.assign(
                    _batch_id=batch_id,
                    _source_file=path.name,
                    _loaded_at=pd.Series([loaded_at] * len(frame), dtype="datetime64[us]"),
                )
            )
        con.execute(
            "insert into ops.file_ledger values (?, 'order_batch', ?, ?, ?, 0, 0, ?, "
            "'landed', ?, null, null)",
            [path.name, digest, path.stat().st_size, len(rows["batch_orders"]), run_id, started_at],
        )
        result.landed.append(path)
    if not result.landed:
        return result
    for table, parts in frames.items():
        source = BATCH_TABLES[table]
        columns = [*_COLUMNS[source], "_batch_id", "_source_file", "_loaded_at"]
        frame = pd.concat(parts, ignore_index=True)[columns]
        frame.insert(0, "_row_number", pd.Series(range(1, len(frame) + 1), dtype="int64"))
        con.execute(
            f"create or replace table landing.{table} {_ddl(table, _COLUMNS[source], False)}"
        )
        con.register("_batch_frame", frame)
        try:
            con.execute(f"insert into landing.{table} select * from _batch_frame")
        finally:
            con.unregister("_batch_frame")
    return result


def _validate_per_file(
    frames: dict[str, pd.DataFrame], run_id: str
) -> tuple[dict[str, pd.DataFrame], list[CheckResult]]:
    """Contract checks file by file: keys must be unique within a delivery, not across the
    deliveries of one run (a later file may re-deliver an order, as a later run may)."""
    rejected: dict[str, pd.DataFrame] = {}
    parts: list[list[CheckResult]] = []
    for table, df in frames.items():
        source = BATCH_TABLES[table]
        numbers: list[int] = []
        reasons_text: list[str] = []
        for _, part in df.groupby("_source_file", sort=False):
            part = part.reset_index(drop=True)
            reasons, checks = validate_frame(
                part[list(_COLUMNS[source])], CONTRACTS[source], table, run_id
            )
            parts.append(checks)
            row_numbers = part["_row_number"].to_numpy()
            numbers.extend(int(row_numbers[i]) for i in reasons)
            reasons_text.extend("; ".join(r) for r in reasons.values())
        rejected[table] = pd.DataFrame(
            {
                "_row_number": pd.Series(numbers, dtype="int64"),
                "_reason": pd.Series(reasons_text, dtype="str"),
            }
        )
    return rejected, merge_check_results(parts)


def _whole_orders(
    frames: dict[str, pd.DataFrame], rejected: dict[str, pd.DataFrame]
) -> dict[str, pd.DataFrame]:
    """Widen row rejections to whole orders: an order is quarantined with its items,
    payments and customer when any of them fails, so bronze never holds half an order."""
    orders = frames["batch_orders"]

    def keyed(table: str, column: str) -> pd.DataFrame:
        df = frames[table][["_row_number", "_source_file", column]]
        return df.assign(_key=df["_source_file"] + "/" + df[column].fillna(""))

    order_keys = keyed("batch_orders", "order_id")
    customer_of = order_keys.assign(
        _customer=orders["_source_file"] + "/" + orders["customer_id"].fillna("")
    )
    bad: dict[str, list[str]] = {}
    for table, column in (
        ("batch_orders", "order_id"),
        ("batch_order_items", "order_id"),
        ("batch_order_payments", "order_id"),
        ("batch_customers", "customer_id"),
    ):
        failed = keyed(table, column).merge(rejected[table], on="_row_number")
        for key, reason in zip(failed["_key"], failed["_reason"], strict=True):
            if table == "batch_customers":
                owners = customer_of.loc[customer_of["_customer"] == key, "_key"].tolist()
            else:
                owners = [key]
            for owner in owners:
                bad.setdefault(owner, []).append(f"{table}: {reason}")
    if not bad:
        return rejected
    bad_customers = set(customer_of.loc[customer_of["_key"].isin(bad), "_customer"])
    widened: dict[str, pd.DataFrame] = {}
    for table, column in (
        ("batch_orders", "order_id"),
        ("batch_order_items", "order_id"),
        ("batch_order_payments", "order_id"),
        ("batch_customers", "customer_id"),
    ):
        rows = keyed(table, column)
        if table == "batch_customers":
            owner_of = customer_of.drop_duplicates("_customer").set_index("_customer")["_key"]
            rows = rows[rows["_key"].isin(bad_customers)]
            rows = rows.assign(_key=rows["_key"].map(owner_of))
        else:
            rows = rows[rows["_key"].isin(bad)]
        own = dict(zip(rejected[table]["_row_number"], rejected[table]["_reason"], strict=True))
        reasons = [
            own.get(n) or "order quarantined with its parts: " + "; ".join(bad[k])
            for n, k in zip(rows["_row_number"], rows["_key"], strict=True)
        ]
        widened[table] = pd.DataFrame(
            {
                "_row_number": pd.Series(rows["_row_number"].tolist(), dtype="int64"),
                "_reason": pd.Series(reasons, dtype="str"),
            }
        )
        extra = rejected[table][~rejected[table]["_row_number"].isin(widened[table]["_row_number"])]
        widened[table] = pd.concat([widened[table], extra], ignore_index=True)
    return widened


def clean_batches(
    con: duckdb.DuckDBPyConnection,
    run_id: str,
    threshold: float = 0.01,
    history: Warehouse | None = None,
    fresh: Collection[str] = (),
) -> tuple[list[CleanResult], list[CheckResult], bool]:
    """Validate landed batch rows and append them to bronze in one transaction.

    Bad orders are quarantined whole; a file with more than ``threshold`` of its orders
    quarantined is refused as a whole (``rejected/``, with the reasons), and the other files
    load. Only a file whose rows do not reconcile (a defect of ours) stops the load.

    The keys a batch names are looked up in ``history`` (the target warehouse; default: the
    file ``con`` is open on), except for the CSV tables in ``fresh``, which this run's
    contracts just loaded into ``con``'s bronze. History is only ever asked in its engine and
    what was loaded is counted from the batch's own rows, so the cost follows the batch, not
    the history (one scan of the parents' key columns aside)."""
    if not all(table_exists(con, "landing", t) for t in BATCH_TABLES):
        return [], [], True
    frames = {t: con.sql(f"select * from landing.{t}").df() for t in BATCH_TABLES}
    rejected, checks = _validate_per_file(frames, run_id)
    merged, orphan_checks = find_orphans(
        con, rejected, run_id, BATCH_REFERENCES, history=history, fresh=fresh
    )
    rejected.update(merged)
    checks.extend(orphan_checks)
    rejected = _whole_orders(frames, rejected)
    files = con.execute(
        "select file_name, source_records from ops.file_ledger "
        "where table_name = 'order_batch' and status = 'landed' order by file_name"
    ).fetchall()
    orders = frames["batch_orders"]
    bad_orders = orders[orders["_row_number"].isin(rejected["batch_orders"]["_row_number"])]
    quarantined_per_file = bad_orders.groupby("_source_file").size()
    refused: dict[str, str] = {}
    for file_name, records in files:
        quarantined = int(quarantined_per_file.get(file_name, 0))
        share = quarantined / records if records else 0.0
        if share > threshold:
            reasons = rejected["batch_orders"].merge(
                bad_orders[bad_orders["_source_file"] == file_name][["_row_number", "order_id"]],
                on="_row_number",
            )
            examples = "; ".join(
                f"order {o}: {r}"
                for o, r in zip(reasons["order_id"], reasons["_reason"], strict=True)
            )
            refused[file_name] = (
                f"{file_name}: {quarantined} of {records} orders ({share:.2%}) fail the "
                f"contracts, more than the {threshold:.2%} a batch may quarantine "
                f"(OLIST_QUARANTINE_THRESHOLD): {examples[:2000]}"
            )
            checks.append(
                CheckResult(
                    run_id=run_id,
                    layer="bronze",
                    table_name="batch_orders",
                    check_name="batch_file_accepted",
                    check_engine="ingest",
                    severity="warning",
                    passed=False,
                    observed_count=int(records),
                    unexpected_count=quarantined,
                    unexpected_percent=round(100.0 * share, 4),
                    sample_values=[refused[file_name][:500]],
                )
            )
    refused_frame = pd.DataFrame({"file_name": pd.Series(list(refused), dtype="str")})
    results: list[CleanResult] = []
    con.execute("begin transaction")
    try:
        con.register("_refused", refused_frame)
        inserted: dict[str, int] = {}
        for table in BATCH_TABLES:
            con.register("_rejected", rejected[table])
            try:
                inserted[table] = int(
                    scalar(
                        con,
                        f"insert into bronze.{table} select * from landing.{table} "
                        f"where _row_number not in (select _row_number from _rejected) "
                        f"and _source_file not in (select file_name from _refused)",
                    )
                    or 0
                )
                con.execute(
                    f"insert into quarantine.{table} select l.*, r._reason "
                    f"from landing.{table} l join _rejected r using (_row_number) "
                    f"where l._source_file not in (select file_name from _refused)"
                )
            finally:
                con.unregister("_rejected")
            kept = frames[table][~frames[table]["_source_file"].isin(refused)]
            bad = int(kept["_row_number"].isin(rejected[table]["_row_number"]).sum())
            results.append(CleanResult(table, len(kept) - bad, bad, []))
        con.unregister("_refused")
        # what each file loaded, from the batch's own rows: re-counting bronze.batch_orders
        # would scan the whole batch history; the insert's own count guards the sum
        good_orders = orders[~orders["_row_number"].isin(rejected["batch_orders"]["_row_number"])]
        loaded_per_file = good_orders.groupby("_source_file").size()
        kept_orders = int(loaded_per_file[~loaded_per_file.index.isin(refused)].sum())
        gate_ok = True
        if inserted["batch_orders"] != kept_orders:
            miscount = gate_check(
                run_id,
                "batch_orders",
                "records_reconcile",
                False,
                kept_orders,
                abs(inserted["batch_orders"] - kept_orders),
                f"{inserted['batch_orders']} orders appended to bronze.batch_orders, "
                f"{kept_orders} expected from the accepted files",
            )
            checks.append(miscount)
            gate_ok = False
        for file_name, records in files:
            if file_name in refused:  # one 'rejected' row per content, as in landing
                con.execute(
                    "delete from ops.file_ledger where status = 'rejected' and sha256 = "
                    "(select any_value(sha256) from ops.file_ledger where file_name = ? "
                    "and status = 'landed' and table_name = 'order_batch')",
                    [file_name],
                )
                con.execute(
                    "update ops.file_ledger set status = 'rejected', finished_at = "
                    "now()::timestamp, message = ? where file_name = ? and status = 'landed' "
                    "and table_name = 'order_batch'",
                    [refused[file_name], file_name],
                )
                continue
            quarantined = int(quarantined_per_file.get(file_name, 0))
            loaded = int(loaded_per_file.get(file_name, 0))
            reconcile = gate_check(
                run_id,
                "batch_orders",
                "records_reconcile",
                loaded + quarantined == records,
                records,
                abs(records - loaded - quarantined),
                f"{file_name}: {records} orders, {loaded} loaded, {quarantined} quarantined",
            )
            checks.append(reconcile)
            gate_ok &= reconcile.passed
            con.execute(
                "update ops.file_ledger set status = 'loaded', loaded = ?, "
                "quarantined = ?, finished_at = now()::timestamp where file_name = ? "
                "and status = 'landed' and table_name = 'order_batch'",
                [loaded, quarantined, file_name],
            )
        for table in BATCH_TABLES:
            con.execute(f"drop table landing.{table}")
        if not gate_ok:
            con.execute("rollback")
            return results, checks, False
        con.execute("commit")
    except Exception:
        con.execute("rollback")
        raise
    return results, checks, True


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
