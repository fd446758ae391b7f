"""Roles as data over signed Slack requests: a digest preview shows a care agent only her
sections, and a network incident's buttons and moves are an engineer's, typed or clicked."""

from __future__ import annotations

import json

from tests.scenario.conftest import Served, words
from tests.world import populate_world


def test_a_care_agents_digest_preview_leaves_out_the_managers_figures(served: Served) -> None:
    populate_world(served.sb.db)
    carol = served.ask("carol", "/digest preview manager-daily")
    assert carol.params["response_type"] == "ephemeral"
    said = words(carol)
    assert "*Tickets*" in said and "*Orders*" in said
    assert "*Revenue" not in said and "*Fraud*" not in said and "*Network*" not in said
    assert "outstanding now" not in said and '"actions"' not in said
    assert (
        "Not shown to you: the network section is for engineers and managers; the revenue "
        "section is for managers; the fraud section is for managers and fraud analysts."
    ) in said
    dave = words(served.ask("dave", "/digest preview manager-daily"))
    assert "*Revenue" in dave and "*Fraud*" in dave and "Not shown to you" not in dave
    refused = served.ask("carol", "/digest subscribe manager-daily")
    assert refused.params["text"].startswith("you may not subscribe to manager-daily: ")


def test_a_network_incident_is_moved_by_engineers_only_typed_or_clicked(served: Served) -> None:
    populate_world(served.sb.db)
    opened = served.ask("alice", '/ticket open r1-mum "BGP neighbour down" sev=2')
    ref = opened.params["text"].split()[0]
    actions = next(b for b in opened.params["blocks"] if b["type"] == "actions")["elements"]
    take = next(a for a in actions if a["value"] == f"/ticket assign {ref} me")

    refusal = f"{ref} is a network incident: engineers work those (you have care_agent)"
    message = {"ts": "1700000002.000100", "blocks": opened.params["blocks"]}
    served.click("carol", take, message)
    clicked = served.slack.wait_for("response_url", where=lambda c: refusal in words(c))
    assert clicked[-1].params["response_type"] == "ephemeral"
    assert not served.slack.calls_to("chat.update")  # the message keeps its buttons

    typed = served.ask("carol", f'/ticket resolve {ref} "billing sorted"')
    assert typed.params["text"] == refusal
    assert f"/ticket show {ref} says who has it" in words(typed)
    shown = served.ask("carol", f"/ticket show {ref}")
    assert '"actions"' not in json.dumps(shown.params.get("blocks"))

    served.click("alice", take, message)
    (settled,) = served.slack.wait_for("chat.update")
    assert settled.params["text"] == f"{ref} assigned to alice"
    done = served.ask("alice", f'/ticket resolve {ref} "session re-established"')
    assert done.params["text"].startswith(f"{ref} resolved")
