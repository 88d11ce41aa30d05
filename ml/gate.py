"""The statistics of the registry gate: is the challenger better than the champion, or only
luckier on this holdout?

A fixed margin on the primary metric is below the noise of the paired difference on a
holdout of Olist's size (an equally good retrain clears 0.005 ROC-AUC in 6-25% of resampled
holdouts), so the gate resamples the holdout instead: customers are drawn with replacement,
*both* models are scored on the same draw, and the challenger is promoted only when the
lower end of the percentile interval of challenger − champion is above zero (a 95%
interval, Bonferroni-corrected for the 20 retrains it guards: see ``CONFIDENCE``). Before any
comparison the champion must be comparable at all: trained for the same horizon, on labels
that end before the current holdout starts. Every refusal carries a named code, so a NaN
metric or a mismatched champion is a stated reason, never a silent win or loss.

Pure numpy: no MLflow here, so the tests run on small synthetic scores in milliseconds.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import numpy as np

from ml.evaluation import CHURN, LTV, PRIMARY, primary_metric

RESAMPLES = 1000
# The gate runs at every retrain, so its error compounds: a 95% interval lets an equally
# good retrain through ~2.5% of the time *per comparison* (measured: 2% for noisy scores,
# 5% for XGBoost refits that differ only in their seed), i.e. in ~40% of runs of 20
# retrains. Bonferroni over a horizon of 20 retrains keeps that family-wise chance at 5%:
# the lower end of a two-sided 1 - 2·0.05/20 = 99.5% interval must be above zero.
RETRAINS_GUARDED = 20
CONFIDENCE = 1 - 2 * 0.05 / RETRAINS_GUARDED
_CHUNK = 50  # bootstrap draws held in memory at once (rows × 50 floats)

# the named outcomes of a comparison; PROMOTE is the only one that moves the alias
PROMOTE = "promote"
NOT_BETTER = "not_better"  # the interval of the difference reaches zero or below
METRIC_UNDEFINED = "metric_undefined"  # NaN on either side: no ranking on this holdout
OTHER_HORIZON = "champion_other_horizon"
LABELS_OVERLAP = "champion_labels_overlap_holdout"
LINEAGE_UNKNOWN = "champion_lineage_unknown"  # registered before the gate recorded lineage


@dataclass(frozen=True)
class Comparison:
    """Challenger − champion on the primary metric, with its paired bootstrap interval."""

    metric: str
    challenger: float
    champion: float
    difference: float
    low: float
    high: float
    confidence: float
    resamples: int

    def describe(self) -> str:
        return (
            f"{self.metric} {self.challenger:.4f} vs {self.champion:.4f}: difference "
            f"{self.difference:+.4f}, {self.confidence:.1%} interval "
            f"[{self.low:+.4f}, {self.high:+.4f}] over {self.resamples} paired resamples"
        )


@dataclass(frozen=True)
class Lineage:
    """What the champion was trained on, as recorded in its registry tags."""

    horizon_days: int | None
    labels_end: datetime | None  # the end of the last label window it was fitted on


@dataclass(frozen=True)
class Verdict:
    code: str
    detail: str
    comparison: Comparison | None = None

    @property
    def promote(self) -> bool:
        return self.code == PROMOTE


def _weights(n: int, draws: int, rng: np.random.Generator) -> np.ndarray:
    """Bootstrap counts: how often each row is drawn in each of ``draws`` resamples."""
    picks = rng.integers(0, n, size=(draws, n)) + (np.arange(draws) * n)[:, None]
    return np.bincount(picks.ravel(), minlength=draws * n).reshape(draws, n).astype(float)


def weighted_roc_auc(y: np.ndarray, score: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """ROC-AUC of ``score`` for each row of ``weights`` (ties count one half): the AUC of
    every bootstrap resample in one pass over the sorted scores, instead of one sort each."""
    order = np.argsort(score, kind="stable")
    s, positive = score[order], y[order].astype(float)
    w = weights[:, order]
    starts = np.flatnonzero(np.r_[True, s[1:] != s[:-1]])  # groups of tied scores
    pos = np.add.reduceat(w * positive, starts, axis=1)
    neg = np.add.reduceat(w * (1 - positive), starts, axis=1)
    below = np.cumsum(neg, axis=1) - neg
    pairs = pos.sum(axis=1) * neg.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(pairs > 0, (pos * (below + 0.5 * neg)).sum(axis=1) / pairs, np.nan)


def weighted_top_decile_capture(
    y: np.ndarray, prediction: np.ndarray, weights: np.ndarray
) -> np.ndarray:
    """Share of revenue held by the top 10% by prediction, per resample (a row drawn k
    times counts k times; the row on the decile's edge counts in part)."""
    n = len(y)
    top = max(1, int(np.ceil(n * 0.1)))
    order = np.argsort(-prediction, kind="stable")
    w, value = weights[:, order], y[order].astype(float)
    taken = np.clip(top - (np.cumsum(w, axis=1) - w), 0, w)
    total = (w * value).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(total > 0, (taken * value).sum(axis=1) / total, np.nan)


_RESAMPLED = {CHURN: weighted_roc_auc, LTV: weighted_top_decile_capture}


def paired_bootstrap(
    task: str,
    y_true: np.ndarray,
    challenger: np.ndarray,
    champion: np.ndarray,
    resamples: int = RESAMPLES,
    confidence: float = CONFIDENCE,
    seed: int = 0,
) -> Comparison:
    """The primary metric of both models and the percentile interval of their difference,
    both scored on the same resampled customers each time (that pairing is what removes
    the holdout's shared noise from the difference)."""
    metric, _ = PRIMARY[task]
    y = np.asarray(y_true, dtype=float)
    a = np.asarray(challenger, dtype=float)
    b = np.asarray(champion, dtype=float)
    if task == CHURN:
        a, b = np.clip(a, 0.0, 1.0), np.clip(b, 0.0, 1.0)
    else:
        a, b = np.clip(a, 0.0, None), np.clip(b, 0.0, None)
    point_a, point_b = primary_metric(task, y, a), primary_metric(task, y, b)
    rng = np.random.default_rng(seed)
    differences: list[np.ndarray] = []
    resampled = _RESAMPLED[task]
    if len(y) and np.isfinite(point_a) and np.isfinite(point_b):
        for start in range(0, resamples, _CHUNK):
            w = _weights(len(y), min(_CHUNK, resamples - start), rng)
            differences.append(resampled(y, a, w) - resampled(y, b, w))
    diff = np.concatenate(differences) if differences else np.array([])
    diff = diff[np.isfinite(diff)]
    tail = (1 - confidence) / 2 * 100
    low, high = np.percentile(diff, [tail, 100 - tail]) if len(diff) else (np.nan, np.nan)
    return Comparison(
        metric,
        float(point_a),
        float(point_b),
        float(point_a - point_b),
        float(low),
        float(high),
        confidence,
        int(len(diff)),
    )


def comparable(lineage: Lineage, horizon_days: int, holdout_cutoff: datetime) -> Verdict | None:
    """A refusal when the champion cannot be judged on this holdout, else None.

    A champion of another horizon predicts another quantity; one whose labels reach past
    the holdout's cutoff has seen the answers it would be judged on."""
    if lineage.horizon_days is None or lineage.labels_end is None:
        return Verdict(
            LINEAGE_UNKNOWN,
            "the champion has no recorded horizon or label end, so it cannot be shown to be "
            "comparable; retire it by hand to let a new model in",
        )
    if lineage.horizon_days != horizon_days:
        return Verdict(
            OTHER_HORIZON,
            f"the champion was trained for a {lineage.horizon_days}-day horizon, this run "
            f"for {horizon_days} days: their scores answer different questions",
        )
    if lineage.labels_end > holdout_cutoff:
        return Verdict(
            LABELS_OVERLAP,
            f"the champion's training labels run to {lineage.labels_end:%Y-%m-%d}, past this "
            f"holdout's cutoff {holdout_cutoff:%Y-%m-%d}: it has seen the holdout's outcomes",
        )
    return None


def decide(comparison: Comparison) -> Verdict:
    """Promote only on an interval wholly above zero; NaN anywhere is its own reason."""
    values = (comparison.challenger, comparison.champion, comparison.low)
    if not all(np.isfinite(values)):
        return Verdict(
            METRIC_UNDEFINED,
            f"{comparison.metric} is undefined on this holdout (challenger "
            f"{comparison.challenger:.4f}, champion {comparison.champion:.4f}): nothing to rank",
            comparison,
        )
    if comparison.low > 0:
        return Verdict(PROMOTE, comparison.describe(), comparison)
    return Verdict(
        NOT_BETTER, f"{comparison.describe()}; the interval is not above zero", comparison
    )


def judge(
    task: str,
    y_true: np.ndarray,
    challenger: np.ndarray,
    champion: np.ndarray,
    lineage: Lineage,
    horizon_days: int,
    holdout_cutoff: datetime,
    seed: int = 0,
) -> Verdict:
    """The whole gate for one challenger against the current champion on one holdout."""
    refused = comparable(lineage, horizon_days, holdout_cutoff)
    if refused is not None:
        return refused
    return decide(paired_bootstrap(task, y_true, challenger, champion, seed=seed))
