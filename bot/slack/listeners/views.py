"""Forms (modals): a button with questions opens one; submitting runs its command."""

from __future__ import annotations

import json
import shlex
from typing import Any

from slack_bolt import Ack, App

from bot.slack.edge import SlackEdge

CALLBACK = "sb:form"


#: Slack's limit on private_metadata.
METADATA_LIMIT = 3000


def form_view(spec: dict[str, Any], *, channel: str, message: dict[str, Any]) -> dict[str, Any]:
    """The modal for a form button; private_metadata remembers where it came from.

    The original message's blocks (without its buttons) ride along when they fit, so
    the message can be settled in place once the form is submitted.
    """
    blocks = []
    for field in spec["inputs"]:
        blocks.append(
            {
                "type": "input",
                "block_id": field["name"],
                "optional": bool(field.get("optional")),
                "label": {"type": "plain_text", "text": field["label"][:2000]},
                "element": {
                    "type": "plain_text_input",
                    "action_id": "value",
                    "multiline": bool(field.get("multiline")),
                    **({"initial_value": field["initial"]} if field.get("initial") else {}),
                },
            }
        )
    meta: dict[str, Any] = {
        "command": spec["command"],
        "channel": channel,
        "message_ts": message.get("ts"),
    }
    kept = [b for b in message.get("blocks") or [] if b.get("type") != "actions"]
    if len(json.dumps({**meta, "blocks": kept})) <= METADATA_LIMIT:
        meta["blocks"] = kept
    return {
        "type": "modal",
        "callback_id": CALLBACK,
        "title": {"type": "plain_text", "text": spec["title"][:24]},
        "submit": {"type": "plain_text", "text": spec.get("submit", "Submit")[:24]},
        "close": {"type": "plain_text", "text": "Cancel"},
        "private_metadata": json.dumps(meta),
        "blocks": blocks,
    }


def submitted_command(view: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """The typed command a submitted form stands for, and where the form came from."""
    meta = json.loads(view.get("private_metadata") or "{}")
    words = [meta.get("command", "")]
    for name, block in (view.get("state", {}).get("values") or {}).items():
        value = (block.get("value") or {}).get("value")
        if value:
            words.append(f"{name}={shlex.quote(value)}")
    return " ".join(words), meta


def register(app: App, edge: SlackEdge) -> None:
    from bot.slack.listeners.actions import run_and_settle

    @app.view(CALLBACK)
    def on_submit(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        ack()
        user = (body.get("user") or {}).get("id")
        try:
            command, meta = submitted_command(view)
        except (ValueError, TypeError, AttributeError):
            return  # private_metadata we did not write: nothing to run
        if not user or not command.strip():
            return
        message: dict[str, Any] = {}
        if meta.get("message_ts"):
            fallback = [{"type": "section", "text": {"type": "mrkdwn", "text": "(form)"}}]
            message = {"ts": meta["message_ts"], "blocks": meta.get("blocks") or fallback}
        run_and_settle(
            edge,
            command,
            body,
            user=user,
            channel=meta.get("channel", ""),
            message=message,
            respond=None,
            source="slack:form",
        )
