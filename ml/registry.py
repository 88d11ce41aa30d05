"""MLflow: one experiment per task, a run per candidate and per trial, and the champion gate.

A task's chosen candidate is registered only when it beats the best baseline; it becomes
alias ``champion`` only when the champion is comparable (same horizon, labels ending before
this holdout) and the paired bootstrap interval of challenger − champion on this run's
holdout lies above zero (``ml.gate``). Otherwise it is alias ``challenger`` and the decision
names the reason. Each version records its horizon and label end so later runs can check.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

# MLflow's telemetry is switched off by the environment every entry point sets up before
# importing this (config.settings.RUNTIME_ENV_DEFAULTS; the image bakes them in): no
# environment writes here, at import time
import mlflow
import mlflow.sklearn as mlflow_sklearn
from mlflow import MlflowClient
from mlflow.exceptions import MlflowException

from ml import gate as promotion
from ml.evaluation import PRIMARY, CandidateEvaluation

CHAMPION = "champion"
CHALLENGER = "challenger"
MODEL_NAMES = {"churn": "olist_churn", "ltv": "olist_ltv"}
# The label-free BTYD baselines are models a CLV analyst deploys as they are; the naive
# baselines (prevalence, RFM rule, historical average) are yardsticks only.
DEPLOYABLE_BASELINES = frozenset({"mbgnbd_baseline", "mbgnbd_gamma_gamma_baseline"})


def experiment_name(task: str) -> str:
    return f"{MODEL_NAMES[task]}_candidates"


def use_tracking(tracking_uri: str, artifact_root: Path | None = None) -> None:
    """Point MLflow at ``tracking_uri``; experiments created from now on keep their
    artifacts under ``artifact_root``."""
    global _ARTIFACT_ROOT
    mlflow.set_tracking_uri(tracking_uri)
    if tracking_uri.startswith("sqlite:///"):
        Path(tracking_uri.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    logging.getLogger("mlflow").setLevel(logging.WARNING)
    # the pickle caution is printed for every model; the choice is explained at log_model
    logging.getLogger("mlflow.sklearn").setLevel(logging.ERROR)
    _ARTIFACT_ROOT = artifact_root


_ARTIFACT_ROOT: Path | None = None


def experiment_id(name: str) -> str:
    found = mlflow.get_experiment_by_name(name)
    if found is not None:
        return found.experiment_id
    root = _ARTIFACT_ROOT
    location = root.joinpath(name).as_uri() if root else None
    return mlflow.create_experiment(name, artifact_location=location)


def finite(metrics: dict[str, float]) -> dict[str, float]:
    return {k: float(v) for k, v in metrics.items() if v == v}  # MLflow rejects NaN


class MlflowTracker:
    """Logs each candidate (params, holdout metrics, curves as artifacts, the model) and
    each Optuna trial as a run of the task's experiment, tagged with the platform run."""

    def __init__(self, platform_run_id: str, context: dict[str, str] | None = None) -> None:
        self.platform_run_id = platform_run_id
        self.context = context or {}

    def _tags(self, task: str, **extra: str) -> dict[str, str]:
        return {"platform_run_id": self.platform_run_id, "task": task, **extra}

    def trial(self, task: str, row: dict[str, Any]) -> None:
        with mlflow.start_run(
            experiment_id=experiment_id(experiment_name(task)),
            run_name=f"xgboost-trial-{row['number']}",
            tags=self._tags(task, candidate="xgboost", kind="trial", state=row["state"]),
        ):
            mlflow.log_params(row["params"])
            metric = f"validation_{PRIMARY[task][0]}"
            if row["value"] is not None:
                mlflow.log_metric(metric, float(row["value"]))
            if row["seconds"] is not None:
                mlflow.log_metric("seconds", float(row["seconds"]))

    def candidate(self, evaluation: CandidateEvaluation, model: Any | None) -> str:
        with mlflow.start_run(
            experiment_id=experiment_id(experiment_name(evaluation.task)),
            run_name=evaluation.name,
            tags=self._tags(evaluation.task, candidate=evaluation.name, kind=evaluation.kind),
        ) as run:
            mlflow.log_params(
                {**self.context, **{k: str(v)[:500] for k, v in evaluation.params.items()}}
            )
            mlflow.log_metrics({f"holdout_{k}": v for k, v in finite(evaluation.metrics).items()})
            # what the candidate was chosen on, beside what it is judged on
            mlflow.log_metrics(
                {f"validation_{k}": v for k, v in finite(evaluation.validation_metrics).items()}
            )
            mlflow.log_dict(
                {
                    "y_true": evaluation.y_true[:5000].tolist(),
                    "y_pred": evaluation.y_pred[:5000].tolist(),
                },
                "holdout_predictions_sample.json",
            )
            if evaluation.feature_importance:
                mlflow.log_dict(evaluation.feature_importance, "feature_importance.json")
            if model is not None and (
                evaluation.kind == "model" or evaluation.name in DEPLOYABLE_BASELINES
            ):
                # cloudpickle: skops refuses our pipeline's own transformer and XGBoost;
                # the registry only holds models this platform trained itself
                info = mlflow_sklearn.log_model(
                    model,
                    name="model",
                    serialization_format="cloudpickle",
                    pip_requirements=_requirements(),  # inferring them costs seconds a model
                )
                evaluation.model_uri = info.model_uri
            return run.info.run_id


def _requirements() -> list[str]:
    from importlib.metadata import version

    return [
        f"{package}=={version(package)}"
        for package in ("scikit-learn", "xgboost-cpu", "cloudpickle", "pandas", "numpy")
    ]


