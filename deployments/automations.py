"""The platform's Prefect automations, created (or replaced) by ``make server``.

- **olist: run failed or crashed**: a flow run tagged ``olist`` (every deployment of
  prefect.yaml) enters Failed or Crashed.
- **olist: data quality failed**: the platform emits ``quality.checks.failed`` when a run
  published nothing because a critical check failed (flows/artifacts.py).

Each sends a notification through the block named by ``OLIST_ALERT_BLOCK`` (the one the
quality alert uses, ``<block-type-slug>/<name>``; see deployments/alerts.py); without one
the automation only records its firing, which the UI's Automations and Event Feed pages
show, so the rules exist and are visible before anyone wires a channel.

    PREFECT_API_URL=http://127.0.0.1:4200/api python -m deployments.automations
"""

from __future__ import annotations

import os

from flows.artifacts import QUALITY_FAILED_EVENT

RUN_FAILED = "olist: run failed or crashed"
QUALITY_FAILED = "olist: data quality failed"


def _notify_block_id(alert_block: str | None) -> str | None:
    """The block document id of ``OLIST_ALERT_BLOCK``, or None when unset or missing."""
    if not alert_block:
        return None
    from prefect.blocks.core import Block

    try:
        block = Block.load(alert_block)
    except (ValueError, RuntimeError):
        return None
    return str(block._block_document_id)


def definitions(block_id: str | None) -> list:  # -> list[prefect.automations.Automation]
    from prefect.automations import Automation
    from prefect.events.actions import DoNothing, SendNotification
    from prefect.events.schemas.automations import EventTrigger, Posture

    def action(subject: str, body: str) -> list:
        if block_id is None:
            return [DoNothing()]
        return [SendNotification(block_document_id=block_id, subject=subject, body=body)]

    return [
        Automation(
            name=RUN_FAILED,
            description="A flow run of the Olist platform (tag olist) failed or crashed: "
            "nothing it would have published was published. Open the run for its logs "
            "and its quality-failure artifact.",
            trigger=EventTrigger(
                expect={"prefect.flow-run.Failed", "prefect.flow-run.Crashed"},
                match={"prefect.resource.id": "prefect.flow-run.*"},
                match_related={
                    "prefect.resource.role": "tag",
                    "prefect.resource.id": "prefect.tag.olist",
                },
                posture=Posture.Reactive,
                threshold=1,
                within=0,
            ),
            actions=action(
                "Olist: flow run {{ flow_run.name }} {{ flow_run.state.name }}",
                "Flow run {{ flow_run.name }} of {{ flow.name }} ended "
                "{{ flow_run.state.name }}: {{ flow_run.state.message }}",
            ),
        ),
        Automation(
            name=QUALITY_FAILED,
            description="A platform run published nothing: a critical data-quality check "
            "failed. The event's payload names the checks; the run's artifacts list them.",
            trigger=EventTrigger(
                expect={QUALITY_FAILED_EVENT},
                match={"prefect.resource.id": "olist.run.*"},
                posture=Posture.Reactive,
                threshold=1,
                within=0,
            ),
            actions=action(
                "Olist data quality failed: run {{ event.resource.name }}",
                "{{ event.payload.summary }}\nReport: {{ event.payload.report }}",
            ),
        ),
    ]


def ensure(alert_block: str | None = None) -> list[str]:
    """Create the automations, replacing those of the same names; their names."""
    from prefect.automations import Automation

    created = []
    for automation in definitions(_notify_block_id(alert_block)):
        while True:  # every earlier copy (a `make server` before this one)
            try:
                old = Automation.read(name=automation.name)
            except ValueError:  # none left
                break
            if not old.delete():
                break
        created.append(automation.create().name)
    return created


def main() -> int:
    names = ensure(os.environ.get("OLIST_ALERT_BLOCK"))
    print(f"automations: {', '.join(names)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
