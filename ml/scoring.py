"""Score every customer with the champion churn model at the latest cutoff."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pandas as pd

from ml.features import FEATURES, build_features


def score_customers(model: Any, orders: pd.DataFrame, model_version: str) -> pd.DataFrame:
    """One row per customer: churn probability as of the day after the last order."""
    last = pd.Timestamp(orders["purchased_at"].max()).to_pydatetime()
    as_of = last.replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(days=1)
    features = build_features(orders, as_of)
    proba = model.predict_proba(features[FEATURES])[:, 1] if len(features) else []
    return pd.DataFrame(
        {
            "customer_unique_id": features["customer_unique_id"],
            "churn_probability": proba,
            "churn_model_version": model_version,
            "features_as_of": as_of,
            "scored_at": datetime.now(UTC).replace(tzinfo=None),
        }
    )
