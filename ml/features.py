"""Point-in-time customer features and labels from the order history.

Grain: ``customer_unique_id``. For a cutoff, features use only orders purchased strictly
before it; labels use the window ``[cutoff, cutoff + horizon)``. Nothing at or after the
cutoff reaches a feature.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np
import pandas as pd

ORDER_COLUMNS = [
    "customer_unique_id",
    "order_id",
    "order_status",
    "purchased_at",
    "order_value",
    "items_count",
    "review_score",
    "is_late",
    "delivery_days",
    "main_payment_type",
    "used_voucher",
    "max_installments",
]
FEATURES = [
    "recency_days",
    "frequency",
    "monetary",
    "avg_order_value",
    "tenure_days",
    "avg_items",
    "avg_review",
    "low_review_share",
    "late_share",
    "avg_delivery_days",
    "boleto_share",
    "voucher_share",
    "avg_installments",
]
ORDERS_SQL = f"select {', '.join(ORDER_COLUMNS)} from gold.fct_orders"


def build_features(orders: pd.DataFrame, cutoff: datetime) -> pd.DataFrame:
    """One row per customer with at least one order before ``cutoff``."""
    past = orders[orders["purchased_at"] < cutoff]
    if past.empty:
        return pd.DataFrame(columns=["customer_unique_id", *FEATURES])
    valid = ~past["order_status"].isin(["canceled", "unavailable"])
    frame = past.assign(
        value=np.where(valid, past["order_value"].astype(float), 0.0),
        low_review=(past["review_score"] <= 2).astype(float),
        late=past["is_late"].astype(float),
        boleto=(past["main_payment_type"] == "boleto").astype(float),
        voucher=past["used_voucher"].astype(float),
    )
    grouped = frame.groupby("customer_unique_id")
    first, last = grouped["purchased_at"].min(), grouped["purchased_at"].max()
    out = pd.DataFrame(
        {
            "recency_days": (cutoff - last).dt.total_seconds() / 86_400,
            "frequency": grouped.size().astype(float),
            "monetary": grouped["value"].sum(),
            "avg_order_value": grouped["value"].mean(),
            "tenure_days": (cutoff - first).dt.total_seconds() / 86_400,
            "avg_items": grouped["items_count"].mean().astype(float),
            "avg_review": grouped["review_score"].mean().astype(float),
            "low_review_share": grouped["low_review"].mean(),
            "late_share": grouped["late"].mean(),
            "avg_delivery_days": grouped["delivery_days"].mean().astype(float),
            "boleto_share": grouped["boleto"].mean(),
            "voucher_share": grouped["voucher"].mean(),
            "avg_installments": grouped["max_installments"].mean().astype(float),
        }
    )
    return out.reset_index()


def build_labels(orders: pd.DataFrame, cutoff: datetime, horizon_days: int) -> pd.DataFrame:
    """churned = 1 when the customer buys nothing in ``[cutoff, cutoff + horizon)``."""
    end = cutoff + timedelta(days=horizon_days)
    window = orders[(orders["purchased_at"] >= cutoff) & (orders["purchased_at"] < end)]
    future = window.groupby("customer_unique_id").size()
    return pd.DataFrame({"customer_unique_id": future.index, "future_orders": future.values})


def labelled_frame(orders: pd.DataFrame, cutoff: datetime, horizon_days: int) -> pd.DataFrame:
    features = build_features(orders, cutoff)
    labels = build_labels(orders, cutoff, horizon_days)
    frame = features.merge(labels, on="customer_unique_id", how="left")
    frame["future_orders"] = frame["future_orders"].fillna(0).astype(int)
    frame["churned"] = (frame["future_orders"] == 0).astype(int)
    frame["cutoff"] = cutoff
    return frame


def forward_cutoffs(
    orders: pd.DataFrame, horizon_days: int, n_train: int = 3, step_days: int = 90
) -> tuple[list[datetime], datetime]:
    """Training cutoffs (earliest first) and the holdout cutoff, the latest one whose label
    window is fully observed."""
    last = pd.Timestamp(orders["purchased_at"].max()).to_pydatetime()
    holdout = (last - timedelta(days=horizon_days)).replace(
        hour=0, minute=0, second=0, microsecond=0
    )
    first = pd.Timestamp(orders["purchased_at"].min()).to_pydatetime()
    train = [holdout - timedelta(days=step_days * k) for k in range(n_train, 0, -1)]
    train = [c for c in train if c - first > timedelta(days=60)]
    if not train:
        raise ValueError(
            f"order history from {first:%Y-%m-%d} to {last:%Y-%m-%d} is too short for a "
            f"{horizon_days}-day churn horizon with forward validation"
        )
    return train, holdout
