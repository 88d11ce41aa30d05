"""The same dbt SQL must compile for BigQuery (offline: dummy token, no cache population)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]


def test_dbt_compiles_for_the_bigquery_target(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "OLIST_DBT_TARGET": "bigquery",
        "OLIST_BQ_METHOD": "oauth-secrets",
        "OLIST_BQ_TOKEN": "dummy",
        "OLIST_BQ_PROJECT": "olist-test",
    }
    dbt = Path(sys.executable).with_name("dbt")
    proc = subprocess.run(
        [
            str(dbt),
            "compile",
            "--target",
            "bigquery",
            "--no-populate-cache",
            "--vars",
            # incremental models: no warehouse lookup; tests scoped as in an incremental run
            '{assume_full_refresh: true, loaded_after: "2026-01-01 00:00:00.000001"}',
            "--profiles-dir",
            ".",
            "--project-dir",
            ".",
            "--target-path",
            str(tmp_path / "target"),
        ],
        cwd=REPO / "dbt",
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert proc.returncode == 0, proc.stdout[-3000:]
    models = tmp_path / "target" / "compiled" / "olist" / "models"
    compiled = (models / "marts" / "core" / "fct_orders.sql").read_text()
    assert "`olist-test`.`gold`" not in compiled  # refs resolve to silver, not gold
    assert "`olist-test`.`silver`.`stg_olist__orders`" in compiled
    assert "numeric(18, 2)" in compiled
    nested = (models / "intermediate" / "orders" / "int_orders_nested.sql").read_text()
    assert "struct(order_items.order_item_id as order_item_id" in nested  # not struct_pack
    sellers = (models / "marts" / "operations" / "fct_seller_performance.sql").read_text()
    assert "percentile_cont(avg_delivery_days, 0.75) over (partition by month_start)" in sellers
    tests = tmp_path / "target" / "compiled" / "olist" / "models" / "marts" / "core"
    scoped = (tests / "_core__models.yml" / "not_null_fct_orders_order_id.sql").read_text()
    assert "where _loaded_at > cast('2026-01-01 00:00:00.000001' as timestamp)) dbt_subquery" in (
        scoped
    )
    whole = (tests / "_core__models.yml" / "unique_fct_orders_order_id.sql").read_text()
    assert "dbt_subquery" not in whole and "_loaded_at" not in whole
