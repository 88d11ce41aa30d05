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
