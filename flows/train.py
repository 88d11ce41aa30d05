"""Train: point-in-time churn features → XGBoost → MLflow (registered, alias champion)."""

from __future__ import annotations

from pathlib import Path

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_table_artifact

from ml import churn, registry
from ml.features import FEATURES, ORDERS_SQL
from olist import warehouse
from olist.settings import Settings, load_settings

CHURN_MODEL = "olist_churn"


@task(name="load-order-history")
def load_orders(warehouse_path: Path):  # -> pd.DataFrame
    with warehouse.connect(warehouse_path, read_only=True) as con:
        return con.sql(ORDERS_SQL).df()


@task(name="train-churn-xgboost", timeout_seconds=3600)
def train_churn(settings: Settings, orders, run_id: str) -> registry.RegisteredModel:
    logger = get_run_logger()
    dataset = churn.make_dataset(orders, settings.churn_horizon_days)
    logger.info(
        "churn: %s training rows over cutoffs %s; holdout %s rows at %s",
        f"{len(dataset.train):,}",
        [f"{c:%Y-%m-%d}" for c in dataset.train_cutoffs],
        f"{len(dataset.holdout):,}",
        f"{dataset.holdout_cutoff:%Y-%m-%d}",
    )
    model, metrics = churn.train_xgboost(dataset)
    registry.use_tracking(
        settings.mlflow_tracking_uri, settings.mlflow_artifact_root, experiment=CHURN_MODEL
    )
    params = {
        "horizon_days": settings.churn_horizon_days,
        "features": ",".join(FEATURES),
        "train_cutoffs": ",".join(f"{c:%Y-%m-%d}" for c in dataset.train_cutoffs),
        "holdout_cutoff": f"{dataset.holdout_cutoff:%Y-%m-%d}",
        **{
            k: v
            for k, v in model.get_params().items()
            if k in ("n_estimators", "max_depth", "learning_rate")
        },
    }
    registered = registry.log_and_register(
        model, CHURN_MODEL, params, metrics, tags={"platform_run_id": run_id}
    )
    create_table_artifact(
        key="churn-model-metrics",
        table=[{"metric": k, "value": round(v, 4)} for k, v in metrics.items()],
        description=f"{CHURN_MODEL} v{registered.version} on the holdout",
    )
    logger.info(
        "registered %s v%s as champion: %s",
        CHURN_MODEL,
        registered.version,
        {k: round(v, 4) for k, v in metrics.items()},
    )
    return registered


@flow(name="train", log_prints=True)
def train_flow(
    settings: Settings | None = None, run_id: str = "manual"
) -> registry.RegisteredModel:
    settings = settings or load_settings()
    return train_churn(settings, load_orders(settings.warehouse), run_id)
