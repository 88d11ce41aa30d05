"""Debian's headless Chromium (``make setup-browser``) for the tests that look at pages."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--no-first-run")


def chromium() -> str:
    """The browser, or a failure in CI / a skip elsewhere when it is not installed."""
    if not Path(CHROMIUM).is_file():
        message = "Chromium is not installed: run `make setup-browser` (Debian's chromium)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return CHROMIUM


def run_chromium(
    url: str, profile: Path, *args: str, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(
        [chromium(), *FLAGS, f"--user-data-dir={profile}", *args, url],
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc
