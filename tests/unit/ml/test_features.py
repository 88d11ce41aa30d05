from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np
import pandas as pd
import pytest

from ml.features import (
    FEATURES,
    History,
    build_features,
    build_labels,
    forward_cutoffs,
    labelled_frame,
    settle_window,
)
from tests.ml_data import simulated_history

CUTOFF = datetime(2017, 9, 1)


@pytest.fixture(scope="module")
def history() -> History:
    return simulated_history(customers=1500, seed=3)


def _scramble_after(history: History, cutoff: datetime, seed: int) -> History:
    """Everything not known before ``cutoff`` replaced by noise: later orders, and the
    delivery outcome and review of earlier orders that only came in at or after it."""
    rng = np.random.default_rng(seed)
    o = history.orders.copy()
    later = o["purchased_at"] >= cutoff
    n = int(later.sum())
    o.loc[later, "order_value"] = rng.uniform(1, 5000, n)
    o.loc[later, "order_status"] = "delivered"
    o.loc[later, "main_payment_type"] = "voucher"
    o.loc[later, "customer_state"] = "AC"
    undelivered = o["delivered_to_customer_at"].isna() | (o["delivered_to_customer_at"] >= cutoff)
    o.loc[undelivered, "is_late"] = rng.random(int(undelivered.sum())) < 0.5
    o.loc[undelivered, "delivery_days"] = rng.integers(0, 200, int(undelivered.sum()))
    o.loc[undelivered, "delay_days"] = rng.integers(-50, 150, int(undelivered.sum()))
    unanswered = o["review_answered_at"].isna() | (o["review_answered_at"] >= cutoff)
    o.loc[unanswered, "review_score"] = rng.integers(1, 6, int(unanswered.sum()))
    o.loc[unanswered, "review_has_comment"] = rng.random(int(unanswered.sum())) < 0.5
    # when a pending delivery or review will happen is not known either: any time after
    # the cutoff, or never
    for column, pending in (
        ("delivered_to_customer_at", undelivered),
        ("review_answered_at", unanswered),
    ):
        seconds = rng.integers(0, 400 * 86_400, int(pending.sum()))
        when = pd.Timestamp(cutoff) + pd.to_timedelta(seconds, "s")
        o.loc[pending, column] = when.where(rng.random(int(pending.sum())) < 0.8, pd.NaT)
    # nor the final status of an order bought shortly before the cutoff and still on its way
    past = history.orders[history.orders["purchased_at"] < cutoff]
    recent = (
        (o["purchased_at"] < cutoff)
        & (o["purchased_at"] > pd.Timestamp(cutoff) - settle_window(past, cutoff))
        & undelivered
    )
    o.loc[recent, "order_status"] = rng.choice(
        ["delivered", "canceled", "shipped", "unavailable", "invoiced"], int(recent.sum())
    )
    items = history.items.copy()
    items.loc[items["purchased_at"] >= cutoff, "category"] = "never_seen_before"
    # extra orders of new and existing customers at and after the cutoff
    extra = (
        o[later]
        .head(50)
        .assign(purchased_at=pd.Timestamp(cutoff), order_id=lambda f: f["order_id"] + "-x")
    )
    return History(pd.concat([o, extra], ignore_index=True), items)


def _leaks(build, history: History, cutoff: datetime) -> bool:  # noqa: ANN001
    """Whether ``build``'s features change when what is unknown at ``cutoff`` is noise."""
    clean = build(history, cutoff)
    assert len(clean) > 100
    scrambled = build(_scramble_after(history, cutoff, seed=11), cutoff)
    return not clean.equals(scrambled)


@pytest.mark.parametrize("cutoff", [datetime(2017, 3, 1), CUTOFF, datetime(2018, 4, 20)])
def test_no_feature_uses_data_at_or_after_its_cutoff(history: History, cutoff: datetime) -> None:
    clean = build_features(history, cutoff)
    scrambled = build_features(_scramble_after(history, cutoff, seed=11), cutoff)
    assert len(clean) > 100
    pd.testing.assert_frame_equal(clean, scrambled)


def _with_eventually_delivered(history: History, cutoff: datetime) -> pd.DataFrame:
    """The planted leak: the share of a customer's orders that were *eventually*
    delivered, read from the final status without asking when."""
    past = history.orders[history.orders["purchased_at"] < cutoff]
    share = (past["order_status"] == "delivered").groupby(past["customer_unique_id"]).mean()
    features = build_features(history, cutoff)
    return features.assign(
        eventually_delivered=features["customer_unique_id"].map(share).to_numpy()
    )


def _with_delivery_date_known(history: History, cutoff: datetime) -> pd.DataFrame:
    """The other planted leak: days to delivery of every order bought before the cutoff,
    delivered by then or not."""
    past = history.orders[history.orders["purchased_at"] < cutoff]
    days = (past["delivered_to_customer_at"] - past["purchased_at"]).dt.days
    features = build_features(history, cutoff)
    mean_days = days.groupby(past["customer_unique_id"]).mean()
    return features.assign(days=features["customer_unique_id"].map(mean_days).to_numpy())


@pytest.mark.parametrize("leaky", [_with_eventually_delivered, _with_delivery_date_known])
def test_the_scramble_catches_a_planted_leak(history: History, leaky) -> None:  # noqa: ANN001
    assert not _leaks(build_features, history, CUTOFF)
    assert _leaks(leaky, history, CUTOFF)


