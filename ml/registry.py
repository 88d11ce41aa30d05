"""MLflow on a local (or remote) tracking store: log, register, alias, load."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import mlflow
from mlflow import MlflowClient

CHAMPION = "champion"


@dataclass
class RegisteredModel:
    name: str
    version: str
    run_id: str
    is_champion: bool


def use_tracking(
    tracking_uri: str, artifact_root: Path | None = None, experiment: str | None = None
) -> None:
    mlflow.set_tracking_uri(tracking_uri)
    if tracking_uri.startswith("sqlite:///"):
        Path(tracking_uri.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    if experiment:
        if mlflow.get_experiment_by_name(experiment) is None:
            location = artifact_root.joinpath(experiment).as_uri() if artifact_root else None
            mlflow.create_experiment(experiment, artifact_location=location)
        mlflow.set_experiment(experiment)


def log_and_register(
    model: Any,
    name: str,
    params: dict[str, Any],
    metrics: dict[str, float],
    tags: dict[str, str] | None = None,
    promote: bool = True,
) -> RegisteredModel:
    """Log ``model`` in a run of the current experiment and register it as ``name``."""
    import mlflow.xgboost

    with mlflow.start_run(run_name=f"{name}-xgboost") as run:
        mlflow.log_params(params)
        mlflow.log_metrics(metrics)
        mlflow.set_tags(tags or {})
        info = mlflow.xgboost.log_model(model, name="model", registered_model_name=name)
    version = str(info.registered_model_version)
    if promote:
        MlflowClient().set_registered_model_alias(name, CHAMPION, version)
    return RegisteredModel(name, version, run.info.run_id, promote)


def load_champion(name: str) -> tuple[Any, str]:
    """The champion model and its version."""
    import mlflow.xgboost

    version = MlflowClient().get_model_version_by_alias(name, CHAMPION).version
    return mlflow.xgboost.load_model(f"models:/{name}@{CHAMPION}"), str(version)
