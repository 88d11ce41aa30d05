"""Score: the champions → ``gold.customer_scores`` (one row per customer) and
``gold.rpt_customer_churn_risk``; segments → ``gold.dim_customer_segments`` / ``dim_segment``.
On the ``bigquery`` target the history is read from BigQuery and the tables land there too
(``warehouse.gold``)."""

from __future__ import annotations

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_table_artifact
from prefect.cache_policies import NO_CACHE

from config.settings import Settings, load_settings
from flows.retries import TRANSIENT_RETRIES
from ml import registry, scoring, segmentation
from ml.features import RFM, build_features, score_cutoff
from warehouse import gold

SEGMENT_FEATURES = [
    *RFM,
    "avg_order_value",
    "tenure_days",
    "avg_review",
    "late_share",
    "avg_installments",
]
RISK_LIST_SIZE = 500


@task(name="score-customers", timeout_seconds=1800, cache_policy=NO_CACHE, **TRANSIENT_RETRIES)
def score_customers(settings: Settings, risk_list_size: int = RISK_LIST_SIZE) -> dict[str, int]:
    logger = get_run_logger()
    registry.use_tracking(settings.mlflow_tracking_uri, settings.mlflow_artifact_root)
    history = gold.read_history(settings)
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
        risk = scoring.churn_risk(
            scores, features, top=risk_list_size, horizon_days=settings.churn_horizon_days
        )
        tables["rpt_customer_churn_risk"] = risk
        create_table_artifact(
            key="churn-risk",
            table=risk.head(20).round(4).astype({"customer_unique_id": str}).to_dict("records"),
            description=f"Top 20 of {len(risk)} customers by value at risk, P(churn) × value "
            f"if retained (olist_churn v{version})",
        )

    result = segmentation.segment_customers(features, SEGMENT_FEATURES, seed=settings.ml_seed)
    registry.log_segmentation(result, SEGMENT_FEATURES)
    if result.publishable:
        tables["dim_customer_segments"] = result.assignments
        tables["dim_segment"] = result.segments
    else:
        logger.warning("segments not published: %s", result.reason)
    gold.write_tables(settings, tables)
    logger.info(
        "scored %s customers (churn v%s, ltv v%s); segments: %s",
        f"{len(scores):,}",
        champions["churn"][1] if champions["churn"] else "-",
        champions["ltv"][1] if champions["ltv"] else "-",
        result.reason,
    )
    return {name: len(frame) for name, frame in tables.items()}


@flow(name="score", log_prints=True, timeout_seconds=3600)
def score_flow(
    settings: Settings | None = None, risk_list_size: int = RISK_LIST_SIZE
) -> dict[str, int]:
    """``risk_list_size``: how many customers the churn-risk list holds (a deployment
    parameter, default 500)."""
    settings = settings or load_settings()
    return score_customers(settings, risk_list_size)
