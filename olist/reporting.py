"""A self-contained HTML page per run from ``quality.check_results`` (no network)."""

from __future__ import annotations

import html
import json
from pathlib import Path

from olist import warehouse
from olist.quality_store import CheckResult, summarize
from olist.settings import Settings

_STYLE = """
body{font-family:system-ui,sans-serif;margin:2rem;color:#222}
table{border-collapse:collapse;margin:1rem 0}td,th{border:1px solid #ccc;padding:.3rem .6rem}
th{background:#f3f3f3}.critical{color:#b00020}.warning{color:#a15c00}.info{color:#555}
"""


def _rows(results: list[CheckResult]) -> str:
    out = []
    for r in sorted(results, key=lambda r: (r.passed, r.severity, r.table_name)):
        status = "pass" if r.passed else "FAIL"
        out.append(
            f"<tr><td>{html.escape(r.layer)}.{html.escape(r.table_name)}</td>"
            f"<td>{html.escape(r.column_name or '')}</td><td>{html.escape(r.check_name)}</td>"
            f"<td>{r.check_engine}</td><td class='{r.severity}'>{r.severity}</td>"
            f"<td>{status}</td><td>{r.unexpected_count if r.unexpected_count is not None else ''}</td>"
            f"<td>{html.escape(', '.join(str(v) for v in r.sample_values[:3]))}</td></tr>"
        )
    return "\n".join(out)


def write_run_report(settings: Settings, run_id: str, results: list[CheckResult]) -> Path:
    summary = summarize(results)
    verdict = (
        "failed"
        if any(
            r.severity == "critical" and not r.passed and r.check_engine != "pandera"
            for r in results
        )
        else "passed"
    )
    with warehouse.connect(settings.warehouse, read_only=True) as con:
        tables = {
            t: warehouse.row_count(con, s, t)
            for s, t in (("bronze", "orders"), ("gold", "fct_orders"), ("gold", "dim_customers"))
            if warehouse.table_exists(con, s, t)
        }
        scored = (
            warehouse.row_count(con, "gold", "customer_scores")
            if warehouse.table_exists(con, "gold", "customer_scores")
            else 0
        )
    counts = "".join(
        f"<tr><td class='{sev}'>{sev}</td><td>{c['passed']}</td><td>{c['failed']}</td></tr>"
        for sev, c in sorted(summary.items())
    )
    page = f"""<!doctype html><html><head><meta charset="utf-8">
<title>Olist data quality {html.escape(run_id)}</title><style>{_STYLE}</style></head><body>
<h1>Data quality: run {html.escape(run_id)}</h1>
<p>Verdict: <strong id="verdict">{verdict}</strong></p>
<h2>Checks by severity</h2>
<table id="counts"><tr><th>severity</th><th>passed</th><th>failed</th></tr>{counts}</table>
<h2>Row counts</h2><p>{html.escape(json.dumps(tables))}; customers scored: {scored:,}</p>
<h2>Every check</h2>
<table><tr><th>table</th><th>column</th><th>check</th><th>engine</th><th>severity</th>
<th>status</th><th>unexpected</th><th>sample</th></tr>{_rows(results)}</table>
</body></html>
"""
    out = settings.reports_dir / "quality" / f"{run_id}.html"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(page, encoding="utf-8")
    runs = sorted(p.stem for p in out.parent.glob("*.html") if p.stem != "index")
    links = "".join(f"<li><a href='{r}.html'>{r}</a></li>" for r in reversed(runs))
    (out.parent / "index.html").write_text(
        f"<!doctype html><html><head><meta charset='utf-8'><title>Olist data quality</title>"
        f"<style>{_STYLE}</style></head><body><h1>Data quality runs</h1><ul>{links}</ul>"
        f"</body></html>\n",
        encoding="utf-8",
    )
    return out
