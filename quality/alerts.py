"""Quality alerts through a Prefect notification block (Slack, e-mail, a custom webhook...).

A run with a failed ``warning`` or ``critical`` check sends one message naming the checks.
Which block: ``OLIST_ALERT_BLOCK`` as ``<block-type-slug>/<name>``, e.g.
``custom-webhook/olist-alerts``, saved beforehand in the Prefect API (UI or code). With no
block configured nothing is sent: alerts are opt-in.
"""

from __future__ import annotations

from prefect.blocks.core import Block

from quality.store import CheckResult, quarantines_rows, run_severity

MAX_LISTED = 20


def alert_message(
    run_id: str, results: list[CheckResult], published: bool
) -> tuple[str, str] | None:
    """(subject, body) when a warning or critical check failed, else None. Severities are
    the run's (``quality_store.run_severity``): quarantined rows are warnings."""
    failed = [r for r in results if not r.passed and run_severity(r) in ("critical", "warning")]
    if not failed:
        return None
    critical = sum(run_severity(r) == "critical" for r in failed)
    warning = len(failed) - critical
    outcome = "published" if published else "NOT published: the last good gold stays"
    subject = (
        f"Olist data quality, run {run_id}: {critical} critical, {warning} warning ({outcome})"
    )
    ordered = sorted(
        failed, key=lambda r: (run_severity(r) != "critical", r.table_name, r.check_name)
    )
    lines = [
        f"- [{run_severity(r)}] {r.layer}.{r.table_name}"
        f"{'.' + r.column_name if r.column_name else ''} {r.check_name} ({r.check_engine}): "
        f"{r.unexpected_count if r.unexpected_count is not None else '?'} unexpected"
        f"{' (rows quarantined)' if quarantines_rows(r) else ''}"
        for r in ordered[:MAX_LISTED]
    ]
    if len(ordered) > MAX_LISTED:
        lines.append(f"- ... and {len(ordered) - MAX_LISTED} more")
    return subject, "\n".join(lines)


def send_alert(
    block_name: str | None, run_id: str, results: list[CheckResult], published: bool
) -> bool:
    """Notify through the named block; True when a message was sent."""
    message = alert_message(run_id, results, published)
    if block_name is None or message is None:
        return False
    if "/" not in block_name:
        raise ValueError(
            f"OLIST_ALERT_BLOCK={block_name!r}: expected <block-type-slug>/<name>, "
            "e.g. custom-webhook/olist-alerts"
        )
    subject, body = message
    block = Block.load(block_name)
    block.notify(body, subject=subject)  # type: ignore[attr-defined]
    return True
