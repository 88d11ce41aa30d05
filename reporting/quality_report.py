"""A self-contained HTML page per run from ``quality.check_results`` and ``quality.runs``
(no network, no scripts): verdict, counts by severity, each table's scorecard, the failing
checks with their unexpected share, sample values and why they matter, every check, and
trends over the last runs as inline SVG. It fits a 1,280 px window.

Tables are named by the physical table a reader knows: the audit copy a run checks before
publishing (``gold_audit.fct_orders``) is reported as ``gold.fct_orders``."""

from __future__ import annotations

import functools
import html
import os
import re
from collections import defaultdict
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from config.settings import Settings
from quality.store import CheckResult, summarize
from quality.store import verdict as quality_verdict
from warehouse import local as warehouse
from warehouse.publish import AUDIT_SCHEMA

TREND_RUNS = 20
SEVERITIES = ("critical", "warning", "info")
COLORS = {"critical": "#b00020", "warning": "#d08000", "info": "#8a8a8a"}

_STYLE = """
body{font-family:system-ui,sans-serif;margin:2rem auto;padding:0 2rem;color:#222;max-width:74rem}
table{border-collapse:collapse;margin:1rem 0}td,th{border:1px solid #ccc;padding:.3rem .6rem}
th{background:#f3f3f3;text-align:left}.critical{color:#b00020}.warning{color:#a15c00}
.info{color:#555}.verdict-pass{color:#1b7f3b}.verdict-warn{color:#a15c00}
.verdict-fail{color:#b00020}td.num{text-align:right;white-space:nowrap}
svg text{font-size:11px;fill:#333}
table.checks{width:100%;table-layout:fixed;font-size:.9rem}
table.checks td{vertical-align:top;overflow-wrap:anywhere;padding:.3rem .4rem}
table.checks th{vertical-align:bottom;padding:.3rem .4rem}
table.checks .table{width:9rem}table.checks .column{width:8rem}table.checks .check{width:11rem}
table.checks .severity{width:5.2rem}table.checks .status{width:3.9rem}
table.checks .unexpected{width:5.9rem}table.checks .pct{width:5.9rem}
table.checks .why{width:12rem}small.engine{color:#666}
"""

# Why a kind of check matters, for checks whose definition carries no rationale of its own
# (dbt tests, contract checks, history-based GX expectations). First match wins.
GENERIC_RATIONALE = (
    (
        "unit_test",
        "A dbt unit test pins the model's logic on hand-made rows: the SQL no "
        "longer computes what its definition says.",
    ),
    (
        "unique_combination",
        "The table's grain is broken: a key combination repeats, so sums double count.",
    ),
    (
        "row_count",
        "The row count moved too far from the last publication: a truncated or duplicated feed.",
    ),
    ("unique", "A key repeats: joins fan out and sums double count."),
    ("not_null", "A missing key or required value drops the row from joins and counts."),
    ("not_be_null", "A missing key or required value drops the row from joins and counts."),
    ("nullable", "A missing required value: the row cannot be used as the contract says."),
    (
        "relationships",
        "An orphan key: the row points at something its parent table lacks, "
        "so it drops out of joins.",
    ),
    ("foreign_key", "An orphan key: the row points at something its parent table lacks."),
    (
        "accepted_values",
        "A value outside the known set: definitions built on the set (placed "
        "orders, revenue) miss it.",
    ),
    ("isin", "A value outside the contract's allowed set."),
    ("in_set", "A value outside the known set."),
    ("accepted_range", "A value outside its valid range: a parsing or arithmetic error."),
    ("between", "A value outside its expected range."),
    ("than", "A value outside the contract's range: a parsing or arithmetic error."),
    ("in_range", "A value outside the contract's range: a parsing or arithmetic error."),
    ("non_negative", "A negative amount is a parsing or arithmetic error."),
    ("expression_is_true", "An arithmetic invariant of the model does not hold."),
    (
        "str_matches",
        "A value not in the contract's format (e.g. a changed date format) cannot be parsed.",
    ),
    ("str_length", "A value of the wrong length for its code (e.g. a zip prefix)."),
    ("dtype", "A column of the wrong type cannot be loaded as the contract says."),
    (
        "duplicate_rows",
        "The same source row delivered twice; dropped before silver, tracked for trends.",
    ),
    (
        "quarantine",
        "Too many rows rejected by the contracts: the feed, not single rows, is broken.",
    ),
)

