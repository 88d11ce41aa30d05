"""Train and compare the candidates of one task, forward in time.

Every supervised candidate is fitted on the training cutoffs and scored on the validation
cutoff (where XGBoost is tuned and the best candidate is chosen), then refitted on training
+ validation and scored once on the holdout, the last fully observed cutoff, where the
chosen model is judged against the chosen baseline by a paired bootstrap (``ml.gate``). The
label-free BTYD candidates need no label window, so each is calibrated on the purchase
history before the cutoff it predicts from (validation, then holdout), the way the method
is used; fitted instead on the last training cutoff, six months stale and with at most
seven months of history, the covariate model lost 0.024 validation ROC-AUC on scale 1 and
was never chosen. Nothing is split at random. MLflow logging goes through ``tracker`` so
the logic runs without a server.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

import numpy as np
import pandas as pd

from ml import btyd, candidates, gate
from ml.evaluation import (
    CHURN,
    LTV,
    CandidateEvaluation,
    churn_metrics,
    ltv_metrics,
    primary_score,
)
from ml.features import LABELS, Cutoffs, History, forward_cutoffs, labelled_frame
from ml.tuning import Budget, TuningResult, tune_xgboost

TARGET = {CHURN: "churned", LTV: "future_revenue"}
# below this many examples of the rarer outcome in training, a model cannot learn the label
MIN_MINORITY = 30


@dataclass
class Dataset:
    cutoffs: Cutoffs
    horizon_days: int
    train: pd.DataFrame
    validation: pd.DataFrame
    holdout: pd.DataFrame

    @property
    def refit(self) -> pd.DataFrame:
        return pd.concat([self.train, self.validation], ignore_index=True)

    @property
    def labels_end(self) -> datetime:
        """Where the refit's last label window ends: the gate refuses a champion whose
        labels run past the holdout cutoff, and records this with every version."""
        return self.cutoffs.validation + timedelta(days=self.horizon_days)


def make_dataset(
    history: History, horizon_days: int, n_train: int = 3, step_days: int = 60
) -> Dataset:
    cutoffs = forward_cutoffs(history, horizon_days, n_train=n_train, step_days=step_days)
    train = pd.concat(
        [labelled_frame(history, c, horizon_days) for c in cutoffs.train], ignore_index=True
    )
    return Dataset(
        cutoffs,
        horizon_days,
        train,
        labelled_frame(history, cutoffs.validation, horizon_days),
        labelled_frame(history, cutoffs.holdout, horizon_days),
    )


def class_balance(dataset: Dataset) -> dict[str, float]:
    """Churned and retained counts per split: the imbalance the report states."""
    out: dict[str, float] = {}
    for split in ("train", "validation", "holdout"):
        y = getattr(dataset, split)["churned"]
        out[f"{split}_rows"] = float(len(y))
        out[f"{split}_retained"] = float(len(y) - y.sum())
        out[f"{split}_churn_rate"] = float(y.mean()) if len(y) else float("nan")
    return out


class Tracker(Protocol):
    """Where candidates and trials are logged (MLflow in production, nothing in tests)."""

    def candidate(self, evaluation: CandidateEvaluation, model: Any | None) -> str | None: ...

    def trial(self, task: str, row: dict[str, Any]) -> None: ...


@dataclass
class TaskOutcome:
    task: str
    evaluations: list[CandidateEvaluation]
    models: dict[str, Any]  # candidate name → fitted estimator (refitted on train + validation)
    best: CandidateEvaluation | None  # the best non-baseline candidate, if any was trained
    best_baseline: CandidateEvaluation | None
    beats_baseline: bool
    reason: str
    holdout: pd.DataFrame  # features + labels of the holdout, for the champion comparison
    horizon_days: int = 0
    holdout_cutoff: datetime | None = None
    labels_end: datetime | None = None  # of the refit: recorded as the version's lineage
    tuning: TuningResult | None = None
    balance: dict[str, float] = field(default_factory=dict)
    # the chosen model against the runner-up candidate on validation (paired bootstrap):
    # how far the choice stands out from the validation set's noise
    selection: gate.Comparison | None = None
    selection_runner_up: str | None = None


def _too_rare(task: str, dataset: Dataset) -> str | None:
    y = dataset.train[TARGET[task]]
    if task == CHURN:
        retained, churned = int((y == 0).sum()), int((y == 1).sum())
        if min(retained, churned) < MIN_MINORITY:
            return (
                f"the churn label is too rare to learn: {retained:,} retained and {churned:,} "
                f"churned customers in training (at least {MIN_MINORITY} of each needed)"
            )
    else:
        buyers = int((y > 0).sum())
        if buyers < MIN_MINORITY:
            return (
                f"the LTV label is too rare to learn: {buyers:,} of {len(y):,} training "
                f"customers bought again in the horizon (at least {MIN_MINORITY} needed)"
            )
    for split in ("validation", "holdout"):
        values = getattr(dataset, split)[TARGET[task]]
        if task == CHURN and values.nunique() < 2:
            return f"the {split} cutoff has one churn class only: ranking metrics are undefined"
    return None


def _builders(task: str, horizon_days: int) -> dict[str, tuple[str, Callable[[int], Any]]]:
    """Every candidate of a task. The BTYD pair is the yardstick a CLV analyst would bring:
    the label-free MBG/NBD is a baseline (it runs even when labels are too rare to learn),
    the covariate MBG/NBD a structural model competing with XGBoost."""
    if task == CHURN:
        return {
            "prevalence_baseline": ("baseline", lambda seed: candidates.PrevalenceBaseline()),
            "rfm_rule_baseline": ("baseline", lambda seed: candidates.RfmRuleBaseline()),
            "mbgnbd_baseline": (
                "baseline",
                lambda seed: btyd.BetaGeoChurn(horizon_days, seed=seed),
            ),
            "logistic_regression": ("model", candidates.logistic_regression),
            "mbgnbd_covariates": (
                "model",
                lambda seed: btyd.BetaGeoChurn(horizon_days, covariates=btyd.COVARIATES, seed=seed),
            ),
        }
    return {
        "historical_average_baseline": (
            "baseline",
            lambda seed: candidates.HistoricalAverageBaseline(horizon_days),
        ),
        "mbgnbd_gamma_gamma_baseline": (
            "baseline",
            lambda seed: btyd.BetaGeoGammaGammaLtv(horizon_days, seed=seed),
        ),
        "linear_regression": ("model", candidates.linear_ltv),
        "mbgnbd_gamma_gamma_covariates": (
            "model",
            lambda seed: btyd.BetaGeoGammaGammaLtv(
                horizon_days, covariates=btyd.COVARIATES, seed=seed
            ),
        ),
    }


def _metrics(task: str, y_true: np.ndarray, y_pred: np.ndarray) -> dict[str, float]:
    return churn_metrics(y_true, y_pred) if task == CHURN else ltv_metrics(y_true, y_pred)


def _evaluate(
    task: str, name: str, kind: str, build: Callable[[], Any], dataset: Dataset
) -> tuple[CandidateEvaluation, Any]:
    target = TARGET[task]
    if getattr(build(), "label_free", False):
        # a BTYD model is calibrated on the purchase history before the cutoff it predicts
        # from; it reads no label, so that history is fair at validation and at the holdout
        model = build().fit(_history_only(dataset.validation))
        final = build().fit(_history_only(dataset.holdout))
    else:
        model = build().fit(dataset.train, dataset.train[target].to_numpy())
        final = build().fit(dataset.refit, dataset.refit[target].to_numpy())
    validation_pred = candidates.predict(task, model, dataset.validation)
    validation = _metrics(task, dataset.validation[target].to_numpy(), validation_pred)
    y_true = dataset.holdout[target].to_numpy()
    y_pred = candidates.predict(task, final, dataset.holdout)
    evaluation = CandidateEvaluation(
        task=task,
        name=name,
        kind=kind,
        metrics=_metrics(task, y_true, y_pred),
        y_true=y_true,
        y_pred=y_pred,
        feature_importance=candidates.feature_importance(final),
        params={**_params(final), **_fitted(final)},
        validation_metrics=validation,
        validation_y_pred=np.asarray(validation_pred, dtype=float),
    )
    return evaluation, final


def _history_only(frame: pd.DataFrame) -> pd.DataFrame:
    """A labelled frame without its labels: what a label-free model may be fitted on."""
    return frame.drop(columns=[c for c in LABELS if c in frame.columns])


def _fitted(estimator: Any) -> dict[str, object]:
    """The estimated priors of a BTYD candidate, so MLflow shows what it learned."""
    if isinstance(estimator, btyd.BetaGeoGammaGammaLtv):
        spend = estimator.spend_
        return {
            **estimator.purchases_.get_fitted_params(),
            "gg_p": spend.p,
            "gg_q": spend.q,
            "gg_gamma": spend.gamma,
        }
    if isinstance(estimator, btyd.BetaGeoChurn):
        return dict(estimator.get_fitted_params())
    return {}


def _params(estimator: Any) -> dict[str, object]:
    model = getattr(estimator, "named_steps", {}).get("model", estimator)
    keep = (int, float, str, bool)
    return {k: v for k, v in model.get_params().items() if isinstance(v, keep) and v is not None}


def train_task(
    task: str,
    dataset: Dataset,
    budget: Budget,
    seed: int = 7,
    tracker: Tracker | None = None,
    progress: Callable[[str], None] = lambda message: None,
) -> TaskOutcome:
    """Fit, tune and compare every candidate of ``task``; choose the best model and the
    best baseline on validation, then judge the chosen model once on the holdout: it beats
    the baseline only if the paired bootstrap interval of its gain lies above zero."""
    target = TARGET[task]
    rare = _too_rare(task, dataset)
    evaluations: list[CandidateEvaluation] = []
    models: dict[str, Any] = {}
    tuning = None
    for name, (kind, build) in _builders(task, dataset.horizon_days).items():
        if rare and kind == "model":
            continue
        progress(f"{task}: fitting {name}")
        evaluation, model = _evaluate(task, name, kind, lambda b=build: b(seed), dataset)
        evaluations.append(evaluation)
        models[name] = model
    if not rare:
        progress(
            f"{task}: tuning XGBoost ({budget.trials} trials, "
            f"{budget.timeout_seconds or 'no'} s budget)"
        )
        tuning = tune_xgboost(
            task,
            dataset.train,
            dataset.validation,
            target,
            budget,
            seed,
            on_trial=(lambda row: tracker.trial(task, row)) if tracker else None,
        )
        build = candidates.xgb_churn if task == CHURN else candidates.xgb_ltv
        evaluation, model = _evaluate(
            task, "xgboost", "model", lambda: build(seed, **tuning.params), dataset
        )
        evaluation.params.update(
            {"optuna_trials": len(tuning.trials), "optuna_pruned": tuning.pruned}
        )
        evaluations.append(evaluation)
        models["xgboost"] = model
    if tracker is not None:
        for evaluation in evaluations:
            evaluation.mlflow_run_id = tracker.candidate(evaluation, models[evaluation.name])

    ranked = sorted(evaluations, key=lambda e: primary_score(e, "validation"), reverse=True)
    baselines = [e for e in ranked if e.kind == "baseline"]
    trained = [e for e in ranked if e.kind == "model"]
    best, best_baseline = (trained[0] if trained else None), (baselines[0] if baselines else None)
    runner_up = next((e for e in ranked if e is not best), None)
    selection = None
    if best is not None and runner_up is not None and len(best.validation_y_pred):
        selection = gate.paired_bootstrap(
            task,
            dataset.validation[target].to_numpy(),
            best.validation_y_pred,
            runner_up.validation_y_pred,
            confidence=0.95,
            seed=seed,
        )
    if rare:
        beats, reason = False, rare
    elif best is None or best_baseline is None:
        beats, reason = False, "no model or no baseline to compare"
    else:
        # one comparison, not a sequence of retrains: the plain 95% interval
        comparison = gate.paired_bootstrap(
            task, best.y_true, best.y_pred, best_baseline.y_pred, confidence=0.95, seed=seed
        )
        verdict = gate.decide(comparison)
        beats = verdict.promote
        reason = (
            f"{best.name} (chosen on validation) {'beats' if beats else 'does not beat'} the "
            f"best baseline {best_baseline.name} on the holdout: {verdict.detail}"
        )
    return TaskOutcome(
        task=task,
        evaluations=evaluations,
        models=models,
        best=best,
        best_baseline=best_baseline,
        beats_baseline=beats,
        reason=reason,
        holdout=dataset.holdout,
        horizon_days=dataset.horizon_days,
        holdout_cutoff=dataset.cutoffs.holdout,
        labels_end=dataset.labels_end,
        tuning=tuning,
        balance=class_balance(dataset),
        selection=selection,
        selection_runner_up=runner_up.name if selection is not None else None,
    )


def holdout_predictions(task: str, model: Any, holdout: pd.DataFrame) -> np.ndarray:
    """An already-registered model's (the champion's) predictions on this run's holdout,
    for the gate's paired comparison on the same customers."""
    return np.asarray(candidates.predict(task, model, holdout), dtype=float)
