"""The production path on GCP, checked without GCP: deployments/gcp/prefect.yaml against the
installed Cloud Run v2 worker and the root prefect.yaml, the Dockerfile against the code it
must carry, and deployments/gcp_blocks.py building its blocks offline."""

from __future__ import annotations

import ast
import io
import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from config.settings import RUNTIME_ENV_DEFAULTS
from deployments import gcp_blocks

REPO = Path(__file__).resolve().parents[3]
GCP_FILE = REPO / "deployments" / "gcp" / "prefect.yaml"
ROOT_FILE = REPO / "prefect.yaml"
DOCKERFILE = REPO / "Dockerfile"
GUIDE = REPO / "docs" / "gcp.md"

POOL = "cloud-run"
WORKER_TYPE = "cloud-run-v2"
# The platform's deployments (root prefect.yaml has the same; see the match test below).
EXPECTED = {
    "platform": ("flows/deployed.py:platform", {"skip_train": False}, []),
    "daily": (
        "flows/deployed.py:platform",
        {"skip_train": True, "score": True},
        [{"cron": "0 3 * * *", "timezone": "America/Sao_Paulo"}],
    ),
    "incremental": ("flows/deployed.py:incremental", {}, [{"interval": 900}]),
    "weekly-retrain": (
        "flows/deployed.py:train",
        {"trials": 50, "timeout_seconds": 1200},
        [{"cron": "0 5 * * 0", "timezone": "America/Sao_Paulo"}],
    ),
    "backfill": ("flows/deployed.py:backfill", {}, []),
}
# Env values that are settings, not secrets or locations: exact literals allowed.
LITERAL_ENV = {
    "OLIST_ENV": "production",
    "OLIST_DBT_TARGET": "bigquery",
    "OLIST_BQ_METHOD": "oauth",
    "PREFECT_RESULTS_PERSIST_BY_DEFAULT": "true",
    "PREFECT_RESULTS_DEFAULT_STORAGE_BLOCK": f"gcs-bucket/{gcp_blocks.RESULTS_BLOCK}",
    "PREFECT_HOME": "/home/olist/.prefect",
}
TEMPLATE = re.compile(r"\{\{\s*(\$[A-Z][A-Z0-9_]*|prefect\.variables\.[a-z0-9_]+)\s*\}\}")
ENV_TEMPLATE = re.compile(r"\{\{\s*\$([A-Z][A-Z0-9_]*)\s*\}\}")
VARIABLE_TEMPLATE = re.compile(r"\{\{\s*prefect\.variables\.([a-z0-9_]+)\s*\}\}")


def load(path: Path) -> dict[str, Any]:
    return dict(yaml.safe_load(path.read_text(encoding="utf-8")))


GCP = load(GCP_FILE)
DEPLOYMENTS = {d["name"]: d for d in GCP["deployments"]}


def strings(node: Any) -> list[str]:
    """Every string value in the parsed file (comments are not values)."""
    if isinstance(node, dict):
        return [s for value in node.values() for s in strings(value)]
    if isinstance(node, list):
        return [s for item in node for s in strings(item)]
    return [node] if isinstance(node, str) else []


def templates(pattern: re.Pattern[str]) -> set[str]:
    return {name for value in strings(GCP) for name in pattern.findall(value)}


def summary(spec: dict[str, Any]) -> tuple[str, dict[str, Any], list[dict[str, Any]]]:
    return spec["entrypoint"], spec.get("parameters") or {}, spec.get("schedules") or []


def base_job_template() -> dict[str, Any]:
    from prefect_gcp.workers.cloud_run_v2 import CloudRunWorkerV2

    assert CloudRunWorkerV2.type == WORKER_TYPE
    return dict(CloudRunWorkerV2.get_default_base_job_template())


