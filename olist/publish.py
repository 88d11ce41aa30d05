"""Write-audit-publish: dbt writes the gold marts to an audit schema, the checks read them
there, and only a run without a critical failure copies them to ``gold``, the schema
readers use. The copy is one DuckDB transaction, so readers see the previous publication
or the new one, never a mix; a failed run leaves ``gold`` as it was.
"""

from __future__ import annotations

import duckdb

from olist.warehouse import transaction

AUDIT_SCHEMA = "gold_audit"
PUBLISHED_SCHEMA = "gold"


def audit_tables(con: duckdb.DuckDBPyConnection, audit_schema: str = AUDIT_SCHEMA) -> list[str]:
    return [
        t
        for (t,) in con.execute(
            "select table_name from information_schema.tables "
            "where table_schema = ? and table_type = 'BASE TABLE' order by table_name",
            [audit_schema],
        ).fetchall()
    ]


def publish(
    con: duckdb.DuckDBPyConnection,
    audit_schema: str = AUDIT_SCHEMA,
    schema: str = PUBLISHED_SCHEMA,
    only: tuple[str, ...] | list[str] | None = None,
) -> list[str]:
    """Replace every published mart (or the ``only`` ones an incremental run rebuilt) with
    its audited copy, all or nothing.

    Tables in ``schema`` that dbt does not build (``customer_scores``) are left alone.
    """
    tables = audit_tables(con, audit_schema)
    if only is not None:
        missing = sorted(set(only) - set(tables))
        if missing:
            raise RuntimeError(f"nothing to publish: {audit_schema} lacks {', '.join(missing)}")
        tables = [t for t in tables if t in only]
    if not tables:
        raise RuntimeError(f"nothing to publish: schema {audit_schema} has no tables")
    with transaction(con):
        con.execute(f"create schema if not exists {schema}")
        for table in tables:
            con.execute(
                f"create or replace table {schema}.{table} as select * from {audit_schema}.{table}"
            )
    return tables
