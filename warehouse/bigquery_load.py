"""Bronze into BigQuery with load jobs: the production bridge from DuckDB ingest to dbt.

Production ingests and checks contracts in a DuckDB file inside the flow run (the same code
as on a laptop), then hands bronze to BigQuery, where dbt builds silver and gold. The hand-off
is one BigQuery *load job* per table, not DML: load jobs are not billed, they replace a table
atomically (``WRITE_TRUNCATE``: readers see the old table or the new one, never half), and
they take files of any size (the emulator copy in ``bigquery_emulator`` pays per statement on
real BigQuery and stays under 1 MB of SQL per statement).

Each table goes through a CSV file written by DuckDB's ``COPY`` (RFC 4180: fields with a
comma, quote or newline are quoted, quotes doubled). Three choices keep it exact:

- ``allow_quoted_newlines``: review comments span lines; without the flag BigQuery reads
  each line as a row and rejects the file.
- An explicit schema from the DuckDB column types (``bigquery_type``), never autodetect, which
  would turn zip prefixes such as ``01037`` into integers.
- Values BigQuery's CSV reader spells differently are formatted in the ``COPY`` itself:
  timestamps as UTC ``YYYY-MM-DD HH:MM:SS.ffffff`` (DuckDB writes ``+00`` offsets and short
  fractions), bytes as base64, NaN as ``NaN``. NULL is an empty unquoted field and an empty
  string a quoted ``""``, which BigQuery keeps apart.

The loaded row count is checked against the rows DuckDB exported, so a silent partial load
fails the run with both numbers.

The local emulator (crucible-emulator 0.1.0a2) runs CSV load jobs but refuses the
``allowQuotedNewlines`` field, so its test loads newline-free tables with
``quoted_newlines=False``; the flag itself is covered by a unit test of the job config.
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

BRONZE = "bronze"
TIMESTAMP_FORMAT = "%Y-%m-%d %H:%M:%S.%f"  # six fraction digits: every BigQuery reader takes it
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


def load_job_config(
    schema: Sequence[bigquery.SchemaField], *, quoted_newlines: bool = True
) -> bigquery.LoadJobConfig:
    """How BigQuery must read the files ``export_csv`` writes.

    ``quoted_newlines=False`` leaves the field out of the request altogether (BigQuery's
    default is false): only for emulators that refuse it, with data known to have none."""
    config = bigquery.LoadJobConfig(
        source_format=bigquery.SourceFormat.CSV,
        skip_leading_rows=1,
        schema=list(schema),
        write_disposition=bigquery.WriteDisposition.WRITE_TRUNCATE,
    )
    if quoted_newlines:
        config.allow_quoted_newlines = True
    return config


# --- export ------------------------------------------------------------------------------------
def _csv_expression(name: str, duckdb_type: str) -> str:
    """The column as BigQuery's CSV reader wants to read it."""
    column = _quote(name)
    kind = duckdb_type.upper()
    if kind == "TIMESTAMP WITH TIME ZONE":
        return f"strftime(timezone('UTC', {column}), '{TIMESTAMP_FORMAT}') as {column}"
    if kind.startswith("TIMESTAMP"):
        return f"strftime({column}, '{TIMESTAMP_FORMAT}') as {column}"
    if kind == "BLOB":
        return f"base64({column}) as {column}"
    if kind in ("DOUBLE", "FLOAT"):
        return (
            f"case when isnan({column}) then 'NaN' else cast({column} as varchar) end as {column}"
        )
    return column


def export_csv(con: duckdb.DuckDBPyConnection, table: str, path: Path, schema: str = BRONZE) -> int:
    """Write ``schema.table`` to ``path`` as RFC 4180 CSV with a header; the rows written.

    The count comes from the same ``COPY`` as the file, so it is the file's count even if the
    table changes meanwhile."""
    select = ", ".join(_csv_expression(name, kind) for name, kind in _columns(con, schema, table))
    target = str(path).replace("'", "''")
    row = con.execute(
        f"copy (select {select} from {_quote(schema)}.{_quote(table)}) to '{target}' "
        "(format csv, header, delimiter ',', quote '\"', escape '\"')"
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
    quoted_newlines: bool = True,
    timeout: float | None = LOAD_TIMEOUT_SECONDS,
    workdir: Path | None = None,
) -> int:
    """Replace ``dataset.table`` in BigQuery with the DuckDB table ``schema.table``; the rows
    loaded, which equal DuckDB's (else ``BigQueryLoadError`` with both counts)."""
    fields = bigquery_schema(con, table, schema)
    destination = bigquery.DatasetReference(client.project, dataset).table(table)
    with tempfile.TemporaryDirectory(prefix="olist-bq-load-", dir=workdir) as tmp:
        path = Path(tmp) / f"{table}.csv"
        exported = export_csv(con, table, path, schema)
        config = load_job_config(fields, quoted_newlines=quoted_newlines)
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


def bronze_tables(con: duckdb.DuckDBPyConnection, schema: str = BRONZE) -> list[str]:
    """Every table and view of the DuckDB schema, empty ones too (dbt unions the empty
    ``batch_*`` tables, so they must exist in BigQuery)."""
    return [
        row[0]
        for row in con.execute(
            "select table_name from information_schema.tables where table_schema = ? "
            "order by table_name",
            [schema],
        ).fetchall()
    ]


def load_bronze(
    con: duckdb.DuckDBPyConnection,
    client: bigquery.Client,
    dataset: str,
    tables: Iterable[str] | None = None,
    progress: Progress | None = None,
    *,
    quoted_newlines: bool = True,
    schema: str = BRONZE,
) -> dict[str, int]:
    """Load ``tables`` (default: all of the DuckDB ``schema``, bronze unless told) into the
    BigQuery ``dataset``, one load job each; table → rows loaded.

    The dataset must exist: creating it needs a project-level role the flow-run service
    account should not have (docs/gcp.md creates it once). ``progress(table, rows)`` is
    called after each table, e.g. to log it."""
    names = list(tables) if tables is not None else bronze_tables(con, schema)
    if not names:
        raise BigQueryLoadError(f"the DuckDB schema {schema!r} has no tables to load")
    loaded: dict[str, int] = {}
    for table in names:
        loaded[table] = load_table(
            con, client, dataset, table, schema=schema, quoted_newlines=quoted_newlines
        )
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
