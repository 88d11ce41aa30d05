"""GX Data Docs that render with no network.

GX 1.24 writes its pages against CDNs: Bootstrap, jQuery, bootstrap-table, Vega and Font
Awesome from unpkg, jsdelivr, cdnjs and stackpath, its logo from S3, a newsletter link.
Offline (here, and on most analysts' locked-down laptops) the pages come out unstyled and
their scripts fail, and the site index, which bootstrap-table draws from data in a
script, is empty. After each build, :func:`make_offline` rewrites the site: every external
stylesheet, script and image is dropped, GX's inline scripts (all jQuery) are replaced by a
few lines of plain JavaScript for the "show failed only" filter, a local stylesheet styles
the Bootstrap classes the pages use, and the index becomes a plain list of the validation
and suite pages, newest first.
"""

from __future__ import annotations

import html
import os
import re
from pathlib import Path

STYLESHEET = "static/styles/olist_offline.css"
SCRIPT = "static/olist_offline.js"

_EXTERNAL_SCRIPT = re.compile(
    r"<script\b[^>]*\bsrc=[\"']?(?:https?:)?//[^>]*>\s*</script>", re.IGNORECASE
)
_EXTERNAL_LINK = re.compile(r"<link\b[^>]*\bhref=[\"']?(?:https?:)?//[^>]*>", re.IGNORECASE)
_INLINE_SCRIPT = re.compile(r"<script\b(?![^>]*\bsrc=)[^>]*>.*?</script>", re.DOTALL | re.I)
_FOOTER = re.compile(r"<footer\b.*?</footer>", re.DOTALL | re.IGNORECASE)
_EXTERNAL_IMG_SRC = re.compile(r"(<img\b[^>]*\bsrc=)[\"'](?:https?:)?//[^\"']*[\"']", re.I)
_CSS_URL = re.compile(r"url\(\s*['\"]?(?:https?:)?//[^)]*\)", re.IGNORECASE)
_LOGO_HIDDEN = re.compile(r"\.navbar-brand a img\s*\{\s*visibility:\s*hidden;?\s*\}")
_EXTERNAL_HREF = re.compile(r"(<a\b[^>]*\bhref=)[\"'](?:https?:)?//[^\"']*[\"']", re.I)
# GX links the favicon one folder too shallow from its deeper pages: a failed request
_FAVICON = re.compile(
    r"(<link\b[^>]*rel=[\"']shortcut icon[\"'][^>]*\bhref=)[\"'][^\"']*[\"']", re.I
)
EXTERNAL_URL = re.compile(r"""(?:src|href)\s*=\s*["']?(?:https?:)?//""", re.IGNORECASE)

CSS = """
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
  color: #212529; margin: 0; background: #fff; }
a { color: #0062cc; text-decoration: none; } a:hover { text-decoration: underline; }
h1, h2, h3, h4, h5, h6, .h6 { margin: .4em 0; font-weight: 600; line-height: 1.2; }
.lead { font-size: 1.1em; color: #555; }
.navbar { display: flex; align-items: center; padding: 6px 24px; background: #fff;
  border-bottom: 1px solid #dee2e6; }
.sticky-top, .sticky { position: sticky; top: 0; z-index: 10; }
.navbar-brand img { height: 40px !important; }
.breadcrumb { display: flex; flex-wrap: wrap; list-style: none; margin: 0 0 0 12px;
  padding: 4px 8px; background: #f8f9fa; border-radius: 4px; }
.breadcrumb-item + .breadcrumb-item::before { content: "/"; padding: 0 6px; color: #6c757d; }
.container-fluid { padding: 16px 32px; box-sizing: border-box; }
.row { display: flex; flex-wrap: wrap; margin: 0 -8px; }
.row > [class*="col"] { padding: 0 8px; box-sizing: border-box; width: 100%; }
@media (min-width: 768px) {
  .row > .col-md-2 { width: 16.666%; } .row > .col-md-3 { width: 25%; }
  .row > .col-md-4 { width: 33.333%; } .row > .col-md-6 { width: 50%; }
  .row > .col-md-8 { width: 66.666%; } .row > .col-md-9 { width: 75%; }
  .row > .col-md-10 { width: 83.333%; } .row > .col-md-12 { width: 100%; }
}
.col-12 { width: 100%; }
.card { border: 1px solid #dee2e6; border-radius: 6px; margin-bottom: 16px; background: #fff; }
.card-header { padding: 8px 12px; background: #f8f9fa; border-bottom: 1px solid #dee2e6; }
.card-body { padding: 12px; }
.table { width: 100%; border-collapse: collapse; margin-bottom: 12px; }
.table th, .table td { padding: 4px 8px; border-top: 1px solid #dee2e6; vertical-align: top;
  text-align: left; }
.table thead th { border-bottom: 2px solid #dee2e6; background: #f8f9fa; }
.table-responsive { overflow-x: auto; }
.alert { padding: 8px 12px; border-radius: 4px; margin-bottom: 12px; }
.alert-secondary { background: #e2e3e5; } .alert-danger { background: #f8d7da; }
.alert-success { background: #d4edda; }
.badge { display: inline-block; padding: 2px 6px; border-radius: 4px; font-size: 85%;
  background: #6c757d; color: #fff; }
.btn { display: inline-block; padding: 4px 10px; border: 1px solid #0062cc; border-radius: 4px;
  cursor: pointer; background: #fff; color: #0062cc; margin: 2px; }
.btn.active, .btn-primary.active { background: #0062cc; color: #fff; }
.btn-group input { display: none; }
.text-success { color: #1e7e34; } .text-danger { color: #c82333; }
.text-warning { color: #b8860b; } .text-muted { color: #6c757d; }
.d-none { display: none; } .d-flex { display: flex; }
.justify-content-center { justify-content: center; }
.nav { list-style: none; padding: 0; } .nav-link { display: block; padding: 2px 0; }
.fas::before { font-style: normal; }
.fa-check-circle::before { content: "\\2714"; }
.fa-times-circle::before, .fa-times::before, .fa-exclamation-triangle::before { content: "\\2718"; }
code, pre { font-family: ui-monospace, Menlo, Consolas, monospace; font-size: 90%; }
pre { white-space: pre-wrap; }
"""

