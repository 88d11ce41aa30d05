"""Incremental JSON order batches that continue the timeline after the CSV history.

One file per batch, as an upstream shop would emit it: each order with its customer, its
items and its payments nested. Products and sellers come from the history's catalogue; a
share of the customers are returning ones.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path

import duckdb
import numpy as np

from synthetic.generator import _hex_ids
from synthetic.vocab import HEADERS, INSTALLMENTS

BATCH_GLOB = "orders_batch_*.json"


def _csv(folder: Path, file: str) -> str:
    cols = ", ".join(f"'{c}': 'VARCHAR'" for c in HEADERS[file])
    return (
        f"read_csv('{(folder / file).as_posix()}', header=true, delim=',', quote='\"', "
        f"escape='\"', auto_detect=false, columns={{{cols}}})"
    )


def timeline_end(history: Path, batches: Path) -> datetime:
    """The latest purchase timestamp in the history and in batches already written."""
    con = duckdb.connect()
    try:
        rows = con.execute(
            f"select max(order_purchase_timestamp) from {_csv(history, 'olist_orders_dataset.csv')}"
        ).fetchall()
    finally:
        con.close()
    end = datetime.fromisoformat(rows[0][0])
    for path in sorted(batches.glob(BATCH_GLOB)):
        batch = json.loads(path.read_text(encoding="utf-8"))
        end = max(end, datetime.fromisoformat(batch["window_end"]))
    return end


def generate_batch(
    history: Path | str,
    out_dir: Path | str,
    n_orders: int = 1_000,
    seed: int = 1,
    window_minutes: int = 15,
) -> Path:
    """Write one batch of ``n_orders`` purchased in the ``window_minutes`` after the
    timeline's end; returns the file written."""
    history, out = Path(history), Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    start = timeline_end(history, out)
    rng = np.random.default_rng([seed, int(start.timestamp())])
    con = duckdb.connect()
    try:
        customers = con.execute(
            f"select distinct customer_unique_id, customer_zip_code_prefix, customer_city, "
            f"customer_state from {_csv(history, 'olist_customers_dataset.csv')}"
        ).fetchall()
        products = con.execute(
            f"select i.product_id, i.seller_id, median(i.price::double) "
            f"from {_csv(history, 'olist_order_items_dataset.csv')} i group by all"
        ).fetchall()
    finally:
        con.close()
    order_ids, customer_ids = _hex_ids(rng, n_orders), _hex_ids(rng, n_orders)
    new_people = _hex_ids(rng, n_orders)
    offsets = np.sort(rng.uniform(1, window_minutes * 60, n_orders))
    inst_keys = list(INSTALLMENTS)
    inst_p = np.array(list(INSTALLMENTS.values()), dtype=float)
    inst_p /= inst_p.sum()
    orders = []
    for i in range(n_orders):
        purchased = start + timedelta(seconds=float(offsets[i]))
        returning = rng.random() < 0.3
        person = customers[int(rng.integers(len(customers)))]
        unique_id = person[0] if returning else new_people[i]
        items = []
        for k in range(int(rng.choice([1, 1, 1, 1, 1, 1, 1, 1, 2, 3]))):
            product = products[int(rng.integers(len(products)))]
            items.append(
                {
                    "order_item_id": k + 1,
                    "product_id": product[0],
                    "seller_id": product[1],
                    "shipping_limit_date": f"{purchased + timedelta(days=6):%Y-%m-%d %H:%M:%S}",
                    "price": round(float(product[2]) * float(rng.lognormal(0, 0.05)), 2),
                    "freight_value": round(float(rng.gamma(4.0, 4.5)), 2),
                }
            )
        total = round(sum(it["price"] + it["freight_value"] for it in items), 2)
        card = rng.random() < 0.78
        orders.append(
            {
                "order_id": order_ids[i],
                "order_status": "approved" if card else "created",
                "order_purchase_timestamp": f"{purchased:%Y-%m-%d %H:%M:%S}",
                "order_approved_at": (
                    f"{purchased + timedelta(minutes=int(rng.integers(2, 30))):%Y-%m-%d %H:%M:%S}"
                    if card
                    else None
                ),
                "order_estimated_delivery_date": f"{purchased.date() + timedelta(days=int(rng.integers(10, 35)))} 00:00:00",
                "customer": {
                    "customer_id": customer_ids[i],
                    "customer_unique_id": unique_id,
                    "customer_zip_code_prefix": person[1],
                    "customer_city": person[2],
                    "customer_state": person[3],
                },
                "items": items,
                "payments": [
                    {
                        "payment_sequential": 1,
                        "payment_type": "credit_card" if card else "boleto",
                        "payment_installments": int(rng.choice(inst_keys, p=inst_p)) if card else 1,
                        "payment_value": total,
                    }
                ],
            }
        )
    end = start + timedelta(minutes=window_minutes)
    batch_id = f"{start:%Y%m%dT%H%M%S}-{seed}"
    path = out / f"orders_batch_{batch_id}.json"
    path.write_text(
        json.dumps(
            {
                "batch_id": batch_id,
                "window_start": f"{start:%Y-%m-%d %H:%M:%S}",
                "window_end": f"{end:%Y-%m-%d %H:%M:%S}",
                "orders": orders,
            },
            ensure_ascii=False,
            indent=1,
        )
        + "\n",
        encoding="utf-8",
    )
    return path
