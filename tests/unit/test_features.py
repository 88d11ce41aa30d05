from __future__ import annotations

from datetime import datetime

import pandas as pd
import pytest

from ml.features import FEATURES, build_features, forward_cutoffs, labelled_frame

CUTOFF = datetime(2018, 1, 1)


def orders(*rows: tuple[str, str, float]) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "customer_unique_id": who,
                "order_id": f"o{i}",
                "order_status": "delivered",
                "purchased_at": pd.Timestamp(when),
                "order_value": value,
                "items_count": 1,
                "review_score": 5,
                "is_late": False,
                "delivery_days": 10,
                "main_payment_type": "credit_card",
                "used_voucher": False,
                "max_installments": 1,
            }
            for i, (who, when, value) in enumerate(rows)
        ]
    )


HISTORY = orders(
    ("u1", "2017-06-01", 100.0), ("u1", "2017-11-01", 50.0), ("u2", "2017-12-01", 80.0)
)


def test_features_ignore_everything_at_or_after_the_cutoff() -> None:
    future = orders(
        ("u1", "2018-01-01 00:00:00", 999.0),
        ("u2", "2018-03-01", 999.0),
        ("u3", "2018-02-01", 999.0),
    )
    before = build_features(HISTORY, CUTOFF)
    after = build_features(pd.concat([HISTORY, future], ignore_index=True), CUTOFF)
    pd.testing.assert_frame_equal(before, after)


def test_rfm_values() -> None:
    f = build_features(HISTORY, CUTOFF).set_index("customer_unique_id")
    assert f.loc["u1", "frequency"] == 2
    assert f.loc["u1", "monetary"] == pytest.approx(150.0)
    assert f.loc["u1", "recency_days"] == pytest.approx(61.0)
    assert list(f.columns) == FEATURES


def test_churn_label_looks_only_at_the_horizon_window() -> None:
    data = pd.concat(
        [HISTORY, orders(("u1", "2018-03-01", 10.0), ("u2", "2018-09-01", 10.0))], ignore_index=True
    )
    frame = labelled_frame(data, CUTOFF, horizon_days=180).set_index("customer_unique_id")
    assert frame.loc["u1", "churned"] == 0  # bought within 180 days
    assert frame.loc["u2", "churned"] == 1  # came back only after the window


def test_forward_cutoffs_leave_a_fully_observed_holdout() -> None:
    data = orders(("u1", "2016-10-01", 1.0), ("u2", "2018-10-01", 1.0))
    train, holdout = forward_cutoffs(data, horizon_days=180)
    assert holdout <= datetime(2018, 10, 1) - pd.Timedelta(days=180)
    assert train == sorted(train) and all(c < holdout for c in train)


def test_too_short_history_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="too short"):
        forward_cutoffs(orders(("u1", "2018-01-01", 1.0), ("u1", "2018-08-01", 1.0)), 180)
