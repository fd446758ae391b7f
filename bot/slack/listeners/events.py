"""Events: the App Home tab, and mentions answered in their thread."""

from __future__ import annotations

import re
from typing import Any

from slack_bolt import App

from bot.render.blockkit import button_element
from bot.slack.edge import SlackEdge
from skills.reply import Button

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


def register(app: App, edge: SlackEdge) -> None:
    @app.event("app_home_opened")
    def on_home(body: dict[str, Any], event: dict[str, Any]) -> None:
        def run() -> None:
            edge.client.views_publish(user_id=event["user"], view=home_view(edge, event["user"]))

        edge.submit(run, body)

    @app.event("app_mention")
    def on_mention(body: dict[str, Any], event: dict[str, Any]) -> None:
        text = re.sub(r"<@[A-Z0-9]+>", "", event.get("text", "")).strip()
        user, channel = event["user"], event["channel"]
        thread = event.get("thread_ts") or event["ts"]

        def run() -> None:
            reply = edge.sb.router.handle(
                edge.caller(user), text, channel=channel, source="slack:mention", thread=thread
            )
            edge.deliver(reply, channel=channel, user=user)

        edge.submit(run, body)
