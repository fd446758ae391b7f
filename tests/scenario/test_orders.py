"""Orders into a running `serve`: POST /orders, the orders channel with Approve / Reject,
the requester told, and every /order command as a signed slash command."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from domain.orders.choices import OrderState
from domain.orders.models import ProductOrder
from domain.orders.services import get_order
from tests.fakes.slack_api import Call
from tests.integration.test_orders import more_world
from tests.scenario.conftest import Answer, Served, _serve
from tests.world import populate_world

TOKEN = "orders-test-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture
def shop(tmp_path: Path, sqlite_template: Path) -> Iterator[Served]:
    served = _serve(tmp_path, sqlite_template, SWITCHBOARD_ORDERS_TOKEN=TOKEN)
    s = next(served)
    more_world(populate_world(s.sb.db))
    yield s
    next(served, None)


def order(
    served: Served, body: dict[str, Any] | bytes, headers: dict[str, str] | None = None
) -> Answer:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return served.post(
        raw, "application/json", AUTH if headers is None else headers, signed=False, path="/orders"
    )


def words(call: Call) -> str:
    return call.params.get("text", "") + json.dumps(call.params.get("blocks") or [])


def test_post_orders_places_orders_once_and_the_pending_one_reaches_the_managers(
    shop: Served,
) -> None:
    line = {"customer": "BA100000001", "offering": "POST-399", "requested_by": "carol"}
    first = order(shop, line, {**AUTH, "Idempotency-Key": "crm-77"})
    assert first.status == 201
    assert json.loads(first.body) == {
        "order": "O-1",
        "state": "completed",
        "line": "917000000001",
        "policy": "approved by policy: consumer order under ₹1,000.00",
    }
    again = order(shop, line, {**AUTH, "Idempotency-Key": "crm-77"})
    assert again.status == 200 and json.loads(again.body) == {
        **json.loads(first.body),
        "repeated": True,
    }

    dear = order(shop, {**line, "offering": "POST-1499", "external_id": "crm-78"})
    assert dear.status == 202
    answer = json.loads(dear.body)
    assert (answer["order"], answer["state"], answer["line"]) == ("O-2", "pending", None)
    assert answer["policy"] == "a manager decides: first bill ₹1,499.00 is not below ₹1,000.00"

    # The worker posts it to the orders channel, with Approve / Reject.
    (post,) = shop.slack.wait_for(
        "chat.postMessage", where=lambda c: c.params["channel"] == "#orders"
    )
    actions = next(b for b in post.params["blocks"] if b["type"] == "actions")["elements"]
    assert actions[0]["value"] == "/order approve O-2"
    # Everyone in the channel reads the card: the customer is a first name and initial.
    assert "Priya N." in words(post) and "Priya Nair" not in words(post)
    assert json.loads(actions[1]["value"])["command"] == "/order reject O-2"  # asks why first
    message = {"ts": "1700000001.000100", "blocks": post.params["blocks"]}
    shop.click("erin", actions[0], message, channel="C0ORDERS")  # no manager: refused
    refused = shop.slack.wait_for("response_url")[-1]
    assert refused.params["text"].startswith("/order approve needs the manager role")
    shop.click("dave", actions[0], message, channel="C0ORDERS")
    shop.click("dave", actions[0], message, channel="C0ORDERS")  # a double click
    (settled, *_) = shop.slack.wait_for(
        "chat.update", where=lambda c: c.params["text"].startswith("O-2 approved")
    )
    assert settled.params["text"] == "O-2 approved by dave; completed: 917000000002 is active"
    with shop.sb.db.read() as s:
        assert get_order(s, "O-2").state == OrderState.COMPLETED
        assert s.scalar(sa.select(sa.func.count()).select_from(ProductOrder)) == 2

    # carol, who asked through the CRM, hears how it ended; the channel message follows.
    shop.service.order_worker.wake()
    (dm,) = shop.slack.wait_for(
        "chat.postMessage", where=lambda c: c.params["channel"] == "DU0DEMOCAROL"
    )
    assert dm.params["text"] == "Your order O-2 is complete: 917000000002 is ready"
    (updated,) = shop.slack.wait_for(
        "chat.update", where=lambda c: c.params["text"] == "Order O-2: add POST-1499"
    )
    assert updated.params["ts"] == "1700000001.000100"  # the message posted for it
    assert "*state*\\ncompleted" in words(updated) and '"actions"' not in words(updated)


@pytest.mark.parametrize(
    ("body", "headers", "status", "error"),
    [
        ({"customer": "BA100000001"}, {}, 401, "a valid bearer token is needed"),
        ({"customer": "BA100000001"}, {"Authorization": "Bearer nope"}, 401, "a valid bearer"),
        (b'{"customer": "BA1', None, 400, "the body is not JSON"),
        (b"[" + b" " * 70_000 + b"]", None, 413, "the body is 70,002 bytes; the limit is 65,536"),
        ([], None, 422, "body: Input should be a valid dictionary"),
        ({"offering": "POST-399"}, None, 422, "customer: Field required"),
        ({"customer": "BA100000001", "offer": "POST-399"}, None, 422, "offering: Field required"),
        (
            {"customer": "BA100000001", "offering": "POST-399", "colour": "red"},
            None,
            422,
            "colour: unknown field",
        ),
        (
            {"customer": "BA100000001", "offering": "POST-399", "requested_by": "a b"},
            None,
            422,
            "requested_by: String should match pattern",
        ),
        (
            # The O-84: any name was taken as the requester.
            {"customer": "BA100000001", "offering": "POST-399", "requested_by": "mallory"},
            None,
            422,
            "requested_by: 'mallory' is not a configured user",
        ),
        (
            {"customer": "BA100000001", "offering": "POST-399", "requested_by": "alice"},
            None,
            422,
            "requested_by: alice may not order lines (has engineer)",
        ),
        ({"customer": "BA999", "offering": "POST-399"}, None, 422, "no billing account BA999"),
        (
            {"customer": "BA100000001", "offering": "FIBRE-100"},
            None,
            422,
            "FIBRE-100 is a fixed line; say where it is delivered",
        ),
        (
            {
                "customer": "BA100000001",
                "offering": "FIBRE-100",
                "site": "MUM-AND1",
                "port": "Gi0/0/2",
            },
            None,
            422,
            "r1-mum GigabitEthernet0/0/2 is taken by circuit MUM/FTTH/0000002",
        ),
    ],
)
def test_post_orders_refuses_bad_requests_with_a_reason(
    shop: Served, body: Any, headers: dict[str, str] | None, status: int, error: str
) -> None:
    answer = order(shop, body if isinstance(body, bytes) else json.dumps(body).encode(), headers)
    assert answer.status == status
    assert json.loads(answer.body)["error"].startswith(error)
    with shop.sb.db.read() as s:
        assert s.scalar(sa.select(sa.func.count()).select_from(ProductOrder)) == 0


def test_every_order_command_over_signed_slack_requests(shop: Served) -> None:
    created = shop.ask("carol", "/order new BA100000001 POST-1499")
    assert created.params["text"] == (
        "O-1: POST-1499 for Priya Nair waits for a manager "
        "(first bill ₹1,499.00 is not below ₹1,000.00)"
    )
    assert "/order cancel O-1" in words(created)
    listed = shop.ask("alice", "/order list pending")
    # A list is read in the channel: the customer is a first name and initial there.
    assert listed.params["text"] == "1 latest pending orders" and "Priya N." in words(listed)
    assert "Priya Nair" not in words(listed)
    shown = shop.ask("dave", "/order show O-1")
    assert "/order approve O-1" in words(shown) and "/order reject O-1" in words(shown)
    approved = shop.ask("dave", "/order approve O-1")
    assert approved.params["text"] == "O-1 approved by dave; completed: 917000000001 is active"

    shop.ask("carol", "/order new BA100000001 POST-1499")
    rejected = shop.ask("dave", '/order reject O-2 note="plan retired"')
    assert rejected.params["text"] == "O-2 rejected by dave"
    shop.ask("carol", "/order new BA100000001 POST-1499")
    cancelled = shop.ask("carol", "/order cancel O-3")
    assert cancelled.params["text"] == "O-3 cancelled by carol"
    refused = shop.ask("carol", "/order approve O-3")
    assert refused.params["response_type"] == "ephemeral"
    assert refused.params["text"] == "/order approve needs the manager role; you have care_agent"
    bad = shop.ask("carol", "/order new BA100000001")
    assert bad.params["text"] == "missing <offering>" and "usage: /order new" in words(bad)
    with shop.sb.db.read() as s:
        states = [o.state for o in s.scalars(sa.select(ProductOrder).order_by(ProductOrder.id))]
    assert states == [OrderState.COMPLETED, OrderState.REJECTED, OrderState.CANCELLED]


def test_an_order_s_audit_names_its_requester_and_the_webhook(shop: Served) -> None:
    """requested_by is a configured user (or the webhook itself), and the audit says the
    ordering system named them."""
    from domain.audit.models import AuditEvent

    named = order(shop, {"customer": "BA100000001", "offering": "POST-399", "requested_by": "dave"})
    itself = order(shop, {"customer": "BA100000001", "offering": "POST-399"})
    assert (named.status, itself.status) == (201, 201)
    with shop.sb.db.read() as s:
        events = s.scalars(
            sa.select(AuditEvent).where(AuditEvent.via == "POST /orders").order_by(AuditEvent.id)
        ).all()
        said = [(e.actor, e.command, e.outcome, e.detail) for e in events]
    # The request is stored before the order is placed (the audit fails closed), then
    # its outcome.
    assert said == [
        ("dave", "order new", "requested", ""),
        (
            "dave",
            "order new",
            "ok",
            "O-1; requested_by 'dave' as the ordering system said "
            "(authenticated by orders.api_token)",
        ),
        ("api", "order new", "requested", ""),
        ("api", "order new", "ok", "O-2; requested by the ordering system itself"),
    ]


def test_an_order_is_not_placed_while_its_audit_event_cannot_be_stored(shop: Served) -> None:
    """POST /orders fails closed like chat's changes: with the database's write lock held
    by another writer, the answer is 503 "try again in a moment" and nothing is placed;
    once the lock goes, the same request places the order."""
    import sqlite3

    from domain.orders.models import ProductOrder

    path = sa.make_url(shop.sb.db.url).database
    assert path
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    try:
        busy = order(shop, {"customer": "BA100000001", "offering": "POST-399"})
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert busy.status == 503
    said = json.loads(busy.body)
    assert "could not be stored" in said["error"] and "try again in a moment" in said["hint"]
    with shop.sb.db.read() as s:
        assert s.scalar(sa.select(sa.func.count()).select_from(ProductOrder)) == 0
    placed = order(shop, {"customer": "BA100000001", "offering": "POST-399"})
    assert placed.status == 201