# --- prefect.yaml ------------------------------------------------------------------------------
def test_gcp_file_is_valid_for_prefect_deploy() -> None:
    # prefect deploy's own model; on an invalid file it warns and deploys nothing
    from prefect.cli.deploy._models import PrefectYamlModel

    model = PrefectYamlModel.model_validate(GCP)
    assert [d.name for d in model.deployments] == list(DEPLOYMENTS)


def test_gcp_file_has_the_platforms_deployments() -> None:
    assert {name: summary(spec) for name, spec in DEPLOYMENTS.items()} == EXPECTED


def test_gcp_deployments_match_the_root_prefect_yaml() -> None:
    """Same flows, parameters and cadences; a schedule may start inactive on GCP."""

    def cadence(spec: dict[str, Any]) -> tuple[str, dict[str, Any], list[dict[str, Any]]]:
        entrypoint, parameters, schedules = summary(spec)
        return (
            entrypoint,
            parameters,
            [{k: v for k, v in s.items() if k != "active"} for s in schedules],
        )

    root = {d["name"]: cadence(d) for d in load(ROOT_FILE)["deployments"]}
    assert {name: cadence(spec) for name, spec in DEPLOYMENTS.items()} == root


@pytest.mark.parametrize("name", list(DEPLOYMENTS))
def test_every_deployment_runs_on_the_cloud_run_pool_without_building(name: str) -> None:
    spec = DEPLOYMENTS[name]
    assert spec["work_pool"]["name"] == POOL
    assert "build" in spec and spec["build"] is None  # no "build a Docker image?" prompt


@pytest.mark.parametrize("name", list(DEPLOYMENTS))
def test_job_variables_exist_in_the_cloud_run_v2_template_and_fit_its_schema(name: str) -> None:
    import jsonschema

    variables = base_job_template()["variables"]
    job_variables = DEPLOYMENTS[name]["work_pool"]["job_variables"]
    assert set(job_variables) <= set(variables["properties"])
    errors = [e.message for e in jsonschema.Draft7Validator(variables).iter_errors(job_variables)]
    assert errors == []


def test_env_values_are_templates_or_known_settings() -> None:
    for spec in DEPLOYMENTS.values():
        job_variables = spec["work_pool"]["job_variables"]
        for key in ("image", "region", "service_account_name"):
            assert TEMPLATE.fullmatch(job_variables[key]), key
        for key, value in job_variables["env"].items():
            if key in LITERAL_ENV:
                assert value == LITERAL_ENV[key], key
            else:
                assert isinstance(value, str) and TEMPLATE.fullmatch(value), (key, value)


def test_flow_runs_get_the_production_settings() -> None:
    wanted = {
        "OLIST_DBT_TARGET",
        "OLIST_SOURCE_URI",
        "OLIST_BATCHES_URI",
        "OLIST_GCS_BUCKET_BLOCK",
        "OLIST_BQ_PROJECT",
        "OLIST_BQ_DATASET",
        "OLIST_BQ_LOCATION",
        "MLFLOW_TRACKING_URI",
        "PREFECT_RESULTS_PERSIST_BY_DEFAULT",
        "PREFECT_RESULTS_DEFAULT_STORAGE_BLOCK",
    }
    for spec in DEPLOYMENTS.values():
        assert wanted <= set(spec["work_pool"]["job_variables"]["env"])


def test_result_storage_env_names_are_prefect_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    from prefect.settings.models.root import Settings

    env = GCP["definitions"]["env"]
    for key in ("PREFECT_RESULTS_PERSIST_BY_DEFAULT", "PREFECT_RESULTS_DEFAULT_STORAGE_BLOCK"):
        monkeypatch.setenv(key, env[key])
    results = Settings().results
    assert results.persist_by_default is True
    assert results.default_storage_block == "gcs-bucket/olist-results"


def test_the_prefect_variables_used_are_the_ones_gcp_blocks_saves() -> None:
    assert templates(VARIABLE_TEMPLATE) == set(gcp_blocks.build_variables(setup()))