_DATETIME = re.compile(
    r"datetime\.datetime\((\d+), (\d+), (\d+)(?:, (\d+), (\d+)(?:, (\d+))?(?:, \d+)?)?\)"
)
_DATE = re.compile(r"datetime\.date\((\d+), (\d+), (\d+)\)")
_WRAPPED = re.compile(r"(?:Decimal|Timestamp)\('([^']*)'\)")
_LONG_FLOAT = re.compile(r"-?\d+\.\d{5,}")
_DICT_KEY = re.compile(r"'([^']+)': ")
SAMPLE_CHARS = 60


def _e(value: Any) -> str:
    return html.escape("" if value is None else str(value))


def _datetime_text(m: re.Match[str]) -> str:
    y, mo, d, h, mi, sec = (int(g) if g else 0 for g in m.groups())
    return f"{y:04d}-{mo:02d}-{d:02d} {h:02d}:{mi:02d}:{sec:02d}"


def format_value(value: Any) -> str:
    """A sample value as a reader writes it: ISO dates, plain decimals, ``a=1, b=2`` for a
    pair, at most four decimals; the Python reprs GX and DuckDB hand back are rewritten."""
    if isinstance(value, datetime):
        text = value.isoformat(sep=" ", timespec="seconds")
    elif isinstance(value, date | Decimal):
        text = str(value)
    elif isinstance(value, float):
        text = f"{value:.4f}".rstrip("0").rstrip(".")
    elif isinstance(value, dict):
        text = ", ".join(f"{k}={format_value(v)}" for k, v in value.items())
    elif isinstance(value, tuple | list):
        text = ", ".join(format_value(v) for v in value)
    else:
        text = str(value)
        text = _DATETIME.sub(_datetime_text, text)
        text = _DATE.sub(lambda m: "-".join(f"{int(g):02d}" for g in m.groups()), text)
        text = _WRAPPED.sub(r"\1", text)
        text = _LONG_FLOAT.sub(lambda m: f"{float(m.group()):.4f}".rstrip("0").rstrip("."), text)
        if text.startswith("{") and text.endswith("}"):
            text = _DICT_KEY.sub(r"\1=", text[1:-1])
        elif text.startswith("(") and text.endswith(")"):
            text = text[1:-1]
    return text


def _samples(r: CheckResult) -> str:
    parts = []
    for value in r.sample_values[:3]:
        text = format_value(value)
        short = text if len(text) <= SAMPLE_CHARS else text[: SAMPLE_CHARS - 1] + "…"
        parts.append(f"<span title='{_e(text)}'>{_e(short)}</span>")
    return "; ".join(parts)


def unexpected_percent(r: CheckResult) -> str:
    percent = r.unexpected_percent
    if percent is None and r.unexpected_count is not None and r.observed_count:
        percent = 100.0 * r.unexpected_count / r.observed_count
    if percent is None:
        return ""
    if percent == 0:
        return "0 %"
    return "<0.01 %" if percent < 0.01 else f"{percent:.2f} %"


def table_label(r: CheckResult) -> str:
    """The physical table: the audit copy checked before publishing is the gold table."""
    layer = "gold" if r.layer == AUDIT_SCHEMA else r.layer
    return f"{layer}.{r.table_name}"


