"""The quality-alert webhook block, with its URL (and the token in it) in a Secret field.

``CustomWebhookNotificationBlock.url`` is a plain string: the Prefect UI and API show it to
anyone who can read blocks. Its ``secrets`` field is a ``SecretDict``, masked in both. So
the block keeps the template ``{{webhook_url}}`` as its URL and the real URL in
``secrets``; Prefect fills it in only when it sends.

    OLIST_ALERT_WEBHOOK_URL=https://hooks.example.com/T0/B0/token \\
        python -m deployments.alerts olist-alerts    # then OLIST_ALERT_BLOCK=custom-webhook/olist-alerts
    python -m deployments.alerts olist-alerts --secure-existing   # move a saved plain URL

Without ``OLIST_ALERT_WEBHOOK_URL`` the URL is asked for without echo, so it stays out of
the shell history.
"""

from __future__ import annotations

import argparse
import getpass
import os
from typing import Any

from prefect.blocks.notifications import CustomWebhookNotificationBlock

SECRET_KEY = "webhook_url"
TEMPLATE = "{{" + SECRET_KEY + "}}"
BLOCK_TYPE = "custom-webhook"
# what the receiver gets: Slack, Teams and most chat webhooks read "text"
DEFAULT_JSON: dict[str, Any] = {"text": "{{subject}}\n{{body}}"}


def webhook_block(
    url: str, json_data: dict[str, Any] | None = None, allow_private_urls: bool = False
) -> CustomWebhookNotificationBlock:
    """A webhook block whose URL lives only in its Secret field."""
    if not url.strip():
        raise ValueError("the webhook URL is empty")
    return CustomWebhookNotificationBlock(
        name="olist quality",
        url=TEMPLATE,
        json_data=json_data or DEFAULT_JSON,
        secrets={SECRET_KEY: url},  # type: ignore[arg-type]  # pydantic makes it a SecretDict
        allow_private_urls=allow_private_urls,
    )


def save_webhook(name: str, url: str, **options: Any) -> str:
    """Save (or replace) the block ``name``; returns the value for ``OLIST_ALERT_BLOCK``."""
    webhook_block(url, **options).save(name, overwrite=True)
    return f"{BLOCK_TYPE}/{name}"


def secure_existing(name: str) -> bool:
    """Move the plain URL of a saved webhook block into its Secret field; False when it
    was already there."""
    block = CustomWebhookNotificationBlock.load(name)
    if "{{" in block.url:
        return False
    secrets = dict(block.secrets.get_secret_value())
    secrets[SECRET_KEY] = block.url
    block.secrets = secrets  # type: ignore[assignment]
    block.url = TEMPLATE
    block.save(name, overwrite=True)
    return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m deployments.alerts",
        description="Save the quality-alert webhook block with its URL in a Secret field.",
    )
    parser.add_argument("name", help="block name, e.g. olist-alerts")
    parser.add_argument(
        "--secure-existing",
        action="store_true",
        help="move the plain-text URL of an already saved block into its Secret field",
    )
    args = parser.parse_args(argv)
    if args.secure_existing:
        moved = secure_existing(args.name)
        print(
            f"{BLOCK_TYPE}/{args.name}: "
            + ("URL moved to the Secret field" if moved else "already secret")
        )
        return 0
    url = os.environ.get("OLIST_ALERT_WEBHOOK_URL") or getpass.getpass("webhook URL: ")
    slug = save_webhook(args.name, url)
    print(f"saved; set OLIST_ALERT_BLOCK={slug}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
