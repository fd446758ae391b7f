"""Hostile Slack requests: unknown actions, tampered button values, missing fields and
broken payloads get a clean answer and change nothing they should not."""

from __future__ import annotations

import json
import time
from urllib.parse import urlencode

from tests.scenario.conftest import USERS, Served


def test_an_unknown_action_is_acked_and_ignored(served: Served) -> None:
    answer, _ = served.click(
        "dave", {"action_id": "evil:1", "value": "/ops whoami"}, {"ts": "1.1", "blocks": []}
    )
    assert answer.status in (200, 404)
    time.sleep(0.3)
    assert served.slack.calls_to("response_url") == []


def test_a_tampered_button_value_is_just_a_typed_command_with_the_clickers_roles(
    served: Served,
) -> None:
    served.click(
        "carol",
        {"action_id": "sb:0", "value": "/payment record BA100000001 99999 ref=FREE"},
        {"ts": "1.1", "blocks": []},
    )
    (refusal,) = served.slack.wait_for("response_url")
    assert refusal.params["text"] == "/payment record needs the admin role; you have care_agent"
    served.click(
        "dave",
        {"action_id": "sb:0", "value": '/ops whoami"; rm -rf /'},
        {"ts": "1.2", "blocks": []},
    )
    (_, second) = served.slack.wait_for("response_url", 2)
    assert second.params["text"].startswith("could not read that command")


def test_payloads_with_missing_fields_or_broken_json_do_not_crash_serve(served: Served) -> None:
    broken = [
        {"type": "block_actions", "user": {"id": USERS["dave"]}},  # no actions
        {"type": "block_actions", "actions": [{"action_id": "sb:0"}]},  # no user, no value
        {"type": "view_submission", "user": {"id": USERS["dave"]}, "view": {}},
        {"type": "nonsense"},
    ]
    for payload in broken:
        answer = served.interactive(payload)
        assert answer.status < 500, (payload, answer)
    bad_json = urlencode({"payload": "{not json"}).encode()
    answer = served.post(bad_json, "application/x-www-form-urlencoded")
    assert answer.status < 500
    deep = json.dumps({"type": "block_actions", "x": [[[[[[[[[[]]]]]]]]]] * 1000}).encode()
    assert served.post(deep, "application/json").status < 500
    # serve still answers afterwards
    served.command("erin", "/ops whoami")
    (ok,) = served.slack.wait_for("response_url", where=lambda c: "Erin" in c.params["text"])
    assert ok.params["text"] == "You are Erin Bose"
