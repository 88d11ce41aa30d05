from __future__ import annotations

from pathlib import Path

import pytest

from config.settings import environment, load_settings, repo_root


def test_defaults_are_relative_to_the_repo(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in (
        "OLIST_SOURCE_DIR",
        "OLIST_WAREHOUSE",
        "OLIST_REPORTS_DIR",
        "MLFLOW_TRACKING_URI",
        "OLIST_MLFLOW_DIR",
        "OLIST_HOME",
    ):
        monkeypatch.delenv(var, raising=False)
    s = load_settings()
    root = repo_root()
    assert s.source_dir == root / "data" / "raw"
    assert s.warehouse == root / "data" / "olist.duckdb"
    assert s.reports_dir == root / "reports"
    assert s.mlflow_tracking_uri == f"sqlite:///{root / 'mlruns' / 'mlflow.db'}"


def test_environment_overrides_defaults_and_flags_override_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("OLIST_WAREHOUSE", str(tmp_path / "env.duckdb"))
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "http://127.0.0.1:5000")
    assert load_settings().warehouse == tmp_path / "env.duckdb"
    assert load_settings().mlflow_tracking_uri == "http://127.0.0.1:5000"
    assert load_settings(warehouse=tmp_path / "flag.duckdb").warehouse == tmp_path / "flag.duckdb"


def test_environment_name(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OLIST_ENV", "production")
    assert environment() == "production"
    monkeypatch.setenv("OLIST_ENV", "staging")
    with pytest.raises(ValueError, match="OLIST_ENV"):
        environment()


def test_harmless_extra_columns_parse_and_reject_garbage() -> None:
    from config.settings import parse_harmless_extras

    assert parse_harmless_extras("orders:campaign_id, orders:utm ,customers:segment") == {
        "orders": ["campaign_id", "utm"],
        "customers": ["segment"],
    }
    assert parse_harmless_extras("") == {}
    with pytest.raises(ValueError, match="not table:column"):
        parse_harmless_extras("orders")


@pytest.mark.parametrize(
    ("explicit", "api_url", "expected"),
    [
        (None, None, False),  # `olist run` on the ephemeral API: no one sees the lineage
        (None, "http://127.0.0.1:4200/api", True),  # a server's UI shows it
        ("false", "http://127.0.0.1:4200/api", False),
        ("true", None, True),
        ("", None, False),
    ],
)
def test_dbt_asset_events_follow_the_server_unless_set(
    monkeypatch: pytest.MonkeyPatch, explicit: str | None, api_url: str | None, expected: bool
) -> None:
    from prefect.settings import PREFECT_API_URL, temporary_settings

    if explicit is None:
        monkeypatch.delenv("OLIST_DBT_ASSETS", raising=False)
    else:
        monkeypatch.setenv("OLIST_DBT_ASSETS", explicit)
    with temporary_settings(updates={PREFECT_API_URL: api_url}):
        assert load_settings().dbt_assets is expected
