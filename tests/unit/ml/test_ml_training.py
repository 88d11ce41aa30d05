"""Training, the registry gate and scoring on a simulated history, with a real MLflow
(SQLite) registry in a temporary folder."""

from __future__ import annotations

from pathlib import Path

import duckdb
import numpy as np
import pytest
from mlflow import MlflowClient

from ml import btyd, registry, scoring, training
from ml.evaluation import CHURN, LTV, primary_score
from ml.features import build_features, score_cutoff
from ml.tuning import Budget
from quality import store as quality_store
from tests.ml_data import simulated_history

BUDGET = Budget(trials=4, timeout_seconds=None)  # trials only: reproducible


@pytest.fixture(scope="module")
def history():
    return simulated_history(customers=4000, seed=5)


@pytest.fixture(scope="module")
def dataset(history):
    return training.make_dataset(history, horizon_days=180)


@pytest.fixture(scope="module")
def churn(dataset):
    return training.train_task(CHURN, dataset, BUDGET, seed=7)


@pytest.fixture(scope="module")
def ltv(dataset):
    return training.train_task(LTV, dataset, BUDGET, seed=7)


def test_every_candidate_is_compared_on_the_same_holdout(churn, ltv, dataset) -> None:
    assert [e.name for e in churn.evaluations] == [
        "prevalence_baseline",
        "rfm_rule_baseline",
        "mbgnbd_baseline",
        "logistic_regression",
        "mbgnbd_covariates",
        "xgboost",
    ]
    assert [e.name for e in ltv.evaluations] == [
        "historical_average_baseline",
        "mbgnbd_gamma_gamma_baseline",
        "linear_regression",
        "mbgnbd_gamma_gamma_covariates",
        "xgboost",
    ]
    for e in [*churn.evaluations, *ltv.evaluations]:
        assert len(e.y_true) == len(dataset.holdout)
    prevalence = churn.evaluations[0]
    assert prevalence.metrics["roc_auc"] == pytest.approx(0.5)
    assert prevalence.metrics["prevalence"] == pytest.approx(dataset.holdout["churned"].mean())
    assert churn.balance["train_retained"] == (dataset.train["churned"] == 0).sum()


def test_models_learn_the_planted_signal_and_beat_the_naive_baselines(churn, ltv) -> None:
    auc = {e.name: e.metrics["roc_auc"] for e in churn.evaluations}
    assert churn.best.metrics["roc_auc"] > max(0.6, auc["rfm_rule_baseline"])
    capture = {e.name: e.metrics["top_decile_capture"] for e in ltv.evaluations}
    assert ltv.best.metrics["top_decile_capture"] > capture["historical_average_baseline"]
    assert "chosen on validation" in churn.reason and "paired resamples" in churn.reason


def test_the_label_free_btyd_baseline_is_the_baseline_to_beat(churn) -> None:
    """On a repeat-purchase history the MBG/NBD baseline outranks the RFM rule, so the
    gate measures models against it (issue 16: it matched untuned XGBoost on scale 1)."""
    auc = {e.name: e.metrics["roc_auc"] for e in churn.evaluations}
    assert auc["mbgnbd_baseline"] > auc["rfm_rule_baseline"]
    assert churn.best_baseline.name == "mbgnbd_baseline"


def test_training_is_deterministic_for_a_seed(dataset, churn) -> None:
    again = training.train_task(CHURN, dataset, BUDGET, seed=7)
    assert again.tuning.params == churn.tuning.params
    for a, b in zip(again.evaluations, churn.evaluations, strict=True):
        np.testing.assert_array_equal(a.y_pred, b.y_pred)


def test_a_too_rare_label_trains_nothing_and_says_why() -> None:
    rare = training.make_dataset(simulated_history(customers=800, seed=2, loyalty=0.05), 180)
    outcome = training.train_task(CHURN, rare, BUDGET, seed=7)
    assert not outcome.beats_baseline and outcome.best is None
    assert "too rare to learn" in outcome.reason
    assert {e.kind for e in outcome.evaluations} == {"baseline"}
    btyd_baseline = next(e for e in outcome.evaluations if e.name == "mbgnbd_baseline")
    assert btyd_baseline.params["r"] > 0  # the label-free baseline still fits and reports


@pytest.fixture()
def tracking(tmp_path: Path):
    registry.use_tracking(f"sqlite:///{tmp_path / 'mlflow.db'}", tmp_path / "artifacts")
    return MlflowClient()


