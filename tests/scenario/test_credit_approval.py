"""A credit that waits for a manager, over signed Slack requests: the manager's /credit
list carries Approve / Reject (the care agent's private answer does not); only a manager
other than the asker settles it, once."""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa

from domain.billing.choices import CreditState
from domain.billing.models import Adjustment, CreditRequest
from tests.scenario.conftest import Served
from tests.scenario.test_care_commands import billed


def _buttons(call: Any) -> list[dict[str, Any]]:
    blocks = call.params.get("blocks") or []
    return [e for b in blocks if b["type"] == "actions" for e in b["elements"]]


def test_a_manager_approves_a_pending_credit_by_its_button_once(served: Served) -> None:
    billed(served)
    opened = served.ask("carol", '/dispute open INV-202610-0000002 "calls to Dubai not mine"')
    ticket = opened.params["text"].split()[0]
    waits = served.ask("carol", f'/dispute resolve {ticket} "roaming partner error" credit=60')
    assert waits.params["response_type"] == "ephemeral"
    assert waits.params["text"] == (
        f"{ticket} resolved; credit CRD-1 of ₹60.00 waits for a manager (carol opened "
        f"{ticket} too); ₹459.00 of ₹519.00 still creditable on INV-202610-0000002"
    )
    # Her private answer offers no Approve / Reject: she may not press them.
    assert _buttons(waits) == []

    # dave finds it in /credit list, with Approve / Reject.
    listed = served.ask("dave", "/credit list")
    assert listed.params["response_type"] == "ephemeral"
    assert listed.params["text"] == "1 credit(s) wait for a manager"
    approve = _buttons(listed)[0]
    assert (approve["text"]["text"], approve["value"]) == ("Approve CRD-1", "/credit approve CRD-1")
    assert json.loads(_buttons(listed)[1]["value"])["command"] == "/credit reject CRD-1"
    message = {"ts": "1700000003.000100", "blocks": listed.params["blocks"]}

    # carol sends that click herself (a forged action): she is no manager.
    served.click("carol", approve, message)
    refused = served.slack.wait_for(
        "response_url", where=lambda c: "needs the manager role" in c.params.get("text", "")
    )[-1]
    assert refused.params["text"] == "/credit approve needs the manager role; you have care_agent"

    # dave approves it by the button; a second click does nothing.
    served.click("dave", approve, message)
    (settled, *_) = served.slack.wait_for(
        "chat.update", where=lambda c: c.params["text"].startswith("CRD-1 approved")
    )
    assert settled.params["text"] == (
        "CRD-1 approved by dave: ADJ-1 credits ₹60.00 on the next invoice; "
        "₹459.00 of ₹519.00 still creditable on INV-202610-0000002"
    )
    served.click("dave", approve, message)
    again = served.slack.wait_for(
        "response_url", where=lambda c: "was already approved" in c.params.get("text", "")
    )[-1]
    assert again.params["text"].startswith("CRD-1 was already approved by dave at ")
    assert again.params["text"].endswith("; nothing was done")
    with served.sb.db.read() as s:
        assert s.scalars(sa.select(CreditRequest.state)).all() == [CreditState.APPROVED]
        assert s.scalars(sa.select(Adjustment.amount_minor)).all() == [-6000]
