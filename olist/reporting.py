"""A self-contained HTML page per run from ``quality.check_results`` and ``quality.runs``
(no network, no scripts): verdict, counts by severity, each table's scorecard, the failing
checks with sample values, every check, and trends over the last runs as inline SVG."""

from __future__ import annotations

import html
from collections import defaultdict
from pathlib import Path
from typing import Any

from expectations import docs_pages
from olist import warehouse
from olist.quality_store import CheckResult, summarize
from olist.quality_store import verdict as quality_verdict
from olist.settings import Settings

TREND_RUNS = 20
SEVERITIES = ("critical", "warning", "info")
COLORS = {"critical": "#b00020", "warning": "#d08000", "info": "#8a8a8a"}

_STYLE = """
body{font-family:system-ui,sans-serif;margin:2rem;color:#222;max-width:80rem}
table{border-collapse:collapse;margin:1rem 0}td,th{border:1px solid #ccc;padding:.3rem .6rem}
th{background:#f3f3f3}.critical{color:#b00020}.warning{color:#a15c00}.info{color:#555}
.verdict-pass{color:#1b7f3b}.verdict-warn{color:#a15c00}.verdict-fail{color:#b00020}
td.num{text-align:right}svg text{font-size:11px;fill:#333}
"""


def _e(value: Any) -> str:
    return html.escape("" if value is None else str(value))


def _check_row(r: CheckResult) -> str:
    unexpected = r.unexpected_count if r.unexpected_count is not None else ""
    return (
        f"<tr><td>{_e(r.layer)}.{_e(r.table_name)}</td><td>{_e(r.column_name)}</td>"
        f"<td>{_e(r.check_name)}</td><td>{_e(r.check_engine)}</td>"
        f"<td class='{_e(r.severity)}'>{_e(r.severity)}</td>"
        f"<td>{'pass' if r.passed else 'FAIL'}</td><td class='num'>{unexpected}</td>"
        f"<td>{_e(', '.join(str(v) for v in r.sample_values[:3]))}</td></tr>"
    )


def _verdict(results: list[CheckResult], published: bool | None) -> str:
    # the run's verdict, as in quality.runs: quarantined rows are warnings, gates critical
    return quality_verdict(results, failed_run=published is False)


def _scorecard(results: list[CheckResult]) -> str:
    cards: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for r in results:
        card = cards[f"{r.layer}.{r.table_name}"]
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
        f"from quality.runs order by recorded_at desc limit {TREND_RUNS}"
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
    failing.sort(key=lambda r: (SEVERITIES.index(r.severity), r.table_name, r.check_name))
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
<table id="failing"><tr><th>table</th><th>column</th><th>check</th><th>engine</th>
<th>severity</th><th>status</th><th>unexpected</th><th>sample values</th></tr>
{"".join(_check_row(r) for r in failing)}</table>
<h2>Trend: failed checks over the last {len(history)} runs</h2>{_trend_svg(history)}
<h2>GX Data Docs</h2>{_docs_links(settings, run_id, settings.reports_dir / "quality")}
<h2>Row counts</h2><table id="sizes">{sizes}</table>
<h2>Every check</h2>
<table id="checks"><tr><th>table</th><th>column</th><th>check</th><th>engine</th>
<th>severity</th><th>status</th><th>unexpected</th><th>sample values</th></tr>
{"".join(_check_row(r) for r in sorted(results, key=lambda r: (r.table_name, r.check_name)))}
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
