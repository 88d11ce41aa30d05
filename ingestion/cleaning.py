"""Apply the raw data contracts: landing → bronze (accepted) + quarantine (rejected).

Validation is lazy, so one run reports every failure. A row that breaks a critical
row-level rule is quarantined with the checks it failed; warnings and info keep the row.
Every check's outcome becomes a ``CheckResult`` for ``quality.check_results``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import duckdb
import pandas as pd
import pandera.pandas as pa
from pandera.config import ValidationDepth, config_context

from contracts import CONTRACTS, check_severity
from contracts.sources import BATCH_REFERENCES, REFERENCES, SOURCES, Reference, SourceTable
from quality.store import CheckResult
from warehouse.engine import DuckDBWarehouse, KeyColumn, Warehouse
from warehouse.local import frame, row_count, scalar, table_exists

META_COLUMNS = ("_row_number", "_batch_id", "_source_file", "_loaded_at")


@dataclass
class CleanResult:
    table: str
    accepted: int
    quarantined: int
    checks: list[CheckResult]


def _check_ids(model: type[pa.DataFrameModel]) -> list[tuple[str | None, str]]:
    """Every check the model runs, as (column, check name); passing ones too."""
    schema = model.to_schema()
    ids: list[tuple[str | None, str]] = []
    for name, column in schema.columns.items():
        if not column.nullable:
            ids.append((name, "not_nullable"))
        if column.unique:
            ids.append((name, "field_uniqueness"))
        ids.extend((name, check.name) for check in column.checks)
    ids.extend((None, check.name) for check in schema.checks)
    return ids


def validate_frame(
    df: pd.DataFrame, model: type[pa.DataFrameModel], table: str, run_id: str, layer: str = "bronze"
) -> tuple[dict[int, list[str]], list[CheckResult]]:
    """Validate ``df``; return {row index: failed critical checks} and one result per check."""
    try:
        # every rule, data included, whatever PANDERA_VALIDATION_DEPTH says (pandera checks
        # only the schema of lazy frames by default)
        with config_context(validation_depth=ValidationDepth.SCHEMA_AND_DATA):
            model.validate(df, lazy=True)
        failures = pd.DataFrame(columns=["column", "check", "failure_case", "index"])
    except pa.errors.SchemaErrors as err:
        failures = err.failure_cases
    results: list[CheckResult] = []
    quarantine: dict[int, list[str]] = defaultdict(list)
    n = len(df)
    first_column = df.columns[0] if len(df.columns) else None
    for column, check_name in _check_ids(model):
        if column is None:
            # lazy mode repeats a data-frame check's failure once per column of the row
            match = failures[failures["check"] == check_name]
            sample_source = match[match["column"] == first_column]
        else:
            match = failures[
                (failures["column"] == column)
                & failures["check"].astype(str).str.startswith(check_name)
            ]
            sample_source = match
        rows = match["index"].dropna().astype(int).unique()
        unexpected = len(rows) if len(rows) or match.empty else len(match)
        severity = check_severity(model, column, check_name)
        if severity == "critical":
            for idx in rows:
                quarantine[int(idx)].append(f"{column or table}: {check_name}")
        samples = sample_source["failure_case"].dropna().astype(str).unique()[:5]
        results.append(
            CheckResult(
                run_id=run_id,
                layer=layer,
                table_name=table,
                column_name=column,
                check_name=check_name,
                check_engine="pandera",
                severity=severity,
                passed=unexpected == 0,
                observed_count=n,
                unexpected_count=int(unexpected),
                unexpected_percent=round(100.0 * unexpected / n, 4) if n else 0.0,
                sample_values=list(samples),
            )
        )
    return dict(quarantine), results


CHUNK_ROWS = 500_000


def _row_local(model: type[pa.DataFrameModel]) -> bool:
    return bool((getattr(model.__config__, "metadata", None) or {}).get("row_local"))


def merge_check_results(parts: list[list[CheckResult]]) -> list[CheckResult]:
    """One result per check from per-chunk results (counts add up, samples accumulate)."""
    merged: dict[tuple[str | None, str], CheckResult] = {}
    for results in parts:
        for r in results:
            key = (r.column_name, r.check_name)
            if key not in merged:
                merged[key] = r
                continue
            m = merged[key]
            m.observed_count = (m.observed_count or 0) + (r.observed_count or 0)
            m.unexpected_count = (m.unexpected_count or 0) + (r.unexpected_count or 0)
            m.passed = m.passed and r.passed
            m.sample_values = (m.sample_values + r.sample_values)[:5]
    for m in merged.values():
        m.unexpected_percent = (
            round(100.0 * (m.unexpected_count or 0) / m.observed_count, 4)
            if m.observed_count
            else 0.0
        )
    return list(merged.values())


# Contract chunks validated at once. The checks are pandas and Arrow work on frames read
# from DuckDB, and most of it (Arrow's string kernels, DuckDB's reads) runs outside the GIL,
# so two threads use both cores: at scale 10, on a copy of the bench's warehouse, the nine
# tables took 26.3 s instead of 44.4 s. Each chunk reads through its own DuckDB cursor;
# pandera keeps its settings per context (a ContextVar), so each thread's are its own.
CONTRACT_WORKERS = 2


@dataclass
class _Chunk:
    source: SourceTable
    start: int
    step: int


@dataclass
class _ChunkResult:
    rejected_rows: list[int]
    reasons: list[str]
    checks: list[CheckResult]


def _chunks(con: duckdb.DuckDBPyConnection, source: SourceTable) -> list[_Chunk]:
    """The row ranges of ``landing.<table>`` validated as one frame each: the whole table,
    or chunks of ``CHUNK_ROWS`` when every check of its contract is row-local, so memory
    stays flat however large the file is."""
    total = row_count(con, "landing", source.table)
    step = CHUNK_ROWS if _row_local(CONTRACTS[source.table]) else max(total, 1)
    return [_Chunk(source, start, step) for start in range(1, max(total, 1) + 1, step)]


def _validate_chunk(con: duckdb.DuckDBPyConnection, chunk: _Chunk, run_id: str) -> _ChunkResult:
    source = chunk.source
    cursor = con.cursor()  # a connection of its own: this runs in a worker thread
    try:
        df = frame(
            cursor.sql(
                f"select * from landing.{source.table} where _row_number >= {chunk.start} "
                f"and _row_number < {chunk.start + chunk.step}"
            )
        )
    finally:
        cursor.close()
    model = CONTRACTS[source.table]
    reasons, checks = validate_frame(df[list(source.columns)], model, source.table, run_id)
    numbers = df["_row_number"].to_numpy()
    return _ChunkResult(
        [int(numbers[i]) for i in reasons], ["; ".join(r) for r in reasons.values()], checks
    )


def _validate_landed(
    con: duckdb.DuckDBPyConnection,
    sources: list[SourceTable],
    run_id: str,
    workers: int = CONTRACT_WORKERS,
) -> list[tuple[SourceTable, pd.DataFrame, list[CheckResult]]]:
    """Contract checks of each ``landing.<table>`` of ``sources``: the rows to quarantine,
    and every result, in the order of ``sources``. The chunks of all tables are validated
    by ``workers`` threads (``CONTRACT_WORKERS``)."""
    jobs = [chunk for source in sources for chunk in _chunks(con, source)]
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        done = list(pool.map(lambda chunk: _validate_chunk(con, chunk, run_id), jobs))
    validated = []
    for source in sources:
        parts = [r for chunk, r in zip(jobs, done, strict=True) if chunk.source is source]
        checks = merge_check_results([r.checks for r in parts])
        if not source.key:
            checks.append(_duplicate_rows(con, source, run_id))
        rejected = pd.DataFrame(
            {
                "_row_number": pd.Series(
                    [n for r in parts for n in r.rejected_rows], dtype="int64"
                ),
                "_reason": pd.Series([t for r in parts for t in r.reasons], dtype="str"),
            }
        )
        validated.append((source, rejected, checks))
    return validated


def _duplicate_rows(
    con: duckdb.DuckDBPyConnection, source: SourceTable, run_id: str
) -> CheckResult:
    """Exact duplicate records of a keyless table, counted by DuckDB (info)."""
    cols = ", ".join(source.columns)
    total, distinct = con.execute(
        f"select count(*), (select count(*) from (select distinct {cols} from landing.{source.table}))"
        f" from landing.{source.table}"
    ).fetchall()[0]
    dupes = int(total) - int(distinct)
    return CheckResult(
        run_id=run_id,
        layer="bronze",
        table_name=source.table,
        check_name="duplicate_rows",
        check_engine="duckdb",
        severity="info",
        passed=dupes == 0,
        observed_count=int(total),
        unexpected_count=dupes,
        unexpected_percent=round(100.0 * dupes / total, 4) if total else 0.0,
    )


def gate_check(
    run_id: str, table: str, name: str, passed: bool, observed: int, unexpected: int, sample: str
) -> CheckResult:
    return CheckResult(
        run_id=run_id,
        layer="bronze",
        table_name=table,
        check_name=name,
        check_engine="ingest",
        severity="critical",
        passed=passed,
        observed_count=observed,
        unexpected_count=unexpected,
        unexpected_percent=round(100.0 * unexpected / observed, 4) if observed else 0.0,
        sample_values=[sample] if not passed else [],
    )


def _publish_table(
    con: duckdb.DuckDBPyConnection,
    source: SourceTable,
    rejected: pd.DataFrame,
    run_id: str,
    threshold: float,
) -> tuple[CleanResult, list[CheckResult]]:
    """Inside the caller's transaction: bronze, quarantine and ledger for one table, then
    reconcile what the parser counted with what landed where."""
    t = source.table
    con.register("_rejected", rejected)
    try:
        con.execute(
            f"create or replace table bronze.{t} as select * from landing.{t} "
            f"where _row_number not in (select _row_number from _rejected)"
        )
        con.execute(
            f"create table if not exists quarantine.{t} as "
            f"select l.*, r._reason from landing.{t} l, _rejected r limit 0"
        )
        con.execute(
            f"delete from quarantine.{t} where _batch_id in "
            f"(select distinct _batch_id from landing.{t})"
        )
        con.execute(
            f"insert into quarantine.{t} select l.*, r._reason "
            f"from landing.{t} l join _rejected r using (_row_number)"
        )
    finally:
        con.unregister("_rejected")
    batch = str(scalar(con, f"select any_value(_batch_id) from landing.{t}") or "")
    file_name, source_records, parse_rejected = con.execute(
        "select file_name, source_records, quarantined from ops.file_ledger "
        "where table_name = ? and status = 'landed'",
        [t],
    ).fetchall()[0]
    loaded = row_count(con, "bronze", t)
    contract_rejected = int(
        scalar(con, f"select count(*) from quarantine.{t} where _batch_id = ?", [batch]) or 0
    )
    quarantined = int(parse_rejected) + contract_rejected
    con.execute(
        "update ops.file_ledger set status = 'loaded', loaded = ?, quarantined = ?, "
        "finished_at = now()::timestamp where table_name = ? and status = 'landed'",
        [loaded, quarantined, t],
    )
    con.execute(f"drop table landing.{t}")
    gap = int(source_records) - loaded - quarantined
    share = quarantined / source_records if source_records else 0.0
    checks = [
        gate_check(
            run_id,
            t,
            "records_reconcile",
            gap == 0,
            int(source_records),
            abs(gap),
            f"{file_name}: {source_records} records, {loaded} loaded, {quarantined} quarantined",
        ),
        gate_check(
            run_id,
            t,
            f"quarantined_share_at_most_{threshold:g}",
            share <= threshold,
            int(source_records),
            quarantined,
            f"{file_name}: {share:.2%} of records quarantined",
        ),
    ]
    return CleanResult(t, loaded, quarantined, []), checks


def _unmatched(
    con: duckdb.DuckDBPyConnection, ref: Reference, parent: str | None, keys_only: bool
) -> pd.DataFrame:
    """Rows of ``landing.<child>`` (``_row_number`` and the key), or with ``keys_only`` its
    distinct keys (``new_key``), whose key ``parent`` (a relation of this run's file, or None)
    lacks."""
    unmatched = (
        f" and not exists (select 1 from {parent} p where p.{ref.parent_column} = c.{ref.column})"
        if parent
        else ""
    )
    select = (
        f"distinct cast(c.{ref.column} as varchar) as new_key"
        if keys_only
        else f"c._row_number, c.{ref.column}"
    )
    return con.sql(
        f"select {select} from landing.{ref.child} c where c.{ref.column} is not null{unmatched}"
    ).df()


def _rows_naming(
    con: duckdb.DuckDBPyConnection, ref: Reference, missing: list[str]
) -> pd.DataFrame:
    """Rows of ``landing.<child>`` whose key is one of ``missing``."""
    if not missing:
        return pd.DataFrame(
            {"_row_number": pd.Series([], dtype="int64"), ref.column: pd.Series([], dtype="str")}
        )
    con.register("_missing", pd.DataFrame({"new_key": pd.Series(missing, dtype="str")}))
    try:
        return con.sql(
            f"select c._row_number, c.{ref.column} from landing.{ref.child} c "
            f"where cast(c.{ref.column} as varchar) in (select new_key from _missing) "
            "order by c._row_number"
        ).df()
    finally:
        con.unregister("_missing")


def find_orphans(
    con: duckdb.DuckDBPyConnection,
    rejected: dict[str, pd.DataFrame],
    run_id: str,
    references: tuple[Reference, ...] = REFERENCES,
    history: Warehouse | None = None,
    fresh: Collection[str] = (),
) -> tuple[dict[str, pd.DataFrame], list[CheckResult]]:
    """Rows of landed tables whose foreign key names no parent row. The parent is the landed
    file (minus its rejected rows), a table in ``fresh`` (loaded into ``con``'s bronze by
    this run), or else the target's ``bronze.<parent>``; rows that arrived in order batches
    (``bronze.batch_<parent>``) are parents too.

    The run's file answers first; the keys it cannot place are asked of ``history`` (the
    target warehouse; default: the file ``con`` is open on, which on DuckDB is the target),
    in its engine: history is never read into this process. Which rows name a missing key,
    and why they are quarantined, is decided here."""
    history = DuckDBWarehouse.over(con) if history is None else history
    in_history = set(history.tables("bronze"))
    extra: dict[str, list[pd.DataFrame]] = {}
    checks = []
    for ref in references:
        if ref.child not in rejected:
            continue
        if ref.parent in rejected:
            con.register("_rejected_parent", rejected[ref.parent])
            local: str | None = (
                f"(select {ref.parent_column} from landing.{ref.parent} where _row_number "
                f"not in (select _row_number from _rejected_parent))"
            )
        elif ref.parent in fresh:
            local = f"bronze.{ref.parent}"
        elif ref.parent in in_history:
            local = None
        else:  # no version of the parent anywhere yet: nothing to check against
            continue
        past = [
            KeyColumn("bronze", table, ref.parent_column)
            for table in ((ref.parent,) if local is None else ()) + (f"batch_{ref.parent}",)
            if table in in_history
        ]
        try:
            if past:  # the keys the run's files cannot place go to history
                candidates = _unmatched(con, ref, local, keys_only=True)["new_key"]
                found = _rows_naming(con, ref, history.absent_keys(candidates, past, run_id))
            else:
                found = _unmatched(con, ref, local, keys_only=False)
        finally:
            if ref.parent in rejected:
                con.unregister("_rejected_parent")
        observed = row_count(con, "landing", ref.child)
        checks.append(
            CheckResult(
                run_id=run_id,
                layer="bronze",
                table_name=ref.child,
                column_name=ref.column,
                check_name=ref.check_name,
                check_engine="ingest",
                severity="critical",
                passed=found.empty,
                observed_count=observed,
                unexpected_count=len(found),
                unexpected_percent=round(100.0 * len(found) / observed, 4) if observed else 0.0,
                sample_values=found[ref.column].astype(str).unique()[:5].tolist(),
            )
        )
        if not found.empty:
            extra.setdefault(ref.child, []).append(
                pd.DataFrame(
                    {
                        "_row_number": found["_row_number"].astype("int64"),
                        "_reason": f"{ref.column}: not in {ref.parent}",
                    }
                )
            )
    merged = {}
    for table, frames in extra.items():
        both = pd.concat([rejected[table], *frames], ignore_index=True)
        merged[table] = both.groupby("_row_number", as_index=False)["_reason"].agg(
            lambda r: "; ".join(r)
        )
    return merged, checks


def row_count_drop(
    con: duckdb.DuckDBPyConnection,
    source: SourceTable,
    run_id: str,
    max_drop: float,
    corrections: tuple[str, ...] = (),
) -> CheckResult | None:
    """A landed file with far fewer records than the version it replaces is most likely cut
    short (at a row boundary, which parses cleanly): refused unless declared a correction.
    None for a table's first version."""
    landed = con.execute(
        "select file_name, source_records from ops.file_ledger "
        "where table_name = ? and status = 'landed'",
        [source.table],
    ).fetchall()
    previous = con.execute(
        "select source_records from ops.file_ledger where table_name = ? and status = 'loaded' "
        "order by coalesce(finished_at, started_at) desc, started_at desc limit 1",
        [source.table],
    ).fetchall()
    if not landed or not previous or not previous[0][0]:
        return None
    (file_name, records), before = landed[0], int(previous[0][0])
    drop = (before - int(records)) / before
    declared = source.table in corrections or file_name in corrections
    passed = drop <= max_drop or declared
    if declared and drop > max_drop:
        note = f"{file_name}: {records:,} records, {before:,} before; declared a correction"
    else:
        note = (
            f"{file_name}: {records:,} records, {drop:.1%} fewer than the {before:,} of the "
            f"version it replaces (at most {max_drop:.0%}, OLIST_MAX_ROW_DROP): the file looks "
            f"cut short. If it is a correction, declare it with OLIST_CORRECTIONS={source.table}"
        )
    return CheckResult(
        run_id=run_id,
        layer="bronze",
        table_name=source.table,
        check_name=f"row_count_drop_at_most_{max_drop:g}",
        check_engine="ingest",
        severity="critical",
        passed=passed,
        observed_count=before,
        unexpected_count=max(before - int(records), 0),
        unexpected_percent=round(100.0 * max(drop, 0.0), 4),
        sample_values=[note] if not passed or declared else [],
    )


