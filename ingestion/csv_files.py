"""Strict ingestion of the Olist CSVs into the warehouse's ``landing`` area.

Every file is parsed with an explicit dialect and the contract's column list (never
auto-detection); every value stays text as delivered. Headers are checked for all files
before anything is written, so schema drift fails the load with nothing half-written, and
one error lists every drifted file and column. Rows the parser cannot read go to
``quarantine.parse_errors`` with file, line and reason; a file that is not CSV text (gzip,
a workbook, UTF-16) or ends inside a quoted value (cut short) is refused with a message
naming it. A file is skipped when its content is the version bronze holds now, so an
earlier version delivered again is restored.
"""

from __future__ import annotations

import csv
import hashlib
import mmap
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from contracts.sources import SOURCES, SourceTable
from ingestion.landing_zone import LandingZone, LocalFolder
from warehouse.local import ensure_schemas, scalar

LEDGER_DDL = """
create table if not exists ops.file_ledger (
    file_name       varchar not null,
    table_name      varchar not null,
    sha256          varchar not null,
    size_bytes      bigint not null,
    source_records  bigint not null,
    loaded          bigint not null,
    quarantined     bigint not null,
    batch_id        varchar not null,
    status          varchar not null,
    started_at      timestamp not null,
    finished_at     timestamp,
    message         varchar
)
"""

PARSE_ERRORS_DDL = """
create table if not exists quarantine.parse_errors (
    batch_id     varchar,
    source_file  varchar,
    table_name   varchar,
    line         bigint,
    raw_text     varchar,
    error_type   varchar,
    reason       varchar,
    loaded_at    timestamp
)
"""


Drift = tuple[str, str, str]  # (file, column, what is wrong)


class SchemaDriftError(ValueError):
    """Source files' headers differ from their contracts. Like lazy validation, one error
    lists every drifted column of every file (``drifts``); ``file``, ``column`` and
    ``expected`` are the first, for callers that name one."""

    def __init__(
        self, file: Path | str, column: str, expected: str, more: list[Drift] | None = None
    ) -> None:
        self.file, self.column, self.expected = file, column, expected
        self.drifts: list[Drift] = [(str(file), column, expected), *(more or [])]
        super().__init__("; ".join(f"{f}: column {c!r}: {e}" for f, c, e in self.drifts))

    @classmethod
    def of(cls, drifts: list[Drift]) -> SchemaDriftError:
        (file, column, expected), *more = drifts
        return cls(file, column, expected, more)

    @property
    def files(self) -> list[str]:
        return list(dict.fromkeys(f for f, _, _ in self.drifts))


class MissingSourceError(FileNotFoundError):
    pass


@dataclass
class LandedFile:
    table: str
    file: Path
    sha256: str
    size_bytes: int
    loaded: int
    rejected: int

    @property
    def source_records(self) -> int:
        return self.loaded + self.rejected


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


class SourceFormatError(ValueError):
    """A source file is not CSV text we can read; the message names the file and why."""


class SourceEncodingError(SourceFormatError):
    """A source file is not UTF-8 (Olist exports are)."""


class TruncatedFileError(SourceFormatError):
    """A source file ends inside a quoted value: it was cut short, not badly quoted."""


# Leading bytes of the binary formats a CSV export is most often confused with.
_MAGIC = (
    (b"\x1f\x8b", "gzip-compressed", "decompress it (gunzip) and deliver the .csv inside"),
    (b"PK\x03\x04", "a zip archive (an .xlsx workbook is one)", "export it as CSV (UTF-8)"),
    (b"\xd0\xcf\x11\xe0", "a legacy Excel (.xls) workbook", "export it as CSV (UTF-8)"),
    (b"\xff\xfe", "UTF-16 text", "convert it, e.g. iconv -f utf-16 -t utf-8"),
    (b"\xfe\xff", "UTF-16 text", "convert it, e.g. iconv -f utf-16 -t utf-8"),
)


def read_header(path: Path) -> list[str]:
    """The header fields of ``path`` (a UTF-8 BOM is dropped); only the first line is read."""
    with path.open("rb") as fh:
        first = fh.readline(1 << 20)
    for magic, kind, fix in _MAGIC:
        if first.startswith(magic):
            raise SourceEncodingError(f"{path}: the file is {kind}, not CSV text; {fix}")
    try:
        line = first.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise SourceEncodingError(
            f"{path}: line 1 is not valid UTF-8 (byte {first[err.start]:#04x} at position "
            f"{err.start + 1}); convert the file, e.g. iconv -f latin1 -t utf-8"
        ) from None
    return next(csv.reader([line]), [])


