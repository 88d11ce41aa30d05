"""The candidates compared for each task, all as scikit-learn estimators on a features frame.

Churn: the prevalence baseline, an RFM-rule baseline, logistic regression and XGBoost.
LTV: a historical-average baseline, a linear model and XGBoost (Tweedie). The baselines
learn a handful of numbers from the training frame; a model that cannot beat them is not
worth registering.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from xgboost import XGBClassifier, XGBRegressor

from ml.features import FEATURES

# skewed money and count features enter the linear models on a log scale
LOG_FEATURES = ["frequency", "monetary", "avg_order_value", "delivered_orders", "reviewed_orders"]


class PrevalenceBaseline(ClassifierMixin, BaseEstimator):
    """Every customer gets the training churn rate: ROC-AUC 0.5, Brier = p(1-p)."""

    def fit(self, X: pd.DataFrame, y: np.ndarray) -> PrevalenceBaseline:
        self.classes_ = np.array([0, 1])
        self.rate_ = float(np.mean(y))
        return self

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        p = np.full(len(X), self.rate_)
        return np.column_stack([1 - p, p])


class RfmRuleBaseline(ClassifierMixin, BaseEstimator):
    """Churn rate of the customer's RFM cell in training: recency quintile × orders (1, 2,
    3+). The rule a CRM team would write by hand, with rates from the data."""

    def _cells(self, X: pd.DataFrame) -> pd.Series:
        recency = np.searchsorted(self.edges_, X["recency_days"].to_numpy(), side="right")
        orders = np.clip(X["frequency"].to_numpy(), 1, 3).astype(int)
        return pd.Series(recency * 10 + orders, index=X.index)

    def fit(self, X: pd.DataFrame, y: np.ndarray) -> RfmRuleBaseline:
        self.classes_ = np.array([0, 1])
        self.edges_ = np.quantile(X["recency_days"], [0.2, 0.4, 0.6, 0.8])
        self.rate_ = float(np.mean(y))
        rates = pd.Series(np.asarray(y, dtype=float), index=X.index).groupby(self._cells(X))
        self.cell_rates_ = rates.mean().to_dict()
        return self

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        p = self._cells(X).map(self.cell_rates_).fillna(self.rate_).to_numpy(dtype=float)
        return np.column_stack([1 - p, p])


class HistoricalAverageBaseline(RegressorMixin, BaseEstimator):
    """Future revenue = the customer's past revenue per day × the horizon, scaled by one
    factor fitted on training (most one-time buyers never return)."""

    def __init__(self, horizon_days: int = 180) -> None:
        self.horizon_days = horizon_days

    def _rate(self, X: pd.DataFrame) -> np.ndarray:
        days = np.maximum(X["tenure_days"].to_numpy(dtype=float), self.horizon_days)
        return X["monetary"].to_numpy(dtype=float) / days * self.horizon_days

    def fit(self, X: pd.DataFrame, y: np.ndarray) -> HistoricalAverageBaseline:
        rate = self._rate(X)
        denominator = float(np.dot(rate, rate))
        self.scale_ = float(np.dot(rate, y) / denominator) if denominator else 0.0
        return self

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        return self._rate(X) * self.scale_


def _linear_inputs() -> list[tuple[str, Any]]:
    plain = [f for f in FEATURES if f not in LOG_FEATURES]
    columns = ColumnTransformer(
        [
            (
                "log",
                Pipeline([("log1p", _Log1p()), ("impute", SimpleImputer(strategy="median"))]),
                LOG_FEATURES,
            ),
            ("plain", SimpleImputer(strategy="median"), plain),
        ]
    )
    return [("columns", columns), ("scale", StandardScaler())]


class _Log1p(BaseEstimator):
    """log1p of non-negative money and counts (a named class, so the pipeline pickles)."""

    def fit(self, X: Any, y: Any = None) -> _Log1p:
        return self

    def transform(self, X: Any) -> np.ndarray:
        return np.log1p(np.clip(np.asarray(X, dtype=float), 0, None))

    def get_feature_names_out(self, names: Any = None) -> Any:
        return names


def logistic_regression(seed: int) -> Pipeline:
    return Pipeline(
        [*_linear_inputs(), ("model", LogisticRegression(max_iter=2000, random_state=seed))]
    )


def linear_ltv(seed: int) -> Pipeline:
    return Pipeline([*_linear_inputs(), ("model", Ridge(alpha=1.0))])


def _select() -> ColumnTransformer:
    # the pipeline picks its columns by name, so a registered model scores any frame that
    # has them; XGBoost handles the missing values itself
    return ColumnTransformer([("features", "passthrough", FEATURES)])


def xgb_churn(seed: int, **params: Any) -> Pipeline:
    model = XGBClassifier(
        tree_method="hist", n_jobs=2, random_state=seed, eval_metric="logloss", **params
    )
    return Pipeline([("columns", _select()), ("model", model)])


def xgb_ltv(seed: int, **params: Any) -> Pipeline:
    params.setdefault("objective", "reg:tweedie")
    model = XGBRegressor(tree_method="hist", n_jobs=2, random_state=seed, **params)
    return Pipeline([("columns", _select()), ("model", model)])


def feature_importance(estimator: Any) -> dict[str, float]:
    """Gain importance (XGBoost) or |standardised coefficient| (linear), by feature."""
    if not isinstance(estimator, Pipeline):
        return {}
    model = estimator.named_steps["model"]
    if hasattr(model, "feature_importances_"):
        values = model.feature_importances_
    elif hasattr(model, "coef_"):
        values = np.abs(np.ravel(model.coef_))
    else:
        return {}
    names = list(estimator.named_steps["columns"].get_feature_names_out())
    names = [n.split("__", 1)[-1] for n in names]
    return {n: float(v) for n, v in sorted(zip(names, values, strict=True), key=lambda t: -t[1])}


def predict(task: str, estimator: Any, X: pd.DataFrame) -> np.ndarray:
    """P(churn) for churn; non-negative revenue for LTV."""
    if task == "churn":
        return estimator.predict_proba(X)[:, 1]
    return np.clip(estimator.predict(X), 0, None)
