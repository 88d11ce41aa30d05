"""One settings object and one place that says which environment we are in.

Precedence: explicit values (CLI flags) > environment variables (``OLIST_*``,
``MLFLOW_TRACKING_URI``) > defaults relative to the repository.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, field_validator

Environment = Literal["local", "ci", "production"]

# Runtime defaults for the libraries we drive; set before they are imported (see
# ../shared/STACK_NOTES.md: slow ephemeral start, telemetry lock, MLflow telemetry host).
RUNTIME_ENV_DEFAULTS = {
    "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "90",
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "DO_NOT_TRACK": "true",
    "MLFLOW_DISABLE_TELEMETRY": "true",
    "MLFLOW_ENABLE_TELEMETRY": "false",
    "PREFECT_LOGGING_LEVEL": "INFO",
    "GX_ANALYTICS_ENABLED": "false",
    "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    "TQDM_DISABLE": "1",  # GX metric progress bars flood flow logs
}


def repo_root() -> Path:
    """The checkout this package runs from (or ``OLIST_HOME``)."""
    if home := os.environ.get("OLIST_HOME"):
        return Path(home).resolve()
    return Path(__file__).resolve().parents[1]


def environment() -> Environment:
    """``OLIST_ENV`` if set; CI when ``CI`` is set; local otherwise."""
    value = os.environ.get("OLIST_ENV")
    if value in ("local", "ci", "production"):
        return value  # type: ignore[return-value]
    if value:
        raise ValueError(f"OLIST_ENV must be local, ci or production, not {value!r}")
    return "ci" if os.environ.get("CI") else "local"


def configure_runtime(prefect_home: Path | None = None) -> None:
    """Set library environment defaults without overriding what the user set."""
    for key, value in RUNTIME_ENV_DEFAULTS.items():
        os.environ.setdefault(key, value)
    if not sys.stdout.isatty():
        # dbt colours its PASS/FAIL words; in a log file or CI they are raw escape codes
        os.environ.setdefault("DBT_USE_COLORS", "false")
    if prefect_home is not None and "PREFECT_API_URL" not in os.environ:
        os.environ.setdefault("PREFECT_HOME", str(prefect_home))


class Settings(BaseModel):
    """Where things are. Serialisable, so it travels as a flow parameter."""

    source_dir: Path
    warehouse: Path
    reports_dir: Path
    mlflow_tracking_uri: str
    mlflow_artifact_root: Path
    dbt_project_dir: Path
    dbt_profiles_dir: Path
    # duckdb | bigquery. BigQuery itself (project, dataset, location, credentials, endpoint) is
    # configured only by the OLIST_BQ_* variables dbt/profiles.yml reads, and read from there
    # by warehouse.bigquery_load (bronze) and quality.gx_bigquery (GX checkpoints) too; a non-Google
    # OLIST_BQ_API_ENDPOINT means a local emulator (crucible): see quality.gx_bigquery
    dbt_target: str = "duckdb"
    # prefect-dbt emits an asset materialization (with lineage) per dbt node
    dbt_assets: bool = True
    batches_dir: Path | None = None
    churn_horizon_days: int = Field(default=180, ge=1)
    # Optuna budget per task: `make run` keeps it small; the weekly retrain passes more
    train_trials: int = Field(default=10, ge=1)
    train_timeout_seconds: float | None = Field(default=120.0, gt=0)
    ml_seed: int = 7
    quarantine_threshold: float = Field(default=0.01, ge=0, le=1)
    # a source file with a larger share fewer records than the version it replaces is
    # refused as cut short, unless its table (or file name) is declared a correction
    max_row_drop: float = Field(default=0.1, ge=0, le=1)
    corrections: list[str] = Field(default_factory=list)
    # a JSON order batch larger than this is refused unread (rejected/, with the reason)
    max_batch_bytes: int = Field(default=256 * 1024 * 1024, ge=1)
    # freshness check: the latest purchase at most this many days before now (None: off)
    freshness_max_age_days: int | None = Field(default=None, ge=0)
    # Prefect notification block for quality alerts, "<block-type-slug>/<name>" (None: off)
    alert_block: str | None = None
    # source table → extra columns accepted (and dropped) instead of being schema drift
    harmless_extra_columns: dict[str, list[str]] = Field(default_factory=dict)
    env: str = "local"
    # production landing zone: gs://bucket/prefix; when set it replaces the folder above
    source_uri: str | None = None
    batches_uri: str | None = None
    # a saved prefect-gcp GcsBucket block whose credentials reach the bucket (none: ADC)
    gcs_bucket_block: str | None = None

    @field_validator("source_uri", "batches_uri")
    @classmethod
    def _gs_uri(cls, value: str | None) -> str | None:
        if value is not None:
            parse_gs_uri(value)
        return value

    @property
    def source_location(self) -> str | Path:
        """Where the 9 CSVs are read from: the bucket when one is set, else the folder."""
        return self.source_uri or self.source_dir

    @property
    def dbt_target_path(self) -> Path:
        """dbt's target folder (manifest, run results, partial parse) for this warehouse:
        beside the file, so two warehouses built from one checkout never read each other's
        run results, and each keeps its own partial parse (dbt's cache is keyed on the
        profile, hence on the warehouse path)."""
        return self.warehouse.parent / "dbt-target" / self.warehouse.stem

    @property
    def batches_location(self) -> str | Path | None:
        """Where JSON order batches land (None: batches are not ingested)."""
        return self.batches_uri or self.batches_dir


def parse_gs_uri(uri: str) -> tuple[str, str]:
    """``gs://bucket/some/prefix/`` → ``("bucket", "some/prefix")``; refuses anything else,
    so a typo cannot silently fall back to a local folder of the same name."""
    scheme, sep, rest = uri.partition("://")
    bucket, _, prefix = rest.partition("/")
    if scheme != "gs" or not sep or not bucket:
        raise ValueError(f"{uri!r} is not a GCS location: expected gs://bucket[/prefix]")
    return bucket, prefix.strip("/")


def parse_harmless_extras(value: str) -> dict[str, list[str]]:
    """``"orders:campaign_id,customers:segment"`` → ``{"orders": ["campaign_id"], ...}``."""
    out: dict[str, list[str]] = {}
    for item in filter(None, (part.strip() for part in value.split(","))):
        table, sep, column = item.partition(":")
        if not sep or not table or not column:
            raise ValueError(
                f"OLIST_HARMLESS_EXTRA_COLUMNS: {item!r} is not table:column "
                f"(e.g. orders:campaign_id)"
            )
        out.setdefault(table, []).append(column)
    return out


def _env_path(name: str) -> Path | None:
    value = os.environ.get(name)
    return Path(value).expanduser().resolve() if value else None


def _env_gs_uri(name: str) -> str | None:
    value = os.environ.get(name)
    if not value:
        return None
    try:
        parse_gs_uri(value)
    except ValueError as err:
        raise ValueError(f"{name}: {err}") from None
    return value


def dbt_assets_default() -> bool:
    """Whether dbt nodes emit Prefect asset events (lineage on the UI's *Assets* page).

    ``OLIST_DBT_ASSETS`` decides when set. Unset, they are on when runs report to a Prefect
    server people watch (``PREFECT_API_URL`` set, from the environment or the active Prefect
    profile: ``make server``, the deployments, Prefect Cloud) and off on the ephemeral API of
    a plain ``olist run``, whose UI nobody opens: there they would cost ~15 s a full build
    (issue 8's fixed costs) for lineage no one sees.
    """
    explicit = os.environ.get("OLIST_DBT_ASSETS")
    if explicit is not None and explicit.strip():
        return explicit.strip().lower() not in ("0", "false", "no", "off")
    from prefect.settings import PREFECT_API_URL

    return bool(PREFECT_API_URL.value())


def load_settings(
    source_dir: Path | str | None = None,
    warehouse: Path | str | None = None,
    reports_dir: Path | str | None = None,
    mlflow_tracking_uri: str | None = None,
    dbt_target: str | None = None,
    dbt_assets: bool | None = None,
) -> Settings:
    """The settings; ``dbt_assets`` None: ``dbt_assets_default()``, which imports Prefect
    (the CLI checks its paths without it)."""
    root = repo_root()
    source = Path(source_dir).resolve() if source_dir else _env_path("OLIST_SOURCE_DIR")
    wh = Path(warehouse).resolve() if warehouse else _env_path("OLIST_WAREHOUSE")
    reports = Path(reports_dir).resolve() if reports_dir else _env_path("OLIST_REPORTS_DIR")
    mlflow_dir = _env_path("OLIST_MLFLOW_DIR") or root / "mlruns"
    uri = mlflow_tracking_uri or os.environ.get("MLFLOW_TRACKING_URI")
    return Settings(
        source_dir=source or root / "data" / "raw",
        warehouse=wh or root / "data" / "olist.duckdb",
        reports_dir=reports or root / "reports",
        mlflow_tracking_uri=uri or f"sqlite:///{(mlflow_dir / 'mlflow.db').as_posix()}",
        mlflow_artifact_root=mlflow_dir / "artifacts",
        dbt_project_dir=root / "dbt",
        dbt_profiles_dir=_env_path("DBT_PROFILES_DIR") or root / "dbt",
        dbt_target=dbt_target or os.environ.get("OLIST_DBT_TARGET", "duckdb"),
        dbt_assets=dbt_assets_default() if dbt_assets is None else dbt_assets,
        batches_dir=_env_path("OLIST_BATCHES_DIR") or root / "data" / "batches",
        quarantine_threshold=float(os.environ.get("OLIST_QUARANTINE_THRESHOLD", "0.01")),
        max_row_drop=float(os.environ.get("OLIST_MAX_ROW_DROP", "0.1")),
        max_batch_bytes=int(os.environ.get("OLIST_MAX_BATCH_BYTES", str(256 * 1024 * 1024))),
        corrections=[
            c.strip() for c in os.environ.get("OLIST_CORRECTIONS", "").split(",") if c.strip()
        ],
        churn_horizon_days=int(os.environ.get("OLIST_HORIZON_DAYS", "180")),
        train_trials=int(os.environ.get("OLIST_TRAIN_TRIALS", "10")),
        train_timeout_seconds=float(os.environ.get("OLIST_TRAIN_TIMEOUT_SECONDS", "120")),
        ml_seed=int(os.environ.get("OLIST_ML_SEED", "7")),
        alert_block=os.environ.get("OLIST_ALERT_BLOCK") or None,
        freshness_max_age_days=(
            int(os.environ["OLIST_FRESHNESS_MAX_AGE_DAYS"])
            if os.environ.get("OLIST_FRESHNESS_MAX_AGE_DAYS")
            else None
        ),
        harmless_extra_columns=parse_harmless_extras(
            os.environ.get("OLIST_HARMLESS_EXTRA_COLUMNS", "")
        ),
        env=environment(),
        # a --source flag names a folder and beats a bucket set in the environment
        source_uri=None if source_dir else _env_gs_uri("OLIST_SOURCE_URI"),
        batches_uri=_env_gs_uri("OLIST_BATCHES_URI"),
        gcs_bucket_block=os.environ.get("OLIST_GCS_BUCKET_BLOCK") or None,
    )
