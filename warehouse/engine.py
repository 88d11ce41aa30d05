"""The warehouse interface and its two engines, chosen in one place.

Stages that read or write the target warehouse ask :func:`open_warehouse` for a
:class:`Warehouse` and never which engine it is: the DuckDB file on a laptop, BigQuery in
production (``docs/warehouse-design.md`` has the whole plan). Only this module (and
``config.settings``, which holds the switch) reads ``settings.dbt_target``.

A run that changes the warehouse holds it through :func:`run_workspace`: on DuckDB the file
under its lock; on BigQuery a Prefect concurrency slot and a scratch DuckDB file for parsing
and contracts, deleted at the end, while the ledger, bronze, quarantine, quality results and
runs are kept in BigQuery (``warehouse.target_state``). So no flow keeps state on its disk there.

The interface is ours and small on purpose: Ibis covers both engines, but its BigQuery backend
brings ``google-cloud-bigquery-storage`` and ``pandas-gbq`` and has not been tried against the
emulator we test on (which refuses query parameters), while every statement here is one the
emulator and BigQuery both run.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, ExitStack, contextmanager, nullcontext
from datetime import date, datetime
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol

import duckdb
import pandas as pd

from config.settings import Settings
from warehouse import local as warehouse

if TYPE_CHECKING:
    from warehouse.bigquery import Target

DUCKDB = "duckdb"
BIGQUERY = "bigquery"
ENGINES = (DUCKDB, BIGQUERY)


_PARAMETER = re.compile(r"@([A-Za-z_][A-Za-z0-9_]*)")


def _bigquery_type(value: object) -> str:
    """The GoogleSQL type of a Python parameter value (order matters: a bool is an int, a
    datetime is a date)."""
    for kind, name in (
        (bool, "BOOL"),
        (int, "INT64"),
        (float, "FLOAT64"),
        (datetime, "TIMESTAMP"),
        (date, "DATE"),
        (str, "STRING"),
    ):
        if isinstance(value, kind):
            return name
    raise TypeError(f"no BigQuery parameter type for {type(value).__name__}: {value!r}")


class KeyColumn(NamedTuple):
    """A key column of a warehouse table: ``schema.table.column``."""

    schema: str
    table: str
    column: str


class KeyShortfall(NamedTuple):
    """Rows of a table that name a key missing elsewhere: how many rows the table has, how
    many of them name a missing key, and up to five of those keys."""

    observed: int
    missing: int
    samples: list[str]


def _absent(value: str, keys: str | None, history: Sequence[tuple[str, str]]) -> str:
    """The condition that ``value`` is in neither the ``keys`` table (column ``new_key``) nor
    any (table, column) of ``history``: anti-joins both engines plan as such."""
    tests = [f"not exists (select 1 from {keys} k where k.new_key = {value})"] if keys else []
    tests += [
        f"not exists (select 1 from {table} h where h.{column} = {value})"
        for table, column in history
    ]
    return " and ".join(tests) or "true"


def _absent_keys_sql(keys: str, history: Sequence[tuple[str, str]]) -> str:
    """The keys no history column holds, as a left join that both engines build on the few
    keys and answer with one scan of each history column: ``not exists`` made DuckDB hash the
    history side, whose cost grows with it (29 against 12 ms on 330,000 products)."""
    known = " union all ".join(
        f"select {column} as known from {table}" for table, column in history
    )
    return (
        f"select distinct k0.new_key from {keys} k0 left join ({known}) h "
        "on h.known = k0.new_key where k0.new_key is not null and h.known is null order by 1"
    )


def _shortfall_sql(
    table: str, column: str, keys: str | None, history: Sequence[tuple[str, str]]
) -> tuple[str, str]:
    """(observed and missing counts, up to five missing keys) of ``table.column``."""
    where = f"c.{column} is not null and {_absent(f'c.{column}', keys, history)}"
    return (
        f"select (select count(*) from {table}) as observed, count(*) as missing "
        f"from {table} c where {where}",
        f"select distinct c.{column} as new_key from {table} c where {where} order by 1 limit 5",
    )


def _key_frame(keys: pd.Series) -> pd.DataFrame:
    """The distinct, present ``keys`` as text, in the one column the SQL above names."""
    values = keys.dropna().astype(str).drop_duplicates()
    return pd.DataFrame({"new_key": pd.Series(values.to_numpy(), dtype="str")})


class UnknownEngine(ValueError):
    """``OLIST_DBT_TARGET`` names an engine we do not have."""


class Warehouse(Protocol):
    """What a stage may do with the target warehouse. Tables are named ``schema.table``; a
    schema is a BigQuery dataset in the client's project."""

    name: str
    # instants come back timezone-aware (BigQuery TIMESTAMP) rather than naive UTC (DuckDB)
    aware_instants: bool
    # the statements inside transaction() commit together, DDL included (DuckDB); BigQuery's
    # statements are atomic one by one
    atomic_transactions: bool

    def query(self, sql: str) -> pd.DataFrame:
        """The rows of ``sql``, typed as DuckDB returns them (naive UTC instants, floats for
        decimals), so callers see one shape whatever the engine."""
        ...

    def scalar(self, sql: str, params: Mapping[str, object] | None = None) -> object:
        """The first value of ``sql``; ``@name`` in it is bound to ``params[name]`` by the
        engine (never pasted into the text)."""
        ...

    def tables(self, schema: str, views: bool = True) -> list[str]:
        """The tables (and views, unless ``views`` is false) of ``schema``, sorted; empty
        when it does not exist."""
        ...

    def ensure_schema(self, schema: str) -> None:
        """``schema`` exists (a BigQuery dataset in the client's project)."""
        ...

    def transaction(self) -> AbstractContextManager[None]:
        """The statements inside commit together where the engine has transactions over DDL
        (DuckDB); a plain scope where it has not (BigQuery: each statement is atomic)."""
        ...

    def replace(self, schema: str, frames: Mapping[str, pd.DataFrame]) -> dict[str, int]:
        """Replace ``schema.<name>`` with each frame; name → rows now there. Atomic across the
        tables where the engine has multi-statement transactions (DuckDB), per table where it
        has not (BigQuery)."""
        ...

    def execute(self, sql: str, params: Mapping[str, object] | None = None) -> None:
        """Run one statement (``@name`` parameters as in :meth:`scalar`)."""
        ...

    def append(self, schema: str, table: str, frame: pd.DataFrame) -> int:
        """Append the rows of ``frame`` (by column name) to ``schema.table``, creating it from
        the frame's columns when it does not exist; the rows appended."""
        ...

    def merge(self, schema: str, table: str, frame: pd.DataFrame, keys: Sequence[str]) -> int:
        """Upsert: rows of ``frame`` whose ``keys`` match a row replace its other columns, the
        rest are inserted (one ``MERGE`` on BigQuery); the rows changed or inserted."""
        ...

    def claim(self, schema: str, table: str, frame: pd.DataFrame, keys: Sequence[str]) -> int:
        """Insert only the rows of ``frame`` whose ``keys`` (NULL equal to NULL) no row of
        ``schema.table`` has yet: the idempotent write that makes a ledger exactly-once even
        for two writers (a ``MERGE … WHEN NOT MATCHED`` on BigQuery); the rows inserted."""
        ...

    def absent_keys(self, keys: pd.Series, history: Sequence[KeyColumn], run_id: str) -> list[str]:
        """The distinct ``keys`` (text) that no row of any ``history`` column holds, sorted.
        Runs in the engine, history never leaves it: only the keys travel (on BigQuery to a
        scratch table named for ``run_id``, dropped afterwards). Every ``history`` table must
        exist (callers list them first)."""
        ...

    def rows_naming_absent(
        self, rows: KeyColumn, keys: pd.Series, history: Sequence[KeyColumn], run_id: str
    ) -> KeyShortfall:
        """How many rows of ``rows``' table name (in its column, when not null) a key that is
        neither among ``keys`` nor in any ``history`` column, with up to five such keys; as
        :meth:`absent_keys`, in the engine, only ``keys`` travel."""
        ...

    def workspace(self, settings: Settings, holder: str) -> AbstractContextManager[Settings]:
        """The one writer's hold on the warehouse for a run, and the settings the run's stages
        use inside it. DuckDB: the file's lock, the same settings. BigQuery: the Prefect
        concurrency slot, and a scratch DuckDB file (deleted afterwards) that the stages parse
        and check new files in; the state the run changed is kept in BigQuery."""
        ...

    def keep_bronze(self, local: Path, run_id: str) -> dict[str, int]:
        """After the contracts committed in the run's working file ``local``: make what they
        loaded visible to dbt in the target (nothing to do when the file is the target)."""
        ...

    def keep_state(self, local: Path) -> None:
        """Keep the run's bookkeeping (ledger, quality results, runs, backfill days) of the
        working file ``local`` in the target; idempotent, so it may run more than once."""
        ...

    def gx_connection(self) -> tuple[str, dict[str, Any]]:
        """The SQLAlchemy URL and engine arguments GX's SQL datasource reads this warehouse
        with (``expectations.run_suites``); valid while the warehouse is open."""
        ...

    def close(self) -> None: ...

    def __enter__(self) -> Warehouse: ...

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None: ...


