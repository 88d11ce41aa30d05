"""Our (M)BG/NBD and Gamma-Gamma likelihoods (ml/btyd.py) against published estimates on
CDNOW and against data simulated by the same process with known parameters."""

from __future__ import annotations

import warnings
from importlib.metadata import PackageNotFoundError, distribution
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ml import btyd


def _cdnow(name: str) -> pd.DataFrame:
    """The CDNOW summaries the ``lifetimes`` wheel ships (a dev dependency for this data
    only: found through the package metadata, never imported)."""
    try:
        path = Path(str(distribution("lifetimes").locate_file(f"lifetimes/datasets/{name}")))
    except PackageNotFoundError:
        pytest.fail("the dev dependency `lifetimes` (CDNOW data) is not installed: make setup")
    return pd.read_csv(path)


def test_bgnbd_reproduces_the_papers_cdnow_estimates() -> None:
    """Fader, Hardie & Lee (2005), table 1: r 0.243, α 4.414, a 0.793, b 2.426."""
    cdnow = _cdnow("cdnow_customers_summary.csv")
    data = btyd.Rfm(
        cdnow["frequency"].to_numpy(float),
        cdnow["recency"].to_numpy(float),
        cdnow["T"].to_numpy(float),
    )
    fit = btyd.fit_beta_geo(data, modified=False)
    assert fit.converged
    assert (fit.r, fit.alpha, fit.a, fit.b) == pytest.approx((0.243, 4.414, 0.793, 2.426), rel=0.01)
    assert fit.log_likelihood == pytest.approx(-9582.4, abs=1.0)  # the paper's LL


def test_gamma_gamma_reproduces_the_published_cdnow_estimates() -> None:
    """Fader, Hardie & Lee (2005b) on CDNOW's repeat buyers: p 6.25, q 3.74, γ 15.44."""
    cdnow = _cdnow("cdnow_customers_summary_with_transactions.csv")
    repeat = cdnow[cdnow["x"] > 0]  # x repeat purchases of mean value zbar
    fit = btyd.fit_gamma_gamma(repeat["x"].to_numpy(float), repeat["zbar"].to_numpy(float))
    assert (fit.p, fit.q, fit.gamma) == pytest.approx((6.25, 3.74, 15.44), rel=0.02)


def _simulate(
    n: int, r: float, alpha: float, a: np.ndarray | float, b: float, seed: int, future: float
) -> tuple[btyd.Rfm, np.ndarray]:
    """MBG/NBD customers: a first purchase at 0, dropout with p after every purchase, the
    next one after Exp(λ); observed until T, then ``future`` weeks more."""
    rng = np.random.default_rng(seed)
    lam = rng.gamma(r, 1 / alpha, n)
    p = rng.beta(a, b, n) if np.ndim(a) == 0 else rng.beta(a, b)
    T = rng.uniform(20, 80, n)
    x, t_x, later = np.zeros(n), np.zeros(n), np.zeros(n)
    now = np.zeros(n)
    alive = rng.random(n) >= p  # dropout right after the first purchase
    while alive.any():
        now = np.where(alive, now + rng.exponential(1 / lam), now)
        seen = alive & (now <= T)
        ahead = alive & (now > T) & (now <= T + future)
        x += seen
        t_x = np.where(seen, now, t_x)
        later += ahead
        alive &= (now <= T + future) & (rng.random(n) >= p)
    return btyd.Rfm(x, t_x, T), later


def test_mbgnbd_recovers_the_parameters_it_was_simulated_with() -> None:
    data, _ = _simulate(20_000, r=0.8, alpha=12.0, a=0.6, b=2.5, seed=1, future=26)
    fit = btyd.fit_beta_geo(data, modified=True)
    assert fit.converged
    assert (fit.r, fit.alpha) == pytest.approx((0.8, 12.0), rel=0.15)
    # a and b trade off against each other; their mean, E[p], is what the data pins down
    assert fit.a / (fit.a + fit.b) == pytest.approx(0.6 / 3.1, rel=0.1)
    at_truth = btyd.bgnbd_log_likelihood(0.8, 12.0, 0.6, 2.5, data, modified=True).sum()
    assert fit.log_likelihood >= at_truth


def test_predicted_no_purchase_and_orders_match_the_simulated_future() -> None:
    true = {"r": 0.8, "alpha": 12.0, "a": 0.6, "b": 2.5}
    data, later = _simulate(40_000, **true, seed=2, future=26)
    none = btyd.p_no_purchase(26, true["r"], true["alpha"], true["a"], true["b"], data, True)
    orders = btyd.expected_purchases(26, true["r"], true["alpha"], true["a"], true["b"], data, True)
    for group in (data.x == 0, data.x == 1, data.x >= 2):
        assert none[group].mean() == pytest.approx((later[group] == 0).mean(), abs=0.015)
        assert orders[group].mean() == pytest.approx(later[group].mean(), rel=0.08)


