"""A self-contained HTML page per training run (no network, no scripts) that compares every
candidate on the same holdout: the registry decision, the comparison table, precision-recall,
calibration and gains curves for churn, decile and capture charts for LTV, and the winning
model's feature importance, all as inline SVG computed here with numpy.

Curves are downsampled so a page stays small when the holdout has a million customers."""

from __future__ import annotations

import html
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import numpy as np
from sklearn.metrics import precision_recall_curve

from ml.evaluation import CHURN, LTV, PRIMARY, CandidateEvaluation, primary_score

TASKS = (CHURN, LTV)
TITLES = {CHURN: "Churn (classification)", LTV: "Lifetime value (regression)"}
METRICS = {
    CHURN: ("rows", "prevalence", "brier", "ece", "roc_auc", "pr_auc", "returner_pr_auc"),
    LTV: ("rows", "mean_actual", "buyers_share", "rmse", "mae", "spearman", "top_decile_capture"),
}
# why a metric can be undefined, shown as the tooltip of its "n/a" cell
NA_REASONS = {
    "roc_auc": "undefined: the holdout has only one class",
    "pr_auc": "undefined: the holdout has only one class",
    "returner_pr_auc": "undefined: the holdout has only one class",
    "spearman": "undefined: constant predictions or actuals, or fewer than 3 rows",
    "top_decile_capture": "undefined: the holdout has no revenue",
}
NA_DEFAULT = "undefined: the holdout is empty"
MAX_POINTS = 200
CALIBRATION_BINS = 10
TOP_FEATURES = 15
PALETTE = (
    "#1f77b4",
    "#d62728",
    "#2ca02c",
    "#9467bd",
    "#ff7f0e",
    "#8c564b",
    "#e377c2",
    "#17becf",
    "#bcbd22",
    "#7f7f7f",
)
REFERENCE = "#999999"
NEGATIVE = "#b00020"

_STYLE = """
body{font-family:system-ui,sans-serif;margin:2rem;color:#222;max-width:80rem}
table{border-collapse:collapse;margin:1rem 0}td,th{border:1px solid #ccc;padding:.3rem .6rem}
th{background:#f3f3f3}td.num{text-align:right}td.na{color:#8a8a8a}th.primary{background:#e4ecf7}
tr.best td{background:#eef7ee;font-weight:600}.badge{color:#1b7f3b;font-size:.8em}
.decision{border-left:4px solid #1f77b4;padding:.3rem .8rem;background:#f7f9fc}
.note{color:#a15c00}.charts{display:flex;flex-wrap:wrap;gap:1.5rem}
figure{margin:0;max-width:600px}figcaption{font-size:.85em;color:#555}
svg text{font-size:11px;fill:#333}svg .title{font-size:13px;font-weight:600}
"""

# plot area inside every line chart; the legend sits to the right of it
_W, _H, _L, _R, _T, _B = 600, 330, 55, 420, 30, 280


def _e(value: Any) -> str:
    return html.escape("" if value is None else str(value))


def _short(text: str, limit: int = 28) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _clean(value: Any) -> float | None:
    """A JSON-safe number: rounded, and None where it is undefined."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return round(number, 4) if math.isfinite(number) else None


def _ranked(evaluations: list[CandidateEvaluation]) -> list[CandidateEvaluation]:
    return sorted(evaluations, key=primary_score, reverse=True)  # stable: ties keep order


def _best(evaluations: list[CandidateEvaluation]) -> CandidateEvaluation | None:
    ranked = _ranked(evaluations)
    return ranked[0] if ranked and primary_score(ranked[0]) > float("-inf") else None


def _row(e: CandidateEvaluation) -> dict[str, object]:
    row: dict[str, object] = {"task": e.task, "candidate": e.name, "kind": e.kind}
    for metric in METRICS[e.task]:
        value = _clean(e.metrics.get(metric))
        row[metric] = int(value) if metric == "rows" and value is not None else value
    row["mlflow_run_id"] = e.mlflow_run_id
    return row


def comparison_rows(evaluations: list[CandidateEvaluation]) -> list[dict[str, object]]:
    """One row per candidate: task, candidate, kind, the task's metrics rounded to 4 places
    (NaN -> None), mlflow run id. Used both for the HTML table and a Prefect table artifact.

    Rows come grouped by task (churn first) and best first by the task's PRIMARY metric, so
    the artifact reads like the page."""
    unknown = sorted({e.task for e in evaluations} - set(TASKS))
    if unknown:
        raise ValueError(f"unknown task(s) {unknown}; expected one of {TASKS}")
    return [_row(e) for task in TASKS for e in _ranked([e for e in evaluations if e.task == task])]


# --- curve points -------------------------------------------------------------------------


def _arrays(e: CandidateEvaluation) -> tuple[np.ndarray, np.ndarray]:
    """The candidate's finite (y_true, y_pred) pairs; nothing if the arrays do not match."""
    y_true = np.asarray(e.y_true, dtype=float).ravel()
    y_pred = np.asarray(e.y_pred, dtype=float).ravel()
    if y_true.shape != y_pred.shape:
        return np.empty(0), np.empty(0)
    ok = np.isfinite(y_true) & np.isfinite(y_pred)
    return y_true[ok], y_pred[ok]


