"""``make bench-ml SCALE=1``: training time, scoring throughput, and the models against an
honest yardstick: the observable ceiling, not the latent-trait oracle.

Targets: both models with 50 trials each ≤ 5 min on 2 cores; 100k customers scored ≤ 10 s;
the champion churn model's holdout ROC-AUC ≥ 0.98 × the observable ceiling and above the
BTYD baseline; LTV top-decile capture ≥ the BTYD × Gamma-Gamma baseline's (issue 16).

Both yardsticks use the generator's own code, never a copy of its numbers: the return
decision is ``synthetic.generator.return_logit`` and the trait priors are draws from
``build_customers``. After an order the customer returns with p = sigmoid(return_logit(
traits, that order's experience)), after an exponential gap of mean 365 / purchase rate days
plus 2 (the gap's form is inline in the generator's ``_run_customers_chunk``, so
``gap_form`` parses it from there).

- The **oracle** knows each customer's latent traits (the side file): no model can reach it.
- The **observable ceiling** integrates the traits over the generator's priors given what
  the order history shows (each order's experience, the gaps, the silence since the last
  one): the best a model of the purchase history can do. Order values and categories, which
  also carry a little about spend and category, are not used, so it is a slight underestimate.
Each model is reported as ``(AUC − 0.5) / (ceiling − 0.5)``.
"""

from __future__ import annotations

import ast
import inspect
import json
import os
import subprocess
import sys
import textwrap
import time
from datetime import UTC, datetime

import duckdb
import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score

from bench.common import ROOT, scale_data
from ml import candidates, scoring, training
from ml.evaluation import CHURN, LTV, CandidateEvaluation
from ml.features import History, build_features, score_cutoff
from ml.registry import DEPLOYABLE_BASELINES
from ml.tuning import Budget
from synthetic import generator
from synthetic.generator import LATENT_DIR, LATENT_FILE


def gap_form(source: str | None = None) -> tuple[float, float]:
    """(days in the gap's year, the gap's floor in days) read from the generator's own
    ``gap = (rng.exponential(YEAR / cust.rate[idx]) * DAY).astype(...) + FLOOR * DAY`` in
    ``_run_customers_chunk`` (or ``source``): the form is inline there, so it is parsed, not
    copied; a changed shape fails here instead of silently mis-stating the yardsticks."""
    source = source or textwrap.dedent(inspect.getsource(generator._run_customers_chunk))
    names = vars(generator)
    for node in ast.walk(ast.parse(source)):
        if not (
            isinstance(node, ast.Assign)
            and [getattr(t, "id", None) for t in node.targets] == ["gap"]
            and isinstance(node.value, ast.BinOp)
            and isinstance(node.value.op, ast.Add)
        ):
            continue
        draws = [
            n
            for n in ast.walk(node.value.left)
            if isinstance(n, ast.Call) and getattr(n.func, "attr", "") == "exponential"
        ]
        if draws and isinstance(draws[0].args[0], ast.BinOp):
            year = eval(compile(ast.Expression(draws[0].args[0].left), "gap", "eval"), names)  # noqa: S307
            floor = eval(compile(ast.Expression(node.value.right), "gap", "eval"), names)  # noqa: S307
            return float(year), float(floor) / generator.DAY
    raise ValueError("the generator's gap is no longer `exponential(YEAR / rate) * DAY + FLOOR`")


YEAR_DAYS, GAP_FLOOR_DAYS = gap_form()


def _customers(loyalty, spend, rate, repeat_category) -> generator.Customers:  # noqa: ANN001
    """A ``generator.Customers`` holding just the traits ``return_logit`` reads."""
    n = len(loyalty)
    return generator.Customers(
        uid=[""] * n,
        state=np.array([""] * n),
        zip_idx=np.zeros(n, dtype=int),
        city=[""] * n,
        spend=np.asarray(spend, dtype=float),
        loyalty=np.asarray(loyalty, dtype=float),
        rate=np.asarray(rate, dtype=float),
        pref_cat=np.zeros(n, dtype=int),
        pref_pay=np.zeros(n, dtype=int),
        repeat_cat=np.asarray(repeat_category, dtype=float),
    )


