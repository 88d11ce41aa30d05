"""``python -m reporting.dashboard [--warehouse FILE] [--port N]``: serve the KPI dashboard.

Streamlit serves its own bundled assets (scripts, fonts); usage statistics are off, so the
page makes no request beyond this machine.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

APP = Path(__file__).with_name("app.py")


def streamlit_command(port: int, address: str = "127.0.0.1") -> list[str]:
    return [
        sys.executable, "-m", "streamlit", "run", str(APP),
        "--server.headless=true",
        f"--server.address={address}",
        f"--server.port={port}",
        "--server.fileWatcherType=none",
        "--browser.gatherUsageStats=false",
        "--client.toolbarMode=viewer",
        "--theme.base=light",
    ]  # fmt: skip


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m reporting.dashboard",
        description="Serve the KPI dashboard over the published gold marts.",
    )
    parser.add_argument(
        "--warehouse",
        metavar="FILE",
        help="DuckDB warehouse file (default: data/olist.duckdb; env OLIST_WAREHOUSE)",
    )
    parser.add_argument("--port", type=int, default=8501, help="HTTP port (default: %(default)s)")
    parser.add_argument(
        "--address", default="127.0.0.1", help="address to listen on (default: %(default)s)"
    )
    args = parser.parse_args(argv)
    if args.warehouse:
        os.environ["OLIST_WAREHOUSE"] = str(Path(args.warehouse).resolve())
    print(f"[olist] dashboard on http://{args.address}:{args.port} (Ctrl-C stops it)", flush=True)
    command = streamlit_command(args.port, args.address)
    os.execv(command[0], command)


if __name__ == "__main__":
    main()
