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
    f1_score,
    mean_absolute_error,
    precision_recall_curve,
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
    metrics: dict[str, float]
    y_true: np.ndarray
    y_pred: np.ndarray  # churn: P(churn); ltv: predicted revenue in the horizon
    feature_importance: dict[str, float] = field(default_factory=dict)
    params: dict[str, object] = field(default_factory=dict)
    mlflow_run_id: str | None = None
    model_uri: str | None = None  # the logged model (models:/m-...), set by the tracker


# the metric each task is ranked and gated on, and whether higher is better.
# Churn is the majority class (most Olist buyers never return), so its PR-AUC sits near the
# prevalence for every candidate; ROC-AUC does not move with the prevalence.
# LTV is zero for ~99% of customers in a 180-day window, so RMSE is dominated by a few big
# spenders and barely separates candidates; the score is used to rank whom to keep, so
# the share of future revenue held by the top decile is what the gate compares.
PRIMARY = {CHURN: ("roc_auc", True), LTV: ("top_decile_capture", True)}
# how much better a candidate must be, in absolute points of the primary metric
MARGIN = {CHURN: 0.005, LTV: 0.01}


def improvement(task: str, new: dict[str, float], old: dict[str, float]) -> tuple[bool, str]:
    """Whether ``new`` beats ``old`` on the task's primary metric by the stated margin."""
    metric, higher = PRIMARY[task]
    a, b = new.get(metric, float("nan")), old.get(metric, float("nan"))
    if a != a:  # NaN: cannot be judged better
        return False, f"{metric} is undefined on this holdout"
    if b != b:
        return True, f"{metric} {a:.4f} against an undefined {metric}"
    needed = b + MARGIN[task] if higher else b - MARGIN[task]
    wins = a > needed if higher else a < needed
    return wins, f"{metric} {a:.4f} vs {b:.4f} (needs {'>' if higher else '<'} {needed:.4f})"


def best_f1_threshold(y_true: np.ndarray, proba: np.ndarray) -> float:
    """The probability cut that maximises F1 (chosen on validation, applied to holdout)."""
    if len(np.unique(y_true)) < 2:
        return 0.5
    precision, recall, thresholds = precision_recall_curve(y_true, proba)
    f1 = 2 * precision * recall / np.clip(precision + recall, 1e-12, None)
    return float(thresholds[int(np.argmax(f1[:-1]))]) if len(thresholds) else 0.5


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


def churn_metrics(y_true: np.ndarray, proba: np.ndarray, threshold: float) -> dict[str, float]:
    y_true = np.asarray(y_true, dtype=int)
    proba = np.clip(np.asarray(proba, dtype=float), 0.0, 1.0)
    metrics = {
        "rows": float(len(y_true)),
        "prevalence": float(y_true.mean()) if len(y_true) else float("nan"),
        "brier": float(brier_score_loss(y_true, proba)) if len(y_true) else float("nan"),
        "ece": expected_calibration_error(y_true, proba),
        "threshold": float(threshold),
        "f1": float(f1_score(y_true, proba >= threshold, zero_division=0)),
    }
    metrics["roc_auc"] = _roc_auc(y_true, proba)
    metrics["pr_auc"] = (  # one class only: ranking metrics are undefined (the report says so)
        float(average_precision_score(y_true, proba))
        if len(np.unique(y_true)) == 2
        else float("nan")
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


def primary_score(evaluation: CandidateEvaluation) -> float:
    """The ranking metric oriented so that higher is better (NaN ranks last)."""
    metric, higher = PRIMARY[evaluation.task]
    value = evaluation.metrics.get(metric, float("nan"))
    if value != value:  # NaN
        return float("-inf")
    return value if higher else -value
