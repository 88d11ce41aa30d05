"""The flows' side of the ``bigquery`` dbt target: one client, DuckDB tables in, query results out.

On ``OLIST_DBT_TARGET=bigquery`` a run parses files and applies contracts in a scratch DuckDB
file (the same code as on a laptop) and keeps everything it remembers in BigQuery
(``warehouse.engine.BigQueryWarehouse``, ``warehouse.target_state``). This module is every crossing
between the two:

- ``target_client``: the client for what dbt reaches, from the same ``OLIST_BQ_*`` variables.
  An endpoint that is not Google's is a local emulator (crucible-emulator), which gets an
  anonymous ``InliningClient`` (it refuses query parameters; see ``warehouse.bigquery_emulator``).
- ``replace_from_duckdb``: DuckDB tables → BigQuery (a new bronze version before dbt, the
  staging tables of appends and merges, the customer scores after scoring). On BigQuery by
  Parquet load jobs (``warehouse.bigquery_load``: free, atomic per table, every value typed).
  crucible runs no Parquet load jobs (nor CSV ones with quoted newlines, which review
  comments need), so there the same tables go by DML
  (``warehouse.bigquery_emulator.copy_table``), exact for any text.
- ``read_frame``: a query's result as the DataFrame DuckDB would have returned, so the ML code
  reads gold from either warehouse: instants as naive UTC ``datetime64``, ``NUMERIC`` as float.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from urllib.parse import urlparse

import duckdb
import pandas as pd
from google.cloud import bigquery

from warehouse import bigquery_load
from warehouse.bigquery_emulator import copy_table, inlining_client_for
from warehouse.local import schema_tables

Progress = Callable[[str, int], None]


def is_emulator_endpoint(endpoint: str) -> bool:
    """An API endpoint that is set and not Google's (``*.googleapis.com``, including regional
    and private-service-connect names) is a local emulator."""
    if not endpoint:
        return False
    host = (urlparse(endpoint).hostname or "").lower()
    return not (host == "googleapis.com" or host.endswith(".googleapis.com"))


@dataclass(frozen=True)
class Target:
    client: bigquery.Client
    emulator: bool

    @property
    def project(self) -> str:
        return str(self.client.project)

    def table_id(self, dataset: str, table: str) -> str:
        """```project`.`dataset`.`table``` (project ids may hold dashes)."""
        return f"`{self.project}`.`{dataset}`.`{table}`"

    def close(self) -> None:
        self.client.close()

    def __enter__(self) -> Target:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def target_client(environ: Mapping[str, str] | None = None) -> Target:
    """The BigQuery dbt's ``bigquery`` target reaches (dbt/profiles.yml's variables)."""
    env = os.environ if environ is None else environ
    endpoint = env.get("OLIST_BQ_API_ENDPOINT", "")
    if is_emulator_endpoint(endpoint):
        project = env.get("OLIST_BQ_PROJECT") or bigquery_load.DEFAULT_PROJECT
        location = env.get("OLIST_BQ_LOCATION") or bigquery_load.DEFAULT_LOCATION
        return Target(inlining_client_for(endpoint, project, location=location), emulator=True)
    return Target(bigquery_load.client_from_env(env), emulator=False)


def replace_from_duckdb(
    con: duckdb.DuckDBPyConnection,
    target: Target,
    schema: str,
    dataset: str,
    tables: Iterable[str] | None = None,
    progress: Progress | None = None,
) -> dict[str, int]:
    """Replace ``dataset.<table>`` in BigQuery with each DuckDB ``schema.<table>`` (default:
    every table of the schema); table → rows now in BigQuery."""
    if not target.emulator:
        return bigquery_load.load_bronze(
            con, target.client, dataset, tables, progress, schema=schema
        )
    names = list(tables) if tables is not None else schema_tables(con, schema)
    if not names:
        raise bigquery_load.BigQueryLoadError(f"the DuckDB schema {schema!r} has no tables")
    done: dict[str, int] = {}
    for table in names:
        done[table] = copy_table(con, target.client, schema, table, dataset).rows
        if progress is not None:
            progress(table, done[table])
    return done


def _as_duckdb_would(frame: pd.DataFrame) -> pd.DataFrame:
    """Timezone-aware instants → naive UTC; ``Decimal`` columns (``NUMERIC``) → float;
    db-dtypes dates → ``datetime64``. DuckDB hands the ML code exactly those."""
    out = frame.copy()
    for column in out.columns:
        series = out[column]
        if isinstance(series.dtype, pd.DatetimeTZDtype):
            out[column] = series.dt.tz_convert("UTC").dt.tz_localize(None)
        elif series.dtype == object:
            sample = series.dropna()
            if not sample.empty and isinstance(sample.iloc[0], Decimal):
                out[column] = pd.to_numeric(series.map(lambda v: None if v is None else float(v)))
        elif str(series.dtype) == "dbdate":
            out[column] = pd.to_datetime(series)
    return out


def read_frame(target: Target, sql: str) -> pd.DataFrame:
    """The rows of ``sql`` (tables named ``dataset.table``, in the client's project)."""
    rows = target.client.query(sql).result()
    return _as_duckdb_would(rows.to_dataframe(create_bqstorage_client=False))