def _downsample(x: np.ndarray, y: np.ndarray, limit: int = MAX_POINTS) -> tuple[Any, Any]:
    """Evenly spaced points along the curve, always keeping both ends."""
    if len(x) <= limit:
        return x, y
    index = np.unique(np.linspace(0, len(x) - 1, limit).round().astype(int))
    return x[index], y[index]


def _pr_curve(y_true: np.ndarray, proba: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    precision, recall, _ = precision_recall_curve(y_true.astype(int), proba)
    return _downsample(recall, precision)


def _calibration(
    y_true: np.ndarray, proba: np.ndarray, bins: int = CALIBRATION_BINS
) -> list[tuple[int, float, float, int]]:
    """(bin, mean predicted, observed rate, count) per non-empty equal-width bin; the same
    bins as ``expected_calibration_error`` so the chart explains the ECE column."""
    edges = np.linspace(0, 1, bins + 1)
    index = np.clip(np.digitize(np.clip(proba, 0, 1), edges[1:-1]), 0, bins - 1)
    counts = np.bincount(index, minlength=bins)
    predicted = np.bincount(index, weights=np.clip(proba, 0, 1), minlength=bins)
    observed = np.bincount(index, weights=y_true, minlength=bins)
    return [
        (b, predicted[b] / counts[b], observed[b] / counts[b], int(counts[b]))
        for b in range(bins)
        if counts[b]
    ]


def _gains(y_true: np.ndarray, ranking: np.ndarray, steps: int) -> tuple[Any, Any] | None:
    """Share of the total (churners or revenue) held by the top k% ranked by ``ranking``."""
    total = float(y_true.sum())
    if len(y_true) == 0 or total <= 0:
        return None
    order = np.argsort(-ranking, kind="stable")
    cumulative = np.concatenate([[0.0], np.cumsum(y_true[order])])
    share = np.linspace(0, 1, steps + 1)
    return share, cumulative[np.round(share * len(y_true)).astype(int)] / total


def _deciles(y_true: np.ndarray, y_pred: np.ndarray) -> list[tuple[int, float, float, int]]:
    """(decile, mean predicted, mean actual, count) from lowest (1) to highest (10) prediction."""
    order = np.argsort(y_pred, kind="stable")
    groups = [g for g in np.array_split(order, 10) if len(g)]
    return [
        (d + 1, float(y_pred[g].mean()), float(y_true[g].mean()), len(g))
        for d, g in enumerate(groups)
    ]


# --- SVG ----------------------------------------------------------------------------------


@dataclass
class _Series:
    name: str
    color: str
    x: Sequence[float]
    y: Sequence[float]
    dash: str = ""  # stroke-dasharray
    step: bool = False  # precision-recall: hold each precision until the next recall
    tips: Sequence[str] = ()  # one tooltip per point; points are drawn as markers


def _axis(top: float) -> tuple[float, list[float]]:
    """A round axis maximum at or above ``top`` and about five ticks up to it."""
    if not (math.isfinite(top) and top > 0):
        top = 1.0
    raw = top / 4
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw * 0.999999)
    count = max(1, math.ceil(top / step - 1e-9))
    return step * count, [step * i for i in range(count + 1)]


def _number(v: float) -> str:
    return f"{v:,.0f}" if abs(v) >= 1000 else f"{v:g}"


def _percent(v: float) -> str:
    return f"{v:.0%}"


