"""Score every customer with the champions: ``gold.customer_scores`` and the churn-risk list."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd

from ml import candidates
from ml.evaluation import CHURN, LTV
from ml.features import History, build_features, score_cutoff

SCORE_COLUMNS = [
    "customer_unique_id",
    "churn_probability",
    "predicted_ltv",
    "churn_model_version",
    "ltv_model_version",
    "features_as_of",
    "scored_at",
]


def score_customers(
    history: History,
    churn: tuple[Any, str] | None,
    ltv: tuple[Any, str] | None,
    features: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """One row per customer with an order, as of the midnight after the last purchase.
    A task without a champion leaves its columns null (the caller says so)."""
    as_of = score_cutoff(history)
    features = build_features(history, as_of) if features is None else features
    out = pd.DataFrame({"customer_unique_id": features["customer_unique_id"]})
    for task, champion, column, version in (
        (CHURN, churn, "churn_probability", "churn_model_version"),
        (LTV, ltv, "predicted_ltv", "ltv_model_version"),
    ):
        if champion is None or features.empty:
            out[column] = np.nan
            # typed, so the empty column is VARCHAR in DuckDB and STRING in BigQuery
            out[version] = pd.Series(None, index=out.index, dtype="string")
        else:
            model, model_version = champion
            out[column] = candidates.predict(task, model, features).astype(float)
            out[version] = pd.Series(str(model_version), index=out.index, dtype="string")
    out["features_as_of"] = pd.Timestamp(as_of)
    out["scored_at"] = pd.Timestamp(datetime.now(UTC).replace(tzinfo=None))
    return out[SCORE_COLUMNS]


def churn_risk(
    scores: pd.DataFrame, features: pd.DataFrame, threshold: float, top: int = 500
) -> pd.DataFrame:
    """Customers above the churn threshold, most value at risk first: P(churn) × their
    predicted LTV (or their past spend when there is no LTV champion)."""
    frame = scores.merge(
        features[["customer_unique_id", "recency_days", "frequency", "monetary"]],
        on="customer_unique_id",
    )
    at_risk = frame[frame["churn_probability"] >= threshold].copy()
    value = at_risk["predicted_ltv"].fillna(at_risk["monetary"])
    at_risk["value_at_risk"] = at_risk["churn_probability"] * value
    at_risk = at_risk.sort_values(
        ["value_at_risk", "customer_unique_id"], ascending=[False, True]
    ).head(top)
    at_risk.insert(0, "risk_rank", np.arange(1, len(at_risk) + 1))
    return at_risk[
        [
            "risk_rank",
            "customer_unique_id",
            "churn_probability",
            "predicted_ltv",
            "value_at_risk",
            "recency_days",
            "frequency",
            "monetary",
            "churn_model_version",
        ]
    ].reset_index(drop=True)
