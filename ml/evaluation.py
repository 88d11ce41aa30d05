"""Holdout metrics for churn (classification) and LTV (regression) candidates.

Every candidate, baseline or model, is scored by the same functions on the same holdout,
so the comparison table, the registry gate and the model report agree.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy.stats import spearmanr
from sklearn.metrics import (
    average_precision_score,
    brier_score_loss,
    mean_absolute_error,
    roc_auc_score,
)

CHURN = "churn"
LTV = "ltv"


@dataclass
class CandidateEvaluation:
    """One candidate's holdout predictions and metrics (what the report and gate read)."""

    task: str  # CHURN or LTV
    name: str  # e.g. "prevalence_baseline", "logistic_regression", "xgboost"
    kind: str  # "baseline" or "model"
    metrics: dict[str, float]  # on the holdout, by the refit on train + validation
    y_true: np.ndarray
    y_pred: np.ndarray  # churn: P(churn); ltv: predicted revenue in the horizon
    feature_importance: dict[str, float] = field(default_factory=dict)
    params: dict[str, object] = field(default_factory=dict)
    mlflow_run_id: str | None = None
    model_uri: str | None = None  # the logged model (models:/m-...), set by the tracker
    # the train-only fit on the validation cutoff: what the model is *chosen* on, so the
    # holdout judges the chosen model once instead of choosing it
    validation_metrics: dict[str, float] = field(default_factory=dict)
    validation_y_pred: np.ndarray = field(default_factory=lambda: np.zeros(0))


# the metric each task is ranked and gated on, and whether higher is better.
# Churn is the majority class (most Olist buyers never return), so its PR-AUC sits near the
# prevalence for every candidate; ROC-AUC does not move with the prevalence.
# LTV is zero for ~99% of customers in a 180-day window, so RMSE is dominated by a few big
# spenders and barely separates candidates; the score is used to rank whom to keep, so
# the share of future revenue held by the top decile is what the gate compares.
PRIMARY = {CHURN: ("roc_auc", True), LTV: ("top_decile_capture", True)}


def expected_calibration_error(y_true: np.ndarray, proba: np.ndarray, bins: int = 10) -> float:
    """Mean |observed rate - predicted probability| over equal-width bins, by bin weight."""
    edges = np.linspace(0, 1, bins + 1)
    index = np.clip(np.digitize(proba, edges[1:-1]), 0, bins - 1)
    error = 0.0
    for b in range(bins):
        mask = index == b
        if mask.any():
            error += mask.mean() * abs(y_true[mask].mean() - proba[mask].mean())
    return float(error)


def churn_metrics(y_true: np.ndarray, proba: np.ndarray) -> dict[str, float]:
    """Ranking and calibration only: with ~99% churn any probability cut flags nearly
    everybody (the max-F1 cut flagged 99.996%), so no thresholded metric is reported; who to
    contact is the churn-risk list's top N (``ml.scoring.churn_risk``)."""
    y_true = np.asarray(y_true, dtype=int)
    proba = np.clip(np.asarray(proba, dtype=float), 0.0, 1.0)
    metrics = {
        "rows": float(len(y_true)),
        "prevalence": float(y_true.mean()) if len(y_true) else float("nan"),
        "brier": float(brier_score_loss(y_true, proba)) if len(y_true) else float("nan"),
        "ece": expected_calibration_error(y_true, proba),
    }
    metrics["roc_auc"] = _roc_auc(y_true, proba)
    two_classes = len(np.unique(y_true)) == 2  # one class only: ranking metrics are undefined
    metrics["pr_auc"] = float(average_precision_score(y_true, proba)) if two_classes else np.nan
    # the minority class is the one a retention team looks for: returners, ranked by 1 - p
    metrics["returner_pr_auc"] = (
        float(average_precision_score(1 - y_true, 1 - proba)) if two_classes else np.nan
    )
    return metrics


def _roc_auc(y_true: np.ndarray, proba: np.ndarray) -> float:
    if len(np.unique(y_true)) < 2:
        return float("nan")
    return float(roc_auc_score(y_true, proba))


def top_decile_capture(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """Share of the holdout's future revenue held by the 10% of customers ranked highest."""
    total = float(np.sum(y_true))
    if total <= 0 or len(y_true) == 0:
        return float("nan")
    n = max(1, int(np.ceil(len(y_true) * 0.1)))
    top = np.argsort(-np.asarray(y_pred, dtype=float), kind="stable")[:n]
    return float(np.sum(np.asarray(y_true)[top]) / total)


def ltv_metrics(y_true: np.ndarray, y_pred: np.ndarray) -> dict[str, float]:
    y_true = np.asarray(y_true, dtype=float)
    y_pred = np.asarray(y_pred, dtype=float)
    spearman = (
        float(spearmanr(y_true, y_pred).statistic)
        if len(y_true) > 2 and np.std(y_true) > 0 and np.std(y_pred) > 0
        else float("nan")
    )
    return {
        "rows": float(len(y_true)),
        "mean_actual": float(y_true.mean()) if len(y_true) else float("nan"),
        "buyers_share": float((y_true > 0).mean()) if len(y_true) else float("nan"),
        "rmse": float(np.sqrt(np.mean((y_true - y_pred) ** 2))),
        "mae": float(mean_absolute_error(y_true, y_pred)),
        "spearman": spearman,
        "top_decile_capture": top_decile_capture(y_true, y_pred),
    }


_PRIMARY_FUNCTIONS = {
    "roc_auc": lambda y, p: _roc_auc(np.asarray(y, dtype=int), np.clip(p, 0.0, 1.0)),
    "top_decile_capture": lambda y, p: top_decile_capture(y, np.clip(p, 0, None)),
}


def primary_metric(task: str, y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """The task's gate metric alone, equal to its entry in churn_/ltv_metrics; cheap
    enough for tuning to call every few boosting rounds."""
    return _PRIMARY_FUNCTIONS[PRIMARY[task][0]](np.asarray(y_true), np.asarray(y_pred, dtype=float))


def primary_score(evaluation: CandidateEvaluation, split: str = "holdout") -> float:
    """The ranking metric oriented so that higher is better (NaN ranks last); training
    selects on ``split="validation"``, the report shows the holdout."""
    metric, higher = PRIMARY[evaluation.task]
    source = evaluation.validation_metrics if split == "validation" else evaluation.metrics
    value = source.get(metric, float("nan"))
    if value != value:  # NaN
        return float("-inf")
    return value if higher else -value
