"""The bench's yardsticks (bench/ml.py) read the generator's code, not a copy of it: changing
a generator coefficient moves them, and on histories simulated by the generator's own
return process the observable ceiling sits between chance and the latent-trait oracle."""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from bench import ml as bench_ml
from ml.features import History
from synthetic import generator

START, CUTOFF, END = datetime(2016, 9, 1), datetime(2018, 1, 1), datetime(2018, 10, 1)
HORIZON = 180


def _simulate(n: int, seed: int) -> tuple[History, pd.DataFrame]:
    """Customers with traits from the generator's priors, returning by its decision rule
    after random experiences (late, review, boleto) until ``END``."""
    rng = np.random.default_rng(seed)
    cust = bench_ml.prior_draws(n, seed=seed + 100)
    when = np.array([START + timedelta(days=float(d)) for d in rng.uniform(0, 600, n)])
    idx = np.arange(n)
    rows = []
    while len(idx):
        late = rng.random(len(idx)) < 0.1
        score = rng.integers(1, 6, len(idx))
        boleto = rng.random(len(idx)) < 0.2
        for i, w, lt, sc, bo in zip(idx, when, late, score, boleto, strict=True):
            rows.append((f"c{i}", w, bool(lt), float(sc), "boleto" if bo else "credit_card"))
        p = 1 / (1 + np.exp(-generator.return_logit(cust, idx, late, score, boleto)))
        gap = rng.exponential(365 / cust.rate[idx]) + 2
        when = np.array([w + timedelta(days=float(g)) for w, g in zip(when, gap, strict=True)])
        keep = (rng.random(len(idx)) < p) & (when < END)
        idx, when = idx[keep], when[keep]
    orders = pd.DataFrame(
        rows,
        columns=[
            "customer_unique_id",
            "purchased_at",
            "is_late",
            "review_score",
            "main_payment_type",
        ],
    )
    orders["purchased_at"] = pd.to_datetime(orders["purchased_at"])
    latent = pd.DataFrame(
        {
            "customer_unique_id": [f"c{i}" for i in range(n)],
            "loyalty": cust.loyalty,
            "spend_level": cust.spend,
            "purchase_rate_per_year": cust.rate,
            "repeat_category": cust.repeat_cat.astype(int),
        }
    )
    return History(orders, pd.DataFrame()), latent


@pytest.fixture(scope="module")
def simulated() -> tuple[History, pd.DataFrame]:
    return _simulate(12_000, seed=1)


def _churned(history: History) -> pd.Series:
    o = history.orders
    past = o[o["purchased_at"] < CUTOFF]["customer_unique_id"].unique()
    window = o[(o["purchased_at"] >= CUTOFF) & (o["purchased_at"] < CUTOFF + timedelta(HORIZON))]
    bought = set(window["customer_unique_id"])
    return pd.Series([int(c not in bought) for c in past], index=past)


def test_changing_a_generator_coefficient_moves_the_oracle_and_the_ceiling(
    simulated, monkeypatch: pytest.MonkeyPatch
) -> None:
    history, latent = simulated
    oracle = bench_ml.oracle_churn(history, latent, CUTOFF, HORIZON)
    ceiling = bench_ml.observable_ceiling_churn(history, CUTOFF, HORIZON, draws=100)
    monkeypatch.setattr(generator, "RETURN_INTERCEPT", generator.RETURN_INTERCEPT + 1.5)
    assert (bench_ml.oracle_churn(history, latent, CUTOFF, HORIZON) < oracle).all()
    moved = bench_ml.observable_ceiling_churn(history, CUTOFF, HORIZON, draws=100)
    assert moved.mean() < ceiling.mean() - 0.005


def test_a_changed_trait_coefficient_reorders_the_oracle(
    simulated, monkeypatch: pytest.MonkeyPatch
) -> None:
    history, latent = simulated
    before = bench_ml.oracle_churn(history, latent, CUTOFF, HORIZON)
    original = generator.return_logit

    def loyalty_counts_more(cust, idx, late, score, boleto):  # noqa: ANN001, ANN202
        return original(cust, idx, late, score, boleto) + 2.0 * cust.loyalty[idx]

    monkeypatch.setattr(generator, "return_logit", loyalty_counts_more)
    after = bench_ml.oracle_churn(history, latent, CUTOFF, HORIZON)
    assert before.rank().corr(after.rank()) < 0.99


def test_the_observable_ceiling_lies_between_chance_and_the_oracle(simulated) -> None:
    history, latent = simulated
    y = _churned(history)
    assert 30 < (y == 0).sum() < len(y) - 30  # enough returners to rank
    oracle = roc_auc_score(y, bench_ml.oracle_churn(history, latent, CUTOFF, HORIZON)[y.index])
    ceiling = roc_auc_score(y, bench_ml.observable_ceiling_churn(history, CUTOFF, HORIZON)[y.index])
    assert 0.5 < ceiling < oracle
    assert bench_ml.normalised(ceiling, ceiling) == 1.0
    assert bench_ml.normalised(0.5, ceiling) == 0.0


def test_the_gap_form_is_parsed_from_the_generators_code() -> None:
    """The mean gap (days per year / rate) and its floor come from the line the generator
    runs; a changed line changes them, and a reshaped one is an error, not a silent copy."""
    year, floor = bench_ml.gap_form()
    assert (year, floor) == (bench_ml.YEAR_DAYS, bench_ml.GAP_FLOOR_DAYS)
    assert year > 0 and floor >= 0
    changed = (
        "def f():\n"
        "    gap = (rng.exponential(300 / cust.rate[idx]) * DAY).astype(np.int64) + 5 * DAY\n"
    )
    assert bench_ml.gap_form(changed) == (300.0, 5.0)
    with pytest.raises(ValueError, match="no longer"):
        bench_ml.gap_form("def f():\n    gap = rng.gamma(2.0, 3.0)\n")


def test_a_changed_gap_floor_moves_the_oracle(simulated, monkeypatch: pytest.MonkeyPatch) -> None:
    history, latent = simulated
    before = bench_ml.oracle_churn(history, latent, CUTOFF, HORIZON)
    monkeypatch.setattr(bench_ml, "GAP_FLOOR_DAYS", 60.0)
    after = bench_ml.oracle_churn(history, latent, CUTOFF, HORIZON)
    assert not np.allclose(before.to_numpy(), after.to_numpy())