def find_dropped_parents(
    con: duckdb.DuckDBPyConnection,
    landed: list[str],
    run_id: str,
    corrections: tuple[str, ...] = (),
    history: Warehouse | None = None,
) -> list[CheckResult]:
    """Every key that rows already in bronze (children not delivered again in this run,
    order batches included) name in a landed parent file must be in that file: a parent
    cut short would orphan them. Checked in the engine of ``history`` (the target; default:
    the file ``con`` is open on): the new file's keys go there, history stays.

    A parent declared a correction may drop keys: then the finding is a warning."""
    history = DuckDBWarehouse.over(con) if history is None else history
    in_history = set(history.tables("bronze"))
    checks = []
    for ref in (*REFERENCES, *BATCH_REFERENCES):
        if (
            ref.parent not in landed
            or ref.child in landed
            or ref.child not in in_history
            or not table_exists(con, "landing", ref.parent)
        ):
            continue
        keys = con.sql(
            f"select distinct cast({ref.parent_column} as varchar) as new_key "
            f"from landing.{ref.parent}"
        ).df()["new_key"]
        batch_parent = f"batch_{ref.parent}"  # batch rows are parents too
        observed, missing, samples = history.rows_naming_absent(
            KeyColumn("bronze", ref.child, ref.column),
            keys,
            [KeyColumn("bronze", batch_parent, ref.parent_column)]
            if batch_parent in in_history
            else [],
            run_id,
        )
        declared = ref.parent in corrections
        file_name = con.execute(
            "select any_value(file_name) from ops.file_ledger "
            "where table_name = ? and status = 'landed'",
            [ref.parent],
        ).fetchall()[0][0]
        checks.append(
            CheckResult(
                run_id=run_id,
                layer="bronze",
                table_name=ref.parent,
                column_name=ref.parent_column,
                check_name=f"referenced_by_{ref.child}_{ref.column}",
                check_engine="ingest",
                severity="warning" if declared else "critical",
                passed=missing == 0,
                observed_count=observed,
                unexpected_count=int(missing),
                unexpected_percent=round(100.0 * missing / observed, 4) if observed else 0.0,
                sample_values=(
                    [
                        f"{file_name}: {missing:,} rows of bronze.{ref.child} name a "
                        f"{ref.parent_column} the file lacks"
                        + (
                            ""
                            if declared
                            else f" (if it is a correction: OLIST_CORRECTIONS={ref.parent})"
                        ),
                        *samples,
                    ]
                    if missing
                    else []
                ),
            )
        )
    return checks