class _Closing:
    def __enter__(self) -> Warehouse:
        return self  # type: ignore[return-value]

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:  # pragma: no cover - overridden
        raise NotImplementedError


class DuckDBWarehouse(_Closing):
    """The warehouse file. The connection is opened on first use and closed with the block,
    because dbt-duckdb and GX open the same file from this process between our calls."""

    name = DUCKDB
    aware_instants = False
    atomic_transactions = True

    def __init__(self, path: Path, read_only: bool = False) -> None:
        self.path = Path(path)
        self.read_only = read_only
        self._open = ExitStack()
        self._con: duckdb.DuckDBPyConnection | None = None

    def _connection(self) -> duckdb.DuckDBPyConnection:
        if self._con is None:
            if self.read_only and not self.path.exists():
                raise FileNotFoundError(
                    f"no warehouse at {self.path}: run the platform (`olist run`) first"
                )
            self._con = self._open.enter_context(
                warehouse.connect(self.path, read_only=self.read_only)
            )
        return self._con

    def query(self, sql: str) -> pd.DataFrame:
        return self._connection().execute(sql).df()

    def scalar(self, sql: str, params: Mapping[str, object] | None = None) -> object:
        # DuckDB spells a named parameter $name; BigQuery's @name is the interface's
        return warehouse.scalar(self._connection(), _PARAMETER.sub(r"$\1", sql), dict(params or {}))  # type: ignore[arg-type]

    def tables(self, schema: str, views: bool = True) -> list[str]:
        kinds = ["BASE TABLE", "VIEW"] if views else ["BASE TABLE"]
        rows = (
            self._connection()
            .execute(
                "select table_name from information_schema.tables where table_schema = ? "
                "and table_type in (select unnest(?)) order by table_name",
                [schema, kinds],
            )
            .fetchall()
        )
        return [str(row[0]) for row in rows]

    def ensure_schema(self, schema: str) -> None:
        self._connection().execute(f"create schema if not exists {quote_ident(schema)}")

    @contextmanager
    def transaction(self) -> Iterator[None]:
        with warehouse.transaction(self._connection()):
            yield

    def replace(self, schema: str, frames: Mapping[str, pd.DataFrame]) -> dict[str, int]:
        warehouse.replace_tables(self._connection(), schema, dict(frames))
        return {name: len(frame) for name, frame in frames.items()}

    def execute(self, sql: str, params: Mapping[str, object] | None = None) -> None:
        self._connection().execute(_PARAMETER.sub(r"$\1", sql), dict(params or {}))

    def _write(self, schema: str, table: str, frame: pd.DataFrame, statements: list[str]) -> int:
        con = self._connection()
        con.register("_frame", _typed(frame))
        try:
            with warehouse.transaction(con):
                con.execute(f"create schema if not exists {quote_ident(schema)}")
                con.execute(
                    f"create table if not exists {_name(schema, table)} as "
                    "select * from _frame limit 0"
                )
                changed = 0
                for sql in statements:
                    changed = int(warehouse.scalar(con, sql) or 0)
                return changed
        finally:
            con.unregister("_frame")

    def append(self, schema: str, table: str, frame: pd.DataFrame) -> int:
        return self._write(
            schema,
            table,
            frame,
            [f"insert into {_name(schema, table)} by name select * from _frame"],
        )

    def merge(self, schema: str, table: str, frame: pd.DataFrame, keys: Sequence[str]) -> int:
        target = _name(schema, table)
        match = " and ".join(f"t.{quote_ident(k)} = f.{quote_ident(k)}" for k in keys)
        return self._write(
            schema,
            table,
            frame,
            [
                f"delete from {target} t where exists (select 1 from _frame f where {match})",
                f"insert into {target} by name select * from _frame",
            ],
        )

    def claim(self, schema: str, table: str, frame: pd.DataFrame, keys: Sequence[str]) -> int:
        target = _name(schema, table)
        match = " and ".join(
            f"t.{quote_ident(k)} is not distinct from f.{quote_ident(k)}" for k in keys
        )
        return self._write(
            schema,
            table,
            frame,
            [
                f"insert into {target} by name select * from _frame f "
                f"where not exists (select 1 from {target} t where {match})"
            ],
        )

    @classmethod
    def over(cls, con: duckdb.DuckDBPyConnection) -> DuckDBWarehouse:
        """This engine over a connection its owner opened (and closes): the file a run's
        contracts work in is, on DuckDB, the target itself."""
        (path,) = con.execute(
            "select path from duckdb_databases() where database_name = current_database()"
        ).fetchall()[0]
        wh = cls(Path(path or ":memory:"))
        wh._con = con
        return wh

    @contextmanager
    def _keys(self, keys: pd.Series | None) -> Iterator[str | None]:
        if keys is None:
            yield None
            return
        con = self._connection()
        con.register("_history_keys", _key_frame(keys))
        try:
            yield "_history_keys"
        finally:
            con.unregister("_history_keys")

    @staticmethod
    def _history(history: Sequence[KeyColumn]) -> list[tuple[str, str]]:
        return [(_name(h.schema, h.table), quote_ident(h.column)) for h in history]

    def absent_keys(self, keys: pd.Series, history: Sequence[KeyColumn], run_id: str) -> list[str]:
        if keys.dropna().empty:
            return []
        if not history:
            return sorted(_key_frame(keys)["new_key"])
        with self._keys(keys) as staged:
            assert staged is not None
            sql = _absent_keys_sql(staged, self._history(history))
            return [str(row[0]) for row in self._connection().execute(sql).fetchall()]

    def rows_naming_absent(
        self, rows: KeyColumn, keys: pd.Series, history: Sequence[KeyColumn], run_id: str
    ) -> KeyShortfall:
        con = self._connection()
        with self._keys(None if keys.dropna().empty else keys) as staged:
            counts, samples = _shortfall_sql(
                _name(rows.schema, rows.table),
                quote_ident(rows.column),
                staged,
                self._history(history),
            )
            observed, missing = con.execute(counts).fetchall()[0]
            found = [str(r[0]) for r in con.execute(samples).fetchall()] if missing else []
        return KeyShortfall(int(observed), int(missing), found)

    @contextmanager
    def workspace(self, settings: Settings, holder: str) -> Iterator[Settings]:
        from warehouse.locking import warehouse_lock

        with warehouse_lock(self.path, holder=holder):
            yield settings

    def keep_bronze(self, local: Path, run_id: str) -> dict[str, int]:
        return {}  # the run worked in this very file

    def gx_connection(self) -> tuple[str, dict[str, Any]]:
        self.close()  # GX opens the file itself; DuckDB allows one configuration per process
        return f"duckdb:///{self.path.as_posix()}", {}

    def keep_state(self, local: Path) -> None:
        return None

    def close(self) -> None:
        self._open.close()
        self._con = None