def attach_report(page: Path, run_ids: list[str | None]) -> None:
    """The model report (comparison, PR and calibration curves, lift, importance) as an
    artifact of every candidate run, so MLflow shows the plots beside the metrics."""
    client = MlflowClient()
    for run_id in filter(None, run_ids):
        client.log_artifact(run_id, str(page), artifact_path="report")


def log_segmentation(result: Any, features: list[str]) -> None:
    """One run of experiment ``olist_segments``: k, the cluster-quality metrics and the
    publish decision (``result`` is an ``ml.segmentation.SegmentationResult``)."""
    with mlflow.start_run(
        experiment_id=experiment_id("olist_segments"), run_name=f"kmeans-k{result.k}"
    ):
        mlflow.log_params({"k": result.k, "features": ",".join(features)})
        mlflow.log_metrics(
            finite(
                {
                    "silhouette": result.silhouette,
                    "davies_bouldin": result.davies_bouldin,
                    "calinski_harabasz": result.calinski_harabasz,
                    "published": float(result.publishable),
                    **{f"silhouette_k{k}": v for k, v in result.silhouette_by_k.items()},
                }
            )
        )
        mlflow.set_tag("decision", result.reason)


@dataclass
class GateDecision:
    task: str
    model_name: str
    registered: bool
    version: str | None
    champion: bool
    reason: str
    champion_version: str | None  # the champion after the decision
    code: str = ""  # ml.gate's named outcome ("promote", "not_better", ...); "" if unregistered


def champion_version(model_name: str) -> str | None:
    try:
        return str(MlflowClient().get_model_version_by_alias(model_name, CHAMPION).version)
    except MlflowException:
        return None


def load_champion(model_name: str) -> tuple[Any, str] | None:
    """The champion pipeline and its version, or None when there is none yet."""
    version = champion_version(model_name)
    if version is None:
        return None
    return mlflow_sklearn.load_model(f"models:/{model_name}@{CHAMPION}"), version


def lineage(model_name: str, version: str) -> promotion.Lineage:
    """The horizon and label end a version was registered with (None where untagged)."""
    tags = MlflowClient().get_model_version(model_name, version).tags
    horizon, end = tags.get("horizon_days"), tags.get("labels_end")
    return promotion.Lineage(
        int(horizon) if horizon else None, datetime.fromisoformat(end) if end else None
    )


def registrable(outcome: Any) -> tuple[CandidateEvaluation | None, str]:
    """What a task may register, and why: the model chosen on validation if it beats the
    best baseline on the holdout; otherwise that baseline itself when it is a deployable BTYD
    model (so the platform still scores customers with the best model it has); nothing when
    labels were too rare to train on, or the best baseline is a naive one."""
    if outcome.best is None:
        return None, outcome.reason
    if outcome.beats_baseline:
        return outcome.best, outcome.reason
    baseline = outcome.best_baseline
    if baseline is not None and baseline.name in DEPLOYABLE_BASELINES and baseline.model_uri:
        return baseline, (
            f"no trained model beats the label-free {baseline.name}, so it is the candidate "
            f"({outcome.reason})"
        )
    return None, outcome.reason


def gate(outcome: Any, predict_champion: Callable[[Any], Any]) -> GateDecision:
    """Register the task's chosen model if it beats its baseline; promote it if the gate
    says so. ``predict_champion(model)`` returns the champion's predictions on this run's
    holdout (the same rows, in the same order, as the challenger's)."""
    task, name = outcome.task, MODEL_NAMES[outcome.task]
    current = champion_version(name)
    candidate, why = registrable(outcome)
    if candidate is None:
        return GateDecision(task, name, False, None, False, f"not registered: {why}", current)
    best: CandidateEvaluation = candidate
    client = MlflowClient()
    version = str(mlflow.register_model(best.model_uri, name).version)
    metric, _ = PRIMARY[task]
    client.set_model_version_tag(name, version, "candidate", best.name)
    client.set_model_version_tag(name, version, f"holdout_{metric}", f"{best.metrics[metric]:.6f}")
    client.set_model_version_tag(name, version, "horizon_days", str(outcome.horizon_days))
    client.set_model_version_tag(name, version, "labels_end", outcome.labels_end.isoformat())
    client.set_model_version_tag(name, version, "metrics", json.dumps(finite(best.metrics)))
    if current is None:
        client.set_registered_model_alias(name, CHAMPION, version)
        reason = f"v{version} ({best.name}) is the first champion: {why}"
        return GateDecision(task, name, True, version, True, reason, version, promotion.PROMOTE)
    verdict = promotion.comparable(
        lineage(name, current), outcome.horizon_days, outcome.holdout_cutoff
    )
    if verdict is None:
        loaded = load_champion(name)
        champion_pred = predict_champion(loaded[0]) if loaded else best.y_pred * float("nan")
        verdict = promotion.decide(
            promotion.paired_bootstrap(task, best.y_true, best.y_pred, champion_pred)
        )
    client.set_model_version_tag(name, version, "gate", verdict.code)
    if verdict.promote:
        client.set_registered_model_alias(name, CHAMPION, version)
        reason = f"v{version} ({best.name}) replaces champion v{current}: {verdict.detail}"
        return GateDecision(task, name, True, version, True, reason, version, verdict.code)
    client.set_registered_model_alias(name, CHALLENGER, version)
    reason = (
        f"v{version} ({best.name}) stays a challenger; champion v{current} is kept "
        f"[{verdict.code}]: {verdict.detail}"
    )
    return GateDecision(task, name, True, version, False, reason, current, verdict.code)