def test_the_leakage_check_can_fail(history: History) -> None:
    """Control: a delivery outcome known only after the cutoff must change the features
    when it is (wrongly) treated as known, so the scramble above does reach them."""
    cutoff = CUTOFF
    o = history.orders.copy()
    pending = (o["purchased_at"] < cutoff) & (o["delivered_to_customer_at"] >= cutoff)
    assert pending.any()
    o.loc[pending, "delivered_to_customer_at"] = pd.Timestamp(cutoff) - timedelta(seconds=1)
    o.loc[pending, "delivery_days"] = 999
    leaked = build_features(History(o, history.items), cutoff)
    assert leaked["avg_delivery_days"].max() == 999
    assert build_features(history, cutoff)["avg_delivery_days"].max() < 999


def test_rfm_and_labels_by_hand() -> None:
    def order(who: str, when: str, value: float, status: str = "delivered") -> dict:
        t = pd.Timestamp(when)
        return {
            "customer_unique_id": who,
            "order_id": f"{who}{when}",
            "order_status": status,
            "purchased_at": t,
            "delivered_to_customer_at": t + timedelta(days=5),
            "order_value": value,
            "items_count": 1,
            "freight_value": 10.0,
            "review_score": 5,
            "review_has_comment": False,
            "review_answered_at": t + timedelta(days=7),
            "is_late": False,
            "delivery_days": 5,
            "delay_days": -10,
            "main_payment_type": "credit_card",
            "used_voucher": False,
            "max_installments": 1,
            "customer_state": "SP",
        }

    orders = pd.DataFrame(
        [
            order("u1", "2017-06-01", 100.0),
            order("u1", "2017-11-01", 50.0),
            order("u1", "2017-12-01", 70.0, status="canceled"),
            order("u2", "2017-12-01", 80.0),
            order("u1", "2018-03-01", 10.0),  # inside the horizon
            order("u2", "2018-09-01", 10.0),  # after the horizon
        ]
    )
    history = History(
        orders, pd.DataFrame(columns=["customer_unique_id", "purchased_at", "category"])
    )
    cutoff = datetime(2018, 1, 1)
    f = build_features(history, cutoff).set_index("customer_unique_id")
    assert list(f.columns) == FEATURES
    assert f.loc["u1", "frequency"] == 2  # the canceled order is not a purchase
    assert f.loc["u1", "monetary"] == pytest.approx(150.0)
    assert f.loc["u1", "canceled_share"] == pytest.approx(1 / 3)
    assert f.loc["u1", "recency_days"] == pytest.approx(31.0)
    assert f.loc["u1", "region_southeast"] == 1.0
    frame = labelled_frame(history, cutoff, horizon_days=180).set_index("customer_unique_id")
    assert (frame.loc["u1", "churned"], frame.loc["u1", "future_revenue"]) == (0, 10.0)
    assert (frame.loc["u2", "churned"], frame.loc["u2", "future_revenue"]) == (1, 0.0)
    assert build_labels(history, cutoff, 180)["future_orders"].sum() == 1


def test_forward_cutoffs_keep_every_label_window_before_the_next_split(history: History) -> None:
    c = forward_cutoffs(history, horizon_days=180)
    horizon = timedelta(days=180)
    assert c.train == sorted(c.train)
    assert max(c.train) + horizon <= c.validation  # training labels end before validation
    assert c.validation + horizon <= c.holdout  # validation labels end before the holdout
    assert c.holdout + horizon <= history.last_purchase  # the holdout's window is observed


def test_too_short_history_is_a_clear_error(history: History) -> None:
    recent = history.orders[history.orders["purchased_at"] >= datetime(2018, 1, 1)]
    with pytest.raises(ValueError, match="too short"):
        forward_cutoffs(History(recent, history.items), 180)


def test_category_repeat_rate_is_the_share_of_the_categorys_buyers_who_came_back() -> None:
    def order(who: str, when: str) -> dict:
        t = pd.Timestamp(when)
        return {
            "customer_unique_id": who,
            "order_id": f"{who}{when}",
            "order_status": "delivered",
            "purchased_at": t,
            "delivered_to_customer_at": t + timedelta(days=5),
            "order_value": 50.0,
            "items_count": 1,
            "freight_value": 5.0,
            "review_score": 5,
            "review_has_comment": False,
            "review_answered_at": t + timedelta(days=7),
            "is_late": False,
            "delivery_days": 5,
            "delay_days": -3,
            "main_payment_type": "credit_card",
            "used_voucher": False,
            "max_installments": 1,
            "customer_state": "SP",
        }

    bought = [
        ("u1", "2017-03-01", "pet_shop"),
        ("u1", "2017-05-01", "pet_shop"),  # u1 came back
        ("u2", "2017-04-01", "pet_shop"),
        ("u2", "2017-04-01", "toys"),
        ("u3", "2017-06-01", "toys"),
        ("u3", "2018-02-01", "toys"),  # after the cutoff: not known yet
    ]
    orders = pd.DataFrame([order(w, d) for w, d, _ in bought]).drop_duplicates("order_id")
    items = pd.DataFrame(bought, columns=["customer_unique_id", "purchased_at", "category"])
    items["purchased_at"] = pd.to_datetime(items["purchased_at"])
    f = build_features(History(orders, items), datetime(2018, 1, 1)).set_index("customer_unique_id")
    # pet_shop: u1 of {u1, u2} came back (1/2); toys: none of {u2, u3} (0)
    assert f["category_repeat_rate"].to_dict() == {"u1": 0.5, "u2": 0.25, "u3": 0.0}
