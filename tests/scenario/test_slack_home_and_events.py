"""The App Home tab's buttons answer by direct message, and events Slack sends that no
listener can answer (a bot's mention, app_rate_limited) are acked 200: Slack counts
anything else as a failed delivery and disables event subscriptions after many."""

from __future__ import annotations

import json
import logging
import time

import pytest
import sqlalchemy as sa

from bot.render.blockkit import to_message
from domain.audit.models import AuditEvent
from tests.scenario.conftest import USERS, Served


def _home_buttons(served: Served, user: str) -> list[dict[str, object]]:
    assert (
        served.event({"type": "app_home_opened", "user": USERS[user], "tab": "home"}).status == 200
    )
    (published,) = served.slack.wait_for("views.publish")
    view = published.params["view"]
    view = json.loads(view) if isinstance(view, str) else view
    (actions,) = [b for b in view["blocks"] if b["type"] == "actions"]
    return list(actions["elements"])


def _click_on_home(served: Served, user: str, button: dict[str, object], n: int) -> int:
    """A block_actions as Slack sends it from a home view: no channel, message or
    response_url; the container is the view."""
    payload = {
        "type": "block_actions",
        "user": {"id": USERS[user], "username": user, "team_id": "T0SWITCH"},
        "api_app_id": "A0SWITCH",
        "trigger_id": f"trig.home{n}",
        "team": {"id": "T0SWITCH"},
        "container": {"type": "view", "view_id": "V0HOME"},
        "view": {"id": "V0HOME", "type": "home", "callback_id": "", "hash": "h"},
        "actions": [
            {
                "type": "button",
                "block_id": "b1",
                "action_id": button["action_id"],
                "value": button["value"],
                "action_ts": f"1701.{n:06d}",
            }
        ],
    }
    return served.interactive(payload).status


def test_every_app_home_shortcut_answers_the_clicker_by_direct_message(served: Served) -> None:
    buttons = _home_buttons(served, "root")
    assert [b["value"] for b in buttons] == [
        "/ops help",
        "/order list pending",
        "/ticket list open",
        "/alarm list",
        "/fraud cases open",
    ]
    dm = f"D{USERS['root']}"
    for n, button in enumerate(buttons):
        assert _click_on_home(served, "root", button, n) == 200
        (answer,) = served.slack.wait_for(
            "chat.postMessage", n + 1, where=lambda c: c.params.get("channel") == dm
        )[n:]
        # The same answer the typed twin gives, in the clicker's DM.
        typed = served.sb.router.handle(served.sb.access.user("root"), str(button["value"]))
        assert answer.params["text"] == to_message(typed).text, button["value"]
    opened = served.slack.calls_to("conversations.open")
    assert opened and {c.params["users"] for c in opened} == {USERS["root"]}
    assert not served.slack.calls_to("chat.postEphemeral")
    assert not served.slack.calls_to("response_url")
    # Each click was audited as a click (and each typed twin as the console's run).
    with served.sb.db.read() as s:
        clicks = s.execute(
            sa.select(AuditEvent.command).where(AuditEvent.via == "slack:click")
        ).scalars()
        assert len(list(clicks)) == len(buttons)


def test_a_bots_mention_and_events_without_their_fields_are_acked_and_ignored(
    served: Served,
) -> None:
    ignored = [
        # A bot's message mentioning the app: bot_id, no user.
        {
            "type": "app_mention",
            "bot_id": "B0OTHER",
            "channel": "C0NOC",
            "ts": "1.2",
            "text": "<@U0SB> hi",
        },
        {"type": "app_mention", "user": USERS["alice"], "text": "<@U0SB> /ops whoami"},
        {"type": "app_home_opened", "tab": "home"},
    ]
    for event in ignored:
        answer = served.event(event)
        assert answer.status == 200, (event, answer.body)
    time.sleep(0.4)
    answered = [c.method for c in served.slack.calls if c.method != "auth.test"]
    assert not answered, answered
    # A complete mention still gets its answer in its thread.
    mention = {
        "type": "app_mention",
        "user": USERS["alice"],
        "channel": "C0NOC",
        "ts": "9.1",
        "text": "<@U0SB> /ops whoami",
    }
    assert served.event(mention).status == 200
    deadline = time.monotonic() + 10
    while not (answers := [c for c in served.slack.calls if c.params.get("thread_ts") == "9.1"]):
        assert time.monotonic() < deadline, "no answer to the mention"
        time.sleep(0.02)
    assert answers[0].params["channel"] == "C0NOC"


def test_app_rate_limited_is_acked_with_one_warning(
    served: Served, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    body = json.dumps(
        {
            "token": "x",
            "type": "app_rate_limited",
            "team_id": "T0SWITCH",
            "minute_rate_limited": 1518467820,
            "api_app_id": "A0SWITCH",
        }
    ).encode()
    answer = served.post(body, "application/json")
    assert answer.status == 200, answer.body
    warned = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert [r.getMessage() for r in warned] == [
        "Slack rate-limited this app's events: events of the minute starting at 1518467820"
        " were dropped by Slack and will not arrive"
    ]
    # Unsigned, it is refused like anything else.
    assert served.post(body, "application/json", signed=False).status == 401
