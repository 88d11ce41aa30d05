"""The warehouse interface and its two engines, chosen in one place.

Stages that read or write the target warehouse ask :func:`open_warehouse` for a
:class:`Warehouse` and never which engine it is: the DuckDB file on a laptop, BigQuery in
production (``docs/warehouse-design.md`` has the whole plan). Only this module (and
``olist.settings``, which holds the switch) reads ``settings.dbt_target``.

The interface is ours and small on purpose: Ibis covers both engines, but its BigQuery backend
brings ``google-cloud-bigquery-storage`` and ``pandas-gbq`` and has not been tried against the
emulator we test on (which refuses query parameters), while every statement here is one the
emulator and BigQuery both run.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from contextlib import ExitStack
from datetime import date, datetime
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Protocol

import duckdb
import pandas as pd

from olist import warehouse
from olist.settings import Settings

if TYPE_CHECKING:
    from olist.bigquery_target import Target

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


class UnknownEngine(ValueError):
    """``OLIST_DBT_TARGET`` names an engine we do not have."""


class Warehouse(Protocol):
    """What a stage may do with the target warehouse. Tables are named ``schema.table``; a
    schema is a BigQuery dataset in the client's project."""

    name: str

    def query(self, sql: str) -> pd.DataFrame:
        """The rows of ``sql``, typed as DuckDB returns them (naive UTC instants, floats for
        decimals), so callers see one shape whatever the engine."""
        ...

    def scalar(self, sql: str, params: Mapping[str, object] | None = None) -> object:
        """The first value of ``sql``; ``@name`` in it is bound to ``params[name]`` by the
        engine (never pasted into the text)."""
        ...

    def tables(self, schema: str) -> list[str]:
        """The tables (and views) of ``schema``, sorted; empty when it does not exist."""
        ...

    def replace(self, schema: str, frames: Mapping[str, pd.DataFrame]) -> dict[str, int]:
        """Replace ``schema.<name>`` with each frame; name → rows now there. Atomic across the
        tables where the engine has multi-statement transactions (DuckDB), per table where it
        has not (BigQuery)."""
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

    def tables(self, schema: str) -> list[str]:
        rows = (
            self._connection()
            .execute(
                "select table_name from information_schema.tables where table_schema = ? "
                "order by table_name",
                [schema],
            )
            .fetchall()
        )
        return [str(row[0]) for row in rows]

    def replace(self, schema: str, frames: Mapping[str, pd.DataFrame]) -> dict[str, int]:
        warehouse.replace_tables(self._connection(), schema, dict(frames))
        return {name: len(frame) for name, frame in frames.items()}

    def close(self) -> None:
        self._open.close()
        self._con = None


class BigQueryWarehouse(_Closing):
    """The BigQuery that dbt's ``bigquery`` target reaches (``dbt/profiles.yml``'s
    ``OLIST_BQ_*`` variables; a non-Google endpoint is an emulator)."""

    name = BIGQUERY

    def __init__(self, target: Target) -> None:
        self.target = target

    def query(self, sql: str) -> pd.DataFrame:
        from olist.bigquery_target import read_frame

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

    def tables(self, schema: str) -> list[str]:
        from google.api_core.exceptions import NotFound

        try:
            listed = self.target.client.list_tables(f"{self.target.project}.{schema}")
            return sorted(t.table_id for t in listed)
        except NotFound:
            return []

    def replace(self, schema: str, frames: Mapping[str, pd.DataFrame]) -> dict[str, int]:
        """Through an in-memory DuckDB, so the frames reach BigQuery by the same typed path as
        bronze (load jobs on Google, DML copies on an emulator)."""
        from olist.bigquery_target import replace_from_duckdb

        con = duckdb.connect()
        try:
            warehouse.replace_tables(con, schema, dict(frames))
            return replace_from_duckdb(con, self.target, schema, schema, tables=list(frames))
        finally:
            con.close()

    def close(self) -> None:
        self.target.close()


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
        from olist.bigquery_target import target_client

        return BigQueryWarehouse(target_client())
    return DuckDBWarehouse(settings.warehouse, read_only=read_only)
