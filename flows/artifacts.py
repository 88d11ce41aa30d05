"""The artifacts a user needs, on the run they open: the platform (parent) flow run.

Each stage is a subflow and creates its artifacts on its own run, while the Prefect UI's
Artifacts tab of a flow run lists only that run's. The parent run gets here: the quality
summary and every check (from the results the stages return), the failing checks with why
they matter, the model comparison and the registry decisions (the train subflow's, copied:
the train flow returns only its decisions), the churn-risk top rows (the score subflow's,
or a note saying why there are none), and links to the reports that open from the UI
(``reporting.quality_report.report_link``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from prefect import get_run_logger
from prefect.artifacts import create_link_artifact, create_markdown_artifact, create_table_artifact
from prefect.runtime import flow_run

from config.settings import Settings
from flows.checks import quality_artifacts
from quality import store as quality_store
from quality.store import CheckResult
from reporting.quality_report import (
    format_value,
    rationale,
    report_link,
    table_label,
    unexpected_percent,
)

# artifacts of the subflows a user looks for on the parent run, by key
SUBFLOW_KEYS = ("model-comparison", "model-decisions", "churn-risk")
SEVERITY_ORDER = ("critical", "warning", "info")
# what a run that published nothing for a failed critical check emits (deployments.automations)
QUALITY_FAILED_EVENT = "quality.checks.failed"


def failing_check_rows(results: list[CheckResult]) -> list[dict[str, Any]]:
    """The failed checks, most severe first, as table rows with why each one matters."""
    failing = [r for r in results if not r.passed]
    failing.sort(
        key=lambda r: (
            SEVERITY_ORDER.index(r.severity) if r.severity in SEVERITY_ORDER else 9,
            table_label(r),
            r.check_name,
        )
    )
    return [
        {
            "severity": r.severity,
            "table": table_label(r),
            "column": r.column_name or "",
            "check": r.check_name,
            "engine": r.check_engine,
            "unexpected": r.unexpected_count,
            "unexpected %": unexpected_percent(r),
            "sample": "; ".join(format_value(v) for v in r.sample_values[:3])[:120],
            "why it matters": rationale(r),
        }
        for r in failing
    ]


def quality(run_id: str, results: list[CheckResult]) -> None:
    """Summary by severity, every check and the failing ones (the report's link is
    ``flows.gate.report_run``'s: one quality-report card per run)."""
    quality_artifacts(run_id, results)  # quality-checks (table), quality-summary (markdown)
    rows = failing_check_rows(results)
    create_table_artifact(
        key="failing-checks",
        table=rows or [{"severity": "", "table": "(every check passed)"}],
        description=f"{len(rows)} failing checks of run {run_id}, most severe first "
        "(warnings and info do not stop publishing)",
    )


def failed_run(settings: Settings, run_id: str) -> None:
    """A run that stopped before publishing: the checks it recorded, on the parent run
    (the failure artifact itself is flows.gate's), and, when a critical check failed, the
    ``quality.checks.failed`` event the ``make server`` automation reacts to."""
    from warehouse import local as warehouse

    try:
        with warehouse.connect(settings.warehouse, read_only=True) as con:
            results = quality_store.results_for_run(con, run_id)
    except Exception as err:  # noqa: BLE001 - never hide why the run failed
        get_run_logger().warning("checks of run %s not read for the UI: %s", run_id, err)
        return
    if not results:
        return
    quality_artifacts(run_id, results)
    create_table_artifact(
        key="failing-checks",
        table=failing_check_rows(results),
        description=f"Failing checks of run {run_id}: it published nothing",
    )
    critical = quality_store.critical_failures(results)
    if critical:
        quality_failed_event(settings, run_id, critical)


def quality_failed_event(settings: Settings, run_id: str, critical: list[CheckResult]) -> None:
    """``quality.checks.failed`` about the run: a Prefect automation can notify on it."""
    from prefect.events import emit_event

    names = [f"{table_label(r)} {r.check_name}" for r in critical]
    summary = f"{len(critical)} critical check(s) failed: " + "; ".join(names[:10])
    report = settings.reports_dir / "quality" / f"{run_id}.html"
    emit_event(
        event=QUALITY_FAILED_EVENT,
        resource={"prefect.resource.id": f"olist.run.{run_id}", "prefect.resource.name": run_id},
        related=[
            {
                "prefect.resource.id": f"prefect.flow-run.{flow_run.id}",
                "prefect.resource.role": "flow-run",
            }
        ]
        if flow_run.id
        else None,
        payload={
            "run_id": run_id,
            "critical": len(critical),
            "checks": names[:50],
            "summary": summary,
            "report": report_link(settings, report),
        },
    )


def models(settings: Settings, run_id: str, decisions: dict[str, dict], page: Path | None) -> None:
    """The model report's link; the comparison and decisions come from the train subflow."""
    if page is not None:
        create_link_artifact(
            key="model-report",
            link=report_link(settings, page),
            link_text=f"Model report of run {run_id}",
            description="Candidates against the baselines on the holdout, and the gate",
        )
    if not decisions:
        create_markdown_artifact(
            key="model-decisions",
            markdown=f"# Registry decisions, run `{run_id}`\n\nNo training in this run: "
            "the current champions score the customers.",
        )


def copy_from_subflows(keys: tuple[str, ...] = SUBFLOW_KEYS) -> list[str]:
    """Re-create on this flow run the newest artifact of each of ``keys`` that one of its
    subflows created; returns the keys copied. A missing API or artifact copies nothing:
    these are conveniences, never a reason to fail a run that has published."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import (
        ArtifactFilter,
        ArtifactFilterFlowRunId,
        ArtifactFilterKey,
        FlowRunFilter,
        FlowRunFilterParentFlowRunId,
    )
    from prefect.client.schemas.sorting import ArtifactSort

    if flow_run.id is None:
        return []
    try:
        with get_client(sync_client=True) as client:
            children = client.read_flow_runs(
                flow_run_filter=FlowRunFilter(
                    parent_flow_run_id=FlowRunFilterParentFlowRunId(any_=[flow_run.id])
                )
            )
            if not children:
                return []
            found = client.read_artifacts(
                artifact_filter=ArtifactFilter(
                    key=ArtifactFilterKey(any_=list(keys)),
                    flow_run_id=ArtifactFilterFlowRunId(any_=[c.id for c in children]),
                ),
                sort=ArtifactSort.CREATED_DESC,
            )
    except Exception as err:  # noqa: BLE001 - see the docstring
        get_run_logger().warning("subflow artifacts not copied to this run: %s", err)
        return []
    copied: list[str] = []
    for artifact in found:
        if artifact.key in copied or artifact.key is None:
            continue
        data = artifact.data
        if artifact.type == "table":
            table = json.loads(data) if isinstance(data, str) else data
            create_table_artifact(key=artifact.key, table=table, description=artifact.description)
        elif artifact.type == "markdown":
            create_markdown_artifact(
                key=artifact.key, markdown=str(data), description=artifact.description
            )
        else:
            continue
        copied.append(artifact.key)
    return copied


def churn_risk_note(run_id: str, copied: list[str]) -> None:
    """A run that scored customers without a churn champion: say why there is no list."""
    if "churn-risk" in copied:
        return
    create_markdown_artifact(
        key="churn-risk",
        markdown=f"# Churn risk, run `{run_id}`\n\nNo churn-risk list: there is no churn "
        "champion in the registry yet, so no customer has a churn probability (see "
        "model-decisions for why no model was registered).",
    )