def _line_chart(
    svg_id: str,
    title: str,
    x_label: str,
    y_label: str,
    series: list[_Series],
    x_max: float = 1.0,
    y_max: float = 1.0,
    x_fmt: Callable[[float], str] = _number,
    y_fmt: Callable[[float], str] = _number,
) -> str:
    x_max, x_ticks = _axis(x_max)
    y_max, y_ticks = _axis(y_max)

    def px(v: float) -> float:
        return _L + min(max(v / x_max, 0.0), 1.0) * (_R - _L)

    def py(v: float) -> float:
        return _B - min(max(v / y_max, 0.0), 1.0) * (_B - _T)

    parts = [
        f"<svg id='{_e(svg_id)}' xmlns='http://www.w3.org/2000/svg' width='{_W}' "
        f"height='{_H}' role='img' aria-label='{_e(title)}'>",
        f"<text class='title' x='{_L}' y='16'>{_e(title)}</text>",
        f"<rect x='{_L}' y='{_T}' width='{_R - _L}' height='{_B - _T}' fill='none' stroke='#ccc'/>",
    ]
    for t in x_ticks:
        parts.append(
            f"<line x1='{px(t):.1f}' y1='{_B}' x2='{px(t):.1f}' y2='{_B + 4}' stroke='#999'/>"
            f"<text x='{px(t):.1f}' y='{_B + 16}' text-anchor='middle'>{_e(x_fmt(t))}</text>"
        )
    for t in y_ticks:
        parts.append(
            f"<line x1='{_L - 4}' y1='{py(t):.1f}' x2='{_L}' y2='{py(t):.1f}' stroke='#999'/>"
            f"<text x='{_L - 6}' y='{py(t) + 4:.1f}' text-anchor='end'>{_e(y_fmt(t))}</text>"
        )
    parts.append(
        f"<text x='{(_L + _R) / 2}' y='{_H - 12}' text-anchor='middle'>{_e(x_label)}</text>"
        f"<text x='14' y='{(_T + _B) / 2}' text-anchor='middle' "
        f"transform='rotate(-90 14 {(_T + _B) / 2})'>{_e(y_label)}</text>"
    )
    for n, s in enumerate(series):
        points = [(px(x), py(y)) for x, y in zip(s.x, s.y, strict=True)]
        if points:
            path = [f"M{points[0][0]:.1f} {points[0][1]:.1f}"]
            for x1, y1 in points[1:]:
                path.append(f"H{x1:.1f}V{y1:.1f}" if s.step else f"L{x1:.1f} {y1:.1f}")
            dash = f" stroke-dasharray='{s.dash}'" if s.dash else ""
            parts.append(
                f"<path d='{''.join(path)}' fill='none' stroke='{s.color}' "
                f"stroke-width='1.8'{dash}><title>{_e(s.name)}</title></path>"
            )
            parts += [
                f"<circle cx='{x:.1f}' cy='{y:.1f}' r='3' fill='{s.color}'>"
                f"<title>{_e(tip)}</title></circle>"
                for (x, y), tip in zip(points, s.tips, strict=False)
            ]
        ly = _T + 8 + n * 18
        dash = f" stroke-dasharray='{s.dash}'" if s.dash else ""
        parts.append(
            f"<line x1='{_R + 15}' y1='{ly}' x2='{_R + 35}' y2='{ly}' stroke='{s.color}' "
            f"stroke-width='2'{dash}/><text x='{_R + 40}' y='{ly + 4}'>{_e(_short(s.name, 26))}"
            f"<title>{_e(s.name)}</title></text>"
        )
    parts.append("</svg>")
    return "".join(parts)


def _bar_chart(svg_id: str, e: CandidateEvaluation, color: str) -> str:
    """Horizontal bars of the top features by |importance|; negative weights in red."""
    items = [(str(k), float(v)) for k, v in e.feature_importance.items()]
    items = [(k, v) for k, v in items if math.isfinite(v)]
    items = sorted(items, key=lambda kv: -abs(kv[1]))[:TOP_FEATURES]
    top = max((abs(v) for _, v in items), default=0.0) or 1.0
    label, bar_width, row = 210, 320, 20
    height = 40 + row * len(items)
    title = f"Feature importance: {e.name} (top {len(items)} by |value|)"
    parts = [
        f"<svg id='{_e(svg_id)}' xmlns='http://www.w3.org/2000/svg' "
        f"width='{label + bar_width + 90}' height='{height}' role='img' "
        f"aria-label='{_e(title)}'><text class='title' x='0' y='16'>{_e(title)}</text>"
    ]
    for n, (name, value) in enumerate(items):
        y = 28 + n * row
        width = abs(value) / top * bar_width
        fill = NEGATIVE if value < 0 else color
        parts.append(
            f"<text x='{label - 6}' y='{y + 13}' text-anchor='end'>{_e(_short(name, 32))}"
            f"<title>{_e(name)}</title></text>"
            f"<rect x='{label}' y='{y + 2}' width='{width:.1f}' height='{row - 5}' "
            f"fill='{fill}'><title>{_e(name)}: {value:.4g}</title></rect>"
            f"<text x='{label + width + 4:.1f}' y='{y + 13}'>{value:.4g}</text>"
        )
    parts.append("</svg>")
    return "".join(parts)