def _trained(dataset, task: str, budget: Budget, seed: int = 7):
    tracker = registry.MlflowTracker("test-run")
    return training.train_task(task, dataset, budget, seed=seed, tracker=tracker)


def _gate(outcome):
    return registry.gate(
        outcome, lambda model: training.holdout_predictions(outcome.task, model, outcome.holdout)
    )


def test_the_gate_promotes_only_a_model_that_beats_the_champion(dataset, tracking) -> None:
    outcome = _trained(dataset, CHURN, BUDGET)
    outcome.beats_baseline = True  # the champion comparison is what is tested here
    first = _gate(outcome)
    assert first.registered and first.champion and first.version == "1"
    version = tracking.get_model_version("olist_churn", "1")
    assert version.tags["horizon_days"] == "180"
    assert version.tags["labels_end"] == dataset.cutoffs.holdout.isoformat()
    # every candidate and trial is a run of the task's experiment
    experiment = tracking.get_experiment_by_name(registry.experiment_name(CHURN))
    runs = tracking.search_runs([experiment.experiment_id], max_results=100)
    assert len(runs) == 6 + BUDGET.trials
    btyd_run = next(r for r in runs if r.data.tags.get("candidate") == "mbgnbd_baseline")
    assert {"holdout_roc_auc", "validation_roc_auc"} <= set(btyd_run.data.metrics)
    assert float(btyd_run.data.params["r"]) > 0  # the fitted priors are logged

    # a deliberately weaker configuration: one trial, fitted on shuffled training labels,
    # judged on the same holdout as the champion
    rng = np.random.default_rng(0)
    noisy = training.Dataset(
        dataset.cutoffs,
        dataset.horizon_days,
        dataset.train.assign(churned=rng.permutation(dataset.train["churned"].to_numpy())),
        dataset.validation.assign(
            churned=rng.permutation(dataset.validation["churned"].to_numpy())
        ),
        dataset.holdout,
    )
    weaker = _trained(noisy, CHURN, Budget(trials=1, timeout_seconds=None))
    weaker.beats_baseline = True  # the gate's champion comparison is what is tested here
    second = _gate(weaker)
    assert second.registered and not second.champion
    assert second.champion_version == "1" and "stays a challenger" in second.reason
    assert second.code == "not_better"
    assert str(tracking.get_model_version_by_alias("olist_churn", "champion").version) == "1"
    assert str(tracking.get_model_version_by_alias("olist_churn", "challenger").version) == "2"

    # the same challenger claiming another horizon is refused before any comparison
    weaker.horizon_days = 90
    third = _gate(weaker)
    assert not third.champion and third.code == "champion_other_horizon"


def test_a_model_that_does_not_beat_a_naive_baseline_is_not_registered(dataset, tracking) -> None:
    outcome = _trained(dataset, LTV, Budget(trials=1, timeout_seconds=None))
    outcome.beats_baseline, outcome.reason = False, "made not to beat its baseline"
    outcome.best_baseline = next(
        e for e in outcome.evaluations if e.name == "historical_average_baseline"
    )
    decision = _gate(outcome)
    assert not decision.registered and decision.version is None
    assert tracking.search_registered_models(filter_string="name = 'olist_ltv'") == []


def test_when_no_model_beats_the_btyd_baseline_the_baseline_is_registered(
    dataset, tracking
) -> None:
    outcome = _trained(dataset, LTV, Budget(trials=1, timeout_seconds=None))
    outcome.beats_baseline, outcome.reason = False, "made not to beat its baseline"
    outcome.best_baseline = next(
        e for e in outcome.evaluations if e.name == "mbgnbd_gamma_gamma_baseline"
    )
    decision = _gate(outcome)
    assert decision.registered and decision.champion and decision.version == "1"
    assert "no trained model beats the label-free mbgnbd_gamma_gamma_baseline" in decision.reason
    version = tracking.get_model_version("olist_ltv", "1")
    assert version.tags["candidate"] == "mbgnbd_gamma_gamma_baseline"
    # the registered baseline loads and scores like any champion
    loaded = registry.load_champion("olist_ltv")
    assert loaded is not None and loaded[1] == "1"
    predictions = training.holdout_predictions(LTV, loaded[0], outcome.holdout)
    assert len(predictions) == len(outcome.holdout) and np.isfinite(predictions).all()