def test_the_covariate_model_finds_a_covariate_that_drives_dropout() -> None:
    rng = np.random.default_rng(3)
    z = rng.normal(size=20_000)
    data, _ = _simulate(20_000, r=0.8, alpha=12.0, a=0.6 * np.exp(0.8 * z), b=2.5, seed=4, future=1)
    plain = btyd.fit_beta_geo(data, modified=True)
    fit = btyd.fit_beta_geo(data, modified=True, Z=z[:, None])
    assert fit.gamma_a[0] == pytest.approx(0.8, abs=0.25)
    assert fit.log_likelihood > plain.log_likelihood + 10
    dropout_only = btyd.fit_beta_geo(data, modified=True, Z=z[:, None], on_rate=False)
    assert dropout_only.gamma_alpha[0] == 0.0
    assert dropout_only.gamma_a[0] == pytest.approx(0.8, abs=0.25)


def _features(data: btyd.Rfm, cutoff: str) -> pd.DataFrame:
    days = 7.0
    return pd.DataFrame(
        {
            "frequency": data.x + 1,
            "tenure_days": data.T * days,
            "recency_days": (data.T - data.t_x) * days,
            "avg_order_value": 100.0,
            "cutoff": pd.Timestamp(cutoff),
        }
    )


def test_the_churn_estimator_ranks_the_simulated_future_without_labels() -> None:
    from sklearn.metrics import roc_auc_score

    data, later = _simulate(10_000, r=0.8, alpha=12.0, a=0.6, b=2.5, seed=5, future=26)
    frame = _features(data, "2018-01-01")
    model = btyd.BetaGeoChurn(horizon_days=182).fit(frame)
    churn = model.predict_proba(frame)[:, 1]
    assert roc_auc_score(later == 0, churn) > 0.7
    revenue = btyd.BetaGeoGammaGammaLtv(horizon_days=182).fit(frame).predict(frame)
    assert np.corrcoef(revenue, later)[0, 1] > 0.3


def test_the_estimator_fits_on_the_latest_cutoff_only() -> None:
    old, _ = _simulate(3_000, r=0.3, alpha=5.0, a=0.9, b=1.0, seed=6, future=1)
    new, _ = _simulate(3_000, r=0.8, alpha=12.0, a=0.6, b=2.5, seed=7, future=1)
    stacked = pd.concat([_features(old, "2017-01-01"), _features(new, "2018-01-01")])
    both = btyd.BetaGeoChurn().fit(stacked).fit_
    latest = btyd.BetaGeoChurn().fit(_features(new, "2018-01-01")).fit_
    assert (both.r, both.alpha, both.a, both.b) == (latest.r, latest.alpha, latest.a, latest.b)


def test_a_large_frame_is_fitted_on_all_repeat_buyers_and_reweighted_one_timers(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    data, _ = _simulate(8_000, r=0.8, alpha=12.0, a=0.6, b=2.5, seed=8, future=1)
    frame = _features(data, "2018-01-01")
    full = btyd.BetaGeoChurn().fit(frame).fit_
    monkeypatch.setattr(btyd, "MAX_FIT_ROWS", 6_000)  # room for 1,304 of 3,304 one-timers
    rows, weights = btyd._fitting_rows(frame, seed=1)
    assert len(rows) == 6_000 and weights.sum() == pytest.approx(len(frame))
    assert (rows["frequency"] > 1).sum() == (frame["frequency"] > 1).sum()
    sampled = btyd.BetaGeoChurn().fit(frame).fit_
    assert sampled.a / (sampled.a + sampled.b) == pytest.approx(full.a / (full.a + full.b), rel=0.1)
    assert sampled.r / sampled.alpha == pytest.approx(full.r / full.alpha, rel=0.1)


def test_a_history_with_almost_no_repeat_buyers_fits_quietly_to_finite_priors() -> None:
    """The real sample has 6 repeat buyers in 1,223: the fit must end somewhere finite
    (without overflow warnings) and still rank customers."""
    rng = np.random.default_rng(9)
    n = 1200
    x = np.zeros(n)
    x[:6] = 1
    T = rng.uniform(0, 90, n)
    T[-50:] = 0.0  # bought on the eve of the cutoff
    data = btyd.Rfm(x, np.where(x > 0, T * 0.5, 0.0), T)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fit = btyd.fit_beta_geo(data, modified=True)
        frame = _features(data, "2018-01-01")
        churn = btyd.BetaGeoChurn().fit(frame).predict_proba(frame)[:, 1]
    assert np.isfinite([fit.r, fit.alpha, fit.a, fit.b]).all()
    assert np.isfinite(churn).all() and churn.min() < churn.max()
