"""``dbt build`` one topological wave at a time, through prefect-dbt's orchestrator.

prefect-dbt's ``PrefectDbtRunner`` makes a Prefect task of every dbt node (171 here): at
scale 1 that build took 2.7× a plain ``dbt build`` of the same project on the same data
(``bench.dbt_modes``: 40.7 s against 15.2 s). ``PrefectDbtOrchestrator`` in ``PER_WAVE``
mode runs each wave of the DAG as one dbt invocation in this process: 16.9 s, 1.11×.

It is beta and a private import (``prefect_dbt.core._orchestrator``, pinned with
prefect-dbt 0.7.25 in constraints.txt). What we rely on, and add:

- **The models by waves, then every test in one ``dbt test``** of the same selection. The
  orchestrator's own test placement does not fit: IMMEDIATE (tests between waves, as
  ``dbt build``) refuses this project, since a relationships test between two marts that
  both feed a third makes a cycle in its test edges; DEFERRED keeps only tests whose
  every parent is selected (an incremental run's relationships to ``dim_products`` would
  go) and runs no unit test. One ``dbt test`` picks the tests ``dbt build`` would (unit
  tests too) and runs them on two threads at once. The tests of a model that failed, or
  of anything it feeds, are excluded, as ``dbt build`` skips them. A failing test no
  longer keeps the models downstream of it from building: they build into the audit
  schema, the run still fails, and nothing is published (``flows.platform``).
- **dbt's own run results.** The orchestrator's ``run_results.json`` keeps a status and a
  message per node, not a test's failure count or compiled SQL, which
  ``quality.dbt_results`` records. :class:`WaveRecorder` keeps each wave's
  ``run_results.json`` as dbt wrote it and :func:`merged_run_results` joins them (nodes a
  failed wave kept from running are listed as skipped).
- **One parse per build.** The orchestrator plans from ``manifest.json`` and parses only
  when there is none: one left by an older project would plan the wrong nodes, so every
  build parses first, with the waves' target and vars, and every invocation of the build
  (its ``dbt ls`` of the selection, each wave, the tests) reuses that parse
  (:func:`parsed_once`).
- **Lineage.** Only the orchestrator's per-node mode makes asset events; with
  ``lineage=True`` (a server watches) :func:`emit_lineage` sends the same
  ``prefect.asset.materialization.succeeded`` event per built model, with its upstream
  tables as related assets, as ``PrefectDbtRunner`` did.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from dbt_common.behavior_flags import BehaviorFlagRendered
from prefect_dbt import PrefectDbtSettings
from prefect_dbt.core._executor import DbtCoreExecutor, ExecutionResult
from prefect_dbt.core._orchestrator import (
    DbtBuildFailed,
    ExecutionMode,
    PrefectDbtOrchestrator,
    TestStrategy,
)

from quality.dbt_results import failed_nodes


def _calling_module() -> str:
    """The name of the first module on the stack outside dbt-common's behavior flags:
    what ``BehaviorFlagRendered._default_source`` finds, read from the frames' globals.

    dbt-common 1.39 finds it with ``inspect.stack()``, which reads the source lines of
    every frame and, for each frame that is not a module's file (generated code, templates),
    walks all of ``sys.modules``. Every dbt invocation registers an adapter, and each of
    its behavior flags pays that: in a process that has imported much (a flow, the test
    suite) it was half a flow test's time."""
    frame = sys._getframe(1)
    while frame is not None:
        name = frame.f_globals.get("__name__")
        if name and name != BehaviorFlagRendered.__module__:
            return str(name)
        frame = frame.f_back
    return "Unknown"


BehaviorFlagRendered._default_source = staticmethod(_calling_module)  # type: ignore[method-assign]


