from __future__ import annotations

import inspect

import pytest
from prefect import Flow

from deployments.serve import load_deployments, resolve_entrypoint

DEPLOYMENTS = load_deployments()


@pytest.mark.parametrize("spec", DEPLOYMENTS, ids=lambda d: d["name"])
def test_entrypoint_is_a_flow_and_parameters_exist(spec: dict) -> None:
    flow = resolve_entrypoint(spec["entrypoint"])
    assert isinstance(flow, Flow)
    accepted = set(inspect.signature(flow.fn).parameters)
    assert set(spec.get("parameters", {})) <= accepted


def test_every_deployment_has_a_concurrency_limit_and_a_pool() -> None:
    assert {d["name"] for d in DEPLOYMENTS} >= {"platform", "daily", "weekly-retrain"}
    for spec in DEPLOYMENTS:
        assert spec["concurrency_limit"] == 1
        assert spec["work_pool"]["name"] == "local-process"
