from __future__ import annotations

import json
from pathlib import Path

from synthetic.batches import generate_batch, timeline_end


def test_batches_continue_the_timeline(synthetic_dir: Path, tmp_path: Path) -> None:
    end = timeline_end(synthetic_dir, tmp_path)
    first = json.loads(generate_batch(synthetic_dir, tmp_path, n_orders=50, seed=3).read_text())
    second = json.loads(generate_batch(synthetic_dir, tmp_path, n_orders=50, seed=3).read_text())
    assert first["window_start"] == f"{end:%Y-%m-%d %H:%M:%S}"
    assert second["window_start"] == first["window_end"]
    assert len(first["orders"]) == 50
    order = first["orders"][0]
    assert order["order_purchase_timestamp"] > f"{end:%Y-%m-%d %H:%M:%S}"
    assert {"customer", "items", "payments"} <= set(order)
    total = round(sum(i["price"] + i["freight_value"] for i in order["items"]), 2)
    assert order["payments"][0]["payment_value"] == total
