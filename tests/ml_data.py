"""A small simulated order history with a learnable repeat signal, for the ML tests.

Each customer has a latent loyalty; after an order, the chance of another one rises with
loyalty and falls after a late delivery or a bad review, so features carry signal.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np
import pandas as pd

from ml.features import History

START, END = datetime(2016, 9, 1), datetime(2018, 10, 15)
STATES = ["SP", "RJ", "MG", "RS", "BA", "PR"]
CATEGORIES = ["bed_bath_table", "health_beauty", "sports_leisure", "toys", "housewares"]


def simulated_history(customers: int = 3000, seed: int = 1, loyalty: float = 1.0) -> History:
    """``loyalty`` scales everybody's chance of coming back (0.02 makes repeats rare)."""
    rng = np.random.default_rng(seed)
    span = (END - START).days
    rows, items = [], []
    for c in range(customers):
        who = f"c{c:05d}"
        trait = rng.beta(2, 5) * loyalty
        when = START + timedelta(days=float(rng.uniform(0, span - 30)))
        state = STATES[rng.integers(len(STATES))]
        k = 0
        while when < END:
            late = bool(rng.random() < 0.1)
            days = int(rng.integers(3, 25)) + (15 if late else 0)
            score = int(np.clip(round(rng.normal(4.3 - (2.0 if late else 0), 1)), 1, 5))
            status = "canceled" if rng.random() < 0.01 else "delivered"
            value = float(round(rng.lognormal(4.5 + trait, 0.6), 2))
            delivered = when + timedelta(days=days) if status == "delivered" else pd.NaT
            rows.append(
                {
                    "customer_unique_id": who,
                    "order_id": f"{who}-{k}",
                    "order_status": status,
                    "purchased_at": pd.Timestamp(when),
                    "delivered_to_customer_at": delivered,
                    "order_value": value,
                    "items_count": int(rng.integers(1, 3)),
                    "freight_value": round(value * 0.15, 2),
                    "review_score": score,
                    "review_has_comment": bool(rng.random() < 0.4),
                    "review_answered_at": (
                        delivered + timedelta(days=2) if status == "delivered" else pd.NaT
                    ),
                    "is_late": late,
                    "delivery_days": days,
                    "delay_days": days - 20,
                    "main_payment_type": "boleto" if rng.random() < 0.2 else "credit_card",
                    "used_voucher": bool(rng.random() < 0.05),
                    "max_installments": int(rng.integers(1, 6)),
                    "customer_state": state,
                }
            )
            items.append(
                {
                    "customer_unique_id": who,
                    "purchased_at": pd.Timestamp(when),
                    "category": CATEGORIES[rng.integers(len(CATEGORIES))],
                }
            )
            k += 1
            p_return = np.clip(
                trait * 1.6 - (0.25 if late else 0) - (0.1 if score <= 2 else 0), 0, 0.9
            )
            if rng.random() >= p_return:
                break
            when += timedelta(days=float(rng.exponential(90 / (0.5 + trait))) + 1)
    orders = pd.DataFrame(rows)
    return History(orders[orders["purchased_at"] < END].reset_index(drop=True), pd.DataFrame(items))
