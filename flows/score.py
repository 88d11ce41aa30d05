"""Score: the champions → ``gold.customer_scores`` (one row per customer) and
``gold.rpt_customer_churn_risk``; segments → ``gold.dim_customer_segments`` / ``dim_segment``."""

from __future__ import annotations

from pathlib import Path

import mlflow
import pandas as pd
from prefect import flow, get_run_logger, task
from prefect.artifacts import create_table_artifact
from prefect.cache_policies import NO_CACHE

from ml import registry, scoring, segmentation
from ml.features import RFM, History, build_features, score_cutoff
from olist import warehouse
from olist.settings import Settings, load_settings

SEGMENT_FEATURES = [
    *RFM,
    "avg_order_value",
    "tenure_days",
    "avg_review",
    "late_share",
    "avg_installments",
]
RISK_LIST_SIZE = 500


def _replace_tables(warehouse_path: Path, tables: dict[str, pd.DataFrame]) -> None:
    """Write every table or none: readers never see scores without their segments."""
    with warehouse.connect(warehouse_path) as con:
        con.execute("begin transaction")
        try:
            for name, frame in tables.items():
                con.register("_frame", frame)
                con.execute(f"create or replace table gold.{name} as select * from _frame")
                con.unregister("_frame")
            con.execute("commit")
        except BaseException:
            con.execute("rollback")
            raise


@task(name="score-customers", timeout_seconds=1800, cache_policy=NO_CACHE)
def score_customers(settings: Settings) -> dict[str, int]:
    logger = get_run_logger()
    registry.use_tracking(settings.mlflow_tracking_uri, settings.mlflow_artifact_root)
    with warehouse.connect(settings.warehouse, read_only=True) as con:
        history = History.from_warehouse(con)
    features = build_features(history, score_cutoff(history))
    champions = {}
    for task_name, model_name in registry.MODEL_NAMES.items():
        champions[task_name] = registry.load_champion(model_name)
        if champions[task_name] is None:
            logger.warning(
                "no %s champion in the registry: its scores stay empty until `olist train` "
                "registers one",
                model_name,
            )
    scores = scoring.score_customers(history, champions["churn"], champions["ltv"], features)
    tables = {"customer_scores": scores}
    if champions["churn"] is not None:
        version = champions["churn"][1]
        tag = mlflow.MlflowClient().get_model_version("olist_churn", version).tags
        threshold = float(tag.get("threshold", 0.5))
        risk = scoring.churn_risk(scores, features, threshold, top=RISK_LIST_SIZE)
        tables["rpt_customer_churn_risk"] = risk
        create_table_artifact(
            key="churn-risk",
            table=risk.head(20).round(4).astype({"customer_unique_id": str}).to_dict("records"),
            description=f"Top 20 of {len(risk)} customers by value at risk "
            f"(P(churn) ≥ {threshold:.3f}, olist_churn v{version})",
        )

    result = segmentation.segment_customers(features, SEGMENT_FEATURES, seed=settings.ml_seed)
    _log_segments(result, settings)
    if result.publishable:
        tables["dim_customer_segments"] = result.assignments
        tables["dim_segment"] = result.segments
    else:
        logger.warning("segments not published: %s", result.reason)
    _replace_tables(settings.warehouse, tables)
    logger.info(
        "scored %s customers (churn v%s, ltv v%s); segments: %s",
        f"{len(scores):,}",
        champions["churn"][1] if champions["churn"] else "-",
        champions["ltv"][1] if champions["ltv"] else "-",
        result.reason,
    )
    return {name: len(frame) for name, frame in tables.items()}


def _log_segments(result: segmentation.SegmentationResult, settings: Settings) -> None:
    with mlflow.start_run(
        experiment_id=registry.experiment_id("olist_segments"), run_name=f"kmeans-k{result.k}"
    ):
        mlflow.log_params({"k": result.k, "features": ",".join(SEGMENT_FEATURES)})
        mlflow.log_metrics(
            registry.finite(
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


@flow(name="score", log_prints=True)
def score_flow(settings: Settings | None = None) -> dict[str, int]:
    settings = settings or load_settings()
    return score_customers(settings)
