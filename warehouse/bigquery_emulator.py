"""Talking to a BigQuery API that is not Google's: copies by DML and inlined parameters.

The product reaches an emulator only through settings: a non-Google ``OLIST_BQ_API_ENDPOINT``
(see ``warehouse.bigquery.is_emulator_endpoint``). crucible-emulator 0.1.0a2, our local
BigQuery, implements neither Parquet or JSON load jobs, CSV ones with quoted newlines nor
``tabledata.insertAll`` (``warehouse.bigquery_load`` has the evidence), and refuses query
parameters; so on such an endpoint tables are copied by ``INSERT ... SELECT`` over
``UNNEST(JSON_QUERY_ARRAY(...))`` of one JSON string literal per chunk (exact for any text,
one statement per < 1 MB, BigQuery's limit on query text), and named parameters are inlined
as GoogleSQL literals (``InliningClient``). On real BigQuery, Parquet load jobs
(``warehouse.bigquery_load``) and bound parameters are used instead.

Starting and stopping the emulator process is test support: ``tests/support/bigquery_emulator.py``.
"""

from __future__ import annotations

import base64
import copy
import json
import math
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from datetime import time as time_of_day
from decimal import Decimal
from typing import Any

import duckdb
from google.api_core.client_options import ClientOptions
from google.auth.credentials import AnonymousCredentials
from google.cloud import bigquery

DEFAULT_PROJECT = "olist-emulator"
# BigQuery caps query text at 1,024 k characters; stay below it with room for the SQL around.
MAX_STATEMENT_BYTES = 900_000


class EmulatorError(RuntimeError):
    """The emulator is missing, did not start, or a table cannot be copied."""


# --- types -------------------------------------------------------------------------------------
_SCALAR_TYPES = {
    "VARCHAR": "STRING",
    "UUID": "STRING",
    "BOOLEAN": "BOOL",
    "TINYINT": "INT64",
    "SMALLINT": "INT64",
    "INTEGER": "INT64",
    "BIGINT": "INT64",
    "UTINYINT": "INT64",
    "USMALLINT": "INT64",
    "UINTEGER": "INT64",
    "FLOAT": "FLOAT64",
    "DOUBLE": "FLOAT64",
    "DATE": "DATE",
    "TIME": "TIME",
    # Naive timestamps in this warehouse are UTC (ingest writes datetime.now(UTC) without tz).
    "TIMESTAMP": "TIMESTAMP",
    "TIMESTAMP_S": "TIMESTAMP",
    "TIMESTAMP_MS": "TIMESTAMP",
    "TIMESTAMP WITH TIME ZONE": "TIMESTAMP",
    "BLOB": "BYTES",
    "JSON": "JSON",
}


def bigquery_type(duckdb_type: str) -> str:
    """The BigQuery column type for a DuckDB one; nested and unbounded types are refused."""
    name = duckdb_type.upper()
    if name in _SCALAR_TYPES:
        return _SCALAR_TYPES[name]
    if name.startswith("DECIMAL"):
        precision, _, scale = name.removeprefix("DECIMAL(").rstrip(")").partition(",")
        if int(precision) - int(scale or 0) <= 29 and int(scale or 0) <= 9:
            return "NUMERIC"
        return "BIGNUMERIC"
    raise EmulatorError(f"no BigQuery type for DuckDB {duckdb_type} (flat scalar columns only)")


def _select_expression(index: int, bq_type: str) -> str:
    value = f"json_value(r, '$[{index}]')"
    if bq_type == "STRING":
        return value
    if bq_type == "BYTES":
        return f"from_base64({value})"
    if bq_type == "JSON":
        return f"parse_json({value})"
    return f"cast({value} as {bq_type})"


