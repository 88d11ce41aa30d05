"""How the GX checkpoints reach the warehouse dbt builds on the ``bigquery`` target.

``expectations.run_suites`` runs on GX's BigQuery datasource through sqlalchemy-bigquery. It gets
a connection string and engine arguments carrying a ready ``bigquery.Client``
(``?user_supplied_client=true`` with ``connect_args={"client": ...}``), so the client is
built exactly like the one that loads bronze (``olist.bigquery_load.client_from_env``): the
same ``OLIST_BQ_*`` variables and defaults as dbt/profiles.yml, hence the same project,
location and credentials (``OLIST_BQ_METHOD=oauth``: Application Default Credentials).

Which BigQuery: ``OLIST_BQ_API_ENDPOINT`` empty (the default) is Google's; any endpoint that
is not a ``googleapis.com`` host is taken for a local emulator (crucible-emulator, see
``olist.bigquery_emulator``), which gets an anonymous ``InliningClient``: crucible 0.1.0a2
refuses the query parameters the DB-API always sends, so they are inlined as literals there.

The suites name every table by dataset (``silver.stg_olist__orders``, ``gold.fct_orders``;
dbt's ``generate_schema_name`` gives the medallion datasets these exact names on both
targets), so the client needs no default dataset: the datasets resolve in its project.

Known gap of the emulator: GX renders the bounds of ``expect_column_values_to_be_between``
on a ``TIMESTAMP`` column as ``DATETIME`` literals; crucible compares them, real BigQuery
rejects ``TIMESTAMP >= DATETIME``. No suite has such an expectation; do not add one without
checking it on BigQuery. (``expect_column_max_to_be_between`` compares in Python and works
with a timezone-aware bound: ``olist.quality.freshness_floor``.)
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlparse

from google.cloud import bigquery

from olist.bigquery_emulator import inlining_client_for
from olist.bigquery_load import DEFAULT_LOCATION, DEFAULT_PROJECT, client_from_env


@dataclass(frozen=True)
class GXBigQuery:
    """What ``run_suites`` needs for BigQuery, and the client itself (for the baseline
    queries; close it when done)."""

    connection_string: str
    client: bigquery.Client
    emulator: bool
    engine_kwargs: dict[str, Any] = field(default_factory=dict)


def is_emulator_endpoint(endpoint: str) -> bool:
    """An API endpoint that is set and not Google's (``*.googleapis.com``, including regional
    and private-service-connect names) is a local emulator."""
    if not endpoint:
        return False
    host = (urlparse(endpoint).hostname or "").lower()
    return not (host == "googleapis.com" or host.endswith(".googleapis.com"))


def gx_bigquery(environ: Mapping[str, str] | None = None) -> GXBigQuery:
    """The GX connection for the ``bigquery`` target, from the ``OLIST_BQ_*`` variables."""
    env = os.environ if environ is None else environ
    endpoint = env.get("OLIST_BQ_API_ENDPOINT", "")
    project = env.get("OLIST_BQ_PROJECT") or DEFAULT_PROJECT
    emulator = is_emulator_endpoint(endpoint)
    if emulator:
        client: bigquery.Client = inlining_client_for(
            endpoint, project, location=env.get("OLIST_BQ_LOCATION") or DEFAULT_LOCATION
        )
    else:
        client = client_from_env(env)
    return GXBigQuery(
        # the project in the URL is the dialect's (reflection); the client runs the queries
        connection_string=f"bigquery://{client.project}?user_supplied_client=true",
        client=client,
        emulator=emulator,
        engine_kwargs={"connect_args": {"client": client}},
    )