def _figure(svg: str, caption: str) -> str:
    return f"<figure>{svg}<figcaption>{_e(caption)}</figcaption></figure>"


def _note(note_id: str, text: str) -> str:
    return f"<p class='note' id='{_e(note_id)}'>{_e(text)}</p>"


def _references(y_true: np.ndarray, steps: int) -> tuple[list[_Series], tuple[Any, Any] | None]:
    """Random targeting and the ranking by the actual outcome (the best any model can do)."""
    perfect = _gains(y_true, y_true, steps)
    lines = [_Series("random targeting", REFERENCE, [0, 1], [0, 1], dash="2 3")]
    if perfect is not None:
        lines.append(_Series("perfect ranking", REFERENCE, *perfect, dash="6 3"))
    return lines, perfect


def _gains_figure(
    data: list[tuple[CandidateEvaluation, np.ndarray, np.ndarray]],
    colors: dict[str, str],
    steps: int,
    chart_id: str,
    empty: str,
    title: str,
    axes: tuple[str, str],
    tip: Callable[[str, float, float], str],
    caption: str,
) -> str:
    """Cumulative share of the outcome reached by the top k% of each candidate's ranking,
    between random targeting and the perfect ranking (a note when the outcome is all 0)."""
    series, perfect = _references(data[0][1], steps)
    if perfect is None:
        return _note(f"{chart_id}-note", empty)
    for e, t, p in data:
        gains = _gains(t, p, steps)
        if gains is None:
            continue
        share, captured = gains
        tips = [tip(e.name, s, c) for s, c in zip(share, captured, strict=True)]
        series.insert(-2, _Series(e.name, colors[e.name], share, captured, tips=tips))
    chart = _line_chart(chart_id, title, *axes, series, x_fmt=_percent, y_fmt=_percent)
    return _figure(chart, caption)


# --- sections -----------------------------------------------------------------------------


def _churn_charts(evaluations: list[CandidateEvaluation], colors: dict[str, str]) -> str:
    data = [(e, *_arrays(e)) for e in evaluations]
    data = [(e, t, p) for e, t, p in data if len(t)]
    if not data:
        return _note("charts-churn-note", "No holdout rows: no charts to draw.")
    figures = []

    # ~99% of customers churn, so curves of the churn class sit at the top for every
    # candidate; the minority a retention team looks for, the returners, separates them
    returners = [(e, 1 - t, 1 - p) for e, t, p in data]
    two_class = [(e, t, p) for e, t, p in returners if len(np.unique(t)) == 2]
    if two_class:
        series = []
        for e, t, p in two_class:
            recall, precision = _pr_curve(t, p)
            series.append(_Series(e.name, colors[e.name], recall, precision, step=True))
        prevalence = float(two_class[0][1].mean())
        series.append(
            _Series("no skill (returner share)", REFERENCE, [0, 1], [prevalence] * 2, dash="2 3")
        )
        figures.append(
            _figure(
                _line_chart(
                    "pr-curves", "Precision-recall for returners", "recall", "precision", series
                ),
                "Precision among the customers ranked most likely to return, at each share of "
                "the returners found; the area under a curve is its returner_pr_auc column, "
                "the dotted line what random ranking achieves.",
            )
        )
    else:
        figures.append(
            _note(
                "pr-curves-note",
                "No precision-recall curve: the holdout has only one class, so precision "
                "and recall are undefined.",
            )
        )

    series = []
    for e, t, p in data:
        bins = _calibration(t, p)
        tips = [
            f"{e.name}: predicted {lo / 10:.1f}-{(lo + 1) / 10:.1f}, mean predicted "
            f"{mp:.3f}, observed {ob:.3f}, {n:,} customers"
            for lo, mp, ob, n in bins
        ]
        series.append(
            _Series(e.name, colors[e.name], [b[1] for b in bins], [b[2] for b in bins], tips=tips)
        )
    series.append(_Series("perfectly calibrated", REFERENCE, [0, 1], [0, 1], dash="2 3"))
    figures.append(
        _figure(
            _line_chart(
                "calibration",
                f"Reliability ({CALIBRATION_BINS} equal-width bins)",
                "mean predicted probability",
                "observed churn rate",
                series,
            ),
            "Points on the diagonal mean the probabilities can be read as churn rates; "
            "the weighted gap is the ECE column.",
        )
    )

    figures.append(
        _gains_figure(
            returners,
            colors,
            10,
            "lift-churn",
            "No gains chart: the holdout has no returners.",
            "Cumulative gains for returners by decile of P(return)",
            ("customers targeted, most likely to return first", "share of returners reached"),
            lambda name, s, c: (
                f"{name}: top {s:.0%} by P(return) holds {c:.1%} of returners"
                + (f" (lift {c / s:.2f})" if s else "")
            ),
            "How many of the customers who did come back sit in the top k% of each "
            "ranking; lift is the ratio to random targeting. A flat line at the diagonal "
            "is a model that cannot tell returners apart.",
        )
    )
    return f"<div class='charts'>{''.join(figures)}</div>"


