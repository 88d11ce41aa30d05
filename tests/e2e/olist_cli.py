"""Run the `olist` CLI in a subprocess as a user does, with its state kept under ``tmp``."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def run_olist(
    args: list[str], tmp: Path, timeout: int = 900, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Prefect home, MLflow and batches under ``tmp``; no outside Prefect API (ephemeral)
    and no tracking URI inherited from this process. ``env`` adds variables (settings a
    user would export, such as ``OLIST_TRAIN_TRIALS``)."""
    env = {
        **os.environ,
        "PREFECT_HOME": str(tmp / "prefect"),
        "OLIST_MLFLOW_DIR": str(tmp / "mlruns"),
        "OLIST_BATCHES_DIR": str(tmp / "batches"),
        **(env or {}),
    }
    env.pop("PREFECT_API_URL", None)
    # mlflow.set_tracking_uri (an earlier in-process test may have trained) exports it
    env.pop("MLFLOW_TRACKING_URI", None)
    return subprocess.run(
        [sys.executable, "-m", "cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
