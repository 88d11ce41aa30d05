"""Edits of a copy of the real sample that the history-check tests share."""

from __future__ import annotations

from pathlib import Path


def drop_orders_with_items(source: Path) -> set[str]:
    """The orders file without three orders that items name (few enough to pass the
    row-count-drop check); their ids."""
    items = (source / "olist_order_items_dataset.csv").read_text(encoding="utf-8").splitlines()
    dropped = set(list(dict.fromkeys(line.split(",")[0] for line in items[1:]))[:3])
    orders = source / "olist_orders_dataset.csv"
    lines = orders.read_text(encoding="utf-8").splitlines(keepends=True)
    kept = [line for line in lines[1:] if line.split(",")[0] not in dropped]
    assert len(kept) == len(lines) - 4
    orders.write_text("".join([lines[0], *kept]), encoding="utf-8")
    return dropped