class WaveRecorder(DbtCoreExecutor):
    """prefect-dbt's in-process executor that keeps each wave's ``run_results.json``
    (dbt rewrites the file on every invocation) and always plans from a fresh parse."""

    def __init__(self, settings: PrefectDbtSettings, parse_args: list[str], **kwargs: Any) -> None:
        super().__init__(settings, **kwargs)
        self.parse_args = parse_args
        self.waves: list[dict[str, Any]] = []
        self._seen: set[str] = set()
        self.manifest: Any = None  # dbt's Manifest of the build's parse, shared by its invocations

    @property
    def target_dir(self) -> Path:
        return self._settings.project_dir / self._settings.target_path

    def resolve_manifest_path(self) -> Path:
        """A new parse, with the target and vars the waves run with: prefect-dbt's own
        parse has neither, and dbt parses the whole project again (not partially) when
        they change between invocations."""
        from dbt.cli.main import dbtRunner

        path = self.target_dir / "manifest.json"
        path.unlink(missing_ok=True)
        with self._settings.resolve_profiles_yml() as profiles_dir:
            args = [
                "parse",
                *("--project-dir", str(self._settings.project_dir)),
                *("--profiles-dir", profiles_dir),
                *("--target-path", str(self._settings.target_path)),
                *("--log-level", "none"),
                *self.parse_args,
            ]
            result = dbtRunner().invoke(args)
        if not result.success or not path.is_file():
            raise RuntimeError(f"dbt parse failed: {result.exception}")
        self.manifest = result.result
        return path

    def execute_wave(self, nodes: list[Any], *args: Any, **kwargs: Any) -> ExecutionResult:
        result = super().execute_wave(nodes, *args, **kwargs)
        self._keep_run_results()
        return result

    def tests(
        self,
        select: list[str],
        exclude: list[str],
        target: str,
        extra_cli_args: list[str] | None,
    ) -> ExecutionResult:
        """One ``dbt test`` of what ``select`` minus ``exclude`` picks, kept like a wave."""
        extra = [*(extra_cli_args or []), *(["--exclude", *exclude] if exclude else [])]
        result = self._invoke("test", [], select, target=target, extra_cli_args=extra)
        self._keep_run_results()
        return result

    def _keep_run_results(self) -> None:
        path = self.target_dir / "run_results.json"
        try:
            written = json.loads(path.read_text())
        except (OSError, ValueError):
            return  # dbt stopped before writing (a parse error): the result's error says why
        invocation = written.get("metadata", {}).get("invocation_id", "")
        if invocation not in self._seen:  # not a file an earlier wave left
            self._seen.add(invocation)
            self.waves.append(written)


def not_built(manifest: dict[str, Any], outcome: dict[str, Any]) -> list[str]:
    """The names of the models in ``outcome`` that errored or were skipped: ``dbt build``
    runs no test of those, nor of what they feed."""
    return sorted(
        manifest["nodes"][uid]["name"]
        for uid, r in outcome.items()
        if uid.startswith("model.")
        and isinstance(r, dict)
        and r.get("status") in ("error", "skipped")
        and uid in manifest["nodes"]
    )


def merged_run_results(waves: list[dict[str, Any]], outcome: dict[str, Any]) -> dict[str, Any]:
    """One dbt ``run_results.json`` for the whole build: every wave's results, and a
    ``skipped`` result for each node the orchestrator did not run (``outcome`` is its
    per-node result dict)."""
    results = [r for wave in waves for r in wave.get("results", [])]
    ran = {r["unique_id"] for r in results}
    results += [
        {
            "unique_id": uid,
            "status": "skipped",
            "message": str(r.get("reason") or "upstream failure"),
            "failures": None,
            "execution_time": 0.0,
            "timing": [],
            "thread_id": "orchestrator",
            "adapter_response": {},
            "compiled_code": None,
        }
        for uid, r in outcome.items()
        if uid not in ran and isinstance(r, dict) and r.get("status") == "skipped"
    ]
    metadata = dict(waves[-1]["metadata"]) if waves else {}
    metadata["generated_at"] = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return {
        "metadata": metadata,
        "results": results,
        "elapsed_time": sum(float(w.get("elapsed_time") or 0.0) for w in waves),
        "args": waves[-1].get("args", {}) if waves else {},
    }


def emit_lineage(manifest: dict[str, Any], run_results: dict[str, Any]) -> int:
    """A materialization event per model dbt built, with the tables it reads as related
    assets (the events ``PrefectDbtRunner`` sent from each node's task); returns how many."""
    from prefect.assets import Asset, AssetProperties
    from prefect.context import AssetContext
    from prefect.events import emit_event
    from prefect_dbt.utilities import format_asset_name, format_resource_id

    adapter = manifest.get("metadata", {}).get("adapter_type", "duckdb")
    relations = {**manifest.get("sources", {}), **manifest.get("nodes", {})}

    def asset(node: dict[str, Any]) -> Asset:
        name = node["relation_name"]
        return Asset(
            key=format_resource_id(adapter, name),
            properties=AssetProperties(
                name=format_asset_name(name), description=node.get("description") or None
            ),
        )

    sent = 0
    for result in run_results.get("results", []):
        node = relations.get(result["unique_id"])
        if result["status"] != "success" or not node or node.get("resource_type") != "model":
            continue
        if not node.get("relation_name"):  # an ephemeral model makes no table
            continue
        upstream = [
            asset(relations[uid])
            for uid in node.get("depends_on", {}).get("nodes", [])
            if relations.get(uid, {}).get("relation_name")
        ]
        emit_event(
            event="prefect.asset.materialization.succeeded",
            resource=AssetContext.asset_as_resource(asset(node)),
            related=[
                *(AssetContext.asset_as_related(a) for a in upstream),
                AssetContext.related_materialized_by("dbt"),
            ],
        )
        sent += 1
    return sent


