"""The pure parts of the bigquery target's crossings: frames as DuckDB would hand them to the
ML code, which client an endpoint gets, and the publish order. The BigQuery calls themselves
are tested against the emulator (tests/bigquery/test_platform_on_emulator.py)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pytest
from db_dtypes import DateDtype

from warehouse.bigquery import _as_duckdb_would, target_client
from warehouse.bigquery_emulator import InliningClient
from warehouse.publish import _dimensions_first, _to_publish


def test_bigquery_frames_read_like_duckdb_ones() -> None:
    frame = pd.DataFrame(
        {
            "purchased_at": pd.Series(
                [datetime(2018, 3, 1, 12, 30), None], dtype="datetime64[us]"
            ).dt.tz_localize("America/Sao_Paulo"),
            "order_value": [Decimal("10.25"), None],
            "day": pd.Series([date(2018, 3, 1), None], dtype=DateDtype()),
            "state": ["SP", None],
        }
    )
    out = _as_duckdb_would(frame)
    # the same instant, as naive UTC (São Paulo was UTC-3 in March 2018)
    assert out["purchased_at"].iloc[0] == pd.Timestamp("2018-03-01 15:30")
    assert out["purchased_at"].dt.tz is None and pd.isna(out["purchased_at"].iloc[1])
    assert out["order_value"].dtype == "float64" and out["order_value"].iloc[0] == 10.25
    assert pd.isna(out["order_value"].iloc[1])
    assert out["day"].iloc[0] == pd.Timestamp("2018-03-01")
    assert out["state"].equals(frame["state"])  # text untouched
    assert frame["order_value"].iloc[0] == Decimal("10.25")  # the input is not changed


def test_an_emulator_endpoint_gets_the_inlining_client_and_google_a_plain_one() -> None:
    emulator = target_client(
        {"OLIST_BQ_API_ENDPOINT": "http://127.0.0.1:9050", "OLIST_BQ_PROJECT": "p"}
    )
    google = target_client(
        {"OLIST_BQ_PROJECT": "p", "OLIST_BQ_METHOD": "oauth-secrets", "OLIST_BQ_TOKEN": "t"}
    )
    try:
        assert emulator.emulator and isinstance(emulator.client, InliningClient)
        assert not google.emulator and not isinstance(google.client, InliningClient)
        assert google.table_id("gold", "fct_orders") == "`p`.`gold`.`fct_orders`"
    finally:
        emulator.close()
        google.close()


def test_bigquery_publishes_dimensions_before_facts() -> None:
    assert _dimensions_first(["fct_orders", "agg_daily", "dim_sellers", "dim_customers"]) == [
        "dim_customers",
        "dim_sellers",
        "agg_daily",
        "fct_orders",
    ]


def test_nothing_is_published_from_an_empty_or_incomplete_audit() -> None:
    assert _to_publish(["dim_a", "fct_b"], "gold_audit", None) == ["dim_a", "fct_b"]
    assert _to_publish(["dim_a", "fct_b"], "gold_audit", ["fct_b"]) == ["fct_b"]
    with pytest.raises(RuntimeError, match="gold_audit lacks fct_c"):
        _to_publish(["dim_a", "fct_b"], "gold_audit", ["fct_b", "fct_c"])
    with pytest.raises(RuntimeError, match="schema gold_audit has no tables"):
        _to_publish([], "gold_audit", None)


def test_a_retrain_without_a_local_warehouse_is_stopped_with_what_to_run(tmp_path: Path) -> None:
    """On BigQuery the gate reads ``quality.runs`` there (tests/bigquery); on DuckDB a
    missing file says to run the platform first."""
    from prefect.logging import disable_run_logger

    from config.settings import load_settings
    from flows.train import check_quality_gate

    missing = tmp_path / "new-job.duckdb"
    with disable_run_logger(), pytest.raises(FileNotFoundError, match="run the platform"):
        check_quality_gate.fn(load_settings(warehouse=missing, dbt_target="duckdb"))
