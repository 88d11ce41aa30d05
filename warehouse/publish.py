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
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

import duckdb
import pandas as pd

from quality.runs import last_run_succeeded
from warehouse.local import scalar, table_exists
from warehouse.touched import Touched, in_list

if TYPE_CHECKING:
    from warehouse.engine import Warehouse

AUDIT_SCHEMA = "gold_audit"
PUBLISHED_SCHEMA = "gold"


@dataclass(frozen=True)
class Publication:
    """The marts a publish replaced; ``by_rows``: those of them it replaced by the touched
    orders' rows only; ``whole_after_mismatch``: those it meant to, but copied whole because
    the published table and its audited copy then held different row counts."""

    tables: list[str]
    by_rows: list[str] = field(default_factory=list)
    whole_after_mismatch: list[str] = field(default_factory=list)


def publish_marts(
    wh: Warehouse,
    audit_schema: str = AUDIT_SCHEMA,
    schema: str = PUBLISHED_SCHEMA,
    only: Sequence[str] | None = None,
    touched: Touched | None = None,
) -> Publication:
    """Replace every published mart (or the ``only`` ones an incremental run rebuilt) with
    its audited copy: all or nothing where the engine has transactions over DDL (DuckDB), one
    atomic table at a time otherwise (BigQuery; see the module docstring).

    ``touched``: the orders a batch run rebuilt, given only when gold equals the audit
    schema but for them (``rows_publishable``). The marts keyed by order or customer
    (``ROW_MARTS``) then get only those orders' rows, deleted and inserted in the one
    transaction; on BigQuery, which has none over several statements, they are copied whole,
    so a reader never sees them without the touched orders. A row-replaced table whose row
    count then differs from its audited copy's is copied whole after all (a cheap check that
    catches a gold that was not what ``rows_publishable`` promised).

    Tables in ``schema`` that dbt does not build (``customer_scores``) are left alone; on
    BigQuery the published dataset must exist (docs/gcp.md creates it).
    """
    tables = _to_publish(wh.tables(audit_schema, views=False), audit_schema, only)
    rows: dict[str, str] = {}
    if touched is not None and wh.atomic_transactions:
        published = set(wh.tables(schema, views=False))
        rows = {
            table: where
            for table, where in _touched_rows(touched, audit_schema, schema).items()
            if table in tables and table in published
        }
    mismatched: list[str] = []
    with wh.transaction():
        wh.ensure_schema(schema)
        for table in _dimensions_first(tables):
            if table in rows:
                if _replace_rows(wh, schema, audit_schema, table, rows[table]):
                    continue
                mismatched.append(table)
            wh.execute(
                f"create or replace table {schema}.{table} as select * from {audit_schema}.{table}"
            )
    by_rows = sorted(set(rows) - set(mismatched))
    return Publication(tables, by_rows=by_rows, whole_after_mismatch=mismatched)


# the published marts whose rows belong to one order or one customer: a batch run that may
# (``rows_publishable``) replaces only the touched orders' rows of them. At scale 10 copying
# these four whole is 2.9 of the 4.2 s a batch's publish takes (a million rows each).
ROW_MARTS = ("dim_customers", "fct_order_items", "fct_order_payments", "fct_orders")


def _touched_rows(touched: Touched, audit_schema: str, schema: str) -> dict[str, str]:
    """Each of ``ROW_MARTS`` → the condition its touched rows meet, on the published table
    and its audited copy alike. A customer's row is touched when one of the touched orders
    is theirs now (audit) or was (gold: an order that changed hands, or vanished), so
    ``dim_customers`` must be replaced before ``fct_orders`` (``_dimensions_first``)."""
    if not touched.order_ids:
        return dict.fromkeys(ROW_MARTS, "1 = 0")
    orders = f"order_id in ({in_list(touched.order_ids)})"
    owners = " union distinct ".join(
        f"select customer_unique_id from {s}.fct_orders where {orders}"
        for s in (schema, audit_schema)
    )
    return {
        "dim_customers": f"customer_unique_id in ({owners})",
        "fct_order_items": orders,
        "fct_order_payments": orders,
        "fct_orders": orders,
    }


def _replace_rows(wh: Warehouse, schema: str, audit_schema: str, table: str, where: str) -> bool:
    """The rows of ``schema.table`` meeting ``where`` replaced by the audited ones meeting it;
    False (nothing to undo: the caller copies the table whole in the same transaction) when
    the two tables' row counts then differ."""
    wh.execute(f"delete from {schema}.{table} where {where}")
    # by name: the two tables' columns match by name (dbt's on_schema_change), not always by
    # position. DuckDB's syntax: only engines with atomic_transactions come here
    wh.execute(
        f"insert into {schema}.{table} by name select * from {audit_schema}.{table} where {where}"
    )
    counts = wh.query(
        f"select (select count(*) from {schema}.{table}) as published, "
        f"(select count(*) from {audit_schema}.{table}) as audited"
    )
    return int(counts["published"][0]) == int(counts["audited"][0])


def rows_publishable(con: duckdb.DuckDBPyConnection, run_id: str) -> bool:
    """True when gold equals the audit schema but for the orders a batch run touched, so
    that run may publish ``ROW_MARTS`` by those orders' rows: the run before ``run_id``
    succeeded and published. Each run that publishes leaves gold equal to the audit schema
    (a full copy, or the touched rows of a gold that was). A run that changed the audit
    schema and did not publish breaks that: a failed batch is harmless (its orders are
    touched again, from the same published watermark), but a failed daily build, or a
    backfill that stopped after some days (it succeeds without publishing), can have
    rewritten any order (a new model's logic). After any run that did not publish, the next
    batch copies the marts whole. Builds outside a run are not seen here: a ``dbt build``
    by hand into the audit schema, or ``olist transform``, which builds into ``gold``
    itself. After one with changed models, run the daily build before the next batch."""
    if not table_exists(con, "quality", "runs"):
        return False
    previous = con.execute(
        "select status = 'succeeded' and coalesce(published, false) from quality.runs "
        "where run_id <> ? order by started_at desc limit 1",
        [run_id],
    ).fetchall()  # drained, as warehouse.local.scalar does
    return bool(previous and previous[0][0])


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
