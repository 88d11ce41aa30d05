"""The console during tuning (issue 19): one line per Optuna trial (model, trial, value,
best so far) through Prefect's run logger in a run, else the standard logger; Optuna's own
INFO lines are silenced."""

from __future__ import annotations

import logging

import pytest

from ml import training, tuning
from ml.evaluation import CHURN
from tests.ml_data import simulated_history


@pytest.fixture(autouse=True)
def _short_trials(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tuning, "MAX_ROUNDS", 30)  # the log lines, not the fit, are tested


@pytest.fixture(scope="module")
def dataset() -> training.Dataset:
    return training.make_dataset(simulated_history(customers=1500, seed=4), horizon_days=180)


def _tune(dataset: training.Dataset, trials: int = 3) -> tuning.TuningResult:
    return tuning.tune_xgboost(
        CHURN,
        dataset.train,
        dataset.validation,
        "churned",
        tuning.Budget(trials=trials, timeout_seconds=None),
        seed=7,
    )


def test_one_line_per_trial_with_the_best_so_far(dataset, caplog) -> None:  # noqa: ANN001
    with caplog.at_level(logging.INFO):
        result = _tune(dataset)
    ours = [r.getMessage() for r in caplog.records if r.name == "ml.tuning"]
    assert len(ours) == 3
    for number, line in enumerate(ours):
        assert line.startswith(f"churn xgboost trial {number}: ")
        assert "validation roc_auc" in line and "best so far" in line
    assert ours[-1].endswith(f"best so far {result.best_value:.4f}")
    assert not [r for r in caplog.records if r.name.startswith("optuna")]


def test_inside_a_run_the_lines_go_to_prefects_run_logger(
    dataset, monkeypatch: pytest.MonkeyPatch
) -> None:  # noqa: ANN001
    import prefect.logging

    lines: list[str] = []

    class RunLogger:
        def info(self, message: str) -> None:
            lines.append(message)

    monkeypatch.setattr(prefect.logging, "get_run_logger", lambda: RunLogger())
    _tune(dataset, trials=2)
    assert [line.split(":")[0] for line in lines] == [
        "churn xgboost trial 0",
        "churn xgboost trial 1",
    ]


def test_outside_a_run_it_is_the_standard_logger() -> None:
    assert tuning.run_logger() is logging.getLogger("ml.tuning")