class BigQueryWarehouse(_Closing):
    """The BigQuery that dbt's ``bigquery`` target reaches (``dbt/profiles.yml``'s
    ``OLIST_BQ_*`` variables; a non-Google endpoint is an emulator)."""

    name = BIGQUERY
    aware_instants = True
    atomic_transactions = False

    def __init__(self, target: Target) -> None:
        self.target = target

    def query(self, sql: str) -> pd.DataFrame:
        from warehouse.bigquery import read_frame

        return read_frame(self.target, sql)

    def scalar(self, sql: str, params: Mapping[str, object] | None = None) -> object:
        from google.cloud import bigquery

        config = bigquery.QueryJobConfig(
            query_parameters=[
                bigquery.ScalarQueryParameter(name, _bigquery_type(value), value)
                for name, value in (params or {}).items()
            ]
        )
        rows = list(self.target.client.query(sql, job_config=config).result())
        return rows[0][0] if rows else None

    def tables(self, schema: str, views: bool = True) -> list[str]:
        from google.api_core.exceptions import NotFound

        try:
            listed = self.target.client.list_tables(f"{self.target.project}.{schema}")
            return sorted(t.table_id for t in listed if views or t.table_type == "TABLE")
        except NotFound:
            return []

    def transaction(self) -> AbstractContextManager[None]:
        return nullcontext()

    def replace(self, schema: str, frames: Mapping[str, pd.DataFrame]) -> dict[str, int]:
        """Through an in-memory DuckDB, so the frames reach BigQuery by the same typed path as
        bronze (Parquet load jobs on Google, DML copies on an emulator)."""
        from warehouse.bigquery import replace_from_duckdb

        con = duckdb.connect()
        try:
            warehouse.replace_tables(con, schema, dict(frames))
            return replace_from_duckdb(con, self.target, schema, schema, tables=list(frames))
        finally:
            con.close()

    def execute(self, sql: str, params: Mapping[str, object] | None = None) -> None:
        self._run(sql, params)

    def _run(self, sql: str, params: Mapping[str, object] | None = None) -> int:
        from google.cloud import bigquery

        config = bigquery.QueryJobConfig(
            query_parameters=[
                bigquery.ScalarQueryParameter(name, _bigquery_type(value), value)
                for name, value in (params or {}).items()
            ]
        )
        job = self.target.client.query(sql, job_config=config)
        job.result()
        return int(job.num_dml_affected_rows or 0)

    def ensure_schema(self, schema: str) -> None:
        """The dataset, created when missing (a job without the right to create one fails
        here only when it is missing: docs/gcp.md creates them once)."""
        from google.api_core.exceptions import NotFound
        from google.cloud import bigquery

        dataset = f"{self.target.project}.{schema}"
        try:
            self.target.client.get_dataset(dataset)
        except NotFound:
            self.target.client.create_dataset(bigquery.Dataset(dataset), exists_ok=True)

    @contextmanager
    def _staged(self, schema: str, table: str, frame: pd.DataFrame) -> Iterator[tuple[str, str]]:
        """``frame`` as a table beside ``schema.table`` (created from the frame when missing),
        by the same typed path as ``replace``; yields (target, staged) names, drops the stage."""
        self.ensure_schema(schema)
        stage = f"_stage_{table}_{uuid.uuid4().hex[:8]}"
        self.replace(schema, {stage: _typed(frame)})
        target, staged = self.target.table_id(schema, table), self.target.table_id(schema, stage)
        try:
            self._run(f"create table if not exists {target} as select * from {staged} where false")
            yield target, staged
        finally:
            self._run(f"drop table if exists {staged}")

    def _columns(self, schema: str, table: str) -> list[tuple[str, str]]:
        fields = self.target.client.get_table(f"{self.target.project}.{schema}.{table}").schema
        return [(f.name, _STANDARD_TYPES.get(f.field_type, f.field_type)) for f in fields]

    @staticmethod
    def _insert(columns: list[tuple[str, str]], frame: pd.DataFrame) -> str:
        """A MERGE's insert clause for the frame's columns, cast to the table's types."""
        present = [(n, t) for n, t in columns if n in frame.columns]
        names = ", ".join(quote_ident(n, "`") for n, _ in present)
        values = ", ".join(f"cast(s.{quote_ident(n, '`')} as {t})" for n, t in present)
        return f"insert ({names}) values ({values})"

    def append(self, schema: str, table: str, frame: pd.DataFrame) -> int:
        with self._staged(schema, table, frame) as (target, staged):
            columns = [(n, t) for n, t in self._columns(schema, table) if n in frame.columns]
            names = ", ".join(quote_ident(n, "`") for n, _ in columns)
            values = ", ".join(f"cast({quote_ident(n, '`')} as {t})" for n, t in columns)
            return self._run(f"insert into {target} ({names}) select {values} from {staged}")

    def merge(self, schema: str, table: str, frame: pd.DataFrame, keys: Sequence[str]) -> int:
        with self._staged(schema, table, frame) as (target, staged):
            columns = self._columns(schema, table)
            match = " and ".join(f"t.{quote_ident(k, '`')} = s.{quote_ident(k, '`')}" for k in keys)
            update = ", ".join(
                f"{quote_ident(n, '`')} = cast(s.{quote_ident(n, '`')} as {t})"
                for n, t in columns
                if n in frame.columns and n not in keys
            )
            return self._run(
                f"merge {target} t using {staged} s on {match} "
                + (f"when matched then update set {update} " if update else "")
                + f"when not matched then {self._insert(columns, frame)}"
            )

    def claim(self, schema: str, table: str, frame: pd.DataFrame, keys: Sequence[str]) -> int:
        with self._staged(schema, table, frame) as (target, staged):
            columns = self._columns(schema, table)
            match = " and ".join(
                f"t.{quote_ident(k, '`')} is not distinct from s.{quote_ident(k, '`')}"
                for k in keys
            )
            return self._run(
                f"merge {target} t using {staged} s on {match} "
                f"when not matched then {self._insert(columns, frame)}"
            )

    @contextmanager
    def _keys(self, keys: pd.Series | None, run_id: str) -> Iterator[str | None]:
        """The distinct keys as a table of the run in ``ops`` (``_keys_<run id>_<n>``: a
        crashed run's leftover says whose it is), dropped afterwards; the only data a history
        check sends to BigQuery."""
        if keys is None:
            yield None
            return
        run = re.sub(r"[^A-Za-z0-9_]", "_", run_id)[:64]
        name = f"_keys_{run}_{uuid.uuid4().hex[:8]}"
        self.ensure_schema(KEYS_SCHEMA)
        self.replace(KEYS_SCHEMA, {name: _key_frame(keys)})
        try:
            yield self.target.table_id(KEYS_SCHEMA, name)
        finally:
            self._run(f"drop table if exists {self.target.table_id(KEYS_SCHEMA, name)}")

    def drop_leftover_keys(self) -> list[str]:
        """Drop the key tables runs that crashed mid-check left in ``ops`` (the names
        dropped). Call it only while holding the writer slot: then no other run is checking,
        so every ``_keys_*`` table is a leftover. (A table expiry would need an API call the
        emulator does not serve; the next run cleaning up needs none.)"""
        leftovers = [t for t in self.tables(KEYS_SCHEMA, views=False) if t.startswith("_keys_")]
        for name in leftovers:
            self._run(f"drop table if exists {self.target.table_id(KEYS_SCHEMA, name)}")
        return leftovers

    def _history(self, history: Sequence[KeyColumn]) -> list[tuple[str, str]]:
        return [
            (self.target.table_id(h.schema, h.table), quote_ident(h.column, "`")) for h in history
        ]

    def absent_keys(self, keys: pd.Series, history: Sequence[KeyColumn], run_id: str) -> list[str]:
        if keys.dropna().empty:
            return []
        if not history:
            return sorted(_key_frame(keys)["new_key"])
        with self._keys(keys, run_id) as staged:
            assert staged is not None
            found = self.query(_absent_keys_sql(staged, self._history(history)))
        return [str(v) for v in found["new_key"]]

    def rows_naming_absent(
        self, rows: KeyColumn, keys: pd.Series, history: Sequence[KeyColumn], run_id: str
    ) -> KeyShortfall:
        with self._keys(None if keys.dropna().empty else keys, run_id) as staged:
            counts, samples = _shortfall_sql(
                self.target.table_id(rows.schema, rows.table),
                quote_ident(rows.column, "`"),
                staged,
                self._history(history),
            )
            got = self.query(counts)
            observed, missing = int(got["observed"].iloc[0]), int(got["missing"].iloc[0])
            found = [str(v) for v in self.query(samples)["new_key"]] if missing else []
        return KeyShortfall(observed, missing, found)

    def workspace(self, settings: Settings, holder: str) -> AbstractContextManager[Settings]:
        from warehouse.target_state import scratch_workspace

        return scratch_workspace(self, settings, holder)

    def keep_bronze(self, local: Path, run_id: str) -> dict[str, int]:
        from warehouse.target_state import keep_bronze

        return keep_bronze(self, local, run_id)

    def gx_connection(self) -> tuple[str, dict[str, Any]]:
        """sqlalchemy-bigquery with this client (``quality.gx_bigquery``)."""
        from quality.gx_bigquery import gx_connection

        return gx_connection(self.target.client)

    def keep_state(self, local: Path) -> None:
        from warehouse.target_state import keep_state

        keep_state(self, local)

    def close(self) -> None:
        self.target.close()