def _ltv_charts(evaluations: list[CandidateEvaluation], colors: dict[str, str]) -> str:
    data = [(e, *_arrays(e)) for e in evaluations]
    data = [(e, t, p) for e, t, p in data if len(t)]
    if not data:
        return _note("charts-ltv-note", "No holdout rows: no charts to draw.")
    figures = []

    series, top = [], 0.0
    for e, t, p in data:
        deciles = _deciles(t, p)
        tips = [
            f"{e.name}: decile {d} of 10 (10 = highest predicted), mean predicted {mp:,.2f}, "
            f"mean actual {ma:,.2f}, {n:,} customers"
            for d, mp, ma, n in deciles
        ]
        xs, ys = [d[1] for d in deciles], [d[2] for d in deciles]
        top = max(top, *xs, *ys)
        series.append(_Series(e.name, colors[e.name], xs, ys, tips=tips))
    series.append(_Series("predicted = actual", REFERENCE, [0, top], [0, top], dash="2 3"))
    figures.append(
        _figure(
            _line_chart(
                "ltv-deciles",
                "Mean predicted vs mean actual revenue by decile of prediction",
                "mean predicted revenue",
                "mean actual revenue",
                series,
                top,
                top,
            ),
            "One point per decile of predicted revenue; points on the diagonal mean the "
            "predicted amounts can be budgeted on.",
        )
    )

    figures.append(
        _gains_figure(
            data,
            colors,
            20,
            "lift-ltv",
            "No capture chart: the holdout has no revenue.",
            "Cumulative revenue captured by top-k% of predicted revenue",
            ("customers, highest predicted revenue first", "share of holdout revenue"),
            lambda name, s, c: f"{name}: top {s:.0%} by predicted revenue holds {c:.1%} of revenue",
            "How much of next period's revenue sits in the customers the model ranks "
            "highest; the top-10% point is the top_decile_capture column.",
        )
    )
    return f"<div class='charts'>{''.join(figures)}</div>"


def _importance(task: str, evaluations: list[CandidateEvaluation], colors: dict[str, str]) -> str:
    models = [e for e in evaluations if e.kind != "baseline" and e.feature_importance]
    best = _best(models) or (models[0] if models else None)
    if best is None:
        return _note(f"importance-{task}-note", "No model recorded feature importance.")
    return _figure(
        _bar_chart(f"importance-{task}", best, colors[best.name]),
        f"From {best.name}, the best model (not baseline) by {PRIMARY[task][0]}.",
    )


def _cell(metric: str, value: object) -> str:
    if value is None:
        reason = NA_REASONS.get(metric, NA_DEFAULT)
        return f"<td class='num na' data-metric='{metric}' title='{_e(reason)}'>n/a</td>"
    text = f"{value:,}" if isinstance(value, int) else f"{value:.4f}"
    return f"<td class='num' data-metric='{metric}'>{text}</td>"


