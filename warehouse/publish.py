"""Write-audit-publish: dbt writes the gold marts to an audit schema, the checks read them
there, and only a run without a critical failure copies them to ``gold``, the schema
readers use. A failed run leaves ``gold`` as it was.

On DuckDB the copy is one transaction, so readers see the previous publication or the new
one, never a mix. On BigQuery each mart is replaced atomically by
``CREATE OR REPLACE TABLE … AS SELECT``, but not all of them at once: BigQuery's
multi-statement transactions take DML only, not DDL. For the seconds a publish takes a
reader can see some marts of the new publication beside some of the previous one. The
marts are replaced in the order dbt builds them (dimensions before facts), and a publish
that stops midway is finished by the next successful run. On Google's BigQuery ``CLONE``
would copy without scanning; the emulator CI tests against (crucible) has no ``CLONE``,
``COPY`` or copy jobs, and the marts are small, so CTAS it is.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING

import duckdb
import pandas as pd

from quality.runs import last_run_succeeded
from warehouse.local import scalar, table_exists

if TYPE_CHECKING:
    from warehouse.engine import Warehouse

AUDIT_SCHEMA = "gold_audit"
PUBLISHED_SCHEMA = "gold"


def publish_marts(
    wh: Warehouse,
    audit_schema: str = AUDIT_SCHEMA,
    schema: str = PUBLISHED_SCHEMA,
    only: Sequence[str] | None = None,
) -> list[str]:
    """Replace every published mart (or the ``only`` ones an incremental run rebuilt) with
    its audited copy: all or nothing where the engine has transactions over DDL (DuckDB), one
    atomic table at a time otherwise (BigQuery; see the module docstring).

    Tables in ``schema`` that dbt does not build (``customer_scores``) are left alone; on
    BigQuery the published dataset must exist (docs/gcp.md creates it).
    """
    tables = _to_publish(wh.tables(audit_schema, views=False), audit_schema, only)
    with wh.transaction():
        wh.ensure_schema(schema)
        for table in _dimensions_first(tables):
            wh.execute(
                f"create or replace table {schema}.{table} as select * from {audit_schema}.{table}"
            )
    return tables


PARTIAL_DDL = """
create table if not exists ops.partial_publications (
    run_id        varchar primary key,
    published_at  timestamp not null,
    tables        varchar not null
)
"""


def record_partial_publication(
    con: duckdb.DuckDBPyConnection, run_id: str, tables: Sequence[str]
) -> None:
    """Remember that ``run_id`` published only ``tables``: gold marts built from the rest of
    the warehouse may lag until a full build, so the next platform run must not skip."""
    con.execute("create schema if not exists ops")
    con.execute(PARTIAL_DDL)
    con.execute(
        "insert or replace into ops.partial_publications values (?, now()::timestamp, ?)",
        [run_id, ",".join(tables)],
    )


def published_watermark(wh: Warehouse, tables: Sequence[str]) -> datetime | None:
    """The load time (naive UTC) up to which ``gold`` holds every row of ``tables``: the
    earliest of their latest ``_loaded_at``. An incremental run checks row by row only the
    audit rows loaded after it (dbt's ``loaded_after`` var, ``expectations.run_suites``'
    ``loaded_after``): what it loaded, and what a failed run before it left unpublished.
    Strictly after: a load whose rows gold holds was published whole (a publish copies the
    audit tables), and every row of the last CSV load shares its time. None (check
    everything) when a table is not published yet or is empty."""
    if any(t not in wh.tables(PUBLISHED_SCHEMA, views=False) for t in tables):
        return None
    latest = " union all ".join(
        f"select max(_loaded_at) as loaded_at from {PUBLISHED_SCHEMA}.{t}" for t in tables
    )
    frame = wh.query(latest)
    if frame["loaded_at"].isna().any():
        return None
    earliest = pd.Timestamp(frame["loaded_at"].min())
    if earliest.tzinfo is not None:
        earliest = earliest.tz_convert("UTC").tz_localize(None)
    return earliest.to_pydatetime()


def gold_up_to_date(con: duckdb.DuckDBPyConnection) -> bool:
    """True when the latest run succeeded and published every mart: with no new source file
    a platform run then has nothing to do. After a run that published only some marts (an
    incremental batch), the next full run rebuilds the rest even if no file changed."""
    if not last_run_succeeded(con):
        return False
    if not table_exists(con, "ops", "partial_publications"):
        return True
    latest = scalar(con, "select run_id from quality.runs order by started_at desc limit 1")
    partial = scalar(
        con, "select count(*) from ops.partial_publications where run_id = ?", [latest]
    )
    return not partial


def _to_publish(tables: list[str], audit_schema: str, only: Sequence[str] | None) -> list[str]:
    if only is not None:
        missing = sorted(set(only) - set(tables))
        if missing:
            raise RuntimeError(f"nothing to publish: {audit_schema} lacks {', '.join(missing)}")
        tables = [t for t in tables if t in only]
    if not tables:
        raise RuntimeError(f"nothing to publish: schema {audit_schema} has no tables")
    return tables


def _dimensions_first(tables: list[str]) -> list[str]:
    """``dim_*`` before the rest, so a fact published beside the previous dimensions never
    references a key the dimension does not have yet."""
    return sorted(tables, key=lambda t: (not t.startswith("dim_"), t))
