from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest

from ml.evaluation import CHURN, LTV, CandidateEvaluation, churn_metrics, ltv_metrics
from reporting.model_report import comparison_rows, write_model_report

CHART_IDS = ("pr-curves", "calibration", "lift-churn", "ltv-deciles", "lift-ltv")
DECISIONS = {CHURN: "Promoted xgboost: PR-AUC beat the champion.", LTV: "Kept the champion."}


def churn(
    name: str, kind: str, y: np.ndarray, proba: np.ndarray, **kw: object
) -> CandidateEvaluation:
    return CandidateEvaluation(
        CHURN,
        name,
        kind,
        churn_metrics(y, proba),
        y,
        proba,
        **kw,  # type: ignore[arg-type]
    )


def ltv(name: str, kind: str, y: np.ndarray, pred: np.ndarray, **kw: object) -> CandidateEvaluation:
    return CandidateEvaluation(LTV, name, kind, ltv_metrics(y, pred), y, pred, **kw)  # type: ignore[arg-type]


def candidates(n: int = 500, seed: int = 0) -> list[CandidateEvaluation]:
    """A baseline and two models per task; the better churn model is listed last."""
    rng = np.random.default_rng(seed)
    risk = rng.uniform(size=n)
    y = (rng.uniform(size=n) < risk).astype(int)
    spend = rng.gamma(2.0, 50.0, size=n) * (rng.uniform(size=n) < 0.3)
    return [
        churn("prevalence_baseline", "baseline", y, np.full(n, y.mean())),
        churn(
            "logistic_regression",
            "model",
            y,
            np.clip(risk + rng.normal(0, 0.4, n), 0, 1),
            feature_importance={"recency_days": -0.8, "frequency": 0.3},
        ),
        churn(
            "xgboost",
            "model",
            y,
            np.clip(risk + rng.normal(0, 0.05, n), 0, 1),
            feature_importance={f"feature_{i}": float(i) for i in range(20)},
            mlflow_run_id="abc123",
        ),
        ltv("mean_baseline", "baseline", spend, np.full(n, 32.0)),
        ltv(
            "lightgbm",
            "model",
            spend,
            spend * 0.9 + rng.normal(0, 5, n),
            feature_importance={"monetary": 5.0, "tenure_days": 1.0},
        ),
    ]


def write(tmp_path: Path, evaluations: list[CandidateEvaluation], run_id: str = "run-1") -> str:
    return write_model_report(
        tmp_path, run_id, evaluations, DECISIONS, {"cutoff": "2018-01-01"}
    ).read_text(encoding="utf-8")


def table(page: str, task: str) -> str:
    match = re.search(rf"<table id='comparison-{task}'>.*?</table>", page, re.S)
    assert match, f"no comparison table for {task}"
    return match.group(0)


def cells(page: str, task: str, candidate: str) -> dict[str, str]:
    row = re.search(rf"<tr[^>]*data-candidate='{candidate}'>(.*?)</tr>", table(page, task), re.S)
    assert row, f"no row for {candidate}"
    return dict(re.findall(r"data-metric='(\w+)'[^>]*>([^<]*)</td>", row.group(1)))


def svg(page: str, svg_id: str) -> str:
    match = re.search(rf"<svg id='{svg_id}'.*?</svg>", page, re.S)
    assert match, f"no svg {svg_id}"
    return match.group(0)


def test_page_has_both_tables_decisions_and_every_chart(tmp_path: Path) -> None:
    path = write_model_report(tmp_path, "run-1", candidates(), DECISIONS)
    page = path.read_text(encoding="utf-8")
    assert path == tmp_path / "run-1.html"
    for task in (CHURN, LTV):
        table(page, task)
        assert re.search(rf"id='decision-{task}'[^>]*>{re.escape(DECISIONS[task])}<", page)
    for chart in (*CHART_IDS, "importance-churn", "importance-ltv"):
        svg(page, chart)
    assert "<script" not in page and "http://" not in page.replace(
        "xmlns='http://www.w3.org/2000/svg'", ""
    )


def test_table_numbers_equal_the_metrics_rounded(tmp_path: Path) -> None:
    evaluations = candidates()
    page = write(tmp_path, evaluations)
    for e in evaluations:
        shown = cells(page, e.task, e.name)
        for metric, value in e.metrics.items():
            if np.isnan(value):
                expected = "n/a"
            elif metric == "rows":
                expected = f"{int(value):,}"
            else:
                expected = f"{round(value, 4):.4f}"
            assert shown[metric] == expected, (e.name, metric)


def test_the_best_candidate_by_the_primary_metric_is_marked(tmp_path: Path) -> None:
    page = write(tmp_path, candidates())
    for task, best in ((CHURN, "xgboost"), (LTV, "lightgbm")):
        marked = re.findall(r"<tr class='best' data-candidate='(\w+)'>", table(page, task))
        assert marked == [best]