def check_header(source: SourceTable, path: Path, harmless: tuple[str, ...] = ()) -> list[str]:
    """Raise ``SchemaDriftError`` naming every column that differs from the contract.

    Extra columns after the contract's are accepted only when declared ``harmless`` (they
    are then dropped at parse time); returns the accepted extras."""
    drifts = header_drift(source, path, harmless)
    if drifts:
        raise SchemaDriftError.of(drifts)
    return read_header(path)[len(source.columns) :]


def header_drift(source: SourceTable, path: Path, harmless: tuple[str, ...] = ()) -> list[Drift]:
    """Every (file, column, problem) of ``path``'s header against its contract."""
    header = read_header(path)
    expected = list(source.columns)
    file = str(path)
    if not header:
        return [(file, expected[0], "missing: the file is empty (no header line)")]
    drifts: list[Drift] = []
    unknown = [h for h in header if h not in expected]
    explained: set[str] = set()
    for position, column in enumerate(expected):
        if column in header:
            continue
        found = header[position] if position < len(header) else None
        if found is not None and found in unknown:
            explained.add(found)
            drifts.append(
                (
                    file,
                    column,
                    f"missing; found unexpected column {found!r} at position {position + 1}",
                )
            )
        else:
            drifts.append((file, column, f"missing (expected at position {position + 1})"))
    present = [c for c in expected if c in header]
    if [h for h in header if h in expected] != present:
        for position, column in enumerate(expected):
            if column in header and header.index(column) != position:
                found = header[position] if position < len(header) else None
                drifts.append(
                    (file, column, f"expected at position {position + 1}, found {found!r} there")
                )
    extras = header[len(expected) :] if header[: len(expected)] == expected else []
    for extra in unknown:
        if extra in explained or (extra in extras and extra in harmless):
            continue
        drifts.append(
            (
                file,
                extra,
                f"unexpected extra column (contract has {len(expected)} columns: "
                f"{', '.join(expected)}); if it is harmless, declare it with "
                f"OLIST_HARMLESS_EXTRA_COLUMNS={source.table}:{extra}",
            )
        )
    order = {c: i for i, c in enumerate([*expected, *unknown])}
    return sorted(drifts, key=lambda d: order.get(d[1], len(order)))


def resolve_sources(folder: Path) -> dict[SourceTable, Path]:
    missing = [s.file for s in SOURCES if not (folder / s.file).is_file()]
    if missing:
        raise MissingSourceError(f"{folder}: missing source files: {', '.join(missing)}")
    return {s: folder / s.file for s in SOURCES}


def _read_csv_sql(
    source: SourceTable,
    path: Path,
    batch_id: str,
    loaded_at: datetime,
    extras: tuple[str, ...] = (),
) -> str:
    columns = ", ".join(f"'{c}': 'VARCHAR'" for c in (*source.columns, *extras))
    keep = ", ".join(f'"{c}"' for c in source.columns)  # declared-harmless extras dropped
    file = path.as_posix().replace("'", "''")
    return (
        f"select row_number() over () as _row_number, {keep}, "
        f"'{batch_id}' as _batch_id, '{path.name}' as _source_file, "
        f"timestamp '{loaded_at:%Y-%m-%d %H:%M:%S}' as _loaded_at "
        f"from read_csv('{file}', header=true, delim=',', quote='\"', escape='\"', "
        f"new_line='\\n', encoding='utf-8', auto_detect=false, columns={{{columns}}}, "
        f"all_varchar=true, null_padding=false, store_rejects=true, "
        f"rejects_table='_rejects_errors', rejects_scan='_rejects_scans')"
    )


