"""Train: point-in-time features from gold → candidates per task (baselines, linear,
Optuna-tuned XGBoost) → MLflow runs → registry gate → model report and artifacts."""

from __future__ import annotations

from datetime import UTC, datetime

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_link_artifact, create_markdown_artifact, create_table_artifact
from prefect.cache_policies import NO_CACHE

from config.settings import Settings, load_settings
from flows.retries import TRANSIENT_RETRIES
from ml import registry, training
from ml.evaluation import CHURN, LTV
from ml.features import History
from ml.tuning import Budget
from quality import store as quality_store
from reporting import model_report as report
from warehouse import engine, gold


@task(name="check-quality-gate", timeout_seconds=300)
def check_quality_gate(settings: Settings) -> None:
    """Refuse to train on a latest run that published nothing (the quality history in the
    target warehouse says)."""
    with engine.open_warehouse(settings, read_only=True) as wh:
        blocker = quality_store.training_blocker(wh)
    if blocker:
        raise quality_store.TrainingBlocked(f"training not started: {blocker}")


@task(name="load-order-history", timeout_seconds=1800, cache_policy=NO_CACHE, **TRANSIENT_RETRIES)
def load_history(settings: Settings) -> History:
    """From the gold of the target dbt built (the DuckDB file, or BigQuery)."""
    return gold.read_history(settings)


@task(name="build-training-frames", timeout_seconds=1800, cache_policy=NO_CACHE)
def build_dataset(history: History, horizon_days: int) -> training.Dataset:
    dataset = training.make_dataset(history, horizon_days)
    c = dataset.cutoffs
    get_run_logger().info(
        "cutoffs: train %s, validation %s, holdout %s (horizon %s days); rows %s / %s / %s",
        [f"{d:%Y-%m-%d}" for d in c.train],
        f"{c.validation:%Y-%m-%d}",
        f"{c.holdout:%Y-%m-%d}",
        horizon_days,
        f"{len(dataset.train):,}",
        f"{len(dataset.validation):,}",
        f"{len(dataset.holdout):,}",
    )
    return dataset


@task(name="train-and-compare", timeout_seconds=7200, cache_policy=NO_CACHE)
def train_and_compare(
    task_name: str, dataset: training.Dataset, settings: Settings, run_id: str
) -> training.TaskOutcome:
    logger = get_run_logger()
    registry.use_tracking(settings.mlflow_tracking_uri, settings.mlflow_artifact_root)
    c = dataset.cutoffs
    tracker = registry.MlflowTracker(
        run_id,
        {
            "horizon_days": str(dataset.horizon_days),
            "train_cutoffs": ",".join(f"{d:%Y-%m-%d}" for d in c.train),
            "validation_cutoff": f"{c.validation:%Y-%m-%d}",
            "holdout_cutoff": f"{c.holdout:%Y-%m-%d}",
        },
    )
    outcome = training.train_task(
        task_name,
        dataset,
        Budget(settings.train_trials, settings.train_timeout_seconds),
        seed=settings.ml_seed,
        tracker=tracker,
        progress=logger.info,
    )
    for e in outcome.evaluations:
        logger.info(
            "%s %-28s %s",
            task_name,
            e.name,
            ", ".join(f"{k} {v:.4f}" for k, v in e.metrics.items() if k != "rows"),
        )
    return outcome


@task(name="registry-gate", timeout_seconds=1800, cache_policy=NO_CACHE, **TRANSIENT_RETRIES)
def registry_gate(outcome: training.TaskOutcome, settings: Settings) -> registry.GateDecision:
    registry.use_tracking(settings.mlflow_tracking_uri, settings.mlflow_artifact_root)
    decision = registry.gate(
        outcome, lambda model: training.holdout_predictions(outcome.task, model, outcome.holdout)
    )
    get_run_logger().info("%s: %s", decision.model_name, decision.reason)
    return decision


@flow(name="train", log_prints=True, timeout_seconds=3 * 3600)
def train_flow(
    settings: Settings | None = None,
    run_id: str | None = None,
    trials: int | None = None,
    timeout_seconds: float | None = None,
) -> dict[str, registry.GateDecision]:
    """Train both tasks and gate them into the registry. ``trials`` and
    ``timeout_seconds`` override the settings' Optuna budget (the weekly retrain's is larger).
    """
    settings = settings or load_settings()
    run_id = run_id or f"train-{datetime.now(UTC):%Y%m%dT%H%M%S}"
    if trials is not None:
        settings = settings.model_copy(update={"train_trials": trials})
    if timeout_seconds is not None:
        settings = settings.model_copy(update={"train_timeout_seconds": timeout_seconds})
    check_quality_gate(settings)
    dataset = build_dataset(load_history(settings), settings.churn_horizon_days)
    outcomes = [train_and_compare(t, dataset, settings, run_id) for t in (CHURN, LTV)]
    decisions = {o.task: registry_gate(o, settings) for o in outcomes}

    evaluations = [e for o in outcomes for e in o.evaluations]
    balance = outcomes[0].balance
    c = dataset.cutoffs
    page = report.write_model_report(
        settings.reports_dir / "ml",
        run_id,
        evaluations,
        {t: d.reason for t, d in decisions.items()},
        {
            "horizon": f"{dataset.horizon_days} days",
            "cutoffs": f"train {', '.join(f'{d:%Y-%m-%d}' for d in c.train)}; "
            f"validation {c.validation:%Y-%m-%d}; holdout {c.holdout:%Y-%m-%d}",
            "class balance (retained / rows)": ", ".join(
                f"{s} {balance[f'{s}_retained']:,.0f} / {balance[f'{s}_rows']:,.0f}"
                for s in ("train", "validation", "holdout")
            ),
            "Optuna budget": f"{settings.train_trials} trials, "
            f"{settings.train_timeout_seconds or 'no'} s per task, seed {settings.ml_seed}",
        },
    )
    registry.attach_report(page, [e.mlflow_run_id for e in evaluations])
    create_table_artifact(
        key="model-comparison",
        table=report.comparison_rows(evaluations),
        description=f"Candidates of run {run_id} on the holdout",
    )
    create_markdown_artifact(
        key="model-decisions",
        markdown="\n".join(
            [f"# Registry decisions, run `{run_id}`", ""]
            + [f"- **{d.model_name}**: {d.reason}" for d in decisions.values()]
        ),
    )
    create_link_artifact(
        key="model-report", link=page.resolve().as_uri(), link_text=f"Model report of run {run_id}"
    )
    return decisions
