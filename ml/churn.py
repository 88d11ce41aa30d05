"""Churn model: XGBoost on stacked point-in-time frames, validated forward in time."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import numpy as np
import pandas as pd
from sklearn.metrics import average_precision_score, brier_score_loss, roc_auc_score
from xgboost import XGBClassifier

from ml.features import FEATURES, forward_cutoffs, labelled_frame


@dataclass
class ChurnDataset:
    train: pd.DataFrame
    holdout: pd.DataFrame
    train_cutoffs: list[datetime]
    holdout_cutoff: datetime


def make_dataset(orders: pd.DataFrame, horizon_days: int) -> ChurnDataset:
    train_cutoffs, holdout_cutoff = forward_cutoffs(orders, horizon_days)
    train = pd.concat(
        [labelled_frame(orders, c, horizon_days) for c in train_cutoffs], ignore_index=True
    )
    holdout = labelled_frame(orders, holdout_cutoff, horizon_days)
    return ChurnDataset(train, holdout, train_cutoffs, holdout_cutoff)


def churn_metrics(y_true: np.ndarray, proba: np.ndarray) -> dict[str, float]:
    """Metrics on the retained (minority) class too: churn is ~97% in Olist."""
    metrics = {
        "holdout_rows": float(len(y_true)),
        "churn_rate": float(np.mean(y_true)),
        "brier": float(brier_score_loss(y_true, proba)),
    }
    if len(np.unique(y_true)) == 2:
        metrics["roc_auc"] = float(roc_auc_score(y_true, proba))
        metrics["pr_auc"] = float(average_precision_score(y_true, proba))
        metrics["pr_auc_retained"] = float(average_precision_score(1 - y_true, 1 - proba))
    return metrics


def train_xgboost(
    dataset: ChurnDataset, seed: int = 7, params: dict[str, float | int] | None = None
) -> tuple[XGBClassifier, dict[str, float]]:
    y = dataset.train["churned"].to_numpy()
    positives, negatives = int(y.sum()), int(len(y) - y.sum())
    model = XGBClassifier(
        n_estimators=150,
        max_depth=4,
        learning_rate=0.05,
        subsample=0.9,
        colsample_bytree=0.9,
        tree_method="hist",
        n_jobs=2,
        random_state=seed,
        eval_metric="logloss",
        **(params or {}),
    )
    model.fit(dataset.train[FEATURES], y)
    proba = model.predict_proba(dataset.holdout[FEATURES])[:, 1]
    metrics = churn_metrics(dataset.holdout["churned"].to_numpy(), proba)
    metrics.update(
        {
            "train_rows": float(len(y)),
            "train_churned": float(positives),
            "train_retained": float(negatives),
        }
    )
    return model, metrics