def test_scoring_writes_one_row_per_customer(history, churn, ltv) -> None:
    features = build_features(history, score_cutoff(history))
    scores = scoring.score_customers(
        history, (churn.models["xgboost"], "3"), (ltv.models["xgboost"], "2"), features
    )
    assert len(scores) == history.orders["customer_unique_id"].nunique()
    assert scores["customer_unique_id"].is_unique
    assert scores["churn_probability"].between(0, 1).all()
    assert (scores["predicted_ltv"] >= 0).all()
    assert set(scores["churn_model_version"]) == {"3"}


def test_the_churn_risk_list_holds_likely_churners_with_real_value(history, churn, ltv) -> None:
    features = build_features(history, score_cutoff(history))
    scores = scoring.score_customers(
        history, (churn.models["xgboost"], "3"), (ltv.models["xgboost"], "2"), features
    )
    risk = scoring.churn_risk(scores, features, top=50, horizon_days=180)
    assert len(risk) == 50 and risk["value_at_risk"].is_monotonic_decreasing
    assert risk["churn_probability"].mean() >= scores["churn_probability"].mean()
    assert risk["monetary"].min() > features["monetary"].median()


def test_scoring_without_champions_leaves_the_columns_empty(history) -> None:
    scores = scoring.score_customers(history, None, None)
    assert len(scores) == history.orders["customer_unique_id"].nunique()
    assert scores["churn_probability"].isna().all() and scores["ltv_model_version"].isna().all()


def test_training_is_blocked_after_a_critical_quality_failure(tmp_path: Path) -> None:
    con = duckdb.connect(str(tmp_path / "wh.duckdb"))
    quality_store.ensure_tables(con)
    assert quality_store.training_blocker(con) is None  # no run yet
    quality_store.record_run(con, "ok", None, True)
    assert quality_store.training_blocker(con) is None
    quality_store.record_run(con, "bad", None, False, "critical failure")
    assert "bad" in quality_store.training_blocker(con)
    con.close()


def test_the_model_is_chosen_on_validation_and_the_choice_is_measured(churn, ltv) -> None:
    """Selection reads validation only; how far the choice stands out from the runner-up
    on validation is a paired bootstrap the bench prints."""
    for outcome in (churn, ltv):
        trained = [e for e in outcome.evaluations if e.kind == "model"]
        chosen = max(trained, key=lambda e: primary_score(e, "validation"))
        assert outcome.best is chosen
        rows = outcome.balance["validation_rows"]
        assert all(len(e.validation_y_pred) == rows for e in outcome.evaluations)
        assert outcome.selection is not None and outcome.selection_runner_up != chosen.name
        assert outcome.selection.challenger == pytest.approx(primary_score(chosen, "validation"))


def test_label_free_candidates_are_fitted_on_the_history_before_their_cutoff(dataset) -> None:
    """A BTYD candidate reads no label: scrambling every label leaves its predictions as
    they were, and at validation it is the model calibrated on the history before the
    validation cutoff, not on the stale last training cutoff."""
    rng = np.random.default_rng(1)
    scrambled = training.Dataset(
        dataset.cutoffs,
        dataset.horizon_days,
        *(
            frame.assign(
                churned=rng.permutation(frame["churned"].to_numpy()),
                future_orders=rng.permutation(frame["future_orders"].to_numpy()),
                future_revenue=rng.permutation(frame["future_revenue"].to_numpy()),
            )
            for frame in (dataset.train, dataset.validation, dataset.holdout)
        ),
    )
    for task, name in ((CHURN, "mbgnbd_covariates"), (LTV, "mbgnbd_gamma_gamma_baseline")):
        kind, build = training._builders(task, 180)[name]
        clean, _ = training._evaluate(task, name, kind, lambda b=build: b(7), dataset)
        noisy, _ = training._evaluate(task, name, kind, lambda b=build: b(7), scrambled)
        np.testing.assert_array_equal(clean.validation_y_pred, noisy.validation_y_pred)
        np.testing.assert_array_equal(clean.y_pred, noisy.y_pred)
    at_validation = btyd.BetaGeoChurn(180, covariates=btyd.COVARIATES, seed=7).fit(
        dataset.validation.drop(columns=["churned", "future_orders", "future_revenue"])
    )
    kind, build = training._builders(CHURN, 180)["mbgnbd_covariates"]
    evaluation, _ = training._evaluate(CHURN, "mbgnbd_covariates", kind, lambda: build(7), dataset)
    np.testing.assert_allclose(
        evaluation.validation_y_pred, at_validation.predict_proba(dataset.validation)[:, 1]
    )