@functools.cache
def _gx_rationales() -> dict[tuple[str, str, str, str | None], str]:
    """The rationale in each GX expectation's ``meta``, by schema, table, type and columns.
    Built without history, so the history-based expectations fall back to the generic
    text of their kind."""
    from expectations.checkpoints import expectation_columns
    from expectations.suites import SUITES, Baseline

    out: dict[tuple[str, str, str, str | None], str] = {}
    for suite in SUITES:
        try:
            built = suite.build(Baseline())
        except Exception:  # noqa: BLE001 - a rationale is a nicety; the report must render
            continue
        for exp in built:
            config = exp.configuration
            key = (suite.schema, suite.table, config.type, expectation_columns(config.kwargs))
            out.setdefault(key, str((exp.meta or {}).get("rationale", "")))
    return out


def rationale(r: CheckResult) -> str:
    """Why the check matters: its own rationale (GX), else the one of its kind."""
    layer = "gold" if r.layer == AUDIT_SCHEMA else r.layer
    if r.check_engine == "great_expectations":
        own = _gx_rationales().get((layer, r.table_name, r.check_name, r.column_name))
        if own:
            return own
    name = r.check_name.split(":", 1)[0].lower()
    return next((text for key, text in GENERIC_RATIONALE if key in name), "")


CHECK_HEADER = (
    "<colgroup><col class='table'><col class='column'><col class='check'>"
    "<col class='severity'><col class='status'><col class='unexpected'><col class='pct'>"
    "<col>{extra}</colgroup><tr><th>table</th><th>column</th><th>check (engine)</th>"
    "<th>severity</th><th>status</th><th>unexpected</th><th>unexpected %</th>"
    "<th>sample values</th>{extra_header}</tr>"
)


def _check_row(r: CheckResult, with_rationale: bool = False) -> str:
    unexpected = f"{r.unexpected_count:,}" if r.unexpected_count is not None else ""
    why = f"<td>{_e(rationale(r))}</td>" if with_rationale else ""
    return (
        f"<tr><td>{_e(table_label(r))}</td><td>{_e(r.column_name)}</td>"
        f"<td>{_e(r.check_name)}<br><small class='engine'>{_e(r.check_engine)}</small></td>"
        f"<td class='{_e(r.severity)}'>{_e(r.severity)}</td>"
        f"<td>{'pass' if r.passed else 'FAIL'}</td><td class='num'>{unexpected}</td>"
        f"<td class='num'>{unexpected_percent(r)}</td><td>{_samples(r)}</td>{why}</tr>"
    )


def _verdict(results: list[CheckResult], published: bool | None) -> str:
    # the run's verdict, as in quality.runs: quarantined rows are warnings, gates critical
    return quality_verdict(results, failed_run=published is False)


def _scorecard(results: list[CheckResult]) -> str:
    cards: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for r in results:
        card = cards[table_label(r)]
        card["checks"] += 1
        card["passed" if r.passed else r.severity] += 1
    rows = "".join(
        f"<tr><td>{_e(table)}</td><td class='num'>{c['checks']}</td>"
        f"<td class='num'>{c['passed']}</td>"
        + "".join(f"<td class='num {sev}'>{c[sev] or ''}</td>" for sev in SEVERITIES)
        + "</tr>"
        for table, c in sorted(cards.items(), key=lambda kv: (-kv[1]["critical"], kv[0]))
    )
    return (
        "<table id='scorecard'><tr><th>table</th><th>checks</th><th>passed</th>"
        "<th>failed critical</th><th>failed warning</th><th>failed info</th></tr>"
        f"{rows}</table>"
    )