def _experience(orders: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(late, review score, boleto) of each order, as the generator's decision saw them."""
    return (
        orders["is_late"].fillna(False).astype(float).to_numpy(),
        orders["review_score"].fillna(4).astype(float).to_numpy(),
        (orders["main_payment_type"] == "boleto").astype(float).to_numpy(),
    )


def _return_probability(cust: generator.Customers, idx: np.ndarray, orders: pd.DataFrame):  # noqa: ANN202
    late, score, boleto = _experience(orders)
    return 1 / (1 + np.exp(-generator.return_logit(cust, idx, late, score, boleto)))


def _buys(p: np.ndarray, rate: np.ndarray, waited: np.ndarray, horizon: int) -> np.ndarray:
    """P(an order in the next ``horizon`` days | p, rate, no order for ``waited`` days)."""
    mean_gap = YEAR_DAYS / rate
    survive = np.exp(-np.clip(waited - GAP_FLOOR_DAYS, 0, None) / mean_gap)
    still_coming = p * survive / (p * survive + 1 - p)
    return still_coming * (1 - np.exp(-horizon / mean_gap))


def _last_orders(history: History, cutoff: datetime) -> pd.DataFrame:
    past = history.orders[history.orders["purchased_at"] < cutoff]
    return past.sort_values(["customer_unique_id", "purchased_at"], kind="stable")


def oracle_churn(
    history: History, latent: pd.DataFrame, cutoff: datetime, horizon: int
) -> pd.Series:
    """P(churn) per customer at ``cutoff`` from the true traits (see the module docstring)."""
    last = _last_orders(history, cutoff).groupby("customer_unique_id").tail(1)
    frame = last.merge(latent, on="customer_unique_id", how="left")
    cust = _customers(
        frame["loyalty"], frame["spend_level"], frame["purchase_rate_per_year"],
        frame["repeat_category"],
    )  # fmt: skip
    p = _return_probability(cust, np.arange(len(frame)), frame)
    waited = (pd.Timestamp(cutoff) - frame["purchased_at"]).dt.total_seconds().to_numpy() / 86_400
    buys = _buys(p, cust.rate, waited, horizon)
    return pd.Series(1 - buys, index=frame["customer_unique_id"].to_numpy())


def prior_draws(draws: int, seed: int = 0) -> generator.Customers:
    """Trait draws from the generator's own ``build_customers`` (its priors, uncopied)."""
    rng = np.random.default_rng(seed)
    zips = generator.build_zips(rng, 0.01)
    catalog, _ = generator.build_catalog(rng, zips, 0.01)
    return generator.build_customers(rng, draws, zips, catalog)


def observable_ceiling_churn(
    history: History, cutoff: datetime, horizon: int, draws: int = 400, seed: int = 0
) -> pd.Series:
    """P(churn) per customer given only the order history: the traits are integrated over
    ``draws`` prior draws, each weighted by the likelihood of the customer's observed
    returns, gaps and the silence since the last order (importance sampling)."""
    prior = prior_draws(draws, seed)
    orders = _last_orders(history, cutoff).reset_index(drop=True)
    who = orders["customer_unique_id"].to_numpy()
    first = np.r_[True, who[1:] != who[:-1]]
    last = np.r_[who[1:] != who[:-1], True]
    customer = np.cumsum(first) - 1
    n = int(customer[-1]) + 1 if len(customer) else 0
    waited = (pd.Timestamp(cutoff) - orders["purchased_at"]).dt.total_seconds().to_numpy() / 86_400
    gap_after = np.where(last, np.nan, waited - np.r_[waited[1:], np.nan])
    # a running log-sum-exp over the draws keeps memory at one row per customer
    top = np.full(n, -np.inf)
    total = np.zeros(n)
    weighted = np.zeros(n)
    for k in range(draws):
        p = _return_probability(prior, np.full(len(orders), k), orders)
        mean_gap = YEAR_DAYS / prior.rate[k]
        returned = (
            np.log(p) - np.log(mean_gap) - np.clip(gap_after - GAP_FLOOR_DAYS, 0, None) / mean_gap
        )
        survive = np.exp(-np.clip(waited - GAP_FLOOR_DAYS, 0, None) / mean_gap)
        contribution = np.where(last, np.log(1 - p + p * survive), returned)
        log_weight = np.bincount(customer, weights=contribution, minlength=n)
        buys = _buys(p[last], np.full(n, prior.rate[k]), waited[last], horizon)
        new_top = np.maximum(top, log_weight)
        shrink, weight = np.exp(top - new_top), np.exp(log_weight - new_top)
        total = total * shrink + weight
        weighted = weighted * shrink + weight * buys
        top = new_top
    buys = weighted / total
    return pd.Series(1 - buys, index=who[last])


def normalised(auc: float, ceiling: float) -> float:
    """How much of the attainable lift over chance a model reaches (1 = the ceiling)."""
    return (auc - 0.5) / (ceiling - 0.5)


def champion_of(outcome: training.TaskOutcome) -> CandidateEvaluation | None:
    """What the registry would serve (``ml.registry.registrable`` without MLflow): the model
    chosen on validation when it beats the best baseline on the holdout, else that baseline
    when it is a deployable BTYD model, else nothing."""
    if outcome.best is None:
        return None
    if outcome.beats_baseline:
        return outcome.best
    baseline = outcome.best_baseline
    return baseline if baseline is not None and baseline.name in DEPLOYABLE_BASELINES else None


def _name(evaluation: CandidateEvaluation | None) -> str:
    return evaluation.name if evaluation is not None else "-"


def _metric(evaluation: CandidateEvaluation | None, metric: str) -> float:
    return evaluation.metrics[metric] if evaluation is not None else float("nan")


def _holdout(outcome: training.TaskOutcome, name: str, metric: str) -> float:
    found = next((e for e in outcome.evaluations if e.name == name), None)
    return _metric(found, metric)


def _label(evaluation: CandidateEvaluation, outcome: training.TaskOutcome) -> str:
    marks = ("*" if evaluation is outcome.best else "") + (
        "+" if evaluation is champion_of(outcome) else ""
    )
    return f"{evaluation.name} {marks}".rstrip()


def _selection(outcome: training.TaskOutcome) -> str:
    """The choice on validation (*) against the runner-up, with its paired interval."""
    if outcome.best is None:
        return "no model trained"
    if outcome.selection is None:
        return f"{outcome.best.name} (no runner-up to compare)"
    return (
        f"{outcome.best.name} chosen on validation over {outcome.selection_runner_up}: "
        f"{outcome.selection.describe()}"
    )


def _warehouse(work, data) -> os.PathLike:
    wh = work / "ml" / "wh.duckdb"
    if not wh.is_file():
        print(f"building the warehouse ({data} → {wh}) with `olist run --skip-train`", flush=True)
        env = {**os.environ, "PREFECT_HOME": str(work / "prefect")}
        subprocess.run(
            [sys.executable, "-m", "cli", "run", "--source", str(data), "--warehouse", str(wh),
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
    holdout = dataset.holdout.set_index("customer_unique_id")
    cutoff = dataset.cutoffs.holdout

    def auc_of(score: pd.Series) -> float:
        return float(roc_auc_score(holdout["churned"], score.reindex(holdout.index)))

    oracle_auc = auc_of(oracle_churn(history, latent, cutoff, horizon))
    ceiling_auc = auc_of(observable_ceiling_churn(history, cutoff, horizon))
    churn, ltv = outcomes[CHURN], outcomes[LTV]
    champion = {task: champion_of(o) for task, o in outcomes.items()}
    print("\n* chosen on validation; + the champion the registry would serve")
    print(
        f"{'churn candidate':<32}{'validation':>11}{'holdout':>9}{'normalised':>12}"
        f"{'of ceiling':>12}"
    )
    for e in churn.evaluations:
        auc = e.metrics["roc_auc"]
        print(
            f"{_label(e, churn):<32}{e.validation_metrics.get('roc_auc', float('nan')):>11.4f}"
            f"{auc:>9.4f}{normalised(auc, ceiling_auc):>12.3f}{auc / ceiling_auc:>11.1%}"
        )
    print(f"{'observable ceiling':<32}{'':>11}{ceiling_auc:>9.4f}{1:>12.3f}{1:>11.1%}")
    print(
        f"{'oracle (latent traits)':<32}{'':>11}{oracle_auc:>9.4f}   (unreachable: reads the "
        "side file)"
    )
    print(f"selection: {_selection(churn)}")
    print(f"holdout judgement: {churn.reason}")
    btyd_auc = _holdout(churn, "mbgnbd_baseline", "roc_auc")
    share = champion[CHURN].metrics["roc_auc"] / ceiling_auc if champion[CHURN] else float("nan")
    churn_done = (
        bool(champion[CHURN]) and share >= 0.98 and (champion[CHURN].metrics["roc_auc"] > btyd_auc)
    )
    print(
        f"churn champion {_name(champion[CHURN])}: holdout ROC-AUC "
        f"{_metric(champion[CHURN], 'roc_auc'):.4f} = {share:.1%} of the observable ceiling "
        f"{ceiling_auc:.4f} (target ≥ 98%: ≥ {0.98 * ceiling_auc:.4f}), MBG/NBD baseline "
        f"{btyd_auc:.4f}: {'met' if churn_done else 'NOT met'}"
    )

    print(f"\n{'LTV candidate':<32}{'validation':>11}{'holdout':>9}   (top-decile capture)")
    for e in ltv.evaluations:
        print(
            f"{_label(e, ltv):<32}"
            f"{e.validation_metrics.get('top_decile_capture', float('nan')):>11.4f}"
            f"{e.metrics['top_decile_capture']:>9.4f}"
        )
    print(f"selection: {_selection(ltv)}")
    print(f"holdout judgement: {ltv.reason}")
    gg = _holdout(ltv, "mbgnbd_gamma_gamma_baseline", "top_decile_capture")
    ltv_capture = _metric(champion[LTV], "top_decile_capture")
    ltv_done = bool(champion[LTV]) and ltv_capture >= gg
    print(
        f"LTV champion {_name(champion[LTV])}: top-decile capture {ltv_capture:.4f} vs the "
        f"BTYD × Gamma-Gamma baseline {gg:.4f}: {'met' if ltv_done else 'NOT met'}"
    )

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
                "validation": {
                    t: {e.name: e.validation_metrics for e in o.evaluations}
                    for t, o in outcomes.items()
                },
                "holdout": {
                    t: {e.name: e.metrics for e in o.evaluations} for t, o in outcomes.items()
                },
                "chosen_on_validation": {
                    t: o.best.name if o.best else None for t, o in outcomes.items()
                },
                "selection": {
                    t: {
                        "runner_up": o.selection_runner_up,
                        **(vars(o.selection) if o.selection else {}),
                    }
                    for t, o in outcomes.items()
                },
                "holdout_judgement": {t: o.reason for t, o in outcomes.items()},
                "champion": {t: _name(c) for t, c in champion.items()},
                "churn_champion_over_ceiling": share,
                "churn_champion_normalised": normalised(
                    champion[CHURN].metrics["roc_auc"], ceiling_auc
                )
                if champion[CHURN]
                else None,
                "churn_target_met": churn_done,
                "ltv_target_met": ltv_done,
                "oracle_churn_roc_auc": oracle_auc,
                "observable_ceiling_churn_roc_auc": ceiling_auc,
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
