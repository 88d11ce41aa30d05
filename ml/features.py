"""Point-in-time customer features and labels from the order history (gold).

Grain: ``customer_unique_id``. For a cutoff, a feature may only use what was known before
it: orders purchased before the cutoff, delivery outcomes of orders delivered before it,
review scores answered before it, and the status of orders whose fate was settled by it.
Labels use the window ``[cutoff, cutoff + H)``:
churn = no placed order in it; LTV = the revenue of the placed orders in it.
``tests/unit/ml/test_features.py`` proves it by scrambling everything at or after a cutoff.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
import pandas as pd

ORDER_COLUMNS = [
    "customer_unique_id",
    "order_id",
    "order_status",
    "purchased_at",
    "delivered_to_customer_at",
    "order_value",
    "items_count",
    "freight_value",
    "review_score",
    "review_has_comment",
    "review_answered_at",
    "is_late",
    "delivery_days",
    "delay_days",
    "main_payment_type",
    "used_voucher",
    "max_installments",
    "customer_state",
]
ORDERS_SQL = f"select {', '.join(ORDER_COLUMNS)} from gold.fct_orders"
ITEMS_SQL = "select customer_unique_id, purchased_at, category from gold.fct_order_items"

NOT_PLACED = ("canceled", "unavailable")  # the dbt marts' definition of a placed order
REGIONS = {  # IBGE macro-regions of the customer's state at the last order
    "southeast": ("SP", "RJ", "MG", "ES"),
    "south": ("PR", "SC", "RS"),
    "northeast": ("BA", "PE", "CE", "MA", "PB", "RN", "AL", "SE", "PI"),
    "centerwest": ("DF", "GO", "MT", "MS"),
}

RFM = ["recency_days", "frequency", "monetary"]
FEATURES = [
    *RFM,
    "avg_order_value",
    "tenure_days",
    "avg_items",
    "categories",
    "avg_freight_share",
    "delivered_orders",
    "avg_delivery_days",
    "avg_delay_days",
    "late_share",
    "reviewed_orders",
    "avg_review",
    "negative_review_share",
    "comment_share",
    "credit_card_share",
    "boleto_share",
    "voucher_share",
    "avg_installments",
    "canceled_share",
    *[f"region_{r}" for r in REGIONS],
    "holiday_share",
    "category_repeat_rate",
    "last_purchase_month_sin",
    "last_purchase_month_cos",
]
LABELS = ["churned", "future_orders", "future_revenue"]


@dataclass(frozen=True)
class History:
    """The gold order history the features are computed from."""

    orders: pd.DataFrame
    items: pd.DataFrame  # customer_unique_id, purchased_at, category

    @classmethod
    def from_warehouse(cls, con) -> History:  # noqa: ANN001 - a DuckDB connection
        return cls(con.sql(ORDERS_SQL).df(), con.sql(ITEMS_SQL).df())

    @property
    def first_purchase(self) -> datetime:
        return pd.Timestamp(self.orders["purchased_at"].min()).to_pydatetime()

    @property
    def last_purchase(self) -> datetime:
        return pd.Timestamp(self.orders["purchased_at"].max()).to_pydatetime()


def settle_window(past: pd.DataFrame, cutoff: datetime) -> pd.Timedelta:
    """How long after purchase an order's fate is known: the 95th percentile of purchase
    to delivery among orders delivered before the cutoff (read from the data at the
    cutoff, so it is itself point-in-time)."""
    delivered = past["delivered_to_customer_at"] < cutoff
    took = (past["delivered_to_customer_at"] - past["purchased_at"])[delivered]
    return pd.Timedelta(took.quantile(0.95)) if len(took) else pd.Timedelta(0)


def _share(mask: pd.Series, by: pd.Series) -> pd.Series:
    return mask.astype(float).groupby(by).mean()


def build_features(history: History, cutoff: datetime) -> pd.DataFrame:
    """One row per customer with at least one order purchased before ``cutoff``."""
    orders = history.orders
    past = orders[orders["purchased_at"] < cutoff]
    if past.empty:
        return pd.DataFrame(columns=["customer_unique_id", *FEATURES])
    who = past["customer_unique_id"]
    # the export holds each order's *final* status: an order bought shortly before the
    # cutoff and not yet delivered may be cancelled later, so until it is delivered or
    # older than the settle window it counts as what it was when bought, a placed order
    settled = (past["delivered_to_customer_at"] < cutoff) | (
        past["purchased_at"] <= pd.Timestamp(cutoff) - settle_window(past, cutoff)
    )
    placed = ~past["order_status"].isin(NOT_PLACED) | ~settled
    value = past["order_value"].astype(float).where(placed, 0.0)
    # outcomes count only once they happened before the cutoff
    delivered = past["delivered_to_customer_at"] < cutoff
    reviewed = (past["review_answered_at"] < cutoff) & past["review_score"].notna()
    score = past["review_score"].astype(float).where(reviewed)

    grouped = past.groupby("customer_unique_id")
    first, last = grouped["purchased_at"].min(), grouped["purchased_at"].max()
    frequency = placed.groupby(who).sum().astype(float)
    monetary = value.groupby(who).sum()
    last_state = (
        past.sort_values("purchased_at").groupby("customer_unique_id")["customer_state"].last()
    )
    last_month = last.dt.month.astype(float)

    items = history.items[history.items["purchased_at"] < cutoff]
    categories = items.groupby("customer_unique_id")["category"].nunique()
    # how often buyers of the customer's categories bought again, as known at the cutoff:
    # some categories (consumables) bring people back, and a one-time buyer's only clue
    # to that is what they bought
    bought = items[["customer_unique_id", "category"]].dropna().drop_duplicates()
    repeated = bought["customer_unique_id"].map(frequency >= 2).astype(float)
    category_rate = bought["category"].map(repeated.groupby(bought["category"]).mean())
    category_repeat_rate = category_rate.groupby(bought["customer_unique_id"]).mean()

    out = pd.DataFrame(
        {
            "recency_days": (cutoff - last).dt.total_seconds() / 86_400,
            "frequency": frequency,
            "monetary": monetary,
            "avg_order_value": (monetary / frequency.where(frequency > 0)).fillna(0.0),
            "tenure_days": (cutoff - first).dt.total_seconds() / 86_400,
            "avg_items": grouped["items_count"].mean().astype(float),
            "categories": categories.reindex(first.index).fillna(0).astype(float),
            "avg_freight_share": (
                past["freight_value"].astype(float)
                / past["order_value"].astype(float).where(past["order_value"] > 0)
            )
            .groupby(who)
            .mean(),
            "delivered_orders": delivered.groupby(who).sum().astype(float),
            "avg_delivery_days": past["delivery_days"]
            .astype(float)
            .where(delivered)
            .groupby(who)
            .mean(),
            "avg_delay_days": past["delay_days"].astype(float).where(delivered).groupby(who).mean(),
            "late_share": past["is_late"].astype(float).where(delivered).groupby(who).mean(),
            "reviewed_orders": reviewed.groupby(who).sum().astype(float),
            "avg_review": score.groupby(who).mean(),
            "negative_review_share": (score <= 2).astype(float).where(reviewed).groupby(who).mean(),
            "comment_share": past["review_has_comment"]
            .astype(float)
            .where(reviewed)
            .groupby(who)
            .mean(),
            "credit_card_share": _share(past["main_payment_type"] == "credit_card", who),
            "boleto_share": _share(past["main_payment_type"] == "boleto", who),
            "voucher_share": _share(past["used_voucher"].fillna(False).astype(bool), who),
            "avg_installments": grouped["max_installments"].mean().astype(float),
            "canceled_share": _share(~placed, who),
            **{
                f"region_{region}": last_state.isin(states).astype(float)
                for region, states in REGIONS.items()
            },
            "holiday_share": _share(past["purchased_at"].dt.month.isin([11, 12]), who),
            "category_repeat_rate": category_repeat_rate,
            "last_purchase_month_sin": np.sin(2 * np.pi * last_month / 12),
            "last_purchase_month_cos": np.cos(2 * np.pi * last_month / 12),
        }
    )
    return out[FEATURES].reset_index()


def build_labels(history: History, cutoff: datetime, horizon_days: int) -> pd.DataFrame:
    """Placed orders and their revenue per customer in ``[cutoff, cutoff + horizon)``."""
    orders = history.orders
    end = cutoff + timedelta(days=horizon_days)
    window = orders[
        (orders["purchased_at"] >= cutoff)
        & (orders["purchased_at"] < end)
        & ~orders["order_status"].isin(NOT_PLACED)
    ]
    grouped = window.groupby("customer_unique_id")
    return pd.DataFrame(
        {
            "future_orders": grouped.size(),
            "future_revenue": grouped["order_value"].sum().astype(float),
        }
    ).reset_index()


def labelled_frame(history: History, cutoff: datetime, horizon_days: int) -> pd.DataFrame:
    frame = build_features(history, cutoff).merge(
        build_labels(history, cutoff, horizon_days), on="customer_unique_id", how="left"
    )
    frame["future_orders"] = frame["future_orders"].fillna(0).astype(int)
    frame["future_revenue"] = frame["future_revenue"].fillna(0.0).astype(float)
    frame["churned"] = (frame["future_orders"] == 0).astype(int)
    frame["cutoff"] = pd.Timestamp(cutoff)
    return frame


@dataclass(frozen=True)
class Cutoffs:
    """Forward-in-time split: fit on ``train``, select on ``validation``, report on
    ``holdout``. Each label window is fully observed before the next set is used."""

    train: list[datetime]
    validation: datetime
    holdout: datetime


def forward_cutoffs(
    history: History, horizon_days: int, n_train: int = 3, step_days: int = 60
) -> Cutoffs:
    """The holdout is the latest cutoff whose label window ends by the last purchase; the
    validation cutoff is one horizon earlier (its labels end where the holdout starts),
    and the training cutoffs step back from one horizon before validation."""
    last, first = history.last_purchase, history.first_purchase
    holdout = (last - timedelta(days=horizon_days)).replace(
        hour=0, minute=0, second=0, microsecond=0
    )
    validation = holdout - timedelta(days=horizon_days)
    latest_train = validation - timedelta(days=horizon_days)
    train = [latest_train - timedelta(days=step_days * k) for k in range(n_train - 1, -1, -1)]
    train = [c for c in train if c - first >= timedelta(days=60)]
    if not train:
        raise ValueError(
            f"order history from {first:%Y-%m-%d} to {last:%Y-%m-%d} is too short for a "
            f"{horizon_days}-day horizon with forward validation: it needs at least "
            f"{3 * horizon_days + 60} days (train, validation and holdout windows in turn)"
        )
    return Cutoffs(train, validation, holdout)


def score_cutoff(history: History) -> datetime:
    """Scoring date: midnight after the last purchase, so every order is in the features."""
    return history.last_purchase.replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(
        days=1
    )
