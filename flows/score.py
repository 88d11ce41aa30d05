"""Score: the champion churn model → ``gold.customer_scores``, one row per customer."""

from __future__ import annotations

from prefect import flow, get_run_logger, task

from ml import registry, scoring
from ml.features import ORDERS_SQL
from olist import warehouse
from olist.settings import Settings, load_settings

CHURN_MODEL = "olist_churn"


@task(name="score-customers", timeout_seconds=1800)
def score_customers(settings: Settings) -> int:
    registry.use_tracking(settings.mlflow_tracking_uri)
    model, version = registry.load_champion(CHURN_MODEL)
    with warehouse.connect(settings.warehouse) as con:
        orders = con.sql(ORDERS_SQL).df()
        scores = scoring.score_customers(model, orders, version)
        con.register("_scores", scores)
        con.execute("create or replace table gold.customer_scores as select * from _scores")
        con.unregister("_scores")
    get_run_logger().info(
        "scored %s customers with %s v%s", f"{len(scores):,}", CHURN_MODEL, version
    )
    return len(scores)


@flow(name="score", log_prints=True)
def score_flow(settings: Settings | None = None) -> int:
    settings = settings or load_settings()
    return score_customers(settings)
