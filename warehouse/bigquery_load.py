"""Bronze into BigQuery with load jobs: the production bridge from DuckDB ingest to dbt.

Production ingests and checks contracts in a DuckDB file inside the flow run (the same code
as on a laptop), then hands bronze to BigQuery, where dbt builds silver and gold. The hand-off
is one BigQuery *load job* per table, not DML: load jobs are not billed, they replace a table
atomically (``WRITE_TRUNCATE``: readers see the old table or the new one, never half), and
they take files of any size (the emulator copy in ``bigquery_emulator`` pays per statement on
real BigQuery and stays under 1 MB of SQL per statement).

Each table goes through a Parquet file written by DuckDB's ``COPY``. Parquet carries every
value typed, so nothing is spelled as text and read back: a review comment's newlines, quotes
and commas are bytes of a string, NULL is a null and ``''`` an empty string, NaN a double,
a ``NUMERIC`` a decimal. Two choices keep it exact:

- An explicit schema from the DuckDB column types (``bigquery_type``), never autodetect, and
  ``decimal_target_types`` NUMERIC then BIGNUMERIC, the same rule ``bigquery_type`` applies;
  zip prefixes such as ``01037`` are strings in DuckDB and stay strings.
- The ``COPY`` writes each column as the Parquet type BigQuery reads into that schema
  (``_parquet_expression``): instants as ``TIMESTAMP(isAdjustedToUTC=true, MICROS)`` (a
  naive DuckDB timestamp is UTC here and would otherwise be written as a local one, which
  BigQuery takes for a ``DATETIME``), small and unsigned integers widened to INT64, FLOAT to
  DOUBLE and UUID to text (DuckDB writes it as 16 bytes). Types with no lossless Parquet
  form BigQuery reads (HUGEINT, which DuckDB writes as a DOUBLE, nested types) are refused
  by ``bigquery_type``, naming the column.

The loaded row count is checked against the rows DuckDB exported, so a silent partial load
fails the run with both numbers.

The local emulator (crucible-emulator 0.1.0a2) runs CSV load jobs only. Its load handler
(``crucible/server/bigquery/jobs.py``, ``Runner._load``) fails a Parquet load job with "Not
supported by Crucible: load job configuration field decimalTargetTypes" and, without that
field, "... load job sourceFormat PARQUET"; its CSV loads refuse ``allowQuotedNewlines``.
So on an emulator the same tables go by DML instead (``warehouse.bigquery.replace_from_duckdb``
→ ``warehouse.bigquery_emulator.copy_table``: bronze, the engine's staging tables, the
replaced bookkeeping tables). ``tests/bigquery/test_bigquery_load.py`` pins the refusal (it
fails the day crucible loads Parquet, the day to drop the DML copy);
``tests/unit/warehouse/test_bigquery_load.py`` reads the Parquet file this module writes back
value by value and checks each column's Parquet type.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import duckdb
from google.api_core.client_options import ClientOptions
from google.api_core.exceptions import GoogleAPICallError
from google.cloud import bigquery

from warehouse.bigquery_emulator import EmulatorError, bigquery_type
from warehouse.local import schema_tables

BRONZE = "bronze"
LOAD_TIMEOUT_SECONDS = 900.0

# The defaults of dbt/profiles.yml's bigquery target: the client must reach what dbt reaches.
DEFAULT_PROJECT = "olist-platform"
DEFAULT_LOCATION = "US"
DEFAULT_METHOD = "oauth"
SCOPES = (
    "https://www.googleapis.com/auth/bigquery",
    "https://www.googleapis.com/auth/cloud-platform",
)

Progress = Callable[[str, int], None]


class BigQueryLoadError(RuntimeError):
    """A bronze table could not be loaded, or BigQuery holds a different number of rows."""


# --- schema and job config ---------------------------------------------------------------------
def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _columns(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> list[tuple[str, str]]:
    """(name, DuckDB type) of each column, in table order."""
    relation = con.sql(f"select * from {_quote(schema)}.{_quote(table)}")
    return [(name, str(kind)) for name, kind in zip(relation.columns, relation.types, strict=True)]


def bigquery_schema(
    con: duckdb.DuckDBPyConnection, table: str, schema: str = BRONZE
) -> list[bigquery.SchemaField]:
    """The BigQuery schema of a DuckDB table: same names and order, every column NULLABLE
    (bronze keeps rows as delivered; the contracts, not the load, decide what is required)."""
    fields = []
    for name, kind in _columns(con, schema, table):
        try:
            fields.append(bigquery.SchemaField(name, bigquery_type(kind), mode="NULLABLE"))
        except EmulatorError as err:
            raise BigQueryLoadError(f"{schema}.{table}.{name}: {err}") from None
    return fields


def load_job_config(schema: Sequence[bigquery.SchemaField]) -> bigquery.LoadJobConfig:
    """How BigQuery must read the files ``export_parquet`` writes: into ``schema``, replacing
    the table. ``decimal_target_types`` lists the types in the order BigQuery tries them, so a
    decimal becomes NUMERIC when it fits (precision - scale <= 29, scale <= 9) and BIGNUMERIC
    otherwise, as ``bigquery_type`` decides for the schema."""
    return bigquery.LoadJobConfig(
        source_format=bigquery.SourceFormat.PARQUET,
        schema=list(schema),
        write_disposition=bigquery.WriteDisposition.WRITE_TRUNCATE,
        decimal_target_types=[
            bigquery.DecimalTargetType.NUMERIC,
            bigquery.DecimalTargetType.BIGNUMERIC,
        ],
    )


# --- export ------------------------------------------------------------------------------------
_WIDENED = {
    "TINYINT": "BIGINT",
    "SMALLINT": "BIGINT",
    "INTEGER": "BIGINT",
    "UTINYINT": "BIGINT",
    "USMALLINT": "BIGINT",
    "UINTEGER": "BIGINT",
    "FLOAT": "DOUBLE",
    "UUID": "VARCHAR",
}


def _parquet_expression(name: str, duckdb_type: str) -> str:
    """The column as the Parquet type BigQuery reads into ``bigquery_type(duckdb_type)``."""
    column = _quote(name)
    kind = duckdb_type.upper()
    if kind in ("TIMESTAMP", "TIMESTAMP_S", "TIMESTAMP_MS"):
        # the cast first: timezone() of a TIMESTAMP_S/_MS would pick the nanosecond overload
        return f"timezone('UTC', cast({column} as timestamp)) as {column}"
    if kind in _WIDENED:
        return f"cast({column} as {_WIDENED[kind]}) as {column}"
    # written as BigQuery reads it, TIMESTAMP WITH TIME ZONE (UTC micros) too; JSON keeps
    # Parquet's JSON logical type (no bronze column is JSON: not tried against BigQuery)
    return column


def export_parquet(
    con: duckdb.DuckDBPyConnection, table: str, path: Path, schema: str = BRONZE
) -> int:
    """Write ``schema.table`` to ``path`` as Parquet; the rows written.

    The count comes from the same ``COPY`` as the file, so it is the file's count even if the
    table changes meanwhile."""
    select = ", ".join(
        _parquet_expression(name, kind) for name, kind in _columns(con, schema, table)
    )
    target = str(path).replace("'", "''")
    row = con.execute(
        f"copy (select {select} from {_quote(schema)}.{_quote(table)}) to '{target}' "
        "(format parquet, compression zstd)"
    ).fetchone()
    return int(row[0]) if row else 0


# --- load --------------------------------------------------------------------------------------
def _job_errors(job: Any) -> str:
    errors = getattr(job, "errors", None) or []
    return "; ".join(str(e.get("message", e)) for e in errors[:5])


def load_table(
    con: duckdb.DuckDBPyConnection,
    client: bigquery.Client,
    dataset: str,
    table: str,
    *,
    schema: str = BRONZE,
    timeout: float | None = LOAD_TIMEOUT_SECONDS,
    workdir: Path | None = None,
) -> int:
    """Replace ``dataset.table`` in BigQuery with the DuckDB table ``schema.table``; the rows
    loaded, which equal DuckDB's (else ``BigQueryLoadError`` with both counts)."""
    fields = bigquery_schema(con, table, schema)
    destination = bigquery.DatasetReference(client.project, dataset).table(table)
    with tempfile.TemporaryDirectory(prefix="olist-bq-load-", dir=workdir) as tmp:
        path = Path(tmp) / f"{table}.parquet"
        exported = export_parquet(con, table, path, schema)
        config = load_job_config(fields)
        try:
            with path.open("rb") as data:
                job = client.load_table_from_file(
                    data, destination, job_config=config, job_id_prefix=f"olist_load_{table}_"
                )
        except GoogleAPICallError as err:
            raise BigQueryLoadError(f"upload of {dataset}.{table} failed: {err}") from err
    try:
        job.result(timeout=timeout)
    except GoogleAPICallError as err:
        raise BigQueryLoadError(
            f"load job {job.job_id} for {dataset}.{table} ({exported} rows) failed: "
            f"{_job_errors(job) or err}"
        ) from err
    loaded = job.output_rows
    if loaded is None:  # no load statistics: ask the table itself
        loaded = client.get_table(destination).num_rows
    if loaded != exported:
        raise BigQueryLoadError(
            f"{dataset}.{table}: BigQuery loaded {loaded} rows but DuckDB {schema}.{table} "
            f"has {exported}"
        )
    return int(loaded)


