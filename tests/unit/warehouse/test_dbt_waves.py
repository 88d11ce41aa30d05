"""The glue around prefect-dbt's per-wave orchestrator (warehouse.dbt_waves): one dbt run
results file out of the waves' files, which models' unit tests to run, and the failure a
flow raises. The build itself runs in tests/flows/test_flows.py."""

from __future__ import annotations

from quality.dbt_results import DbtFailed, failed_nodes
from warehouse.dbt_waves import merged_run_results, not_built


def _wave(invocation: str, *results: tuple[str, str], elapsed: float = 1.0) -> dict:
    return {
        "metadata": {"invocation_id": invocation, "generated_at": "2026-01-01T00:00:00Z"},
        "results": [
            {"unique_id": uid, "status": status, "failures": 3 if status == "fail" else 0}
            for uid, status in results
        ],
        "elapsed_time": elapsed,
        "args": {"which": "build"},
    }


def test_the_waves_results_are_joined_and_the_nodes_a_failure_held_back_are_skipped() -> None:
    waves = [
        _wave("a", ("model.olist.stg", "success")),
        _wave("b", ("model.olist.fct", "error"), elapsed=2.5),
    ]
    outcome = {
        "model.olist.stg": {"status": "success"},
        "model.olist.fct": {"status": "error"},
        "model.olist.agg": {"status": "skipped", "reason": "upstream failure"},
    }
    merged = merged_run_results(waves, outcome)
    assert [(r["unique_id"], r["status"]) for r in merged["results"]] == [
        ("model.olist.stg", "success"),
        ("model.olist.fct", "error"),
        ("model.olist.agg", "skipped"),
    ]
    assert merged["elapsed_time"] == 3.5
    # newer than every wave: the flow reads only the results of this build
    assert merged["metadata"]["generated_at"] > "2026-01-01T00:00:00Z"
    assert [r["unique_id"] for r in failed_nodes(merged)] == ["model.olist.fct"]


def test_a_test_keeps_its_failure_count_from_dbts_own_results() -> None:
    merged = merged_run_results([_wave("a", ("test.olist.unique_x.1", "fail"))], {})
    assert merged["results"][0]["failures"] == 3


def test_the_tests_of_models_that_failed_or_were_skipped_are_held_back() -> None:
    manifest = {
        "nodes": {
            "model.olist.fct": {"name": "fct"},
            "model.olist.dim": {"name": "dim"},
            "model.olist.agg": {"name": "agg"},
            "test.olist.unique_fct_id.1": {"name": "unique_fct_id"},
        }
    }
    outcome = {
        "model.olist.fct": {"status": "success"},
        "model.olist.dim": {"status": "error"},
        "model.olist.agg": {"status": "skipped"},
        "test.olist.unique_fct_id.1": {"status": "skipped"},
    }
    assert not_built(manifest, outcome) == ["agg", "dim"]


def test_the_failure_names_each_failed_node_and_its_message_on_one_line() -> None:
    err = DbtFailed.from_run_results(
        "build",
        {
            "results": [
                {"unique_id": "test.olist.not_null_x_y.9f", "status": "fail", "message": 'a "b"'},
                {"unique_id": "model.olist.fct", "status": "error", "message": "bad\ncast"},
                {"unique_id": "test.olist.ok.1", "status": "pass", "message": None},
            ]
        },
    )
    assert str(err).splitlines() == [
        "dbt failed on 2 node(s) of `dbt build`:",
        "Test not_null_x_y failed with message: \"a 'b'\"",
        'Model fct errored with message: "bad cast"',
    ]


def test_a_behavior_flag_names_the_module_that_made_it_without_inspecting_the_stack(
    monkeypatch,
) -> None:
    """dbt-common names a flag's source with ``inspect.stack()`` (slow in a process that
    imported much); importing warehouse.dbt_waves replaces it with a walk of the frames'
    globals that finds the same module."""
    import inspect

    from dbt_common.behavior_flags import Behavior

    def refused(*args, **kwargs):
        raise AssertionError("inspect.stack() was called")

    monkeypatch.setattr(inspect, "stack", refused)
    behavior = Behavior([{"name": "flag", "default": False, "description": "d"}], {})
    assert behavior.flag._behavior_change_event.flag_source == __name__