def land_file(
    con: duckdb.DuckDBPyConnection,
    source: SourceTable,
    path: Path,
    batch_id: str,
    loaded_at: datetime,
    sha256: str | None = None,
    extras: tuple[str, ...] = (),
) -> LandedFile:
    """Parse one file into ``landing.<table>``; unparsable rows to quarantine."""
    con.execute(
        f"create or replace table landing.{source.table} as "
        f"{_read_csv_sql(source, path, batch_id, loaded_at, extras)}"
    )
    con.execute(PARSE_ERRORS_DDL)
    try:
        # DuckDB reports a value longer than its line buffer, and a quote still open at the
        # end of the file, both as an unterminated quote with a few bytes of raw text: tell
        # them apart here, so the message says what is wrong
        unterminated = con.execute(
            "select line, byte_position, column_idx from _rejects_errors "
            "where error_type::varchar = 'UNQUOTED VALUE'"
        ).fetchall()
        columns = (*source.columns, *extras)
        oversized = []
        for line, byte_position, column_idx in unterminated:
            column = columns[column_idx - 1] if 0 < column_idx <= len(columns) else "?"
            length, raw = _quoted_value(path, int(byte_position) - 1)
            if length is None:
                con.execute(f"drop table landing.{source.table}")
                raise TruncatedFileError(
                    f"{path}: the file ends inside a quoted value of column {column!r} that "
                    f"opens on line {line} (byte {byte_position:,}), so it was cut short "
                    f"(an interrupted upload or copy) or a quote is missing; nothing of it "
                    f"was loaded: deliver the complete file"
                )
            if length > MAX_LINE_BYTES // 2:
                oversized.append(
                    (
                        line,
                        raw,
                        f"column {column!r} holds a value of {length:,} bytes; a record may "
                        f"have at most {MAX_LINE_BYTES:,} bytes",
                    )
                )
        cut = _cut_last_record(con, path)
        if cut is not None:
            con.execute(f"drop table landing.{source.table}")
            raise TruncatedFileError(
                f"{path}: the last record (line {cut}) is incomplete and the file does not "
                f"end with a line break, so it was cut short (an interrupted upload or "
                f"copy); nothing of it was loaded: deliver the complete file"
            )
        rejected = scalar(
            con,
            "insert into quarantine.parse_errors select ?, ?, ?, line, csv_line, "
            "error_type::varchar, error_message, ? from _rejects_errors",
            [batch_id, path.name, source.table, loaded_at],
        )
        for line, raw, reason in oversized:
            con.execute(
                "update quarantine.parse_errors set raw_text = ?, error_type = 'VALUE TOO LONG', "
                "reason = ? where batch_id = ? and source_file = ? and line = ?",
                [raw, reason, batch_id, path.name, line],
            )
    finally:
        con.execute("drop table if exists _rejects_errors")
        con.execute("drop table if exists _rejects_scans")
    loaded = scalar(con, f"select count(*) from landing.{source.table}")
    return LandedFile(
        table=source.table,
        file=path,
        sha256=sha256 or sha256_file(path),
        size_bytes=path.stat().st_size,
        loaded=int(loaded or 0),
        rejected=int(rejected or 0),
    )


MAX_LINE_BYTES = 2_000_000  # DuckDB read_csv's default max_line_size
_RAW_TEXT_BYTES = 10_000  # what a parse error keeps of a record too long to keep whole


def _cut_last_record(con: duckdb.DuckDBPyConnection, path: Path) -> int | None:
    """The line of an unparsable last record of a file without a final line break (the
    mark of a file cut at an arbitrary byte), or None."""
    with path.open("rb") as fh:
        fh.seek(0, 2)
        if fh.tell() == 0:
            return None
        fh.seek(-1, 2)
        if fh.read(1) == b"\n":
            return None
    last = con.execute(
        "select line, line_byte_position from _rejects_errors order by line desc limit 1"
    ).fetchall()
    if not last:
        return None
    line, line_start = last[0]
    with path.open("rb") as fh, mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as data:
        last_break = data.rfind(b"\n")
    return int(line) if line_start is not None and int(line_start) - 1 > last_break else None


def _quoted_value(path: Path, quote_at: int) -> tuple[int | None, str]:
    """Length of the quoted value whose opening quote is at byte ``quote_at`` (None if the
    file ends before it closes), and the start of its record as text."""
    with path.open("rb") as fh, mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as data:
        if data[quote_at : quote_at + 1] != b'"':  # not where DuckDB said: find it on the line
            line_start = data.rfind(b"\n", 0, max(quote_at, 0)) + 1
            quote_at = data.find(b'"', line_start)
            if quote_at < 0:
                return 0, ""
        line_start = data.rfind(b"\n", 0, quote_at) + 1
        raw = data[line_start : line_start + _RAW_TEXT_BYTES].decode("utf-8", errors="replace")
        position = quote_at + 1
        while True:
            position = data.find(b'"', position)
            if position < 0:
                return None, raw
            if data[position + 1 : position + 2] == b'"':  # an escaped quote
                position += 2
                continue
            return position - quote_at - 1, raw


@dataclass
class IngestResult:
    landed: list[LandedFile]
    skipped: list[Path]

    @property
    def tables(self) -> list[str]:
        return [f.table for f in self.landed]


def ensure_ledger(con: duckdb.DuckDBPyConnection) -> None:
    ensure_schemas(con)
    con.execute(LEDGER_DDL)
    # warehouses made before the ledger had a message column
    con.execute("alter table ops.file_ledger add column if not exists message varchar")


