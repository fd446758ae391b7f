"""Care and money commands over signed Slack requests: private answers, masked data."""

from __future__ import annotations

import json
from datetime import date

from tests.integration.test_care import invoice, usage
from tests.scenario.conftest import Served
from tests.world import NOW, populate_world


def billed(served: Served) -> None:
    db = populate_world(served.sb.db)
    with db.transaction() as s:
        invoice(s, 1, date(2026, 9, 1), recurring=39900)
        october = invoice(s, 2, date(2026, 10, 1), recurring=39900, usage=12000)
        usage(s, october, NOW.replace(month=10, day=5), 12000)


def test_care_agents_get_private_masked_answers(served: Served) -> None:
    billed(served)
    bill = served.ask("carol", "/bill 9876543210")
    assert bill.method == "response_url" and bill.params["response_type"] == "ephemeral"
    assert bill.params["text"] == "Bill for BA100000001"
    assert "INV-202610-0000002" in json.dumps(bill.params["blocks"])
    customer = served.ask("carol", "/customer Priya Nair")
    text = json.dumps(customer.params["blocks"], ensure_ascii=False)
    assert "••••••••0123" in text and "234567890123" not in text and "Powai" not in text
    explained = served.ask("carol", "/bill explain INV-202610-0000002")
    assert explained.params["text"].startswith("INV-202610-0000002 is ₹612.42, up ₹141.60")
    dispute = served.ask("carol", '/dispute open INV-202610-0000002 "calls to Dubai not mine"')
    assert dispute.params["text"].endswith("opened: dispute on INV-202610-0000002")
    shared = served.ask("carol", "/bill BA100000001 --share")
    assert shared.method == "chat.postMessage"  # shared in the channel on purpose


def test_money_views_are_for_managers_and_payments_for_admins(served: Served) -> None:
    billed(served)
    revenue = served.ask("dave", "/revenue 2026-10")
    assert revenue.params["text"] == "Revenue, October 2026"
    assert "Mumbai" in json.dumps(revenue.params["blocks"])
    refused = served.ask("carol", "/revenue")
    assert refused.params["text"] == "/revenue needs the manager role; you have care_agent"
    paid = served.ask("root", "/payment record BA100000001 470.82 ref=UTR55")
    assert paid.params["text"] == "₹470.82 recorded on BA100000001 (UTR55)"
    twice = served.ask("root", "/payment record BA100000001 470.82 ref=UTR55")
    assert twice.params["text"] == "payment UTR55 was already recorded"