# GX's "Show All" / "Failed Only" buttons, without jQuery
JS = """
function _olistShow(show) {
  for (const cls of ["hide-succeeded-validation-target-child",
                     "hide-succeeded-validations-column-section-target-child"]) {
    for (const el of document.getElementsByClassName(cls)) {
      const box = cls.endsWith("section-target-child") ? el.parentElement.parentElement
                                                       : el.parentElement;
      box.style.display = show ? "" : "none";
      if (box.id) {
        for (const a of document.querySelectorAll('a[href$="' + box.id + '"]')) {
          a.style.display = show ? "" : "none";
        }
      }
    }
  }
  for (const el of document.getElementsByClassName("hide-succeeded-validation-target")) {
    el.style.display = show ? "" : "none";
  }
}
function showAllValidations() { _olistShow(true); }
function hideSucceededValidations() { _olistShow(false); }
"""


def _relative(page: Path, root: Path, target: str) -> str:
    return Path(os.path.relpath(root / target, page.parent)).as_posix()


def offline_page(text: str, stylesheet: str, script: str, logo: str, favicon: str) -> str:
    """One GX page without a single external reference, with the local style and script."""
    text = _FAVICON.sub(lambda m: f'{m.group(1)}"{favicon}"', text)
    text = _EXTERNAL_SCRIPT.sub("", text)
    text = _EXTERNAL_LINK.sub("", text)
    text = _INLINE_SCRIPT.sub("", text)
    text = _FOOTER.sub("", text)
    text = _EXTERNAL_IMG_SRC.sub(lambda m: f'{m.group(1)}"{logo}"', text)
    text = _CSS_URL.sub("none", text)
    text = _LOGO_HIDDEN.sub("", text)
    text = _EXTERNAL_HREF.sub(lambda m: f'{m.group(1)}"#"', text)
    local = f'<link rel="stylesheet" href="{stylesheet}"><script src="{script}"></script>'
    if local in text:  # an earlier build's page, already rewritten
        return text
    return text.replace("</head>", f"{local}\n</head>", 1)


def _index(root: Path) -> str:
    """The site index as a plain list: validation pages newest first, then the suites."""
    validations = sorted(
        (root / "validations").rglob("*.html") if (root / "validations").is_dir() else [],
        key=lambda p: (p.parts[-2], p.name),  # the run time, then the batch
        reverse=True,
    )
    suites = (
        sorted((root / "expectations").rglob("*.html")) if (root / "expectations").is_dir() else []
    )

    def item(page: Path, label: str) -> str:
        return f"<li><a href='{html.escape(page.relative_to(root).as_posix())}'>{html.escape(label)}</a></li>"

    def validation_label(page: Path) -> str:
        parts = page.relative_to(root / "validations").parts
        # <suite parts...>/<run name>/<run time>/<batch>.html
        return f"{'.'.join(parts[:-3])}: run {parts[-3]} ({parts[-2]})"

    rows = "".join(item(p, validation_label(p)) for p in validations)
    suite_rows = "".join(
        item(p, ".".join(p.relative_to(root / "expectations").with_suffix("").parts))
        for p in suites
    )
    return (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        "<title>GX Data Docs</title>"
        f"<link rel='stylesheet' href='{STYLESHEET}'></head><body>"
        "<nav class='navbar'><strong>GX Data Docs</strong>"
        "<span class='text-muted'>&nbsp;&middot; Olist warehouse checkpoints</span></nav>"
        "<div class='container-fluid'>"
        f"<h2>Validation results ({len(validations)})</h2><ul id='validations'>{rows}</ul>"
        f"<h2>Expectation suites ({len(suites)})</h2><ul id='suites'>{suite_rows}</ul>"
        "</div></body></html>\n"
    )


def make_offline(root: Path) -> int:
    """Rewrite the Data Docs site under ``root`` to render offline; the pages rewritten."""
    (root / STYLESHEET).parent.mkdir(parents=True, exist_ok=True)
    (root / STYLESHEET).write_text(CSS.lstrip(), encoding="utf-8")
    (root / SCRIPT).write_text(JS.lstrip(), encoding="utf-8")
    done = 0
    for page in root.rglob("*.html"):
        if page == root / "index.html":
            continue
        text = page.read_text(encoding="utf-8")
        new = offline_page(
            text,
            _relative(page, root, STYLESHEET),
            _relative(page, root, SCRIPT),
            _relative(page, root, "static/images/logo-long.png"),
            _relative(page, root, "static/images/favicon.ico"),
        )
        if new != text:
            page.write_text(new, encoding="utf-8")
            done += 1
    (root / "index.html").write_text(_index(root), encoding="utf-8")
    return done