GATES = (
    "records_reconcile",
    "quarantined_share_at_most_",
    "row_count_drop_at_most_",
    "referenced_by_",
)


@dataclass
class CleanOutcome:
    tables: list[CleanResult]
    checks: list[CheckResult]
    committed: bool

    @property
    def blocking(self) -> list[CheckResult]:
        """Critical failures that stop the run (row failures were quarantined instead)."""
        return [
            c
            for c in self.checks
            if c.check_name.startswith(GATES) and c.severity == "critical" and not c.passed
        ]


def _record_refusal(
    con: duckdb.DuckDBPyConnection, tables: list[str], blocking: list[CheckResult]
) -> None:
    """The ledger keeps why a load was refused (one row per file content, however often it
    is retried); the landed rows and their parse errors are dropped, as nothing of them
    reaches bronze or quarantine."""
    reasons: dict[str, list[str]] = {}
    for c in blocking:
        sample = f": {c.sample_values[0]}" if c.sample_values else ""
        reasons.setdefault(c.table_name, []).append(f"{c.check_name}{sample}")
    # nothing of a refused load stays in quarantine either: its parse errors go too
    con.execute(
        "delete from quarantine.parse_errors where (batch_id, source_file) in "
        "(select batch_id, file_name from ops.file_ledger "
        "where status = 'landed' and table_name <> 'order_batch')"
    )
    for file_name, table, digest in con.execute(
        "select file_name, table_name, sha256 from ops.file_ledger "
        "where status = 'landed' and table_name <> 'order_batch'"
    ).fetchall():
        message = (
            "refused: " + "; ".join(reasons[table])
            if table in reasons
            else f"not loaded: the files of {', '.join(sorted(reasons))} were refused"
        )
        con.execute("delete from ops.file_ledger where sha256 = ? and status = 'refused'", [digest])
        con.execute(
            "update ops.file_ledger set status = 'refused', finished_at = now()::timestamp, "
            "message = ? where file_name = ? and status = 'landed'",
            [message, file_name],
        )
    for table in tables:
        con.execute(f"drop table if exists landing.{table}")


