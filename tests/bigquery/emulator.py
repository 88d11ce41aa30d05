"""The crucible-emulator virtualenv the BigQuery tests need (``make setup-bq-emulator``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from config.settings import environment
from tests.support.bigquery_emulator import default_emulator_python, emulator_installed

REPO = Path(__file__).resolve().parents[2]


def require_emulator_python() -> Path:
    """Its Python, or a failure in CI / a skip elsewhere when it is not installed."""
    python = default_emulator_python(REPO)
    if not emulator_installed(python):
        message = (
            f"crucible-emulator is not installed ({python} has no crucible): "
            "run `make setup-bq-emulator` (make test does it)"
        )
        if environment() == "ci":
            pytest.fail(message)
        pytest.skip(message)
    return python