def _table(task: str, evaluations: list[CandidateEvaluation]) -> str:
    metric, higher = PRIMARY[task]
    best = _best(evaluations)
    head = "".join(
        f"<th class='primary' title='ranking metric, {'higher' if higher else 'lower'} is "
        f"better'>{m} {'&#9650;' if higher else '&#9660;'}</th>"
        if m == metric
        else f"<th>{m}</th>"
        for m in METRICS[task]
    )
    rows = []
    for e in _ranked(evaluations):
        row = _row(e)
        is_best = e is best
        badge = " <span class='badge'>&#9733; best</span>" if is_best else ""
        css = " class='best'" if is_best else ""
        rows.append(
            f"<tr{css} data-candidate='{_e(e.name)}'>"
            f"<td>{_e(e.name)}{badge}</td><td>{_e(e.kind)}</td>"
            + "".join(_cell(m, row[m]) for m in METRICS[task])
            + f"<td>{_e(e.mlflow_run_id or '')}</td></tr>"
        )
    return (
        f"<table id='comparison-{task}'><tr><th>candidate</th><th>kind</th>{head}"
        f"<th>MLflow run</th></tr>{''.join(rows)}</table>"
    )


def _section(
    task: str, evaluations: list[CandidateEvaluation], decision: str, colors: dict[str, str]
) -> str:
    metric, higher = PRIMARY[task]
    charts = (_churn_charts if task == CHURN else _ltv_charts)(evaluations, colors)
    return (
        f"<section id='task-{task}'><h2>{_e(TITLES[task])}</h2>"
        f"<p id='decision-{task}' class='decision'>{_e(decision)}</p>"
        f"<p>{len(evaluations)} candidates on the same holdout, ranked by <strong>{metric}"
        f"</strong> ({'higher' if higher else 'lower'} is better).</p>"
        f"{_table(task, evaluations)}{charts}"
        f"<h3>Feature importance</h3>{_importance(task, evaluations, colors)}</section>"
    )


def _file_stem(run_id: str) -> str:
    """The run id as a single safe file name (never a path, never the index)."""
    stem = re.sub(r"[^A-Za-z0-9._-]", "_", run_id) or "run"
    return f"{stem}_" if stem == "index" else stem


def _write_index(out_dir: Path, latest: Path) -> None:
    others = [p for p in out_dir.glob("*.html") if p.stem != "index" and p != latest]
    others.sort(key=lambda p: (p.stat().st_mtime, p.name), reverse=True)
    links = "".join(
        f"<li><a href='{_e(quote(p.name))}'>{_e(p.stem)}</a></li>" for p in [latest, *others]
    )
    (out_dir / "index.html").write_text(
        f"<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>Olist model runs</title><style>{_STYLE}</style></head><body>"
        f"<h1>Model training runs</h1><h2>Reports, newest first</h2>"
        f"<ul id='runs'>{links}</ul></body></html>\n",
        encoding="utf-8",
    )


def write_model_report(
    out_dir: Path,
    run_id: str,
    evaluations: list[CandidateEvaluation],
    decisions: dict[str, str],
    context: dict[str, str] | None = None,
) -> Path:
    """Writes out_dir/<run_id>.html and rewrites out_dir/index.html (links to all reports,
    newest first); returns the run's page path.

    ``decisions`` maps a task to one sentence on what the registry gate decided and why;
    ``context`` (cutoffs, horizon, rows, class balance, trial budget) is listed as given."""
    comparison_rows(evaluations)  # rejects unknown tasks before anything is written
    names = sorted({e.name for e in evaluations})
    colors = {name: PALETTE[n % len(PALETTE)] for n, name in enumerate(names)}
    items = "".join(
        f"<li><strong>{_e(k)}</strong>: {_e(v)}</li>" for k, v in (context or {}).items()
    )
    context_html = (
        f"<ul id='context'>{items}</ul>" if items else "<p id='context'>No run context.</p>"
    )
    sections = [
        _section(task, group, decisions.get(task, "No registry decision recorded."), colors)
        for task in TASKS
        if (group := [e for e in evaluations if e.task == task])
    ]
    body = "".join(sections) or "<p class='note' id='no-candidates'>No candidates evaluated.</p>"
    page = f"""<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>Olist models {_e(run_id)}</title><style>{_STYLE}</style></head><body>
<p><a href="index.html">all runs</a></p>
<h1>Model training: run {_e(run_id)}</h1>
<h2>Run context</h2>{context_html}
{body}
</body></html>
"""
    out_dir.mkdir(parents=True, exist_ok=True)
    out = out_dir / f"{_file_stem(run_id)}.html"
    out.write_text(page, encoding="utf-8")
    _write_index(out_dir, out)
    return out
