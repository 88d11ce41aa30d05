"""Gold, wherever the target keeps it: the order history the ML stages read, and the tables
scoring writes.

On the ``duckdb`` target gold is a schema of the warehouse file. On ``bigquery`` dbt builds it
in BigQuery, so training and scoring read the history from there (``olist.bigquery_target``),
and the scores are written to the local file first (the record of what was published) and
then replace their BigQuery copies, where readers of gold find them beside the marts.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

import pandas as pd

from ml.features import ITEMS_SQL, ORDERS_SQL, History
from olist import warehouse
from olist.settings import Settings

if TYPE_CHECKING:
    from olist.bigquery_target import Target

SCHEMA = "gold"


def read_history(settings: Settings) -> History:
    """The published order history of ``settings``' target."""
    if settings.dbt_target == "bigquery":
        from olist.bigquery_target import target_client

        with target_client() as target:
            return history_from_bigquery(target)
    with warehouse.connect(settings.warehouse, read_only=True) as con:
        return History.from_warehouse(con)


def history_from_bigquery(target: Target) -> History:
    """``History.from_warehouse`` for the marts in BigQuery's ``gold``."""
    from olist.bigquery_target import read_frame

    return History(read_frame(target, ORDERS_SQL), read_frame(target, ITEMS_SQL))


def write_tables(settings: Settings, frames: Mapping[str, pd.DataFrame]) -> dict[str, int]:
    """Replace ``gold.<name>`` with each frame (one DuckDB transaction; on ``bigquery`` then
    one atomic replacement per table there too); name → rows written."""
    with warehouse.connect(settings.warehouse) as con:
        warehouse.replace_tables(con, SCHEMA, dict(frames))
        if settings.dbt_target != "bigquery":
            return {name: len(frame) for name, frame in frames.items()}
        from olist.bigquery_target import replace_from_duckdb, target_client

        with target_client() as target:
            return replace_from_duckdb(con, target, SCHEMA, SCHEMA, tables=list(frames))
