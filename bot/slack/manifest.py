"""The Slack app manifest, generated from the skill registry."""

from __future__ import annotations

from typing import Any

from skills.registry import Registry

SCOPES = [
    "commands",  # slash commands
    "chat:write",  # replies, alerts, digests
    "chat:write.public",  # post to public channels without being invited
    "files:write",  # charts and long tables
    "im:write",  # private files go to the caller's DM
    "usergroups:read",  # roles granted through Slack user groups
    "users:read",
    "app_mentions:read",  # @switchboard in a channel
]
EVENTS = ["app_home_opened", "app_mention"]


def _fits(text: str, limit: int = 100) -> str:
    """Slack's limit for a description, cut at a word with an ellipsis, never mid-word."""
    if len(text) <= limit:
        return text
    return text[: limit - 1].rsplit(" ", 1)[0].rstrip(",;:(") + "…"


def _first_word(cmd: Any) -> str:
    """What follows the slash command: the subcommand, or the bare command's arguments."""
    if len(cmd.path) > 1:
        return str(cmd.path[1])
    return str(cmd.usage.split(" ", 1)[1]) if " " in cmd.usage else ""


def manifest(
    registry: Registry, *, url: str | None, socket_mode: bool, name: str = "Switchboard"
) -> dict[str, Any]:
    """The manifest: one slash command per command group, events and interactivity."""
    base = (url or "https://switchboard.example.com").rstrip("/")
    events_url = f"{base}/slack/events"
    commands = []
    for slash in registry.slash_commands():
        group = registry.under(slash[1:])
        subs = ", ".join(c.path[1] for c in group if len(c.path) > 1)
        command: dict[str, Any] = {
            "command": slash,
            "description": _fits(group[0].help if len(group) == 1 else f"{slash[1:]}: {subs}"),
            "usage_hint": (
                group[0].usage.split(" ", 1)[1]
                if len(group) == 1 and " " in group[0].usage
                else f"[{' | '.join(_first_word(c) for c in group)}] ..."
            )[:1000],
            "should_escape": False,
        }
        if not socket_mode:
            command["url"] = events_url
        commands.append(command)
    settings: dict[str, Any] = {
        "event_subscriptions": {"bot_events": EVENTS},
        "interactivity": {"is_enabled": True},
        "org_deploy_enabled": False,
        "socket_mode_enabled": socket_mode,
        "token_rotation_enabled": False,
    }
    if not socket_mode:
        settings["event_subscriptions"]["request_url"] = events_url
        settings["interactivity"]["request_url"] = events_url
    return {
        "display_information": {
            "name": name,
            "description": "Network and business operations in chat",
            "background_color": "#1d3557",
        },
        "features": {
            "app_home": {"home_tab_enabled": True, "messages_tab_enabled": False},
            "bot_user": {"display_name": name.lower(), "always_online": True},
            "slash_commands": commands,
        },
        "oauth_config": {"scopes": {"bot": SCOPES}},
        "settings": settings,
    }
