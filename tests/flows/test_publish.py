"""Write-audit-publish through the platform flow: marts are built and checked in
``gold_audit``; only a run without a critical failure replaces ``gold``.

On the sample's three-day window (``window``): the gate does not depend on the volume. The
quirks of the whole sample, seen by GX with their true counts, are checked on the one
full-sample run, tests/e2e/test_cli_run.py."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import duckdb
import pytest

from config.settings import Settings, load_settings
from expectations import SUITES
from flows.platform import platform_flow
from synthetic.batches import generate_batch
from tests.sample_window import ORDERS_IN_WINDOW
from tests.sample_window import WINDOW_RUN_ID as GOOD
from tests.warehouse_query import rows


def test_only_an_audited_run_publishes_and_a_critical_failure_keeps_the_last_good_gold(
    window: Path, window_run: Settings, tmp_path: Path
) -> None:
    # the good run is the session's platform run on the window (tests/flows/conftest.py),
    # copied with its reports: the bad run below must not touch the shared one
    settings = load_settings(
        source_dir=window, warehouse=tmp_path / "wh.duckdb", reports_dir=tmp_path / "reports"
    )
    shutil.copyfile(window_run.warehouse, settings.warehouse)
    shutil.copytree(window_run.reports_dir, settings.reports_dir)
    settings.batches_dir = tmp_path / "batches"

    wh = settings.warehouse
    assert rows(wh, "select count(*) from gold.fct_orders") == [(ORDERS_IN_WINDOW,)]
    differ = rows(
        wh,
        "select count(*) from (select * from gold.fct_orders "
        "except all select * from gold_audit.fct_orders)",
    )
    assert differ == [(0,)]  # gold is the audited copy
    ((verdict, published, critical),) = rows(
        wh, f"select verdict, published, critical_failed from quality.runs where run_id = '{GOOD}'"
    )
    assert (published, critical) == (True, 0)
    assert verdict == "warn"  # the sample's real quirks are warnings, none critical
    good_report = settings.reports_dir / "quality" / f"{GOOD}.html"
    docs = re.findall(r"href='(gx/validations/[^']+)'", good_report.read_text(encoding="utf-8"))
    assert len(docs) == len(SUITES)  # one GX Data Docs page per suite, linked and on disk
    assert all((good_report.parent / d).is_file() for d in docs)

    # plant a critical defect past the contracts: a duplicated product id in bronze (the
    # silver key test catches it), and new batch orders so the run has something to publish
    con = duckdb.connect(str(wh))
    con.execute("insert into bronze.products select * from bronze.products limit 1")
    con.close()
    generate_batch(window, settings.batches_dir, n_orders=30, seed=9)
    with pytest.raises(ValueError, match="unique_stg_olist__products_product_id"):
        platform_flow(settings, skip_train=True, run_id="bad")

    assert rows(wh, "select count(*) from gold.fct_orders") == [(ORDERS_IN_WINDOW,)]  # untouched
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