def test_importance_chart_shows_the_best_model_top_15_features(tmp_path: Path) -> None:
    chart = svg(write(tmp_path, candidates()), "importance-churn")
    assert "xgboost" in chart and "recency_days" not in chart
    assert chart.count("<rect") == 15
    assert "feature_19" in chart and "feature_4:" not in chart  # smallest five are cut


def test_index_lists_every_run_newest_first(tmp_path: Path) -> None:
    write(tmp_path, candidates(), run_id="run-1")
    write(tmp_path, candidates(), run_id="run-2")
    index = (tmp_path / "index.html").read_text(encoding="utf-8")
    assert re.findall(r"<a href='([^']+)'>", index) == ["run-2.html", "run-1.html"]


def test_one_class_holdout_renders_na_with_a_reason_and_no_pr_curve(tmp_path: Path) -> None:
    y = np.zeros(50, dtype=int)
    evaluations = [churn("xgboost", "model", y, np.linspace(0, 1, 50))]
    page = write(tmp_path, evaluations)
    na = re.search(r"<td class='num na' data-metric='pr_auc' title='([^']+)'>n/a</td>", page)
    assert na and "one class" in na.group(1)
    assert "id='pr-curves-note'" in page and "<svg id='pr-curves'" not in page
    svg(page, "calibration")


def test_comparison_rows_are_json_serialisable_with_nan_as_none() -> None:
    evaluations = candidates()
    evaluations[0].metrics["pr_auc"] = np.float64("nan")
    evaluations[1].metrics["brier"] = np.float64(0.123456789)
    rows = json.loads(json.dumps(comparison_rows(evaluations), allow_nan=False))
    assert [r["task"] for r in rows] == [CHURN] * 3 + [LTV] * 2
    by_name = {r["candidate"]: r for r in rows}
    assert by_name["prevalence_baseline"]["pr_auc"] is None
    assert by_name["logistic_regression"]["brier"] == 0.1235
    assert by_name["xgboost"]["mlflow_run_id"] == "abc123"
    assert set(by_name["lightgbm"]) >= {"rmse", "top_decile_capture", "kind"}


def test_strings_are_escaped(tmp_path: Path) -> None:
    evil = "<script>alert(1)</script>"
    evaluations = candidates()
    evaluations[2].name = evil
    evaluations[2].feature_importance = {evil: 1.0}
    path = write_model_report(tmp_path, evil, evaluations, {CHURN: evil}, {evil: evil})
    page = path.read_text(encoding="utf-8")
    assert "<script" not in page and "&lt;script&gt;" in page
    assert path.parent == tmp_path
    assert "<script" not in (tmp_path / "index.html").read_text(encoding="utf-8")


def test_every_chart_is_well_formed_svg(tmp_path: Path) -> None:
    page = write(tmp_path, candidates())
    charts = re.findall(r"<svg .*?</svg>", page, re.S)
    assert len(charts) == len(CHART_IDS) + 2
    for chart in charts:
        ET.fromstring(chart)


def test_curves_are_downsampled_on_a_large_holdout(tmp_path: Path) -> None:
    page = write(tmp_path, candidates(n=20_000))
    path = re.search(r"<path d='([^']+)'", svg(page, "pr-curves"))
    assert path and path.group(1).count("H") <= 200
    assert len(page) < 200_000


def test_a_task_without_candidates_gets_no_section(tmp_path: Path) -> None:
    page = write(tmp_path, [e for e in candidates() if e.task == LTV])
    assert "comparison-churn" not in page and "decision-churn" not in page
    svg(page, "lift-ltv")


@pytest.mark.parametrize("task", [CHURN, LTV])
def test_empty_holdout_does_not_crash(tmp_path: Path, task: str) -> None:
    empty = np.array([], dtype=float)
    metrics = {"rows": 0.0, "pr_auc": float("nan"), "rmse": float("nan")}
    evaluation = CandidateEvaluation(task, "model", "model", metrics, empty, empty)
    page = write(tmp_path, [evaluation])
    assert f"id='charts-{task}-note'" in page
    assert cells(page, task, "model")["rows"] == "0"


def test_churn_curves_follow_the_returners_not_the_majority_churners(tmp_path: Path) -> None:
    """With 95% churn, the churn-class gains curve of any ranking hugs the diagonal; the
    returners' curve shows which model finds the customers who come back."""
    rng = np.random.default_rng(1)
    n = 2000
    propensity = rng.normal(size=n)
    y = (rng.uniform(size=n) >= 1 / (1 + np.exp(-(propensity - 3.5)))).astype(int)  # 1 churned
    sharp = churn("sharp", "model", y, 1 / (1 + np.exp(propensity - 3.5)))
    page = write_model_report(tmp_path, "returners", [sharp], DECISIONS).read_text()
    assert "Precision-recall for returners" in page and "share of returners reached" in page
    assert sharp.metrics["returner_pr_auc"] > 1 - y.mean()  # above the returner share
    gains = re.search(r"sharp: top 10% by P\(return\) holds ([0-9.]+)% of returners", page)
    assert gains and float(gains.group(1)) > 30  # lift > 3 among the top decile
