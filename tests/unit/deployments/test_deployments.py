from __future__ import annotations

import inspect

import pytest
from prefect import Flow

from deployments.serve import load_deployments, resolve_entrypoint, schedules_of

DEPLOYMENTS = load_deployments()


@pytest.mark.parametrize("spec", DEPLOYMENTS, ids=lambda d: d["name"])
def test_entrypoint_is_a_flow_and_parameters_exist(spec: dict) -> None:
    flow = resolve_entrypoint(spec["entrypoint"])
    assert isinstance(flow, Flow)
    accepted = set(inspect.signature(flow.fn).parameters)
    assert set(spec.get("parameters", {})) <= accepted


def test_every_deployment_has_a_concurrency_limit_of_one_and_the_local_pool() -> None:
    assert {d["name"] for d in DEPLOYMENTS} == {
        "platform",
        "daily",
        "incremental",
        "weekly-retrain",
        "backfill",
    }
    for spec in DEPLOYMENTS:
        limit = spec["concurrency_limit"]
        assert (limit["limit"] if isinstance(limit, dict) else limit) == 1
        assert spec["work_pool"]["name"] == "local-process"


def test_a_late_incremental_run_is_dropped_rather_than_queued() -> None:
    (incremental,) = [d for d in DEPLOYMENTS if d["name"] == "incremental"]
    assert incremental["schedules"] == [{"interval": 900}]
    assert incremental["concurrency_limit"]["collision_strategy"] == "CANCEL_NEW"


def test_required_flow_parameters_are_given_or_left_to_the_run() -> None:
    """Only backfill has required parameters (its range), supplied per run."""
    for spec in DEPLOYMENTS:
        flow = resolve_entrypoint(spec["entrypoint"])
        required = {
            name
            for name, p in inspect.signature(flow.fn).parameters.items()
            if p.default is inspect.Parameter.empty
        }
        missing = required - set(spec.get("parameters", {}))
        assert missing == ({"start", "end"} if spec["name"] == "backfill" else set())


def test_served_schedules_keep_their_time_zone() -> None:
    (daily,) = [d for d in DEPLOYMENTS if d["name"] == "daily"]
    (schedule,) = schedules_of(daily)
    assert (schedule.cron, schedule.timezone) == ("0 3 * * *", "America/Sao_Paulo")
    (incremental,) = [d for d in DEPLOYMENTS if d["name"] == "incremental"]
    (every,) = schedules_of(incremental)
    assert every.interval.total_seconds() == 900


@pytest.mark.parametrize("spec", DEPLOYMENTS, ids=lambda d: d["name"])
def test_the_custom_run_form_shows_described_parameters_and_no_internal_object(
    spec: dict,
) -> None:
    """The UI's form is the flow's parameter schema: every field has a description, and
    none is the internal Settings object (a deployed run reads the worker's environment)."""
    from prefect.utilities.callables import parameter_schema

    flow = resolve_entrypoint(spec["entrypoint"])
    schema = parameter_schema(flow.fn).model_dump()
    assert "settings" not in schema["properties"]
    assert "Settings" not in repr(schema["definitions"])
    undescribed = [n for n, p in schema["properties"].items() if not p.get("description")]
    assert undescribed == []
    assert flow.description  # the deployment's flow says what it does


def test_make_server_serves_the_reports_and_tells_flow_runs_their_url(tmp_path) -> None:
    """Flow runs link reports with the served URL (a browser opens http:// links from the
    Prefect UI, not file:// ones); `down` stops the reports server with the rest."""
    import socket
    import urllib.request

    from deployments.local import LocalStack

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    reports = tmp_path / "reports"
    (reports / "quality").mkdir(parents=True)
    (reports / "quality" / "r1.html").write_text("<p id='x'>report r1</p>")
    stack = LocalStack(
        home=tmp_path / "home", reports_port=port, run_env={"OLIST_REPORTS_DIR": str(reports)}
    )
    assert stack.env()["OLIST_REPORTS_URL"] == f"http://127.0.0.1:{port}"
    try:
        url = stack.serve_reports()
        with urllib.request.urlopen(f"{url}quality/r1.html", timeout=10) as response:
            assert b"report r1" in response.read()
    finally:
        assert stack.down() == ["reports"]


def test_down_stops_a_process_this_one_started_without_waiting_out_the_grace(
    tmp_path,
) -> None:
    """A stack started and stopped by one process (the e2e test, a script) leaves its
    stopped children as zombies until reaped: ``down`` reaps them instead of waiting its
    15 s grace for each (45 s of every Prefect-server test's teardown)."""
    import sys
    import time

    from deployments.local import LocalStack

    stack = LocalStack(home=tmp_path / "home")
    stack._spawn("worker", [sys.executable, "-c", "import time; time.sleep(600)"])
    began = time.monotonic()
    assert stack.down() == ["worker"]
    assert time.monotonic() - began < 5


def test_report_links_use_the_served_url_when_there_is_one(tmp_path, monkeypatch) -> None:
    from config.settings import load_settings
    from reporting.quality_report import report_link

    settings = load_settings(reports_dir=tmp_path / "reports")
    page = tmp_path / "reports" / "quality" / "r1.html"
    assert report_link(settings, page) == page.resolve().as_uri()
    monkeypatch.setenv("OLIST_REPORTS_URL", "http://127.0.0.1:4280/")
    assert report_link(settings, page) == "http://127.0.0.1:4280/quality/r1.html"
    outside = tmp_path / "elsewhere.html"  # not under the served folder: a file link
    assert report_link(settings, outside) == outside.resolve().as_uri()


def test_the_automations_react_to_failed_runs_and_the_quality_event() -> None:
    from deployments.automations import definitions
    from flows.artifacts import QUALITY_FAILED_EVENT

    run_failed, quality_failed = definitions(None)
    assert run_failed.trigger.expect == {"prefect.flow-run.Failed", "prefect.flow-run.Crashed"}
    assert run_failed.trigger.match_related["prefect.resource.id"] == ["prefect.tag.olist"]
    assert quality_failed.trigger.expect == {QUALITY_FAILED_EVENT}
    notify = definitions("00000000-0000-0000-0000-000000000001")
    assert {a.type for d in notify for a in d.actions} == {"send-notification"}