@contextmanager
def parsed_once(executor: WaveRecorder) -> Iterator[None]:
    """Every dbt invocation prefect-dbt makes meanwhile (its ``dbt ls`` of the selection,
    each wave, our ``dbt test``) runs on ``executor.manifest``, the build's own parse,
    instead of parsing the project again.

    dbt documents reusing a parsed manifest (``dbtRunner(manifest=...)``) for this. Each
    invocation otherwise loaded the partial-parse file, or parsed in full when its vars
    differed from the last parse's (the ``dbt ls`` has none): 38% of a flow test's time
    went to ``parse_manifest``. prefect-dbt constructs its runners itself, so their module
    name is swapped for the length of the build (one build at a time runs in a process:
    the warehouse has one writer)."""
    from dbt.cli.main import dbtRunner
    from prefect_dbt.core import _executor, _manifest

    def runner(callbacks: list[Any] | None = None) -> dbtRunner:
        return dbtRunner(manifest=executor.manifest, callbacks=callbacks)

    saved = _executor.dbtRunner, _manifest.dbtRunner
    _executor.dbtRunner = _manifest.dbtRunner = runner
    try:
        yield
    finally:
        _executor.dbtRunner, _manifest.dbtRunner = saved


def build(
    settings: PrefectDbtSettings,
    target: str,
    *,
    select: str | None = None,
    exclude: str | None = None,
    full_refresh: bool = False,
    dbt_vars: dict[str, str] | None = None,
    runtime_vars: dict[str, object] | None = None,
    with_tests: bool = True,
    lineage: bool = False,
) -> tuple[bool, dict[str, Any]]:
    """``dbt build`` (``with_tests=False``: ``dbt run``) per wave: (success, the merged
    run results), also written to the target folder's ``run_results.json``. With
    ``lineage`` an asset event per model built (:func:`emit_lineage`).

    ``dbt_vars`` go to the build's parse and to every invocation; ``runtime_vars`` (vars
    read only when dbt compiles a node: in a model's SQL or a test's ``where``, never in a
    ``config()`` or a schema name) to the invocations only. dbt reparses the whole project
    when the parse's vars differ from its last (3-4 s); a value that changes every run (an
    incremental run's cut-off, a backfill's day) would cost that on every run."""
    parse_vars = ["--vars", json.dumps(dbt_vars)] if dbt_vars else []
    every = {**(dbt_vars or {}), **(runtime_vars or {})}
    extra = ["--vars", json.dumps(every)] if every else None
    executor = WaveRecorder(settings, ["--target", target, *parse_vars])
    orchestrator = PrefectDbtOrchestrator(
        settings=settings,
        executor=executor,
        execution_mode=ExecutionMode.PER_WAVE,
        # models only: the tests follow in one invocation (see the module's docstring)
        test_strategy=TestStrategy.SKIP,
        # our own artifacts say what a user needs (flows.artifacts); its run_results.json
        # would replace dbt's with one that lacks the failure counts
        create_summary_artifact=False,
        write_run_results=False,
        disable_assets=True,
    )
    test_error: BaseException | None = None
    tests_ok = True
    with parsed_once(executor):
        try:
            outcome = orchestrator.run_build(
                select=select,
                exclude=exclude,
                full_refresh=full_refresh,
                target=target,
                extra_cli_args=extra,
            )
        except DbtBuildFailed as failed:
            outcome = failed.results
        manifest = json.loads((executor.target_dir / "manifest.json").read_text())
        if with_tests:
            held_back = [f"{name}+" for name in not_built(manifest, outcome)]
            tests = executor.tests(
                # ``fqn:*``: every node, as a ``dbt test`` with no selection
                select.split() if select else ["fqn:*"],
                [*(exclude or "").split(), *held_back],
                target,
                extra,
            )
            tests_ok, test_error = tests.success, tests.error
    merged = merged_run_results(executor.waves, outcome)
    (executor.target_dir / "run_results.json").write_text(json.dumps(merged))
    if not tests_ok and not failed_nodes(merged):
        # dbt stopped before running a test (a compile error): no node to name
        raise RuntimeError(f"dbt test failed before running its tests: {test_error}")
    if lineage:
        emit_lineage(manifest, merged)
    failed_any = any(r.get("status") == "error" for r in outcome.values() if isinstance(r, dict))
    return tests_ok and not failed_any and not failed_nodes(merged), merged


def run_tests(
    settings: PrefectDbtSettings,
    target: str,
    *,
    select: str | None = None,
    exclude: str | None = None,
    dbt_vars: dict[str, str] | None = None,
) -> bool:
    """``dbt test`` of ``select`` minus ``exclude`` through prefect-dbt's
    ``PrefectDbtRunner``, a Prefect task per test: a backfill's tests of the marts it
    rebuilt, whose parents it does not rebuild (the orchestrator tests only what it
    builds). Whether every test passed; the results are in ``run_results.json``."""
    from prefect_dbt import PrefectDbtRunner

    runner = PrefectDbtRunner(
        settings=settings,
        raise_on_failure=False,
        disable_assets=True,  # tests materialize nothing
    )
    args = ["test", "--target", target]
    args += ["--select", *select.split()] if select else []
    args += ["--exclude", *exclude.split()] if exclude else []
    args += ["--vars", json.dumps(dbt_vars)] if dbt_vars else []
    return bool(runner.invoke(args).success)
