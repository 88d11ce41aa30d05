"""``python -m reporting.dbt_docs``: build the dbt docs site and serve it (``make docs``).

The site is dbt's own (``dbt docs generate``): every model, column, test and description of
``dbt/``, and the lineage graph. Its catalog (column types, row counts) is read from the
warehouse when there is one; before the first run the site still has the descriptions,
tests and lineage. It is a single page with its scripts and styles inlined, so it works
with no network; ``--static`` also writes ``static_index.html``, one file that opens
without a server.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import os
import subprocess
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from config.settings import load_settings
from warehouse.dbt_cli import dbt_command


def generate(warehouse: Path, out: Path) -> Path:
    """Write the site into ``out/target`` and return that folder."""
    out.mkdir(parents=True, exist_ok=True)
    args = ["docs", "generate", "--static", "--target", "duckdb"]
    if not warehouse.is_file():
        # no warehouse yet: an empty catalog, and dbt's connection goes to a scratch file
        # instead of creating an empty warehouse where `olist run` will write
        args.append("--empty-catalog")
        warehouse = out / "no-warehouse.duckdb"
    env = {
        **os.environ,
        "OLIST_WAREHOUSE": str(warehouse),
        "OLIST_DBT_TARGET": "duckdb",
        # the site loads dbt's tracking script from a CDN when the manifest allows usage stats
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    }
    proc = subprocess.run(dbt_command(out, *args), env=env, capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"dbt docs generate failed:\n{proc.stdout[-4000:]}")
    site = out / "target"
    for page in ("index.html", "static_index.html"):
        _fix_broken_requests(site / page)
    return site


# dbt-docs' page asks its server for two URLs that cannot exist: a favicon whose build-time
# placeholder was never filled in, and the tree's icons before Angular fills in their
# template (a plain xlink:href instead of ng-attr-). Each logs a 404 in the console.
BROKEN_REQUESTS = {
    "${require('./assets/favicons/favicon.ico')}": "data:,",
    'xlink:href="{{ getIcon(': 'ng-attr-xlink:href="{{ getIcon(',
}


def _fix_broken_requests(page: Path) -> None:
    html = page.read_text(encoding="utf-8")
    for broken, fixed in BROKEN_REQUESTS.items():
        html = html.replace(broken, fixed)
    page.write_text(html, encoding="utf-8")


def serve(site: Path, port: int, address: str = "127.0.0.1") -> None:
    handler = functools.partial(SimpleHTTPRequestHandler, directory=str(site))
    with ThreadingHTTPServer((address, port), handler) as server:
        print(f"[olist] dbt docs on http://{address}:{port} (Ctrl-C stops it)", flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            server.serve_forever()


def main(argv: list[str] | None = None) -> None:
    settings = load_settings()
    parser = argparse.ArgumentParser(
        prog="python -m reporting.dbt_docs", description="Build the dbt docs site and serve it."
    )
    parser.add_argument(
        "--warehouse",
        metavar="FILE",
        help="DuckDB warehouse the catalog is read from (default: data/olist.duckdb; "
        "env OLIST_WAREHOUSE)",
    )
    parser.add_argument(
        "--out",
        metavar="DIR",
        help="where the site is written (default: reports/dbt-docs; env OLIST_REPORTS_DIR)",
    )
    parser.add_argument("--port", type=int, default=8080, help="HTTP port (default: %(default)s)")
    parser.add_argument(
        "--no-serve", action="store_true", help="build the site only (default: build and serve)"
    )
    args = parser.parse_args(argv)
    warehouse = Path(args.warehouse).resolve() if args.warehouse else settings.warehouse
    out = Path(args.out).resolve() if args.out else settings.reports_dir / "dbt-docs"
    site = generate(warehouse, out)
    print(f"[olist] dbt docs site: {site / 'index.html'} (one file: static_index.html)")
    if not args.no_serve:
        serve(site, args.port)


if __name__ == "__main__":
    main()
