"""Button clicks: each button carries its typed command; the click runs it like typing it.

Roles are checked again on every click, so a forwarded message or a tampered value
gives nobody more than they could type. A decision updates the original message in
place; a refusal goes only to the person who clicked.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable
from typing import Any

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient

from bot.slack.edge import SlackEdge, delivery_key
from bot.slack.listeners.commands import BUSY
from bot.slack.listeners.views import form_view

log = logging.getLogger(__name__)


def decided(blocks: list[dict[str, Any]], outcome: str) -> list[dict[str, Any]]:
    """The original message with its buttons replaced by what was decided."""
    kept = [b for b in blocks if b.get("type") != "actions"]
    return [*kept, {"type": "context", "elements": [{"type": "mrkdwn", "text": outcome}]}]


def register(app: App, edge: SlackEdge) -> None:
    @app.action(re.compile(r"^sb:"))
    def on_click(ack: Ack, body: dict[str, Any], respond: Respond, client: WebClient) -> None:
        ack()
        action = (body.get("actions") or [{}])[0]
        user = (body.get("user") or {}).get("id")
        if not user or not isinstance(action.get("value"), str):
            log.warning("a click without a user or a value was ignored")
            return
        channel = (body.get("channel") or {}).get("id") or body.get("container", {}).get(
            "channel_id", ""
        )
        message = body.get("message") or {}
        value = action.get("value", "")
        if action["action_id"].startswith("sb:form:"):
            key = delivery_key(body)
            if key is not None and not edge.first_delivery(key):
                return
            spec = json.loads(value)
            client.views_open(
                trigger_id=body["trigger_id"],
                view=form_view(spec, channel=channel, message=message),
            )
            return
        # A click on the App Home tab comes without a response_url (Bolt's respond would
        # raise): its answer goes to the caller as a direct message (see SlackEdge.deliver).
        answer = respond if body.get("response_url") else None
        run_and_settle(
            edge, value, body, user=user, channel=channel, message=message, respond=answer
        )


def run_and_settle(
    edge: SlackEdge,
    command: str,
    body: dict[str, Any],
    *,
    user: str,
    channel: str,
    message: dict[str, Any],
    respond: Respond | None,
    source: str = "slack:click",
) -> None:
    """Run a clicked (or submitted) command; on success settle the original message."""

    reporters: list[Callable[[str], None]] = []

    def progress(text: str) -> None:
        # Without a channel (the App Home tab) progress goes where the answer will: a DM.
        if not reporters:
            where = channel or edge.client.conversations_open(users=user)["channel"]["id"]
            reporters.append(edge.progress(where))
        reporters[0](text)

    def run() -> None:
        routed = edge.sb.router.route(
            edge.caller(user),
            command,
            channel=channel,
            source=source,
            progress=progress,
        )
        reply = routed.reply
        if reply.ok and message.get("ts") and message.get("blocks"):
            edge.client.chat_update(
                channel=channel,
                ts=message["ts"],
                text=reply.text,
                blocks=decided(message["blocks"], f":white_check_mark: {reply.text}"),
            )
            if not (reply.sections or reply.tables or reply.buttons or reply.files):
                return
        edge.deliver(reply, channel=channel, user=user, respond=respond)

    if not edge.submit(run, body) and respond is not None:
        respond(text=BUSY, response_type="ephemeral", replace_original=False)
