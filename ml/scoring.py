"""Score every customer with the champions: ``gold.customer_scores`` and the churn-risk list."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd

from ml import btyd, candidates
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


def value_if_retained(features: pd.DataFrame, horizon_days: int) -> pd.Series:
    """What a customer would spend over the horizon if they stay: Gamma-Gamma spend per
    order × the MBG/NBD's expected orders *if alive*, both fitted label-free on these
    features. Deliberately free of P(return): multiplying P(churn) by a predicted LTV,
    which already holds P(return), ranks the customers most likely to come back first."""
    model = btyd.BetaGeoGammaGammaLtv(horizon_days).fit(features)
    spend = model.spend_.expected_spend(
        features["frequency"].to_numpy(dtype=float),
        features["avg_order_value"].to_numpy(dtype=float),
    )
    orders = model.purchases_.expected_orders_if_alive(features)
    return pd.Series(np.nan_to_num(spend * orders), index=features.index)


def churn_risk(
    scores: pd.DataFrame, features: pd.DataFrame, top: int = 500, horizon_days: int = 180
) -> pd.DataFrame:
    """The ``top`` customers with the most value at risk, P(churn) × value if retained,
    among those more likely to leave than the average customer.

    Value if retained favours frequent buyers, who are also the likeliest to come back; a
    big spender at 40% churn risk is one to nurture, not one slipping away, so only
    customers at or above the population's mean P(churn) (a cut read from the scores, not
    a tuned threshold) are ranked. N is the score flow's setting."""
    frame = scores.merge(
        features[["customer_unique_id", "recency_days", "frequency", "monetary"]],
        on="customer_unique_id",
    )
    retained_value = value_if_retained(
        features.set_index("customer_unique_id"), horizon_days
    ).reindex(frame["customer_unique_id"])
    frame["value_if_retained"] = retained_value.to_numpy()
    frame["value_at_risk"] = frame["churn_probability"] * frame["value_if_retained"]
    leaving = frame["churn_probability"] >= frame["churn_probability"].mean()
    at_risk = (
        frame[leaving & frame["value_at_risk"].notna()]
        .sort_values(["value_at_risk", "customer_unique_id"], ascending=[False, True])
        .head(top)
        .copy()
    )
    at_risk.insert(0, "risk_rank", np.arange(1, len(at_risk) + 1))
    return at_risk[
        [
            "risk_rank",
            "customer_unique_id",
            "churn_probability",
            "value_if_retained",
            "value_at_risk",
            "predicted_ltv",
            "recency_days",
            "frequency",
            "monetary",
            "churn_model_version",
        ]
    ].reset_index(drop=True)
