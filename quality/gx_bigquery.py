"""How the GX checkpoints reach the warehouse dbt builds on the ``bigquery`` target.

``expectations.run_suites`` runs on GX's BigQuery datasource through sqlalchemy-bigquery. It gets
a connection string and engine arguments carrying a ready ``bigquery.Client``
(``?user_supplied_client=true`` with ``connect_args={"client": ...}``), so the client is
built by ``warehouse.bigquery.target_client``, like the one that loads bronze: the
same ``OLIST_BQ_*`` variables and defaults as dbt/profiles.yml, hence the same project,
location and credentials (``OLIST_BQ_METHOD=oauth``: Application Default Credentials).

Which BigQuery: ``OLIST_BQ_API_ENDPOINT`` empty (the default) is Google's; any endpoint that
is not a ``googleapis.com`` host is taken for a local emulator (crucible-emulator, see
``warehouse.bigquery_emulator``), which gets an anonymous ``InliningClient``: crucible 0.1.0a2
refuses the query parameters the DB-API always sends, so they are inlined as literals there.

The suites name every table by dataset (``silver.stg_olist__orders``, ``gold.fct_orders``;
dbt's ``generate_schema_name`` gives the medallion datasets these exact names on both
targets), so the client needs no default dataset: the datasets resolve in its project.

Known gap of the emulator: GX renders the bounds of ``expect_column_values_to_be_between``
on a ``TIMESTAMP`` column as ``DATETIME`` literals; crucible compares them, real BigQuery
rejects ``TIMESTAMP >= DATETIME``. No suite has such an expectation; do not add one without
checking it on BigQuery. (``expect_column_max_to_be_between`` compares in Python and works
with a timezone-aware bound: ``quality.checks.freshness_floor``.)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from google.cloud import bigquery

from warehouse.bigquery import target_client


@dataclass(frozen=True)
class GXBigQuery:
    """What ``run_suites`` needs for BigQuery, and the client itself (for the baseline
    queries; close it when done)."""

    connection_string: str
    client: bigquery.Client
    emulator: bool
    engine_kwargs: dict[str, Any] = field(default_factory=dict)


def gx_connection(client: bigquery.Client) -> tuple[str, dict[str, Any]]:
    """GX's connection string and engine arguments for ``client``: the project in the URL is
    the dialect's (reflection); the client runs the queries."""
    return (
        f"bigquery://{client.project}?user_supplied_client=true",
        {"connect_args": {"client": client}},
    )


def gx_bigquery(environ: Mapping[str, str] | None = None) -> GXBigQuery:
    """The GX connection for the ``bigquery`` target, from the ``OLIST_BQ_*`` variables."""
    target = target_client(environ)
    url, kwargs = gx_connection(target.client)
    return GXBigQuery(
        connection_string=url, client=target.client, emulator=target.emulator, engine_kwargs=kwargs
    )
