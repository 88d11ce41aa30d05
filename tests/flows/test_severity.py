"""Severity means what it says: a row a contract quarantines is recorded, as a warning for
the run, and never turns a published run into a failure (issue 17, deliverable 2)."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
from prefect.blocks.notifications import CustomWebhookNotificationBlock

from config.settings import load_settings
from flows.platform import platform_flow
from quality import store as quality_store
from tests.warehouse_query import rows

# an "invoiced" order of the real sample, with items, a payment and a review
ORDER = "136cce7faa42fdb2cefd53fdc79a6098"


def test_one_unknown_order_status_is_quarantined_and_the_run_publishes_and_trains(
    sample_dir: Path, tmp_path: Path, receiver
) -> None:
    source = tmp_path / "source"
    shutil.copytree(sample_dir, source, copy_function=shutil.copyfile)  # the sample is r/o
    orders = source / "olist_orders_dataset.csv"
    text = orders.read_text(encoding="utf-8")
    assert text.count(f"{ORDER},") == 1
    line = next(x for x in text.splitlines() if x.startswith(ORDER))
    orders.write_text(
        text.replace(line, line.replace(",invoiced,", ",teleported,")), encoding="utf-8"
    )
    url, received = receiver
    CustomWebhookNotificationBlock(
        name="olist quality",
        url=url,
        json_data={"subject": "{{subject}}", "body": "{{body}}"},
        allow_private_urls=True,
    ).save("olist-severity-test", overwrite=True)
    settings = load_settings(
        source_dir=source, warehouse=tmp_path / "wh.duckdb", reports_dir=tmp_path / "reports"
    ).model_copy(
        update={
            "alert_block": "custom-webhook/olist-severity-test",
            "batches_dir": tmp_path / "batches",
            "train_trials": 1,
            "train_timeout_seconds": 30.0,
            "mlflow_tracking_uri": f"sqlite:///{tmp_path / 'mlruns' / 'mlflow.db'}",
            "mlflow_artifact_root": tmp_path / "mlruns" / "artifacts",
        }
    )

    result = platform_flow(settings, run_id="one-bad-row")  # returns: `olist run` exits 0

    wh = settings.warehouse
    ((quarantined, reason),) = rows(wh, "select order_id, _reason from quarantine.orders")
    assert quarantined == ORDER and "order_status" in reason
    assert rows(wh, f"select count(*) from gold.fct_orders where order_id = '{ORDER}'") == [(0,)]
    assert rows(wh, "select count(*) from gold.fct_orders") == [(8134,)]
    ((verdict, published, critical, warning),) = rows(
        wh,
        "select verdict, published, critical_failed, warning_failed from quality.runs "
        "where run_id = 'one-bad-row'",
    )
    assert (verdict, published, critical) == ("warn", True, 0) and warning >= 1
    # the rule's own severity is kept in the check history
    assert rows(
        wh,
        "select severity, unexpected_count from quality.check_results "
        "where run_id = 'one-bad-row' and table_name = 'orders' "
        "and column_name = 'order_status' and not passed",
    ) == [("critical", 1)]
    assert rows(wh, "select status from quality.runs") == [("succeeded",)]
    stages = [s["stage"] for s in result["stages"]]
    assert "train" in stages and "score" in stages  # training was not blocked
    con = duckdb.connect(str(wh), read_only=True)
    try:
        assert quality_store.training_blocker(con) is None
    finally:
        con.close()
    (message,) = received
    assert "0 critical" in message["subject"] and "(published)" in message["subject"]
    assert "NOT published" not in message["subject"]
    assert "[warning] bronze.orders.order_status" in message["body"]
    assert "rows quarantined" in message["body"]
    page = (settings.reports_dir / "quality" / "one-bad-row.html").read_text(encoding="utf-8")
    assert '<strong id="verdict" class="verdict-warn">warn</strong>' in page
