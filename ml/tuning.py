"""Optuna tuning of the XGBoost candidates: seeded TPE, median pruning, trial and time budgets.

Each trial fits on the training cutoffs and is scored on the validation cutoff; the
validation metric is reported every ``REPORT_EVERY`` boosting rounds so the pruner can stop
a trial that trails the median of earlier ones.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import optuna
import pandas as pd
import xgboost as xgb

from ml import candidates
from ml.evaluation import CHURN, PRIMARY, primary_metric

REPORT_EVERY = 10
MAX_ROUNDS = 400
_LOG = logging.getLogger(__name__)


def run_logger() -> logging.Logger | logging.LoggerAdapter:
    """Prefect's run logger inside a flow or task run (the line reaches the UI and the
    console), else this module's standard logger."""
    try:
        from prefect.exceptions import MissingContextError
        from prefect.logging import get_run_logger
    except ImportError:  # pragma: no cover - Prefect is a dependency of the platform
        return _LOG
    try:
        return get_run_logger()
    except MissingContextError:
        return _LOG


def trial_line(task: str, trial: optuna.trial.FrozenTrial, best: float | None) -> str:
    """One line per finished trial: model, trial, value, best so far."""
    value = "pruned" if trial.value is None else f"{trial.value:.4f}"
    so_far = "-" if best is None else f"{best:.4f}"
    return (
        f"{task} xgboost trial {trial.number}: {trial.state.name.lower()}, "
        f"validation {primary_name(task)} {value}; best so far {so_far}"
    )


@dataclass(frozen=True)
class Budget:
    """``trials`` caps the study; ``timeout_seconds`` stops it early (then the number of
    trials, and so the result, depends on the machine: use trials alone to reproduce)."""

    trials: int = 10
    timeout_seconds: float | None = 120.0


@dataclass
class TuningResult:
    params: dict[str, Any]
    best_value: float
    trials: list[dict[str, Any]] = field(default_factory=list)  # number, state, value, params
    pruned: int = 0


class _PruneCallback(xgb.callback.TrainingCallback):
    """Reports the objective on validation every few rounds; raises TrialPruned when the
    pruner says. ``score(booster, rounds)`` computes the same metric the study optimises."""

    def __init__(self, trial: optuna.Trial, score: Callable[[Any, int], float]) -> None:
        self.trial, self.score = trial, score

    def after_iteration(self, model: Any, epoch: int, evals_log: dict) -> bool:
        if (epoch + 1) % REPORT_EVERY:
            return False
        value = self.score(model, epoch + 1)
        if np.isfinite(value):
            self.trial.report(value, step=epoch + 1)
            if self.trial.should_prune():
                raise optuna.TrialPruned(f"pruned at round {epoch + 1}")
        return False


def _space(trial: optuna.Trial, task: str) -> dict[str, Any]:
    """Churn is not re-weighted: the scores are published as probabilities, so they must
    stay calibrated; the imbalance is met by ranking metrics and the F1 threshold."""
    params: dict[str, Any] = {
        "n_estimators": MAX_ROUNDS,
        "max_depth": trial.suggest_int("max_depth", 2, 8),
        "learning_rate": trial.suggest_float("learning_rate", 0.02, 0.3, log=True),
        "min_child_weight": trial.suggest_float("min_child_weight", 1.0, 50.0, log=True),
        "subsample": trial.suggest_float("subsample", 0.5, 1.0),
        "colsample_bytree": trial.suggest_float("colsample_bytree", 0.4, 1.0),
        "reg_lambda": trial.suggest_float("reg_lambda", 1e-3, 10.0, log=True),
    }
    if task != CHURN:
        params["tweedie_variance_power"] = trial.suggest_float("tweedie_variance_power", 1.1, 1.9)
    return params


def tune_xgboost(
    task: str,
    train: pd.DataFrame,
    validation: pd.DataFrame,
    target: str,
    budget: Budget,
    seed: int,
    on_trial: Callable[[dict[str, Any]], None] | None = None,
) -> TuningResult:
    """Search XGBoost parameters; ``on_trial`` gets each finished trial (for MLflow)."""
    y_train = train[target].to_numpy()
    y_val = validation[target].to_numpy()

    # the study maximises the task's gate metric on validation (ml.evaluation.PRIMARY);
    # early stopping watches XGBoost's own loss
    def evaluate(y: np.ndarray, prediction: np.ndarray) -> float:
        return primary_metric(task, y, prediction)

    def objective(trial: optuna.Trial) -> float:
        params = _space(trial, task)
        build = candidates.xgb_churn if task == CHURN else candidates.xgb_ltv
        pipeline = build(seed, **params, early_stopping_rounds=40)
        columns = pipeline.named_steps["columns"].fit(train)
        X_train, X_val = columns.transform(train), columns.transform(validation)
        d_val = xgb.DMatrix(X_val)

        def score(booster: Any, rounds: int) -> float:
            return float(evaluate(y_val, booster.predict(d_val, iteration_range=(0, rounds))))

        model = pipeline.named_steps["model"]
        model.set_params(callbacks=[_PruneCallback(trial, score)])
        model.fit(X_train, y_train, eval_set=[(X_val, y_val)], verbose=False)
        value = evaluate(y_val, candidates.predict(task, pipeline, validation))
        trial.set_user_attr("best_iteration", int(model.best_iteration))
        return float(value) if np.isfinite(value) else 0.0

    # Optuna's own INFO line per trial would repeat ours in another format
    optuna.logging.set_verbosity(logging.WARNING)
    study = optuna.create_study(
        direction="maximize",
        sampler=optuna.samplers.TPESampler(seed=seed),
        pruner=optuna.pruners.MedianPruner(n_startup_trials=5, n_warmup_steps=2 * REPORT_EVERY),
    )

    logger = run_logger()

    def record(study: optuna.Study, trial: optuna.trial.FrozenTrial) -> None:
        done = [t for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE]
        logger.info(trial_line(task, trial, max(t.value for t in done) if done else None))
        if on_trial is not None:
            on_trial(_trial_row(trial))

    study.optimize(
        objective,
        n_trials=budget.trials,
        timeout=budget.timeout_seconds,
        callbacks=[record],
        gc_after_trial=False,
    )
    complete = [t for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE]
    if not complete:
        raise RuntimeError(f"no {task} tuning trial completed within the budget {budget}")
    best = study.best_trial
    params = {**best.params, "n_estimators": max(best.user_attrs.get("best_iteration", 0) + 1, 10)}
    return TuningResult(
        params=params,
        best_value=float(best.value),
        trials=[_trial_row(t) for t in study.trials],
        pruned=sum(t.state == optuna.trial.TrialState.PRUNED for t in study.trials),
    )


def primary_name(task: str) -> str:
    return PRIMARY[task][0]


def _trial_row(trial: optuna.trial.FrozenTrial) -> dict[str, Any]:
    return {
        "number": trial.number,
        "state": trial.state.name.lower(),
        "value": trial.value,
        "params": dict(trial.params),
        "seconds": (trial.duration.total_seconds() if trial.duration else None),
        "rounds": trial.user_attrs.get("best_iteration"),
    }
