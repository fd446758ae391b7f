"""Slash commands: ack at once, run the skill in the pool, answer via response_url or a post."""

from __future__ import annotations

import re
from typing import Any

from slack_bolt import Ack, App, Respond

from bot.slack.edge import SlackEdge

BUSY = ":hourglass: Switchboard is busy right now; try again in a minute."


def register(app: App, edge: SlackEdge) -> None:
    @app.command(re.compile(r"^/"))
    def on_command(
        ack: Ack, body: dict[str, Any], command: dict[str, Any], respond: Respond
    ) -> None:
        ack()
        text = f"{command['command']} {command.get('text', '')}".strip()
        user, channel = command["user_id"], command["channel_id"]

        def run() -> None:
            routed = edge.sb.router.route(
                edge.caller(user),
                text,
                channel=channel,
                source="slack:command",
                progress=edge.progress(channel),
            )
            edge.deliver(routed.reply, channel=channel, user=user, respond=respond)

        if not edge.submit(run, body):
            respond(text=BUSY, response_type="ephemeral")
