"""Orders through the router on SQLite and PostgreSQL: the approval policy, decisions,
cancelling, bad input, and the suspensions dunning and the fraud desk ask for."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa

from bot.access import Access
from bot.router import Router
from domain.catalog.choices import ProductLine, Segment
from domain.config import PROJECT_ROOT, ConfigError, Settings, load_settings, parse_settings
from domain.customers.choices import DunningState, IdDocument, PaymentMethod, SubscriptionState
from domain.customers.models import BillingAccount, Customer, Subscription
from domain.db import Database
from domain.errors import InvalidTransition, NotFound
from domain.inventory.choices import InterfaceKind
from domain.inventory.models import Interface
from domain.orders.choices import OrderAction, OrderState
from domain.orders.models import ProductOrder
from domain.orders.services import get_order, move_order, request_resume, request_suspension
from domain.schema import ProductOffering
from tests.world import make_router, reset_sequences

NOW = datetime(2026, 11, 20, 9, 30, tzinfo=UTC)
SETTINGS = load_settings(PROJECT_ROOT / "config.yaml", env={})
ACCESS = Access(SETTINGS)


def more_world(db: Database) -> Database:
    """Beside the world's consumer: an enterprise customer, dearer and fixed offerings,
    a fixed line on r1-mum, and two free ports there."""
    rows = [
        ProductOffering(
            id=2,
            code="POST-1499",
            name="Postpaid 1499",
            segment=Segment.CONSUMER,
            product_line=ProductLine.MOBILE_POSTPAID,
            monthly_fee_minor=149900,
        ),
        ProductOffering(
            id=3,
            code="BIZ-MOB-799",
            name="Business Mobile 799",
            segment=Segment.ENTERPRISE,
            product_line=ProductLine.MOBILE_POSTPAID,
            monthly_fee_minor=79900,
        ),
        ProductOffering(
            id=4,
            code="FIBRE-100",
            name="Fibre 100",
            segment=Segment.CONSUMER,
            product_line=ProductLine.BROADBAND,
            monthly_fee_minor=79900,
            one_off_fee_minor=100000,
        ),
        Customer(
            id=2,
            name="Acme Logistics",
            segment=Segment.ENTERPRISE,
            id_document=IdDocument.GSTIN,
            id_number="27AAACA1234A1Z5",
            email="it@acme.example.in",
            phone="912200000002",
            address="2, BKC",
            city="Mumbai",
            region_id=1,
        ),
        BillingAccount(
            id=2,
            account_number="BA100000002",
            customer_id=2,
            credit_limit_minor=10_000_000,
            payment_method=PaymentMethod.NETBANKING,
        ),
        Interface(device_id=1, name="GigabitEthernet0/0/1", kind=InterfaceKind.ETHERNET),
        Interface(device_id=1, name="GigabitEthernet0/0/2", kind=InterfaceKind.ETHERNET),
        Interface(
            device_id=1,
            name="GigabitEthernet0/0/0",
            kind=InterfaceKind.ETHERNET,
            description="uplink",
            ip_address="10.0.1.1/30",
        ),
        Subscription(
            id=2,
            customer_id=1,
            billing_account_id=1,
            offering_id=4,
            circuit_id="MUM/FTTH/0000002",
            state=SubscriptionState.ACTIVE,
            site_id=1,
            device_id=1,
            port="GigabitEthernet0/0/2",
            activated_at=NOW,
        ),
    ]
    with db.transaction() as s:
        for row in rows:
            s.add(row)
            s.flush()
    reset_sequences(db)
    return db


@pytest.fixture
def shop(world: Database) -> Database:
    return more_world(world)


def router_for(db: Database, settings: Settings = SETTINGS) -> Router:
    return make_router(db, settings, clock=lambda: NOW)


def ask(router: Router, user: str, text: str):  # type: ignore[no-untyped-def]
    return router.handle(ACCESS.user(user), text)


def test_a_cheap_consumer_mobile_line_approves_itself_and_is_active(shop: Database) -> None:
    router = router_for(shop)
    reply = ask(router, "carol", "/order new BA100000001 POST-399")
    assert reply.text == "O-1: POST-399 for Priya Nair approved by policy; 917000000001 is active"
    assert ask(router, "carol", "/order new 919876543210 post-399").text.endswith(
        "917000000002 is active"
    )
    with shop.read() as s:
        order = get_order(s, "O-1")
        assert (order.state, order.decided_by, order.completed_at) == (
            OrderState.COMPLETED,
            "policy",
            NOW,
        )
        assert order.policy_note == "approved by policy: consumer order under ₹1,000.00"
        assert not order.requester_due  # carol saw it in her reply
        sub = s.get_one(Subscription, order.subscription_id)
        assert (sub.msisdn, sub.state, sub.activated_at, sub.billing_account_id) == (
            "917000000001",
            SubscriptionState.ACTIVE,
            NOW,
            1,
        )


def _overdue(db: Database) -> None:
    with db.transaction() as s:
        s.get_one(BillingAccount, 1).dunning_state = DunningState.REMINDED


def _near_the_limit(db: Database) -> None:
    with db.transaction() as s:
        s.get_one(BillingAccount, 1).balance_minor = 490_000


@pytest.mark.parametrize(
    ("setup", "text", "why"),
    [
        (None, "BA100000001 POST-1499", "first bill ₹1,499.00 is not below ₹1,000.00"),
        (None, "BA100000002 BIZ-MOB-799", "enterprise customer"),
        (
            _near_the_limit,
            "BA100000001 POST-399",
            "balance ₹4,900.00 plus ₹399.00 passes the credit limit ₹5,000.00",
        ),
        (_overdue, "BA100000001 POST-399", "account BA100000001 is overdue (reminded)"),
    ],
    ids=["over the amount", "enterprise", "credit risk", "overdue"],
)
def test_the_policy_sends_some_orders_to_a_manager(
    shop: Database, setup, text: str, why: str
) -> None:  # type: ignore[no-untyped-def]
    if setup:
        setup(shop)
    reply = ask(router_for(shop), "carol", f"/order new {text}")
    assert reply.ok and reply.text.endswith(f"waits for a manager ({why})")
    assert reply.hint == "it is in #orders for a manager to decide"
    assert [b.command for b in reply.buttons] == ["/order cancel O-1"]
    with shop.read() as s:
        order = get_order(s, "O-1")
        assert (order.state, order.channel_due, order.subscription_id) == (
            OrderState.PENDING,
            True,
            None,
        )


def test_the_policy_rules_can_be_switched_off(shop: Database) -> None:
    _overdue(shop)
    _near_the_limit(shop)
    relaxed = SETTINGS.model_copy(
        update={
            "orders": SETTINGS.orders.model_copy(
                update={"overdue_needs_manager": False, "credit_check": False}
            )
        }
    )
    reply = ask(router_for(shop, relaxed), "carol", "/order new BA100000001 POST-399")
    assert reply.text.endswith("approved by policy; 917000000001 is active")


@pytest.mark.parametrize(
    ("orders", "problem"),
    [
        ({"access_vlans": {"first": 3000, "last": 2000}}, "last (2000) is below first (3000)"),
        ({"msisdn_prefix": "12"}, "orders.msisdn_prefix: String should match pattern"),
        ({"manager_segments": ["vip"]}, "orders.manager_segments[0]: Input should be"),
        ({"auto_approve": 5}, "orders.auto_approve: unknown key"),
        ({"worker_interval_s": 0}, "orders.worker_interval_s: Input should be greater than 0"),
    ],
)
def test_the_order_settings_are_checked(orders: dict[str, object], problem: str) -> None:
    with pytest.raises(ConfigError) as err:
        parse_settings({"orders": orders}, Path("config.yaml"), env={})
    assert problem in err.value.problems[0]


def test_a_manager_other_than_the_requester_decides_once(shop: Database) -> None:
    router = router_for(shop)
    ref = ask(router, "dave", "/order new BA100000002 BIZ-MOB-799").meta["order"]
    own = ask(router, "dave", f"/order approve {ref}")
    assert (own.ok, own.text) == (
        False,
        f"dave requested {ref}; a manager other than dave must approve or reject it",
    )
    ref = ask(router, "carol", "/order new BA100000002 BIZ-MOB-799").meta["order"]
    for who in ("carol", "alice", "erin"):
        refused = ask(router, who, f"/order approve {ref}")
        assert not refused.ok and refused.text.startswith("/order approve needs the manager role")
    first = ask(router, "dave", f"/order approve {ref}")
    assert first.text == f"{ref} approved by dave; completed: 917000000001 is active"
    second = ask(router, "root", f"/order approve {ref}")
    assert (second.ok, second.text) == (
        False,
        f"order {ref} was already decided by dave (completed)",
    )
    with shop.read() as s:
        order = get_order(s, ref)
        assert (order.decided_by, order.requester_due) == ("dave", True)  # carol is told

    ref = ask(router, "carol", "/order new BA100000002 BIZ-MOB-799").meta["order"]
    rejected = ask(router, "dave", f'/order reject {ref} note="no PO yet"')
    assert rejected.text == f"{ref} rejected by dave"
    shown = ask(router, "carol", f"/order show {ref}")
    fields = {f.label: f.value for f in shown.sections[0].fields}
    assert (fields["state"], fields["decision note"]) == ("rejected", "no PO yet")
    assert shown.buttons == ()


def test_cancel_before_provisioning_by_the_requester_or_a_manager(shop: Database) -> None:
    router = router_for(shop)

    def pending() -> str:
        ref: str = ask(router, "carol", "/order new BA100000001 POST-1499").meta["order"]
        return ref

    ref = pending()
    other = ask(router, "alice", f"/order cancel {ref}")
    assert other.text == f"{ref} was requested by carol; only they or a manager may cancel it"
    assert ask(router, "erin", f"/order cancel {ref}").text.startswith("/order cancel needs")
    assert ask(router, "carol", f"/order cancel {ref}").text == f"{ref} cancelled by carol"
    again = ask(router, "carol", f"/order cancel {ref}")
    assert again.text == f"order {ref} is cancelled; it is over"
    ref = pending()
    assert ask(router, "dave", f"/order cancel {ref} note=duplicate").text == (
        f"{ref} cancelled by dave"
    )
    with shop.read() as s:
        assert get_order(s, ref).requester_due  # carol hears a manager cancelled it
    ref = pending()
    with shop.transaction() as s:
        move_order(s, ref, OrderState.IN_PROGRESS)
    started = ask(router, "dave", f"/order cancel {ref}")
    assert started.text == (
        f"order {ref} is inProgress; provisioning has started, so it cannot be cancelled"
    )


@pytest.mark.parametrize(
    ("text", "message", "hint"),
    [
        ("/order new", "missing <customer>", "usage: /order new <customer> <offering> "),
        ("/order new BA999 POST-399", "no billing account BA999", "account numbers look like"),
        ("/order new 'Priya Nair' POST-399", "'Priya Nair' does not name a customer", "use an"),
        ("/order new BA100000001 NOPE", "no offering 'NOPE'", "offerings: BIZ-MOB-799, FIBRE"),
        (
            "/order new BA100000001 POST-399 site:MUM-AND1 port:Gi0/0/1",
            "POST-399 is a mobile line; it needs no site or port",
            "leave out site: and port:",
        ),
        (
            "/order new BA100000001 FIBRE-100",
            "FIBRE-100 is a fixed line; say where it is delivered",
            "add site:CODE port:INTERFACE",
        ),
        ("/order new BA100000001 POST-399 today", "unexpected 'today'", "say where a fixed"),
        (
            "/order new BA100000001 BIZ-MOB-799",
            "BIZ-MOB-799 is an enterprise offering; Priya Nair is a consumer customer",
            "pick a consumer offering",
        ),
        (
            "/order new BA100000001 FIBRE-100 site:MUM-AND1 port:Gi0/0/9",
            "no port Gi0/0/9 on r1-mum at MUM-AND1",
            "/inventory interfaces site:MUM-AND1 free",
        ),
        (
            "/order new BA100000001 FIBRE-100 site:MUM-AND1 port:Gi0/0/0",
            "r1-mum GigabitEthernet0/0/0 is not a customer port (uplink)",
            "pick a free Ethernet port",
        ),
        (
            "/order new BA100000001 FIBRE-100 site:MUM-AND1 port:Gi0/0/2",
            "r1-mum GigabitEthernet0/0/2 is taken by circuit MUM/FTTH/0000002",
            "pick a free port",
        ),
        ("/order new BA100000001 FIBRE-100 site:XX port:Gi0/0/1", "no site XX", "site codes"),
        ("/order show O-99", "no order O-99", "check the number"),
        ("/order cancel", "missing <order>", "usage: /order cancel <order> [note=NOTE]"),
    ],
)
def test_bad_order_input_gets_one_line_and_a_hint(
    shop: Database, text: str, message: str, hint: str
) -> None:
    reply = ask(router_for(shop), "carol", text)
    assert (reply.ok, reply.text) == (False, message)
    assert reply.hint.startswith(hint)
    with shop.read() as s:
        assert s.scalar(sa.select(sa.func.count()).select_from(ProductOrder)) == 0


def test_a_fixed_order_waits_with_its_port_and_vlan_and_the_list_shows_it(shop: Database) -> None:
    router = router_for(shop)
    reply = ask(router, "carol", "/order new BA100000001 FIBRE-100 site:mum-and1 port:gi0/0/1")
    assert reply.text.endswith("waits for a manager (first bill ₹1,799.00 is not below ₹1,000.00)")
    shown = ask(router, "dave", "/order show O-1")
    fields = {f.label: f.value for f in shown.sections[0].fields}
    assert fields["where"] == "MUM-AND1 r1-mum GigabitEthernet0/0/1 vlan 2000"
    assert [b.command for b in shown.buttons] == ["/order approve O-1", "/order reject O-1"]
    listed = ask(router, "alice", "/order list pending")
    assert listed.text == "1 latest pending orders"
    assert listed.tables[0].rows == (
        ("O-1", "add", "pending", "Priya N.", "carol", "₹1,799.00", "2026-11-20"),
    )
    assert ask(router, "alice", "/order list completed").tables[0].rows == ()


def test_request_suspension_of_a_mobile_line_happens_in_the_callers_transaction(
    shop: Database,
) -> None:
    with pytest.raises(RuntimeError), shop.transaction() as s:  # the caller fails: nothing stays
        request_suspension(s, 1, reason="fraud confirmed", requested_by="erin", now=NOW)
        raise RuntimeError("the caller's own work failed")
    with shop.read() as s:
        assert s.get_one(Subscription, 1).state == SubscriptionState.ACTIVE
        assert s.scalar(sa.select(sa.func.count()).select_from(ProductOrder)) == 0

    with shop.transaction() as s:
        order = request_suspension(s, 1, reason="fraud confirmed", requested_by="erin", now=NOW)
        assert (order.action, order.state, order.decided_by) == (
            OrderAction.SUSPEND,
            OrderState.COMPLETED,
            "policy",
        )
        assert s.get_one(Subscription, 1).state == SubscriptionState.SUSPENDED
        ref = order.ref
    with shop.read() as s:
        order = get_order(s, ref)
        assert (order.note, order.subscription_id, order.completed_at) == (
            "fraud confirmed",
            1,
            NOW,
        )
    with pytest.raises(InvalidTransition, match="is already suspended"), shop.transaction() as s:
        request_suspension(s, 1, reason="again", requested_by="dunning", now=NOW)
    with shop.transaction() as s:
        resumed = request_resume(s, 1, reason="cleared", requested_by="erin", now=NOW)
        assert (resumed.action, resumed.state) == (OrderAction.RESUME, OrderState.COMPLETED)
    with shop.read() as s:
        sub = s.get_one(Subscription, 1)
        assert sub.state == SubscriptionState.ACTIVE and sub.activated_at != NOW  # not re-billed
    with pytest.raises(NotFound), shop.transaction() as s:
        request_suspension(s, 999, reason="x", requested_by="dunning", now=NOW)


def test_request_suspension_of_a_fixed_line_waits_for_the_provisioning_worker(
    shop: Database,
) -> None:
    with shop.transaction() as s:
        order = request_suspension(s, 2, reason="unpaid", requested_by="dunning", now=NOW)
        again = request_suspension(s, 2, reason="unpaid", requested_by="dunning", now=NOW)
        assert again.id == order.id
        assert (order.state, order.port, order.fulfilment_started_at) == (
            OrderState.IN_PROGRESS,
            "GigabitEthernet0/0/2",
            None,
        )
    with shop.read() as s:
        assert s.get_one(Subscription, 2).state == SubscriptionState.ACTIVE  # until the port shuts