def _json_value(value: Any) -> Any:
    """A DuckDB value as JSON that BigQuery casts back to the same value."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)  # 'nan', 'inf', '-inf'
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, date | time_of_day | Decimal):
        return str(value)
    if isinstance(value, bytes | bytearray | memoryview):
        return base64.b64encode(bytes(value)).decode("ascii")
    if isinstance(value, dict | list):
        return json.dumps(value)  # a DuckDB JSON column read back as Python
    return str(value)  # UUID


# --- copying -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class TableCopy:
    table: str
    rows: int
    statements: int


def _ident(*parts: str) -> str:
    return ".".join("`" + p.replace("\\", "\\\\").replace("`", "\\`") + "`" for p in parts)


def _literals(rows: Iterable[tuple[Any, ...]], max_bytes: int) -> Iterator[str]:
    """GoogleSQL string literals of JSON arrays of rows (each row a positional array), each at
    most ~max_bytes of UTF-8.

    Rows whose JSON has a backslash or a quote (JSON's own escapes for newlines, quotes in
    review text) go to literals of their own: crucible's SQL tokenizer reads a literal without
    a backslash with one ``str.find`` and any other one character by character, ~10x slower.
    """
    parts: dict[bool, list[str]] = {False: [], True: []}
    sizes = {False: 2, True: 2}
    for row in rows:
        encoded = json.dumps(
            [_json_value(v) for v in row], ensure_ascii=False, separators=(",", ":")
        )
        escaped = "\\" in encoded or "'" in encoded
        if escaped:
            encoded = encoded.replace("\\", "\\\\").replace("'", "\\'")
        size = len(encoded) if encoded.isascii() else len(encoded.encode())
        if parts[escaped] and sizes[escaped] + size + 1 > max_bytes:
            yield "'[" + ",".join(parts[escaped]) + "]'"
            parts[escaped], sizes[escaped] = [], 2
        parts[escaped].append(encoded)
        sizes[escaped] += size + 1
    for pending in parts.values():
        if pending:
            yield "'[" + ",".join(pending) + "]'"


def copy_table(
    con: duckdb.DuckDBPyConnection,
    client: bigquery.Client,
    schema: str,
    table: str,
    dataset: str,
    max_statement_bytes: int = MAX_STATEMENT_BYTES,
) -> TableCopy:
    """Replace ``dataset.table`` on the BigQuery side with the DuckDB table ``schema.table``."""
    relation = con.sql(f'select * from "{schema}"."{table}"')
    columns = [
        (name, bigquery_type(str(kind)))
        for name, kind in zip(relation.columns, relation.types, strict=True)
    ]
    target = _ident(client.project, dataset, table)
    column_defs = ", ".join(f"{_ident(name)} {kind}" for name, kind in columns)
    client.query(f"create or replace table {target} ({column_defs})").result()
    names = ", ".join(_ident(name) for name, _ in columns)
    select = ", ".join(_select_expression(i, kind) for i, (_, kind) in enumerate(columns))
    rows = statements = 0
    cursor = con.execute(f'select * from "{schema}"."{table}"')
    while batch := cursor.fetchmany(10_000):
        for literal in _literals(batch, max_statement_bytes):
            client.query(
                f"insert into {target} ({names}) select {select} "
                f"from unnest(json_query_array({literal})) as r"
            ).result()
            statements += 1
        rows += len(batch)
    return TableCopy(table, rows, statements)


def client_for(
    endpoint: str,
    project: str = DEFAULT_PROJECT,
    location: str | None = None,
    cls: type[bigquery.Client] = bigquery.Client,
) -> bigquery.Client:
    """A BigQuery client (of class ``cls``) for an emulator: anonymous, pointed at
    ``endpoint``."""
    return cls(
        project=project,
        location=location,
        credentials=AnonymousCredentials(),  # type: ignore[no-untyped-call]
        client_options=ClientOptions(api_endpoint=endpoint),
    )


# --- query parameters: inlined for the emulator ------------------------------------------------
# crucible 0.1.0a2 refuses any ``queryParameters`` field in ``jobs.query``, even an empty list,
# and the BigQuery DB-API (which sqlalchemy-bigquery, hence GX, goes through) always sends one.
# ``InliningClient`` rewrites each named parameter as a GoogleSQL literal before the request.
# It is for the emulator only: production uses a plain ``bigquery.Client``, whose parameters
# BigQuery binds itself (no quoting, no rounding, no injection surface).
_PARAMETER_NAME = re.compile(r"@`((?:[^`\\]|\\.)+)`|@([A-Za-z_][A-Za-z0-9_]*)")
_STRING_ESCAPES = {"\\": "\\\\", "'": "\\'", "\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _string_literal(value: str) -> str:
    """A GoogleSQL string literal for any text: quote and backslash escaped, and every other
    control character as ``\\uXXXX``, so the literal stays on one line."""
    out = []
    for char in value:
        if char in _STRING_ESCAPES:
            out.append(_STRING_ESCAPES[char])
        elif ord(char) < 0x20 or char == "\x7f":
            out.append(f"\\u{ord(char):04x}")
        else:
            out.append(char)
    return "'" + "".join(out) + "'"


def sql_literal(type_: str, value: Any) -> str:
    """``value`` of the BigQuery parameter type ``type_`` as a GoogleSQL literal that the
    emulator reads back as the same value and type."""
    kind = {"INTEGER": "INT64", "FLOAT": "FLOAT64", "BOOLEAN": "BOOL"}.get(type_, type_)
    if value is None:
        return f"cast(null as {kind})"
    if kind == "STRING":
        return _string_literal(str(value))
    if kind == "BOOL":
        return "true" if value else "false"
    if kind == "INT64":
        return str(int(value))
    if kind == "FLOAT64":
        number = float(value)
        return repr(number) if math.isfinite(number) else f"cast('{number}' as float64)"
    if kind in ("NUMERIC", "BIGNUMERIC"):
        return f"{kind.lower()} '{Decimal(str(value))}'"
    if kind in ("TIMESTAMP", "DATETIME", "DATE", "TIME"):
        if isinstance(value, datetime):
            text = value.isoformat(sep=" ")  # an aware value keeps its offset
        elif isinstance(value, date | time_of_day):
            text = value.isoformat()
        else:
            text = str(value)
        return f"{kind.lower()} '{text}'"
    if kind == "BYTES":
        return f"from_base64('{base64.b64encode(bytes(value)).decode('ascii')}')"
    raise EmulatorError(f"cannot inline a {type_} query parameter")


def _parameter_literal(parameter: Any) -> str:
    if isinstance(parameter, bigquery.ScalarQueryParameter):
        return sql_literal(str(parameter.type_), parameter.value)
    if isinstance(parameter, bigquery.ArrayQueryParameter) and isinstance(
        parameter.array_type, str
    ):
        values = [sql_literal(parameter.array_type, v) for v in parameter.values]
        if not values:
            kind = {"INTEGER": "INT64", "FLOAT": "FLOAT64", "BOOLEAN": "BOOL"}
            return f"array<{kind.get(parameter.array_type, parameter.array_type)}>[]"
        return "[" + ", ".join(values) + "]"
    raise EmulatorError(f"cannot inline the query parameter {parameter!r}")


def inline_parameters(query: str, parameters: Iterable[Any]) -> str:
    """``query`` with each ``@name`` / ``@`name``` replaced by its parameter's literal, in one
    pass (a literal that happens to contain ``@other`` is not substituted again). Positional
    parameters (``?``) are refused: the DB-API names them whenever SQLAlchemy drives it.
    The query is not parsed: an ``@name`` inside one of its own string literals would be
    replaced too (GX's SQL has none)."""
    literals: dict[str, str] = {}
    for parameter in parameters:
        if not parameter.name:
            raise EmulatorError("cannot inline a positional query parameter")
        literals[parameter.name] = _parameter_literal(parameter)
    if not literals:
        return query

    def replace(match: re.Match[str]) -> str:
        quoted, bare = match.groups()
        name = quoted.replace("\\`", "`") if quoted is not None else bare
        return literals.get(name, match.group(0))

    return _PARAMETER_NAME.sub(replace, query)


def _without_parameters(
    query: str, job_config: bigquery.QueryJobConfig | None
) -> tuple[str, bigquery.QueryJobConfig | None]:
    if job_config is None:
        return query, None
    parameters = list(job_config.query_parameters or [])
    config = copy.deepcopy(job_config)
    # no public way to drop the field: the setter writes `queryParameters: []`, also refused
    config._properties.get("query", {}).pop("queryParameters", None)
    config._properties.get("query", {}).pop("parameterMode", None)
    return inline_parameters(query, parameters), config


class InliningClient(bigquery.Client):
    """A ``bigquery.Client`` whose queries carry no ``queryParameters``: they are inlined as
    literals (see above). Only for crucible-emulator; never for BigQuery itself."""

    def query(  # type: ignore[override]
        self,
        query: str,
        job_config: bigquery.QueryJobConfig | None = None,
        *args: Any,
        **kwargs: Any,
    ) -> bigquery.QueryJob:
        query, job_config = _without_parameters(query, job_config)
        return super().query(query, job_config, *args, **kwargs)

    def query_and_wait(self, query: str, **kwargs: Any) -> Any:  # type: ignore[override]
        query, kwargs["job_config"] = _without_parameters(query, kwargs.get("job_config"))
        return super().query_and_wait(query, **kwargs)


def inlining_client_for(
    endpoint: str, project: str = DEFAULT_PROJECT, location: str | None = None
) -> InliningClient:
    """An ``InliningClient`` for an emulator, anonymous like ``client_for``."""
    client = client_for(endpoint, project, location, cls=InliningClient)
    assert isinstance(client, InliningClient)
    return client