def already_loaded(con: duckdb.DuckDBPyConnection, sha256: str) -> bool:
    return bool(
        scalar(
            con,
            "select count(*) from ops.file_ledger where sha256 = ? and status = 'loaded'",
            [sha256],
        )
    )


def current_version(con: duckdb.DuckDBPyConnection, table: str) -> str | None:
    """The sha256 of the file version ``bronze.<table>`` holds now (None before the first)."""
    found = con.execute(
        "select sha256 from ops.file_ledger where table_name = ? and status = 'loaded' "
        "order by coalesce(finished_at, started_at) desc, started_at desc limit 1",
        [table],
    ).fetchall()
    return str(found[0][0]) if found else None


def forget_unloaded_attempts(con: duckdb.DuckDBPyConnection) -> None:
    """Ledger rows and parse errors of CSV loads that never reached bronze (a killed or a
    refused run): a re-run ends as one clean run would."""
    con.execute(
        "delete from quarantine.parse_errors where (batch_id, source_file) in "
        "(select batch_id, file_name from ops.file_ledger "
        "where status = 'landed' and table_name <> 'order_batch')"
    )
    con.execute(
        "delete from ops.file_ledger where status = 'landed' and table_name <> 'order_batch'"
    )


def ingest_folder(
    con: duckdb.DuckDBPyConnection,
    folder: Path,
    batch_id: str,
    harmless_extras: dict[str, list[str]] | None = None,
) -> IngestResult:
    """Check every header first, then land every file whose content is new.

    A file whose sha256 is the version bronze holds now is skipped, whatever its name; any
    other content is a new version, an earlier one included: delivering an earlier file
    again is how it is restored. Ledger rows of attempts that never reached bronze (a
    killed or refused run) are dropped first, so a re-run ends as one clean run would.
    """
    files = resolve_sources(folder)
    harmless = harmless_extras or {}
    drifts = [
        drift
        for source, path in files.items()
        for drift in header_drift(source, path, tuple(harmless.get(source.table, [])))
    ]
    if drifts:  # every drifted file and column in one message
        raise SchemaDriftError.of(drifts)
    extras = {
        source: tuple(read_header(path)[len(source.columns) :]) for source, path in files.items()
    }
    ensure_ledger(con)
    con.execute(PARSE_ERRORS_DDL)
    forget_unloaded_attempts(con)
    loaded_at = datetime.now(UTC).replace(tzinfo=None)
    landed, skipped = [], []
    for source, path in files.items():
        digest = sha256_file(path)
        if current_version(con, source.table) == digest:
            skipped.append(path)
            continue
        try:
            result = land_file(
                con, source, path, batch_id, loaded_at, sha256=digest, extras=extras[source]
            )
        except SourceFormatError:
            forget_unloaded_attempts(con)
            for earlier in landed:
                con.execute(f"drop table if exists landing.{earlier.table}")
            raise
        dropped = (
            f"dropped harmless extra columns: {', '.join(extras[source])}"
            if extras[source]
            else None
        )
        con.execute(
            "insert into ops.file_ledger values (?, ?, ?, ?, ?, ?, ?, ?, 'landed', ?, null, ?)",
            [
                path.name,
                source.table,
                result.sha256,
                result.size_bytes,
                result.source_records,
                result.loaded,
                result.rejected,
                batch_id,
                loaded_at,
                dropped,
            ],
        )
        landed.append(result)
    return IngestResult(landed, skipped)


def ingest_zone(
    con: duckdb.DuckDBPyConnection,
    zone: LandingZone,
    batch_id: str,
    harmless_extras: dict[str, list[str]] | None = None,
) -> IngestResult:
    """``ingest_folder`` over a landing zone: a folder is ingested in place; a bucket's 9
    files are checked for presence before anything is downloaded, then parsed from local
    copies under their own names (so the ledger and exactly-once are as for a folder), and
    errors name the object, not the temporary copy that is gone by the time a user reads
    them."""
    if isinstance(zone, LocalFolder):
        return ingest_folder(con, zone.path, batch_id, harmless_extras)
    names = [s.file for s in SOURCES]
    present = set(zone.names())
    missing = [name for name in names if name not in present]
    if missing:
        raise MissingSourceError(f"{zone.uri}: missing source files: {', '.join(missing)}")
    with zone.local_copies(names) as folder:
        try:
            return ingest_folder(con, folder, batch_id, harmless_extras)
        except SchemaDriftError as err:
            raise SchemaDriftError.of(
                [(zone.uri_of(Path(f).name), c, e) for f, c, e in err.drifts]
            ) from None
        except SourceFormatError as err:
            message = str(err)
            for name in names:
                message = message.replace(str(folder / name), zone.uri_of(name))
            raise type(err)(message) from None