def _trend_svg(history: list[tuple[str, int, int, int, str]]) -> str:
    """Stacked bars of failed checks per run (oldest left), one colour per severity."""
    if not history:
        return "<p>No earlier runs recorded in quality.runs.</p>"
    width, height, bar, gap = 40 + len(history) * 34, 160, 24, 10
    top = max(1, max(c + w + i for _, c, w, i, _ in history))
    scale = (height - 40) / top
    parts = [
        f"<svg id='trend' xmlns='http://www.w3.org/2000/svg' width='{width}' "
        f"height='{height}' role='img' aria-label='failed checks per run'>",
        f"<line x1='30' y1='{height - 25}' x2='{width}' y2='{height - 25}' stroke='#999'/>",
        f"<text x='0' y='15'>{top}</text><text x='0' y='{height - 27}'>0</text>",
    ]
    for n, (run_id, critical, warning, info, verdict) in enumerate(history):
        x, base = 35 + n * (bar + gap), height - 25
        for sev, count in (("critical", critical), ("warning", warning), ("info", info)):
            h = count * scale
            if h:
                parts.append(
                    f"<rect x='{x}' y='{base - h:.1f}' width='{bar}' height='{h:.1f}' "
                    f"fill='{COLORS[sev]}'><title>{_e(run_id)}: {count} {sev} failed "
                    f"({_e(verdict)})</title></rect>"
                )
                base -= h
        parts.append(f"<text x='{x}' y='{height - 10}'>{n + 1}</text>")
    parts.append("</svg>")
    legend = " ".join(f"<span style='color:{COLORS[s]}'>&#9632; {s}</span>" for s in SEVERITIES)
    runs = "".join(
        f"<li>{n + 1}: <a href='{_e(r)}.html'>{_e(r)}</a> ({_e(v)})</li>"
        for n, (r, *_, v) in enumerate(history)
    )
    return f"{''.join(parts)}<p>{legend}</p><ol style='list-style:none;padding:0'>{runs}</ol>"


def _history(con: Any) -> list[tuple[str, int, int, int, str]]:
    if not warehouse.table_exists(con, "quality", "runs"):
        return []
    rows = con.execute(
        "select run_id, critical_failed, warning_failed, info_failed, verdict "
        f"from quality.runs where verdict is not null order by recorded_at desc limit {TREND_RUNS}"
    ).fetchall()
    return list(reversed(rows))


def _published(con: Any, run_id: str) -> bool | None:
    if not warehouse.table_exists(con, "quality", "runs"):
        return None
    rows = con.execute(
        "select published from quality.runs where run_id = ? order by recorded_at desc limit 1",
        [run_id],
    ).fetchall()
    return bool(rows[0][0]) if rows else None


def gx_docs_dir(settings: Settings) -> Path:
    """Where the checkpoint renders GX Data Docs; the quality report links into it."""
    return settings.reports_dir / "quality" / "gx"


def _docs_links(settings: Settings, run_id: str, report_dir: Path) -> str:
    # local: ``expectations`` loads GX (~5 s); the report of a run that checked has it
    # loaded already, and importing this module (flows.gate) stays light
    from expectations import docs_pages

    docs = gx_docs_dir(settings)
    pages = docs_pages(docs, run_id)
    if not pages:
        return "<p id='gx-docs'>No GX Data Docs for this run (its checkpoint did not run).</p>"

    def suite(page: Path) -> str:  # GX files suite "gold.fct_orders" as gold/fct_orders/
        parts = page.relative_to(docs / "validations").parts
        return ".".join(parts[: parts.index(run_id)])

    items = "".join(
        f"<li><a href='{_e(p.relative_to(report_dir).as_posix())}'>{_e(suite(p))}</a></li>"
        for p in pages
    )
    index = (docs / "index.html").relative_to(report_dir).as_posix()
    return (
        f"<div id='gx-docs'><p>Validation pages of this run (GX Data Docs; "
        f"<a href='{_e(index)}'>site index</a>, which shows the latest run):</p>"
        f"<ul>{items}</ul></div>"
    )