def load_bronze(
    con: duckdb.DuckDBPyConnection,
    client: bigquery.Client,
    dataset: str,
    tables: Iterable[str] | None = None,
    progress: Progress | None = None,
    *,
    schema: str = BRONZE,
) -> dict[str, int]:
    """Load ``tables`` (default: all of the DuckDB ``schema``, bronze unless told, empty tables
    too: dbt unions the empty ``batch_*`` tables, so they must exist in BigQuery) into the
    BigQuery ``dataset``, one load job each; table → rows loaded.

    The dataset must exist: creating it needs a project-level role the flow-run service
    account should not have (docs/gcp.md creates it once). ``progress(table, rows)`` is
    called after each table, e.g. to log it."""
    names = list(tables) if tables is not None else schema_tables(con, schema)
    if not names:
        raise BigQueryLoadError(f"the DuckDB schema {schema!r} has no tables to load")
    loaded: dict[str, int] = {}
    for table in names:
        loaded[table] = load_table(con, client, dataset, table, schema=schema)
        if progress is not None:
            progress(table, loaded[table])
    return loaded


# --- client ------------------------------------------------------------------------------------
def _credentials(method: str, keyfile: str, token: str) -> Any:
    """Credentials the way dbt-bigquery builds them for the same ``method``; None means
    Application Default Credentials (on Cloud Run: the job's service account)."""
    if method == "oauth":
        return None
    if method == "service-account":
        if not keyfile:
            raise ValueError("OLIST_BQ_METHOD=service-account needs OLIST_BQ_KEYFILE")
        from google.oauth2 import service_account

        return service_account.Credentials.from_service_account_file(keyfile, scopes=SCOPES)
    if method == "oauth-secrets":
        if not token:
            raise ValueError("OLIST_BQ_METHOD=oauth-secrets needs OLIST_BQ_TOKEN")
        from google.oauth2.credentials import Credentials

        return Credentials(token=token, scopes=list(SCOPES))  # type: ignore[no-untyped-call]
    raise ValueError(
        f"OLIST_BQ_METHOD={method!r} is not supported here: use oauth (Application Default "
        "Credentials), service-account (OLIST_BQ_KEYFILE) or oauth-secrets (OLIST_BQ_TOKEN)"
    )


def client_from_env(environ: Mapping[str, str] | None = None) -> bigquery.Client:
    """A BigQuery client for what dbt's ``bigquery`` target reaches, read from the same
    ``OLIST_BQ_*`` variables with the same defaults (dbt/profiles.yml), so bronze lands
    where dbt looks for it."""
    env = os.environ if environ is None else environ
    endpoint = env.get("OLIST_BQ_API_ENDPOINT", "")
    return bigquery.Client(
        project=env.get("OLIST_BQ_PROJECT") or DEFAULT_PROJECT,
        location=env.get("OLIST_BQ_LOCATION") or DEFAULT_LOCATION,
        credentials=_credentials(
            env.get("OLIST_BQ_METHOD") or DEFAULT_METHOD,
            env.get("OLIST_BQ_KEYFILE", ""),
            env.get("OLIST_BQ_TOKEN", ""),
        ),
        # empty means Google's endpoint, as in the profile
        client_options=ClientOptions(api_endpoint=endpoint) if endpoint else None,
    )
