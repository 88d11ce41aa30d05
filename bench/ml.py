"""``make bench-ml SCALE=1``: training time, scoring throughput, and the models against the
oracle that knows the generator's latent customer traits.

Targets (issue 6): both models with 50 trials each ≤ 5 min on 2 cores; 100k customers
scored ≤ 10 s; churn ROC-AUC ≥ 90% of the oracle's on the same holdout.

The oracle scores each holdout customer with the generator's own process: after an order
the customer returns with p = sigmoid(return_logit(traits, that order's experience)), after
an exponential gap (mean 365 / purchase rate days, plus 2). Given no order between the last
one and the cutoff, P(an order in the next H days) = p·S / (p·S + 1 − p) · (1 − e^(−H/mean)),
with S = P(gap > time since the last order).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from datetime import UTC, datetime

import duckdb
import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score

from bench.common import ROOT, scale_data
from ml import candidates, scoring, training
from ml.evaluation import CHURN, LTV
from ml.features import History, build_features, score_cutoff
from ml.tuning import Budget
from olist.synthetic.generator import LATENT_DIR, LATENT_FILE, RETURN_INTERCEPT


def oracle_churn(history: History, latent: pd.DataFrame, cutoff: datetime, horizon: int):
    """P(churn) per customer at ``cutoff`` from the true traits (see the module docstring)."""
    past = history.orders[history.orders["purchased_at"] < cutoff]
    last = past.sort_values("purchased_at").groupby("customer_unique_id").tail(1)
    frame = last.merge(latent, on="customer_unique_id", how="left")
    score = frame["review_score"].fillna(4)
    logit = (
        RETURN_INTERCEPT
        + 0.9 * frame["loyalty"]
        + 0.7 * frame["repeat_category"]
        + 0.5 * np.log(frame["spend_level"])
        - 1.1 * frame["is_late"].fillna(False).astype(float)
        - 0.7 * (score <= 2)
        + 0.35 * (score == 5)
        - 0.4 * (frame["main_payment_type"] == "boleto")
    )
    p = 1 / (1 + np.exp(-logit))
    mean_gap = 365 / frame["purchase_rate_per_year"]
    waited = (pd.Timestamp(cutoff) - frame["purchased_at"]).dt.total_seconds() / 86_400
    survive = np.exp(-np.clip(waited - 2, 0, None) / mean_gap)
    still_coming = p * survive / (p * survive + 1 - p)
    buys = still_coming * (1 - np.exp(-horizon / mean_gap))
    return pd.Series((1 - buys).to_numpy(), index=frame["customer_unique_id"])


def _warehouse(work, data) -> os.PathLike:
    wh = work / "ml" / "wh.duckdb"
    if not wh.is_file():
        print(f"building the warehouse ({data} → {wh}) with `olist run --skip-train`", flush=True)
        env = {**os.environ, "PREFECT_HOME": str(work / "prefect")}
        subprocess.run(
            [sys.executable, "-m", "olist", "run", "--source", str(data), "--warehouse", str(wh),
             "--reports", str(work / "ml" / "reports"), "--batches", str(work / "ml" / "batches"),
             "--skip-train"],
            env=env, check=True, stdout=subprocess.DEVNULL,
        )  # fmt: skip
    return wh


def main(argv: list[str] | None = None) -> int:
    args, work, data = scale_data("python -m bench.ml", __doc__.splitlines()[0], argv)
    trials = int(os.environ.get("BENCH_TRIALS", "50"))
    wh = _warehouse(work, data)
    with duckdb.connect(str(wh), read_only=True) as con:
        history = History.from_warehouse(con)
    horizon = 180

    start = time.perf_counter()
    dataset = training.make_dataset(history, horizon)
    frames = time.perf_counter() - start
    print(
        f"scale {args.scale:g}: {len(history.orders):,} orders; training frames "
        f"{len(dataset.train):,} / {len(dataset.validation):,} / {len(dataset.holdout):,} rows "
        f"in {frames:.1f}s",
        flush=True,
    )
    outcomes, seconds = {}, {}
    for task in (CHURN, LTV):
        start = time.perf_counter()
        outcomes[task] = training.train_task(
            task, dataset, Budget(trials=trials, timeout_seconds=None), seed=7
        )
        seconds[task] = time.perf_counter() - start
        o = outcomes[task]
        print(
            f"  {task}: {seconds[task]:.1f}s for {len(o.tuning.trials) if o.tuning else 0} trials "
            f"({o.tuning.pruned if o.tuning else 0} pruned); {o.reason}",
            flush=True,
        )
    total = frames + sum(seconds.values())
    print(f"training both models, {trials} trials each: {total:.1f}s (target ≤ 300 s)")

    latent = pd.read_csv(data / LATENT_DIR / LATENT_FILE)
    oracle = oracle_churn(history, latent, dataset.cutoffs.holdout, horizon)
    holdout = dataset.holdout.set_index("customer_unique_id")
    oracle_auc = float(roc_auc_score(holdout["churned"], oracle.reindex(holdout.index)))
    print(f"\n{'churn candidate':<24}{'ROC-AUC':>9}{'of oracle':>11}")
    for e in outcomes[CHURN].evaluations:
        auc = e.metrics["roc_auc"]
        print(f"{e.name:<24}{auc:>9.4f}{auc / oracle_auc:>10.0%}")
    print(f"{'oracle (true traits)':<24}{oracle_auc:>9.4f}{1:>10.0%}")
    best = outcomes[CHURN].best
    share = best.metrics["roc_auc"] / oracle_auc if best else float("nan")
    print(f"best model / oracle: {share:.0%} (target ≥ 90%)")

    features = build_features(history, score_cutoff(history))
    rows = features.sample(n=100_000, replace=len(features) < 100_000, random_state=0)
    churn_model = outcomes[CHURN].models.get("xgboost")
    ltv_model = outcomes[LTV].models.get("xgboost")
    start = time.perf_counter()
    if churn_model is not None and ltv_model is not None:
        candidates.predict(CHURN, churn_model, rows)
        candidates.predict(LTV, ltv_model, rows)
    predict_s = time.perf_counter() - start
    start = time.perf_counter()
    scores = scoring.score_customers(
        history,
        (churn_model, "bench") if churn_model is not None else None,
        (ltv_model, "bench") if ltv_model is not None else None,
    )
    end_to_end = time.perf_counter() - start
    print(
        f"\nscoring: 100,000 customers through both models in {predict_s:.2f}s "
        f"(target ≤ 10 s); all {len(scores):,} customers incl. their features in "
        f"{end_to_end:.2f}s"
    )

    out = (
        ROOT
        / "bench"
        / "results"
        / f"{datetime.now(UTC):%Y%m%dT%H%M%S}-ml-scale{args.scale:g}.json"
    )
    out.write_text(
        json.dumps(
            {
                "scale": args.scale,
                "trials": trials,
                "frames_seconds": round(frames, 2),
                "train_seconds": {k: round(v, 2) for k, v in seconds.items()},
                "train_total_seconds": round(total, 2),
                "holdout": {
                    t: {e.name: e.metrics for e in o.evaluations} for t, o in outcomes.items()
                },
                "oracle_churn_roc_auc": oracle_auc,
                "best_over_oracle": share,
                "predict_100k_seconds": round(predict_s, 3),
                "score_all_seconds": round(end_to_end, 3),
                "customers": len(scores),
            },
            indent=2,
            default=float,
        )
        + "\n"
    )
    print(f"written: {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
