"""The flows prefect.yaml deploys: the platform's flows with only the parameters a person
sets in the Prefect UI's custom-run form, each described there.

The flows themselves take a ``Settings`` object first (the CLI builds it from its flags);
in the form that is a raw JSON object of internal paths. A deployed run reads its settings
from the worker's environment (``OLIST_*``, as ``make server`` and the Cloud Run jobs set
them), so these flows call the underlying flow's body (``.fn``) in their own flow run: the
run a user opens is the one with the logs, the subflows and the artifacts. The flow names
stay ``platform``, ``incremental``, ``train`` and ``backfill``.
"""

from __future__ import annotations

from datetime import date

from prefect import flow
from prefect.states import State

from config.settings import load_settings
from flows.backfill import backfill_flow
from flows.incremental import incremental_flow
from flows.platform import platform_flow
from flows.train import train_flow


@flow(name="platform", log_prints=True, timeout_seconds=4 * 3600)
def platform(skip_train: bool = False, score: bool | None = None) -> dict | State:
    """Land new or changed source files, apply the contracts, build the warehouse with dbt,
    run the quality gate, publish the gold marts, then train, score and report. With
    nothing new since the last successful run it changes nothing and ends as "Nothing new".

    Args:
        skip_train: Keep the current champion models instead of training challengers.
        score: Score every customer with the champions. Empty: score when training.
    """
    return platform_flow.fn(load_settings(), skip_train=skip_train, score=score)


@flow(name="incremental", log_prints=True, timeout_seconds=3600)
def incremental() -> dict | State:
    """Land new JSON order batches, merge them into the incremental marts, rebuild what
    depends on them, check and publish. No new batch: nothing changes ("Nothing new")."""
    return incremental_flow.fn(load_settings())


@flow(name="train", log_prints=True, timeout_seconds=3 * 3600)
def train(trials: int | None = None, timeout_seconds: float | None = None) -> dict:
    """Train the churn and LTV challengers and gate them into the MLflow registry: a
    challenger becomes champion only if it beats the current one on the same holdout.

    Args:
        trials: Optuna trials per model. Empty: OLIST_TRAIN_TRIALS, else 10.
        timeout_seconds: Optuna time budget per model, in seconds. Empty:
            OLIST_TRAIN_TIMEOUT_SECONDS, else 120.
    """
    decisions = train_flow.fn(load_settings(), trials=trials, timeout_seconds=timeout_seconds)
    return {task: decision.reason for task, decision in decisions.items()}


@flow(name="backfill", log_prints=True, timeout_seconds=24 * 3600)
def backfill(start: date, end: date, restart: bool = False, max_days: int | None = None) -> dict:
    """Rebuild the incremental facts one purchase day at a time from start to end, then
    the other marts; check and publish. Resumable: a new run skips the days done.

    Args:
        start: First purchase day to rebuild (YYYY-MM-DD).
        end: Last purchase day to rebuild (YYYY-MM-DD), included.
        restart: Forget the days already rebuilt for this range and start over.
        max_days: Rebuild at most this many days in this run; run again to resume.
            Empty: every day left.
    """
    return backfill_flow.fn(start, end, load_settings(), restart=restart, max_days=max_days)