def test_every_deploy_time_env_var_is_exported_in_the_guide() -> None:
    used = templates(ENV_TEMPLATE)
    assert "OLIST_IMAGE" in used
    guide = GUIDE.read_text(encoding="utf-8")
    assert {v for v in used if f"export {v}=" not in guide} == set()


def test_the_guide_creates_the_pool_with_the_installed_worker_type() -> None:
    base_job_template()  # asserts the type name
    assert f"prefect work-pool create {POOL} --type {WORKER_TYPE}" in GUIDE.read_text()


# --- Dockerfile --------------------------------------------------------------------------------
def dockerfile_lines() -> list[str]:
    """Instructions, continuation lines joined, comments dropped."""
    text = DOCKERFILE.read_text(encoding="utf-8").replace("\\\n", " ")
    return [line.strip() for line in text.splitlines() if line.strip() and line[0] != "#"]


def copied() -> list[str]:
    """What COPY puts into the image, by source path, in order."""
    sources = []
    for line in dockerfile_lines():
        if line.startswith("COPY "):
            words = [w for w in line.split()[1:] if not w.startswith("--")]
            sources += words[:-1]
    return sources


def local_imports(package: str) -> set[str]:
    """Top-level packages of this repository imported anywhere in ``package``."""
    found = set()
    for path in (REPO / package).rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = (
                [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else [node.module]
                if isinstance(node, ast.ImportFrom) and node.module and node.level == 0
                else []
            )
            found |= {
                top for n in names if (REPO / (top := n.split(".")[0]) / "__init__.py").is_file()
            }
    return found


def test_dockerfile_copies_every_package_the_flows_need_and_the_dbt_project() -> None:
    needed, todo = {"flows"}, ["flows"]
    while todo:
        for package in local_imports(todo.pop()) - needed:
            needed.add(package)
            todo.append(package)
    assert {"config", "warehouse", "contracts", "expectations", "ml"} <= needed  # the walk works
    sources = {s.rstrip("/") for s in copied()}
    assert needed | {"dbt", "prefect.yaml"} <= sources


def test_dockerfile_installs_the_pinned_set_before_the_code() -> None:
    lines = dockerfile_lines()
    assert lines[0] == "FROM python:3.11-slim"
    install = next(i for i, line in enumerate(lines) if "pip install -c constraints.txt ." in line)
    first_copy = next(i for i, line in enumerate(lines) if line.startswith("COPY "))
    assert {"pyproject.toml", "constraints.txt", "README.md"} <= set(lines[first_copy].split())
    assert first_copy < install < next(i for i, line in enumerate(lines) if "flows" in line)


def test_dockerfile_env_has_the_home_the_target_and_the_runtime_defaults() -> None:
    env = dict(
        re.findall(
            r"([A-Z_][A-Z0-9_]*)=(\S+)",
            " ".join(line for line in dockerfile_lines() if line.startswith("ENV ")),
        )
    )
    assert env["OLIST_HOME"] == "/opt/olist"
    assert env["OLIST_DBT_TARGET"] == "bigquery"
    assert {k: env.get(k) for k in RUNTIME_ENV_DEFAULTS} == RUNTIME_ENV_DEFAULTS


def test_deployments_start_in_the_images_workdir() -> None:
    workdir = next(line.split()[1] for line in dockerfile_lines() if line.startswith("WORKDIR "))
    assert GCP["pull"] == [
        {"prefect.deployments.steps.set_working_directory": {"directory": workdir}}
    ]


def test_dockerignore_keeps_what_the_dockerfile_copies() -> None:
    ignored = {
        line.strip().rstrip("/")
        for line in (REPO / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    }
    assert {".venv", ".git", "dbt/target", "data", "mlruns"} <= ignored
    assert set(copied()) & ignored == set()


# --- gcp_blocks --------------------------------------------------------------------------------
def setup(**changes: Any) -> gcp_blocks.GcpSetup:
    values: dict[str, Any] = {
        "project": "acme-prod",
        "source_uri": "gs://acme-landing/olist/raw",
        "batches_uri": "gs://acme-landing/ingestion/batches",
        "results_bucket": "gs://acme-results",
        "mlflow_tracking_uri": "https://mlflow.acme.example",
    } | changes
    return gcp_blocks.GcpSetup(**values)


@pytest.fixture
def no_google_auth(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail any lookup of Application Default Credentials (which may reach the network)."""
    import google.auth

    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("google.auth.default() was called")

    monkeypatch.setattr(google.auth, "default", refuse)


def test_build_blocks_makes_the_three_blocks_offline(no_google_auth: None) -> None:
    from prefect_gcp import GcpCredentials
    from prefect_gcp.cloud_storage import GcsBucket

    blocks = gcp_blocks.build_blocks(setup())
    assert list(blocks) == ["olist-gcp", "olist-landing", "olist-results"]
    credentials, landing, results = blocks.values()
    assert isinstance(credentials, GcpCredentials) and credentials.project == "acme-prod"
    assert credentials.service_account_info is None and credentials.service_account_file is None
    assert isinstance(landing, GcsBucket) and landing.bucket == "acme-landing"
    assert isinstance(results, GcsBucket) and results.bucket == "acme-results"
    assert landing.gcp_credentials is credentials and results.gcp_credentials is credentials


def test_dry_run_prints_the_blocks_and_variables_and_saves_nothing(
    no_google_auth: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse_save(*args: Any) -> None:
        raise AssertionError("a dry run saved something")

    monkeypatch.setattr(gcp_blocks, "save", refuse_save)
    out = io.StringIO()
    environ = {
        "OLIST_BQ_PROJECT": "acme-prod",
        "OLIST_SOURCE_URI": "gs://acme-landing/olist/raw",
        "OLIST_RESULTS_BUCKET": "acme-results",
        "MLFLOW_TRACKING_URI": "https://mlflow.acme.example",
    }
    assert gcp_blocks.main(["--dry-run"], environ=environ, stdout=out) == 0
    printed = out.getvalue()
    for slug in (
        "gcp-credentials/olist-gcp",
        "gcs-bucket/olist-landing",
        "gcs-bucket/olist-results",
    ):
        assert f"block    {slug}:" in printed
    assert "variable olist_batches_uri = ''" in printed
    assert "olist_state_uri" not in printed  # the warehouse keeps the state: no file to keep
    assert printed.endswith("dry run: nothing saved\n")


def test_a_key_file_is_stored_as_its_contents_not_its_path(
    tmp_path: Path, no_google_auth: None
) -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    pem = (
        rsa.generate_private_key(public_exponent=65537, key_size=2048)
        .private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        .decode()
    )
    key = {
        "type": "service_account",
        "project_id": "acme-prod",
        "private_key_id": "k1",
        "private_key": pem,
        "client_email": "olist-runner@acme-prod.iam.gserviceaccount.com",
        "token_uri": "https://oauth2.googleapis.com/token",
    }
    path = tmp_path / "key.json"
    path.write_text(json.dumps(key))
    credentials = gcp_blocks.build_blocks(setup(key_file=path))["olist-gcp"]
    assert credentials.service_account_file is None
    assert (
        credentials.service_account_info.get_secret_value()["client_email"] == key["client_email"]
    )
    printed = gcp_blocks.describe({"olist-gcp": credentials}, {})
    assert pem.splitlines()[1] not in printed and "service_account_info=********" in printed


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"batches_uri": "gs://elsewhere/batches"}, "must share a bucket"),
        ({"mlflow_tracking_uri": "sqlite:///mlflow.db"}, "tracking server"),
        ({"source_uri": "/data/raw"}, "not a GCS location"),
    ],
)
def test_setup_refuses_what_would_break_in_cloud_run(changes: dict[str, str], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        setup(**changes)


def test_missing_settings_are_a_usage_error_naming_them(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        gcp_blocks.main(["--dry-run"], environ={})
    assert exit_.value.code == 2
    assert "OLIST_SOURCE_URI" in capsys.readouterr().err