# where a history check's keys are staged on BigQuery: a dataset every run already writes
KEYS_SCHEMA = "ops"

# BigQuery's legacy names in table schemas → the standard SQL types a cast takes
_STANDARD_TYPES = {"INTEGER": "INT64", "FLOAT": "FLOAT64", "BOOLEAN": "BOOL", "RECORD": "STRUCT"}


def quote_ident(name: str, quote: str = '"') -> str:
    """An identifier quoted for the engine: ``"name"`` for DuckDB, ```name``` for BigQuery."""
    return quote + name.replace(quote, quote * 2 if quote == '"' else "\\" + quote) + quote


def _name(schema: str, table: str) -> str:
    return f"{quote_ident(schema)}.{quote_ident(table)}"


def _typed(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with its all-missing object columns as text: DuckDB would type them NULL,
    which no engine stores (the target's column type is cast to on insert)."""
    empty = [c for c in frame.columns if frame[c].dtype == object and frame[c].isna().all()]
    return frame.astype({c: "string" for c in empty}) if empty else frame


def engine_name(settings: Settings) -> str:
    """The engine ``settings`` choose, checked."""
    name = settings.dbt_target
    if name not in ENGINES:
        raise UnknownEngine(
            f"OLIST_DBT_TARGET={name!r} is not an engine we have; choose one of "
            + ", ".join(ENGINES)
        )
    return name


def open_warehouse(settings: Settings, read_only: bool = False) -> Warehouse:
    """The one place that picks the engine: the DuckDB file of ``settings``, or BigQuery."""
    if engine_name(settings) == BIGQUERY:
        from warehouse.bigquery import target_client

        return BigQueryWarehouse(target_client())
    return DuckDBWarehouse(settings.warehouse, read_only=read_only)


@contextmanager
def run_workspace(settings: Settings, holder: str) -> Iterator[Settings]:
    """A run that changes the warehouse: the engine's one-writer hold and the settings its
    stages use (:meth:`Warehouse.workspace`)."""
    with open_warehouse(settings) as wh, wh.workspace(settings, holder) as inside:
        yield inside


def keep_bronze(settings: Settings, run_id: str) -> dict[str, int]:
    """What the contracts loaded in the run's working file, made visible to dbt in the
    target (table → rows kept; nothing on DuckDB, where the file is the target)."""
    with open_warehouse(settings) as wh:
        return wh.keep_bronze(settings.warehouse, run_id)


def keep_state(settings: Settings) -> None:
    """The run's bookkeeping so far, kept in the target (a no-op on DuckDB)."""
    with open_warehouse(settings) as wh:
        wh.keep_state(settings.warehouse)


def warehouse_built(settings: Settings) -> bool:
    """Whether an earlier run can have built the warehouse ``settings`` reach: the DuckDB
    file exists; BigQuery is always there (what it lacks, a read says)."""
    return engine_name(settings) == BIGQUERY or settings.warehouse.is_file()


def dbt_failure_probes(settings: Settings, con: duckdb.DuckDBPyConnection) -> tuple[Any, Any]:
    """How the dbt results read failing rows and row counts back (``quality.dbt_results``):
    from the DuckDB file the run works in; on BigQuery not at all (each probe would be a
    billed query, and the run's working file holds no marts), so (None, None)."""
    if engine_name(settings) == BIGQUERY:
        return None, None
    from quality.dbt_results import duckdb_probes

    return duckdb_probes(con)
