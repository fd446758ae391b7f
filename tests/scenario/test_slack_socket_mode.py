"""Slack over Socket Mode: envelopes through a WebSocket on loopback, acked, run once."""

from __future__ import annotations

import time
import urllib.error
import urllib.request

from tests.scenario.conftest import USERS, Served


def envelope(n: int, payload: dict, kind: str = "slash_commands", retry: int = 0) -> dict:
    return {
        "envelope_id": f"env-{n}",
        "type": kind,
        "payload": payload,
        "accepts_response_payload": kind != "events_api",
        "retry_attempt": retry,
        "retry_reason": "timeout" if retry else "",
    }


def slash(served: Served, user: str, text: str, trigger: str) -> dict:
    name, _, rest = text.partition(" ")
    return {
        "command": name,
        "text": rest,
        "user_id": USERS[user],
        "channel_id": "C0NOC",
        "team_id": "T0SWITCH",
        "trigger_id": trigger,
        "response_url": served.slack.response_url(trigger),
    }


def test_socket_mode_runs_a_command_once_and_acks_every_envelope(served_socket: Served) -> None:
    slack = served_socket.slack
    slack.socket.send(envelope(1, slash(served_socket, "dave", "/ops whoami", "t1")))
    (answer,) = slack.wait_for("response_url")
    assert answer.params["text"] == "You are Dave Khanna"
    # Slack redelivers the same envelope when the ack was slow: it must not run again.
    slack.socket.send(envelope(2, slash(served_socket, "dave", "/ops whoami", "t2"), retry=1))
    acks = slack.wait_for("socket_ack", 2)
    assert {a.params["envelope_id"] for a in acks} == {"env-1", "env-2"}
    time.sleep(0.5)
    assert len(slack.calls_to("response_url")) == 1


def test_socket_mode_events_and_no_http_route_for_slack(served_socket: Served) -> None:
    slack = served_socket.slack
    event = {
        "type": "event_callback",
        "team_id": "T0SWITCH",
        "event_id": "Ev0SOCK",
        "event": {"type": "app_home_opened", "user": USERS["erin"], "tab": "home"},
    }
    slack.socket.send(envelope(3, event, kind="events_api"))
    (published,) = slack.wait_for("views.publish")
    assert "fraud_analyst" in str(published.params["view"])
    request = urllib.request.Request(served_socket.url + "/slack/events", data=b"{}", method="POST")
    try:
        urllib.request.urlopen(request, timeout=5)
        raise AssertionError("the HTTP route should not exist in Socket Mode")
    except urllib.error.HTTPError as err:
        assert err.code == 404
