"""Events: the App Home tab, and mentions answered in their thread."""

from __future__ import annotations

import logging
import re
from typing import Any

from slack_bolt import App

from bot.render.blockkit import button_element
from bot.slack.edge import SlackEdge
from skills.reply import Button

log = logging.getLogger(__name__)

SHORTCUTS = (
    ("My commands", "/ops help"),
    ("Pending orders", "/order list pending"),
    ("Open tickets", "/ticket list open"),
    ("Alarms", "/alarm list"),
    ("Fraud cases", "/fraud cases open"),
)


def home_view(edge: SlackEdge, user: str) -> dict[str, Any]:
    caller = edge.caller(user)
    registry = edge.sb.router.registry
    allowed = [
        (label, cmd)
        for label, cmd in SHORTCUTS
        if (found := registry.find(cmd.lstrip("/").split())[0]) and found.allows(caller.roles)
    ]
    roles = ", ".join(caller.role_names) or "none yet: ask an admin to add you to config.yaml"
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": "Switchboard"}},
        {
            "type": "section",
            "text": {"type": "mrkdwn", "text": f"You are *{caller.name}*. Roles: {roles}."},
        },
    ]
    if allowed:
        blocks.append(
            {
                "type": "actions",
                "elements": [
                    button_element(Button(label, cmd), i) for i, (label, cmd) in enumerate(allowed)
                ],
            }
        )
    blocks.append(
        {
            "type": "context",
            "elements": [
                {
                    "type": "mrkdwn",
                    "text": "Every button has a typed twin: `/ops help` lists what you may run.",
                }
            ],
        }
    )
    return {"type": "home", "blocks": blocks}


def _text(event: dict[str, Any], field: str) -> str:
    value = event.get(field)
    return value if isinstance(value, str) else ""


def register(app: App, edge: SlackEdge) -> None:
    # Slack sends events a listener cannot answer (a bot's mention has no user); they are
    # acked (200: anything else is a failed delivery to Slack) and ignored.
    @app.event("app_home_opened")
    def on_home(body: dict[str, Any], event: dict[str, Any]) -> None:
        user = _text(event, "user")
        if not user:
            log.debug("an app_home_opened without a user was ignored")
            return

        def run() -> None:
            edge.client.views_publish(user_id=user, view=home_view(edge, user))

        edge.submit(run, body)

    @app.event("app_mention")
    def on_mention(body: dict[str, Any], event: dict[str, Any]) -> None:
        user, channel, ts = _text(event, "user"), _text(event, "channel"), _text(event, "ts")
        if not (user and channel and ts):
            log.debug("an app_mention without a user, channel or ts was ignored (a bot's?)")
            return
        text = re.sub(r"<@[A-Z0-9]+>", "", _text(event, "text")).strip()
        thread = _text(event, "thread_ts") or ts

        def run() -> None:
            reply = edge.sb.router.handle(
                edge.caller(user), text, channel=channel, source="slack:mention", thread=thread
            )
            edge.deliver(reply, channel=channel, user=user)

        edge.submit(run, body)