def clean_all(
    con: duckdb.DuckDBPyConnection,
    run_id: str,
    tables: list[str] | None = None,
    quarantine_threshold: float = 0.01,
    max_row_drop: float = 0.1,
    corrections: tuple[str, ...] = (),
    history: Warehouse | None = None,
) -> CleanOutcome:
    """Validate every landed table, then publish all of them to bronze in one transaction.

    If any table fails to reconcile, quarantines more than ``quarantine_threshold`` of its
    records, has more than ``max_row_drop`` fewer records than the version it replaces, or
    lacks keys that rows in bronze name (unless a table or file in ``corrections``),
    nothing is written to bronze, quarantine or the ledger.

    ``history`` is the target warehouse the checks against earlier loads run in (default:
    the file ``con`` is open on, which is the target on DuckDB).
    """
    if tables is None:  # whatever the last ingest landed
        tables = [s.table for s in SOURCES if table_exists(con, "landing", s.table)]
    sources = [s for s in SOURCES if s.table in tables]
    validated = _validate_landed(con, sources, run_id)
    rejected = {s.table: frame for s, frame, _ in validated}
    with_orphans, orphan_checks = find_orphans(con, rejected, run_id, history=history)
    validated = [(s, with_orphans.get(s.table, frame), checks) for s, frame, checks in validated]
    outcome = CleanOutcome([], [c for _, _, checks in validated for c in checks], False)
    outcome.checks.extend(orphan_checks)
    for source in sources:
        drop = row_count_drop(con, source, run_id, max_row_drop, corrections)
        if drop is not None:
            outcome.checks.append(drop)
    outcome.checks.extend(
        find_dropped_parents(con, [s.table for s in sources], run_id, corrections, history)
    )
    con.execute("begin transaction")
    try:
        for source, rejected, checks in validated:
            result, table_checks = _publish_table(
                con, source, rejected, run_id, quarantine_threshold
            )
            result.checks = checks
            outcome.tables.append(result)
            outcome.checks.extend(table_checks)
        if outcome.blocking:
            con.execute("rollback")
            _record_refusal(con, [s.table for s in sources], outcome.blocking)
            return outcome
        con.execute("commit")
    except Exception:
        con.execute("rollback")
        raise
    outcome.committed = True
    return outcome
