"""Shared fixtures. The real sample is read from ../shared beside the checkout, never copied
into the project."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from olist.settings import Settings, configure_runtime, load_settings

configure_runtime()
os.environ.setdefault("PANDERA_VALIDATION_DEPTH", "SCHEMA_AND_DATA")

REPO = Path(__file__).resolve().parents[1]
SAMPLE = Path(os.environ.get("OLIST_SAMPLE_DIR", REPO.parent / "shared" / "data" / "olist_sample"))


@pytest.fixture(scope="session")
def sample_dir() -> Path:
    if not (SAMPLE / "olist_orders_dataset.csv").is_file():
        pytest.fail(f"real Olist sample not found at {SAMPLE} (expected ../shared beside the repo)")
    return SAMPLE


@pytest.fixture(scope="session")
def synthetic_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One scale-0.1 synthetic data set for the whole session."""
    from olist.synthetic.generator import generate

    out = tmp_path_factory.mktemp("synthetic")
    generate(out, scale=0.1, seed=1)
    return out


@pytest.fixture
def settings_for(tmp_path: Path):
    def make(source: Path) -> Settings:
        s = load_settings(
            source_dir=source, warehouse=tmp_path / "wh.duckdb", reports_dir=tmp_path / "reports"
        )
        return s.model_copy(
            update={
                "mlflow_tracking_uri": f"sqlite:///{(tmp_path / 'mlruns' / 'mlflow.db').as_posix()}",
                "mlflow_artifact_root": tmp_path / "mlruns" / "artifacts",
            }
        )

    return make
