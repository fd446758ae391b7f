"""Orders on fixed lines end to end over real SSH to the lab: request, approval,
provisioning through the change workflow, verification, and the failures."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import sqlalchemy as sa

from automation.lab.lab import Lab
from bot.access import Access
from bot.bootstrap import Switchboard
from bot.orders import OrderWorker
from bot.outbound import Outbound
from bot.router import Router
from domain.catalog.choices import Segment
from domain.changes.choices import ChangeState
from domain.changes.models import ChangeRequest
from domain.customers.choices import AccountStatus, CustomerStatus, DunningState, SubscriptionState
from domain.customers.models import BillingAccount, Customer, Subscription
from domain.db import Database
from domain.faults.choices import TicketKind
from domain.faults.models import Ticket
from domain.orders.choices import OrderState
from domain.orders.models import ProductOrder
from domain.orders.services import get_order, request_resume, request_suspension
from tests.fakes.slack_api import FakeSlack
from tests.world import lab_router, lab_settings

NOW = datetime(2026, 11, 20, 9, 30, tzinfo=UTC)
PORT = "GigabitEthernet0/0/5"


def good_consumer(db: Database) -> str:
    """An account of a consumer in good standing, with room under its credit limit."""
    with db.read() as s:
        number = s.scalar(
            sa.select(BillingAccount.account_number)
            .join(Customer, Customer.id == BillingAccount.customer_id)
            .where(
                Customer.segment == Segment.CONSUMER,
                Customer.status == CustomerStatus.ACTIVE,
                BillingAccount.status == AccountStatus.ACTIVE,
                BillingAccount.dunning_state == DunningState.CURRENT,
                BillingAccount.balance_minor + 500_000 < BillingAccount.credit_limit_minor,
            )
            .order_by(BillingAccount.id)
            .limit(1)
        )
    assert number is not None
    return number


def order_fibre(router: Router, access: Access, account: str) -> str:
    """carol orders FIBRE-100 on r2-del (DEL-WOR1); it waits for a manager (₹1,799)."""
    reply = router.handle(
        access.user("carol"), f"/order new {account} FIBRE-100 site:DEL-WOR1 port:r2-del:Gi0/0/5"
    )
    assert reply.ok, reply.text
    assert "waits for a manager (first bill ₹1,799.00 is not below ₹1,000.00)" in reply.text
    return reply.meta["order"]


def test_a_fixed_line_goes_from_order_to_active_on_the_lab(lab_db: tuple[Database, Lab]) -> None:
    db, lab = lab_db
    router, access = lab_router(db)
    router.clock = lambda: NOW
    ref = order_fibre(router, access, good_consumer(db))
    assert "switchport access vlan" not in lab.configs["r2-del"].text()
    with db.read() as s:
        # The lowest VLAN no live line or open order holds on r2-del (the seed's open
        # orders wait on its upper ports).
        held = s.scalars(
            sa.select(ProductOrder.vlan).where(
                ProductOrder.device_id == get_order(s, ref).device_id,
                ProductOrder.id != get_order(s, ref).id,
            )
        ).all()
        vlan = min(set(range(2000, 3000)) - set(held))
        assert get_order(s, ref).vlan == vlan

    steps: list[str] = []
    reply = router.handle(access.user("dave"), f"/order approve {ref}", progress=steps.append)
    assert reply.ok, reply.text
    assert re.fullmatch(
        rf"{ref} approved by dave; completed: DEL/FTTH/O\d{{6}} is active "
        rf"\(r2-del {PORT} configured and verified\)",
        reply.text,
    )
    assert steps[0] == f"{ref}: customer_access_port on r2-del {PORT}"
    running = lab.configs["r2-del"].text()
    block = running.split(f"interface {PORT}\n", 1)[1].split("!", 1)[0]
    assert " switchport mode access\n" in block and f" switchport access vlan {vlan}\n" in block
    # A device's config is read widely: the port names the customer by first name and
    # initial after the circuit, never in full.
    assert re.search(r" description DEL/FTTH/O\d{6} [A-Z][a-z]+ [A-Z]\.\n", block), block
    assert f"switchport access vlan {vlan}" in lab.configs["r2-del"].startup_text()

    with db.read() as s:
        order = get_order(s, ref)
        assert (order.state, order.completed_at, order.vlan) == (OrderState.COMPLETED, NOW, vlan)
        sub = s.get_one(Subscription, order.subscription_id)
        assert (sub.state, sub.activated_at, sub.port) == (SubscriptionState.ACTIVE, NOW, PORT)
        change = s.get_one(ChangeRequest, order.change_request_id)
        assert (change.state, change.template) == (ChangeState.SUCCEEDED, "customer_access_port")
        assert order.requester_due  # carol has not heard yet: the worker tells her

    shown = router.handle(access.user("carol"), f"/order show {ref}")
    fields = {f.label: f.value for f in shown.sections[0].fields}
    assert fields["where"] == f"DEL-WOR1 r2-del {PORT} vlan {vlan}"
    assert fields["line"].endswith("(active)")
    again = router.handle(access.user("root"), f"/order approve {ref}")
    assert not again.ok and again.text == f"order {ref} was already decided by dave (completed)"
    taken = router.handle(
        access.user("carol"),
        f"/order new {good_consumer(db)} FIBRE-100 site:DEL-WOR1 port:r2-del:{PORT}",
    )
    assert not taken.ok and taken.text.startswith(f"r2-del {PORT} is taken by circuit DEL/FTTH/")


def test_a_rejected_line_fails_rolls_back_opens_a_ticket_and_tells_the_requester(
    lab_db: tuple[Database, Lab],
) -> None:
    db, lab = lab_db
    router, access = lab_router(db)
    before = lab.configs["r2-del"].text()
    lab.configs["r2-del"].faults.reject = re.compile(r"^switchport access vlan")
    ref = order_fibre(router, access, good_consumer(db))
    reply = router.handle(access.user("dave"), f"/order approve {ref}")
    assert re.fullmatch(
        rf"{ref} approved by dave; failed: r2-del {PORT}: .*refused.*; rolled back; T-\d+ opened",
        reply.text,
    ), reply.text
    assert lab.configs["r2-del"].text() == before  # partly applied, then put back

    with db.read() as s:
        order = get_order(s, ref)
        assert order.state == OrderState.FAILED and "rolled back" in (order.failure_reason or "")
        change = s.get_one(ChangeRequest, order.change_request_id)
        assert change.state == ChangeState.ROLLED_BACK
        sub = s.get_one(Subscription, order.subscription_id)
        assert (sub.state, sub.activated_at) == (SubscriptionState.TERMINATED, None)
        ticket = s.scalars(sa.select(Ticket).where(Ticket.subscription_id == sub.id)).one()
        assert ticket.kind == TicketKind.PROVISIONING and ticket.title.startswith(
            f"Provisioning failed: {ref} add DEL/FTTH/"
        )
        assert reply.text.endswith(f"{ticket.ref} opened")

    # serve's worker tells carol in a direct message, once.
    with FakeSlack() as slack:
        from slack_sdk import WebClient

        sb = Switchboard(lab_settings(), db, access, router, router.services)
        outbound = Outbound(WebClient(token="xoxb-test", base_url=slack.api_url))
        worker = OrderWorker(sb, outbound)
        first, second = worker.run_once(), worker.run_once()
        assert first is not None and first.told == 1 and second is not None and second.told == 0
        (opened,) = slack.calls_to("conversations.open")
        assert opened.params["users"] == "U0DEMOCAROL"
        (dm,) = [
            c for c in slack.calls_to("chat.postMessage") if c.params["channel"] == "DU0DEMOCAROL"
        ]
        assert dm.params["text"].startswith(f"Your order {ref} failed: r2-del {PORT}: ")
        outbound.stop()


def test_an_unreachable_device_fails_the_order_without_a_trace_left(
    lab_db: tuple[Database, Lab],
) -> None:
    db, lab = lab_db
    router, access = lab_router(db)
    lab.stop_device("r2-del")
    ref = order_fibre(router, access, good_consumer(db))
    reply = router.handle(access.user("dave"), f"/order approve {ref}")
    assert f"{ref} approved by dave; failed: r2-del {PORT}: " in reply.text
    with db.read() as s:
        assert get_order(s, ref).state == OrderState.FAILED
        assert s.scalar(
            sa.select(sa.func.count()).select_from(Ticket).where(Ticket.kind == "provisioning")
        )


def test_a_fixed_line_is_suspended_and_resumed_through_the_order_path(
    lab_db: tuple[Database, Lab],
) -> None:
    db, lab = lab_db
    router, access = lab_router(db)
    ref = order_fibre(router, access, good_consumer(db))
    assert router.handle(access.user("dave"), f"/order approve {ref}").ok
    with db.read() as s:
        sub_id = get_order(s, ref).subscription_id
    assert sub_id is not None

    with db.transaction() as s:  # dunning's transaction: the order is recorded, not yet run
        order = request_suspension(
            s, sub_id, reason="unpaid for 30 days", requested_by="dunning", now=NOW
        )
        suspend = order.ref
        assert order.state == OrderState.IN_PROGRESS and order.decided_by == "policy"
        again = request_suspension(s, sub_id, reason="again", requested_by="dunning", now=NOW)
        assert again.ref == suspend  # asked twice, done once
    with db.read() as s:
        assert s.get_one(Subscription, sub_id).state == SubscriptionState.ACTIVE

    provisioner = router.services.provisioner
    (report,) = provisioner.run_pending()
    assert (
        report.text.startswith(f"{suspend} completed: DEL/FTTH/") and "is suspended" in report.text
    )
    block = lab.configs["r2-del"].text().split(f"interface {PORT}\n", 1)[1].split("!", 1)[0]
    assert re.search(r"^ shutdown$", block, re.M) and " no shutdown" not in block
    assert provisioner.run_pending() == []  # nothing twice
    with db.read() as s:
        assert s.get_one(Subscription, sub_id).state == SubscriptionState.SUSPENDED

    with db.transaction() as s:
        resume = request_resume(s, sub_id, reason="paid", requested_by="dunning", now=NOW).ref
    (report,) = provisioner.run_pending()
    assert report.ref == resume and "is active again" in report.text
    block = lab.configs["r2-del"].text().split(f"interface {PORT}\n", 1)[1].split("!", 1)[0]
    assert not re.search(r"^ shutdown$", block, re.M)  # as IOS shows an open port
    with db.read() as s:
        assert s.get_one(Subscription, sub_id).state == SubscriptionState.ACTIVE
