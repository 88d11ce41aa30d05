"""A slice of the real sample: the orders purchased in a few days, with their parts.

Backfill and incremental tests need a history short enough to rebuild day by day in a test;
the slice keeps every quirk of those days' real rows (the files are filtered, not rewritten).
"""

from __future__ import annotations

import csv
import shutil
from datetime import date
from pathlib import Path

ORDERS = "olist_orders_dataset.csv"
BY_ORDER = (
    "olist_order_items_dataset.csv",
    "olist_order_payments_dataset.csv",
    "olist_order_reviews_dataset.csv",
)
CUSTOMERS = "olist_customers_dataset.csv"


def _filter(src: Path, dst: Path, keep) -> int:
    kept = 0
    with (
        src.open(newline="", encoding="utf-8") as fin,
        dst.open("w", newline="", encoding="utf-8") as fout,
    ):
        reader = csv.reader(fin)
        writer = csv.writer(fout, lineterminator="\n")
        header = next(reader)
        writer.writerow(header)
        for row in reader:
            if keep(dict(zip(header, row, strict=True))):
                writer.writerow(row)
                kept += 1
    return kept


# the three days the backfill, state and BigQuery-flow tests rebuild (the ``window`` fixture)
START, END = date(2018, 3, 1), date(2018, 3, 3)
ORDERS_IN_WINDOW = 74
# the run id of the session's platform run on the window (``window_run``, tests/flows/conftest.py)
WINDOW_RUN_ID = "window-full"


def sample_window(sample: Path, out: Path, start: date, end: date) -> int:
    """Write the 9 files of the orders purchased from ``start`` to ``end`` (included);
    returns the number of orders."""
    out.mkdir(parents=True, exist_ok=True)
    order_ids: set[str] = set()
    customer_ids: set[str] = set()

    def in_window(row: dict[str, str]) -> bool:
        day = date.fromisoformat(row["order_purchase_timestamp"][:10])
        if start <= day <= end:
            order_ids.add(row["order_id"])
            customer_ids.add(row["customer_id"])
            return True
        return False

    n = _filter(sample / ORDERS, out / ORDERS, in_window)
    for name in BY_ORDER:
        _filter(sample / name, out / name, lambda row: row["order_id"] in order_ids)
    _filter(sample / CUSTOMERS, out / CUSTOMERS, lambda row: row["customer_id"] in customer_ids)
    for path in sample.glob("*.csv"):
        if not (out / path.name).exists():
            shutil.copy(path, out / path.name)
    return n