def write_run_report(settings: Settings, run_id: str, results: list[CheckResult]) -> Path:
    summary = summarize(results)
    with warehouse.connect(settings.warehouse, read_only=True) as con:
        tables = {
            f"{s}.{t}": warehouse.row_count(con, s, t)
            for s, t in (
                ("bronze", "orders"),
                ("gold", "fct_orders"),
                ("gold", "dim_customers"),
                ("gold", "customer_scores"),
            )
            if warehouse.table_exists(con, s, t)
        }
        history = _history(con)
        published = _published(con, run_id)
    verdict = _verdict(results, published)
    counts = "".join(
        f"<tr><td class='{sev}'>{sev}</td><td class='num' id='passed-{sev}'>"
        f"{summary.get(sev, {}).get('passed', 0)}</td><td class='num' id='failed-{sev}'>"
        f"{summary.get(sev, {}).get('failed', 0)}</td></tr>"
        for sev in SEVERITIES
    )
    failing = [r for r in results if not r.passed]
    failing.sort(key=lambda r: (SEVERITIES.index(r.severity), table_label(r), r.check_name))
    failing_header = CHECK_HEADER.format(
        extra="<col class='why'>", extra_header="<th>why it matters</th>"
    )
    published_text = {True: "published to gold", False: "NOT published", None: "not recorded"}
    sizes = "".join(
        f"<tr><td>{_e(t)}</td><td class='num'>{n:,}</td></tr>" for t, n in tables.items()
    )
    page = f"""<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>Olist data quality {_e(run_id)}</title><style>{_STYLE}</style></head><body>
<p><a href="index.html">all runs</a></p>
<h1>Data quality: run {_e(run_id)}</h1>
<p>Verdict: <strong id="verdict" class="verdict-{verdict}">{verdict}</strong>
({published_text[published]}); {len(results)} checks.</p>
<h2>Checks by severity</h2>
<table id="counts"><tr><th>severity</th><th>passed</th><th>failed</th></tr>{counts}</table>
<h2>Scorecard by table</h2>{_scorecard(results)}
<h2>Failing checks ({len(failing)})</h2>
<table id="failing" class="checks">{failing_header}
{"".join(_check_row(r, with_rationale=True) for r in failing)}</table>
<h2>Trend: failed checks over the last {len(history)} runs</h2>{_trend_svg(history)}
<h2>GX Data Docs</h2>{_docs_links(settings, run_id, settings.reports_dir / "quality")}
<h2>Row counts</h2><table id="sizes">{sizes}</table>
<h2>Every check</h2>
<table id="checks" class="checks">{CHECK_HEADER.format(extra="", extra_header="")}
{"".join(_check_row(r) for r in sorted(results, key=lambda r: (table_label(r), r.check_name)))}
</table>
</body></html>
"""
    out = settings.reports_dir / "quality" / f"{run_id}.html"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(page, encoding="utf-8")
    reports = sorted(out.parent.glob("*.html"), key=lambda p: p.stat().st_mtime, reverse=True)
    links = "".join(
        f"<li><a href='{_e(p.name)}'>{_e(p.stem)}</a></li>" for p in reports if p.stem != "index"
    )
    (out.parent / "index.html").write_text(
        f"<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>Olist data quality</title><style>{_STYLE}</style></head><body>"
        f"<h1>Data quality runs</h1><h2>Trend</h2>{_trend_svg(history)}"
        f"<h2>Reports, newest first</h2><ul>{links}</ul></body></html>\n",
        encoding="utf-8",
    )
    return out


# set by `make server` (deployments.local), which serves the reports folder over HTTP: a
# browser opens http:// links from the Prefect UI, but refuses file:// ones
REPORTS_URL_ENV = "OLIST_REPORTS_URL"


def report_link(settings: Settings, page: Path) -> str:
    """The link to a page under the reports folder that a browser opens from the Prefect
    UI: ``$OLIST_REPORTS_URL/<path>`` when the folder is served, else a ``file://`` URI
    (which a browser opens only when pasted into its address bar)."""
    base = os.environ.get(REPORTS_URL_ENV, "").rstrip("/")
    try:
        relative = page.resolve().relative_to(settings.reports_dir.resolve())
    except ValueError:
        relative = None
    if base and relative is not None:
        return f"{base}/{relative.as_posix()}"
    return page.resolve().as_uri()
