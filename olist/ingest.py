"""Strict ingestion of the Olist CSVs into the warehouse's ``landing`` area.

Every file is parsed with an explicit dialect and the contract's column list (never
auto-detection); every value stays text as delivered. Headers are checked for all files
before anything is written, so schema drift fails the load with nothing half-written.
Rows the parser cannot read go to ``quarantine.parse_errors`` with file, line and reason.
"""

from __future__ import annotations

import csv
import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from contracts.sources import SOURCES, SourceTable
from olist.landing_zone import LandingZone, LocalFolder
from olist.warehouse import ensure_schemas, scalar

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


class SourceEncodingError(ValueError):
    """A source file is not UTF-8 (Olist exports are)."""


def read_header(path: Path) -> list[str]:
    """The header fields of ``path`` (a UTF-8 BOM is dropped); only the first line is read."""
    with path.open("rb") as fh:
        first = fh.readline()
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
    rejected = scalar(
        con,
        "insert into quarantine.parse_errors select ?, ?, ?, line, csv_line, "
        "error_type::varchar, error_message, ? from _rejects_errors",
        [batch_id, path.name, source.table, loaded_at],
    )
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


def ingest_folder(
    con: duckdb.DuckDBPyConnection,
    folder: Path,
    batch_id: str,
    harmless_extras: dict[str, list[str]] | None = None,
) -> IngestResult:
    """Check every header first, then land every file whose content is new.

    A file whose sha256 was already loaded is skipped, whatever its name; a changed file
    under an old name is a new version. Ledger rows of attempts that never reached bronze
    (a killed run) are dropped first, so a re-run ends as one clean run would.
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
    con.execute("delete from ops.file_ledger where status = 'landed'")
    loaded_at = datetime.now(UTC).replace(tzinfo=None)
    landed, skipped = [], []
    for source, path in files.items():
        digest = sha256_file(path)
        if already_loaded(con, digest):
            skipped.append(path)
            continue
        result = land_file(
            con, source, path, batch_id, loaded_at, sha256=digest, extras=extras[source]
        )
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
        except SourceEncodingError as err:
            message = str(err)
            for name in names:
                message = message.replace(str(folder / name), zone.uri_of(name))
            raise SourceEncodingError(message) from None
