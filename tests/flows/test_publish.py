"""Write-audit-publish through the platform flow: marts are built and checked in
``gold_audit``; only a run without a critical failure replaces ``gold``."""

from __future__ import annotations

import re
from pathlib import Path

import duckdb
import pytest

from config.settings import load_settings
from expectations import SUITES
from flows.platform import platform_flow
from synthetic.batches import generate_batch
from tests.warehouse_query import rows


def test_only_an_audited_run_publishes_and_a_critical_failure_keeps_the_last_good_gold(
    sample_dir: Path, tmp_path: Path
) -> None:
    settings = load_settings(
        source_dir=sample_dir, warehouse=tmp_path / "wh.duckdb", reports_dir=tmp_path / "reports"
    )
    settings.batches_dir = tmp_path / "batches"
    platform_flow(settings, skip_train=True, run_id="good")

    wh = settings.warehouse
    assert rows(wh, "select count(*) from gold.fct_orders") == [(8135,)]
    differ = rows(
        wh,
        "select count(*) from (select * from gold.fct_orders "
        "except all select * from gold_audit.fct_orders)",
    )
    assert differ == [(0,)]  # gold is the audited copy
    ((verdict, published, critical),) = rows(
        wh, "select verdict, published, critical_failed from quality.runs where run_id = 'good'"
    )
    assert (published, critical) == (True, 0)
    assert verdict == "warn"  # the sample's real quirks are warnings, none critical
    good_report = settings.reports_dir / "quality" / "good.html"
    docs = re.findall(r"href='(gx/validations/[^']+)'", good_report.read_text(encoding="utf-8"))
    assert len(docs) == len(SUITES)  # one GX Data Docs page per suite, linked and on disk
    assert all((good_report.parent / d).is_file() for d in docs)
    # the sample's quirks, seen by GX in silver and gold with their true counts
    gx_failures = dict(
        (f"{t}.{c}", (sev, n))
        for t, c, sev, n in rows(
            wh,
            "select table_name, column_name, severity, unexpected_count "
            "from quality.check_results where run_id = 'good' "
            "and check_engine = 'great_expectations' and not passed",
        )
    )
    assert gx_failures["stg_olist__order_payments.payment_type"] == ("warning", 3)
    assert gx_failures["fct_orders.delivered_to_customer_at"] == ("warning", 8)
    # carrier before approval: a pair check names both of its columns
    assert gx_failures["stg_olist__orders.delivered_to_carrier_at, approved_at"] == ("warning", 77)

    # plant a critical defect past the contracts: a duplicated product id in bronze (the
    # silver key test catches it), and new batch orders so the run has something to publish
    con = duckdb.connect(str(wh))
    con.execute("insert into bronze.products select * from bronze.products limit 1")
    con.close()
    generate_batch(sample_dir, settings.batches_dir, n_orders=30, seed=9)
    with pytest.raises(ValueError, match="unique_stg_olist__products_product_id"):
        platform_flow(settings, skip_train=True, run_id="bad")

    assert rows(wh, "select count(*) from gold.fct_orders") == [(8135,)]  # untouched
    ((verdict, published, critical),) = rows(
        wh, "select verdict, published, critical_failed from quality.runs where run_id = 'bad'"
    )
    assert (verdict, published) == ("fail", False) and critical >= 1
    report = (settings.reports_dir / "quality" / "bad.html").read_text(encoding="utf-8")
    assert "unique_stg_olist__products_product_id" in report  # the dbt test, by name

    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey

    with get_client(sync_client=True) as client:
        artifacts = client.read_artifacts(
            artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=["quality-failure"]))
        )
    assert any("unique_stg_olist__products_product_id" in str(a.data) for a in artifacts)
    with get_client(sync_client=True) as client:  # the checks table, though GX never ran
        tables = client.read_artifacts(
            artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=["quality-checks"]))
        )
    assert any(
        "unique_stg_olist__products_product_id" in str(a.data)
        and "Checks of run bad" in str(a.description)
        for a in tables
    )
