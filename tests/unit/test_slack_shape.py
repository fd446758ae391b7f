"""A signed payload without the fields Slack always sends is a 400 at the gate, before
Bolt's middleware or a listener reads it (they would fail with a 500). Swept: every field
of every payload kind the listeners read, removed or replaced by null, a number or a list.
An event needs only its envelope: Slack sends events without a user (a bot's mention),
counts a 400 as a failed delivery, and the listeners ignore what they cannot answer."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from bot.slack import gate
from bot.webhooks import Rejected

COMMAND = {"command": "/ticket", "text": "list", "user_id": "U1", "channel_id": "C1"}
VALID: dict[str, dict[str, Any]] = {
    "command": COMMAND,
    "url_verification": {"type": "url_verification", "challenge": "abc"},
    "app_mention": {
        "type": "event_callback",
        "event": {"type": "app_mention", "user": "U1", "channel": "C1", "ts": "1.2"},
    },
    "app_home_opened": {
        "type": "event_callback",
        "event": {"type": "app_home_opened", "user": "U1"},
    },
    "block_actions": {
        "type": "block_actions",
        "user": {"id": "U1"},
        "trigger_id": "t1",
        "channel": {"id": "C1"},
        "actions": [{"action_id": "sb:run", "value": "/ops whoami"}],
        "message": {"ts": "1.2", "blocks": []},
    },
    "view_submission": {
        "type": "view_submission",
        "user": {"id": "U1"},
        "view": {"callback_id": "sb:form", "private_metadata": "{}"},
    },
}
#: kind -> paths (keys into nested dicts) whose absence or wrong type makes it unreadable.
REQUIRED = {
    "command": [("command",), ("user_id",), ("channel_id",)],
    "url_verification": [("challenge",)],
    "app_mention": [("event",), ("event", "type")],
    "app_home_opened": [("event",), ("event", "type")],
    "block_actions": [
        ("user",),
        ("user", "id"),
        ("trigger_id",),
        ("actions",),
        ("channel",),
        ("message",),
    ],
    "view_submission": [("user",), ("user", "id"), ("view",), ("view", "callback_id")],
}
CASES = [(kind, path) for kind, paths in REQUIRED.items() for path in paths]


def _encoded(payload: dict[str, Any]) -> tuple[bytes, str]:
    if "command" in payload or "user_id" in payload:
        from urllib.parse import urlencode

        return urlencode(payload).encode(), "application/x-www-form-urlencoded"
    return json.dumps(payload).encode(), "application/json"


@pytest.mark.parametrize("kind", sorted(VALID))
def test_a_payload_slack_would_send_passes(kind: str) -> None:
    body, content_type = _encoded(VALID[kind])
    _, parsed = gate.payload(body, content_type)
    assert parsed == VALID[kind]


@pytest.mark.parametrize(
    ("kind", "path"), CASES, ids=lambda v: "/".join(v) if isinstance(v, tuple) else v
)
@pytest.mark.parametrize("broken", ["missing", None, 7, ["x"]])
def test_a_payload_without_what_slack_always_sends_is_a_400(
    kind: str, path: tuple[str, ...], broken: object
) -> None:
    payload = copy.deepcopy(VALID[kind])
    where = payload
    for key in path[:-1]:
        where = where[key]
    if broken == "missing":
        del where[path[-1]]
    else:
        where[path[-1]] = broken
    if kind == "command" and broken != "missing":
        where[path[-1]] = ""  # a form carries only text: the wrong thing is an empty field
    body, content_type = _encoded(payload)
    optional = path in {("message",), ("channel",)} and broken in ("missing", None)
    if kind == "block_actions" and optional:
        # A click on an ephemeral message comes without a message; in a modal, without a
        # channel (the listener reads both with a default): that is a Slack payload.
        gate.payload(body, content_type)
        return
    with pytest.raises(Rejected) as refused:
        gate.payload(body, content_type)
    assert refused.value.status == 400
    assert str(refused.value).startswith("the request body is not a Slack payload (")


#: Events Slack sends that no listener answers: they pass the gate (and are acked 200).
EVENTS_SLACK_SENDS = {
    "a bot's mention": {
        "type": "event_callback",
        "event": {"type": "app_mention", "bot_id": "B1", "channel": "C1", "ts": "1.2"},
    },
    "a mention without channel or ts": {
        "type": "event_callback",
        "event": {"type": "app_mention", "user": "U1"},
    },
    "a home opened without a user": {
        "type": "event_callback",
        "event": {"type": "app_home_opened", "tab": "home"},
    },
    "an event no listener takes": {"type": "event_callback", "event": {"type": "reaction_added"}},
    "app_rate_limited": {"type": "app_rate_limited", "minute_rate_limited": 1518467820},
}


@pytest.mark.parametrize("name", sorted(EVENTS_SLACK_SENDS))
def test_events_without_what_a_listener_reads_pass_the_gate(name: str) -> None:
    body, content_type = _encoded(EVENTS_SLACK_SENDS[name])
    _, parsed = gate.payload(body, content_type)
    assert parsed == EVENTS_SLACK_SENDS[name]


@pytest.mark.parametrize("field", ["user", "channel", "ts"])
@pytest.mark.parametrize("broken", [None, 7, ["x"], ""])
def test_an_event_field_present_but_not_text_is_a_400(field: str, broken: object) -> None:
    payload = copy.deepcopy(VALID["app_mention"])
    payload["event"][field] = broken
    body, content_type = _encoded(payload)
    with pytest.raises(Rejected) as refused:
        gate.payload(body, content_type)
    assert str(refused.value) == (
        f"the request body is not a Slack payload (an app_mention event whose {field} is not text)"
    )
