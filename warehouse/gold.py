"""Gold, wherever the target keeps it: the order history the ML stages read, and the tables
scoring writes, both through the warehouse interface (``warehouse.engine``), so neither asks
which engine it is on."""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from config.settings import Settings
from ml.features import ITEMS_SQL, ORDERS_SQL, History
from warehouse.engine import Warehouse, open_warehouse

SCHEMA = "gold"


def read_history(settings: Settings) -> History:
    """The published order history of ``settings``' target."""
    with open_warehouse(settings, read_only=True) as wh:
        return history_from(wh)


def history_from(wh: Warehouse) -> History:
    """``gold.fct_orders`` and ``gold.fct_order_items`` as the feature builder reads them."""
    return History(wh.query(ORDERS_SQL), wh.query(ITEMS_SQL))


def write_tables(settings: Settings, frames: Mapping[str, pd.DataFrame]) -> dict[str, int]:
    """Replace ``gold.<name>`` in the target with each frame; name → rows written."""
    with open_warehouse(settings) as wh:
        return wh.replace(SCHEMA, frames)
