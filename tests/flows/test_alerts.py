"""Quality alerts go out through a real Prefect notification block (a custom webhook
block saved in the test API) to a local HTTP receiver."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from prefect.blocks.notifications import CustomWebhookNotificationBlock

from quality.alerts import send_alert
from quality.store import CheckResult


def _result(severity: str, passed: bool, check: str) -> CheckResult:
    return CheckResult(
        run_id="r1",
        layer="gold",
        table_name="fct_orders",
        check_name=check,
        check_engine="great_expectations",
        severity=severity,
        passed=passed,
        column_name="order_id",
        unexpected_count=0 if passed else 3,
    )


def test_a_failed_warning_or_critical_check_notifies_through_the_block(receiver) -> None:
    url, received = receiver
    CustomWebhookNotificationBlock(
        name="olist quality",
        url=url,
        json_data={"subject": "{{subject}}", "body": "{{body}}"},
        allow_private_urls=True,  # the receiver is on localhost
    ).save("olist-alerts-test", overwrite=True)
    results = [
        _result("critical", False, "expect_column_values_to_be_unique"),
        _result("warning", False, "expect_column_mean_to_be_between"),
        _result("info", False, "expect_column_proportion_of_non_null_values_to_be_between"),
        _result("critical", True, "expect_column_values_to_not_be_null"),
    ]
    assert send_alert("custom-webhook/olist-alerts-test", "r1", results, published=False)
    (message,) = received
    assert message["subject"].startswith("Olist data quality, run r1: 1 critical, 1 warning")
    assert "NOT published" in message["subject"]
    assert (
        "[critical] gold.fct_orders.order_id expect_column_values_to_be_unique" in message["body"]
    )
    assert "proportion" not in message["body"]  # info is recorded, not alerted


def test_nothing_is_sent_when_only_info_failed_or_no_block_is_configured(receiver) -> None:
    url, received = receiver
    CustomWebhookNotificationBlock(
        name="olist quality", url=url, json_data={"body": "{{body}}"}, allow_private_urls=True
    ).save("olist-alerts-quiet", overwrite=True)
    info_only = [_result("info", False, "x"), _result("critical", True, "y")]
    assert not send_alert("custom-webhook/olist-alerts-quiet", "r2", info_only, published=True)
    failing = [_result("warning", False, "z")]
    assert not send_alert(None, "r2", failing, published=True)
    assert received == []


def test_a_dead_webhook_after_publishing_is_a_warning_not_a_failed_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import socket

    import duckdb
    from prefect import flow

    from config.settings import load_settings
    from flows import gate
    from flows.stages import StageRecorder
    from quality import store as quality_store

    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    CustomWebhookNotificationBlock(
        name="olist quality",
        url=f"http://127.0.0.1:{port}/hook",
        json_data={"body": "{{body}}"},
        allow_private_urls=True,
    ).save("olist-alerts-dead", overwrite=True)
    settings = load_settings(
        warehouse=tmp_path / "wh.duckdb", reports_dir=tmp_path / "reports"
    ).model_copy(update={"alert_block": "custom-webhook/olist-alerts-dead"})
    con = duckdb.connect(str(settings.warehouse))
    quality_store.ensure_tables(con)
    con.close()
    # the transient retries would wait ~70 s for the same refusal
    monkeypatch.setattr(gate, "notify", gate.notify.with_options(retries=0))

    @flow
    def publish_then_report() -> tuple[Path, list[str]]:
        warnings: list[str] = []
        results = [_result("warning", False, "expect_column_mean_to_be_between")]
        return gate.report_run(settings, "r3", results, StageRecorder(), warnings), warnings

    report, warnings = publish_then_report()
    assert report.is_file()  # the report was still written
    (warning,) = warnings
    assert "quality alert of run r3 was not sent" in warning
    assert "OLIST_ALERT_BLOCK=custom-webhook/olist-alerts-dead" in warning
    assert "published regardless" in warning


def _stored(name: str) -> str:
    """The block as the API returns it to a reader without secret access."""
    from prefect.client.orchestration import get_client

    with get_client(sync_client=True) as client:
        doc = client.read_block_document_by_name(
            name, block_type_slug="custom-webhook", include_secrets=False
        )
    return json.dumps(doc.data)


def test_the_webhook_url_and_its_token_live_in_a_secret_field(receiver) -> None:
    from deployments.alerts import save_webhook

    url, received = receiver
    slug = save_webhook(
        "olist-alerts-secret",
        f"{url}?token=s3cr3t-t0ken",
        json_data={"subject": "{{subject}}", "body": "{{body}}"},
        allow_private_urls=True,
    )
    assert slug == "custom-webhook/olist-alerts-secret"
    assert "s3cr3t-t0ken" not in _stored("olist-alerts-secret")
    assert url.split("//")[1] not in _stored("olist-alerts-secret")
    failing = [_result("warning", False, "expect_column_mean_to_be_between")]
    assert send_alert(slug, "r4", failing, published=True)
    assert len(received) == 1 and "r4" in received[0]["subject"]  # sent to the real URL


def test_a_saved_plain_url_is_moved_into_the_secret_field(receiver) -> None:
    from deployments.alerts import secure_existing

    url, received = receiver
    CustomWebhookNotificationBlock(
        name="olist quality",
        url=f"{url}?token=pl41n",
        json_data={"body": "{{body}}"},
        allow_private_urls=True,
    ).save("olist-alerts-plain", overwrite=True)
    assert "pl41n" in _stored("olist-alerts-plain")
    assert secure_existing("olist-alerts-plain")
    assert "pl41n" not in _stored("olist-alerts-plain")
    assert not secure_existing("olist-alerts-plain")  # already done
    failing = [_result("warning", False, "z")]
    assert send_alert("custom-webhook/olist-alerts-plain", "r5", failing, published=True)
    assert len(received) == 1
