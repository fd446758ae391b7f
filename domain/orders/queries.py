"""What order views show: an order's card, order lists, orders waiting for a manager.

Every function reads only and takes a session; `/order list`, the order card (chat
and the orders channel) and the digest's orders section all read through here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.orm import Session

from domain.catalog.choices import ProductLine, Segment
from domain.catalog.models import ProductOffering
from domain.changes.choices import ChangeState
from domain.changes.models import ChangeRequest
from domain.config import BillingSettings
from domain.customers.choices import DunningState, SubscriptionState
from domain.customers.models import BillingAccount, Customer, Subscription
from domain.db import get_by_ref
from domain.fraud.choices import CaseState
from domain.fraud.models import FraudCase
from domain.inventory.models import Device, Site
from domain.money import SPELLED_OUT, Amount
from domain.orders.choices import OPEN_ORDER_STATES, OrderAction, OrderState
from domain.orders.models import ProductOrder
from domain.privacy import Audience, mask_line, mask_name


@dataclass(frozen=True)
class OrderView:
    """An order as its card shows it: what, for whom, where, who decided, how it ended."""

    ref: str
    action: OrderAction
    state: OrderState
    customer: str
    segment: Segment
    #: The offering's code and name.
    offering: str | None
    offering_name: str | None
    monthly: Amount
    one_off: Amount
    requested_by: str
    created_at: datetime
    updated_at: datetime
    #: The line the order made or acts on, and its state.
    line: str | None
    line_state: SubscriptionState | None
    #: What the line holds: number and SIM, or device, port and VLAN (`ServiceView.holds`).
    service: str | None
    #: Where a fixed line is delivered.
    site: str | None
    device: str | None
    port: str | None
    vlan: int | None
    note: str | None
    #: What the approval policy said, amounts written out (left out of `--json`).
    policy_note: str | None = field(metadata=SPELLED_OUT)
    decided_by: str | None
    decided_at: datetime | None
    decision_note: str | None
    #: The change that configures a fixed line's access port.
    change: str | None
    change_state: ChangeState | None
    change_summary: str | None
    failure_reason: str | None


def order_view(
    session: Session,
    order_id: int,
    billing: BillingSettings | None = None,
    *,
    audience: Audience = Audience.CHANNEL,
) -> OrderView:
    """The order `order_id` as its card shows it to `audience`: an order's card is posted
    to a channel, so by default its customer is a first name and initial and its line and
    SIM show their last four digits."""
    order = session.get_one(ProductOrder, order_id)
    customer = session.get_one(Customer, order.customer_id)
    offering = session.get(ProductOffering, order.offering_id) if order.offering_id else None
    line = session.get_one(Subscription, order.subscription_id) if order.subscription_id else None
    device = session.get_one(Device, order.device_id) if order.device_id else None
    site = session.get_one(Site, device.site_id) if device else None
    change = (
        session.get_one(ChangeRequest, order.change_request_id) if order.change_request_id else None
    )
    return OrderView(
        ref=order.ref,
        action=order.action,
        state=order.state,
        customer=mask_name(customer.name) if audience == Audience.CHANNEL else customer.name,
        segment=customer.segment,
        offering=offering.code if offering else None,
        offering_name=offering.name if offering else None,
        monthly=Amount.of(order.monthly_minor, billing),
        one_off=Amount.of(order.one_off_minor, billing),
        requested_by=order.requested_by,
        created_at=order.created_at,
        updated_at=order.updated_at,
        line=(mask_line(line.identifier) if audience == Audience.CHANNEL else line.identifier)
        if line
        else None,
        line_state=line.state if line else None,
        service=service_of(session, line.id).shown_to(audience) if line else None,
        site=site.code if site else None,
        device=device.hostname if device else None,
        port=order.port,
        vlan=order.vlan,
        note=order.note,
        policy_note=order.policy_note,
        decided_by=order.decided_by,
        decided_at=order.decided_at,
        decision_note=order.decision_note,
        change=change.ref if change else None,
        change_state=change.state if change else None,
        change_summary=change.summary if change else None,
        failure_reason=order.failure_reason,
    )


def order_by_ref(
    session: Session,
    ref: str,
    billing: BillingSettings | None = None,
    *,
    audience: Audience = Audience.CHANNEL,
) -> OrderView:
    """The order a reference names (O-1042), as its card shows it to `audience`."""
    order_id = get_by_ref(session, ProductOrder, ref, "order").id
    return order_view(session, order_id, billing, audience=audience)


def order_by_key(session: Session, external_id: str) -> ProductOrder | None:
    """The order a caller's idempotency key made, if any."""
    return session.scalars(
        sa.select(ProductOrder).where(ProductOrder.external_id == external_id)
    ).first()


@dataclass(frozen=True)
class OrderRow:
    """One line of an order list."""

    ref: str
    action: OrderAction
    state: OrderState
    customer: str
    requested_by: str
    #: What the first bill charges for it: the one-off fee and a month.
    first_bill: Amount
    created_at: datetime


def list_orders(
    session: Session,
    state: OrderState | None = None,
    limit: int = 20,
    *,
    oldest_first: bool = False,
    billing: BillingSettings | None = None,
) -> list[OrderRow]:
    """Orders (in `state` when given): the latest placed first, or with `oldest_first`
    the one waiting longest first."""
    query = sa.select(ProductOrder, Customer.name).join(
        Customer, Customer.id == ProductOrder.customer_id
    )
    if state is not None:
        query = query.where(ProductOrder.state == state)
    order = (
        (ProductOrder.created_at, ProductOrder.id) if oldest_first else (ProductOrder.id.desc(),)
    )
    return [
        OrderRow(
            o.ref,
            o.action,
            o.state,
            mask_name(name),  # lists are read in channels and digests
            o.requested_by,
            Amount.of(o.one_off_minor + o.monthly_minor, billing),
            o.created_at,
        )
        for o, name in session.execute(query.order_by(*order).limit(limit))
    ]


@dataclass(frozen=True)
class OrderList:
    """What `/order list` shows: the latest orders, and how many there are in all."""

    total: int
    orders: list[OrderRow]


def order_list(
    session: Session,
    state: OrderState | None = None,
    limit: int = 20,
    billing: BillingSettings | None = None,
) -> OrderList:
    """`list_orders` (latest first) with `count_orders` of the same state."""
    return OrderList(
        count_orders(session, state), list_orders(session, state, limit, billing=billing)
    )


def count_orders(session: Session, state: OrderState | None = None) -> int:
    """How many orders there are (in `state` when given)."""
    query = sa.select(sa.func.count()).select_from(ProductOrder)
    if state is not None:
        query = query.where(ProductOrder.state == state)
    return int(session.scalar(query) or 0)


# -- what a line holds, and which access ports are in use -----------------------------------


def ports_in_use(session: Session, device_ids: list[int]) -> dict[tuple[int, str], str]:
    """(device id, port) -> what holds it: a live line's circuit ("circuit X") or an open
    order for a new line ("order O-N"). A ceased line (terminated) holds nothing.

    The one reading of "taken" for ordering a port and for `/inventory interfaces free`."""
    held: dict[tuple[int, str], str] = {}
    for device_id, port, order_id in session.execute(
        sa.select(ProductOrder.device_id, ProductOrder.port, ProductOrder.id).where(
            ProductOrder.device_id.in_(device_ids),
            ProductOrder.port.is_not(None),
            ProductOrder.action == OrderAction.ADD,
            ProductOrder.state.in_(OPEN_ORDER_STATES),
        )
    ):
        if device_id is not None and port:
            held[(device_id, port)] = f"order {ProductOrder.ref_prefix}-{order_id}"
    for device_id, port, circuit in session.execute(
        sa.select(Subscription.device_id, Subscription.port, Subscription.circuit_id).where(
            Subscription.device_id.in_(device_ids),
            Subscription.port.is_not(None),
            Subscription.state != SubscriptionState.TERMINATED,
        )
    ):
        if device_id is not None and port:
            held[(device_id, port)] = f"circuit {circuit}"
    return held


@dataclass(frozen=True)
class ServiceView:
    """What a line holds, as its records say: a number and SIM (mobile), or an access
    device, port and VLAN (fixed line, enterprise access)."""

    line: str
    state: SubscriptionState
    fixed: bool
    msisdn: str | None
    sim: str | None
    device: str | None
    port: str | None
    vlan: int | None

    def shown_to(self, audience: Audience) -> str:
        """`holds` for `audience`: in a channel the number and SIM show their last four
        digits; a SIM is shown in full only to a reader who may see personal data."""
        if self.fixed:
            return self.holds
        number = self.msisdn or "-"
        if audience == Audience.CHANNEL:
            number = mask_line(number)
        sim = "none recorded"
        if self.sim:
            sim = self.sim if audience == Audience.FULL else mask_line(self.sim)
        return f"number {number}, SIM {sim}"

    @property
    def holds(self) -> str:
        """In words: "number 917000000001, SIM 404450000000001" or "r2-del Gi0/0/5 VLAN 2000"."""
        if not self.fixed:
            return f"number {self.msisdn or '-'}, SIM {self.sim or 'none recorded'}"
        if self.device is None:
            return "no access port recorded"
        vlan = f" VLAN {self.vlan}" if self.vlan is not None else " (no VLAN recorded)"
        return f"{self.device} {self.port}{vlan}"


def service_of(session: Session, subscription_id: int) -> ServiceView:
    """A line's service record: its number and SIM, or its device, port and VLAN."""
    sub = session.get_one(Subscription, subscription_id)
    offering = session.get_one(ProductOffering, sub.offering_id)
    device = session.get(Device, sub.device_id) if sub.device_id else None
    return ServiceView(
        line=sub.identifier,
        state=sub.state,
        fixed=ProductLine(offering.product_line).fixed,
        msisdn=sub.msisdn,
        sim=sub.imsi,
        device=device.hostname if device else None,
        port=sub.port,
        vlan=sub.vlan,
    )


# -- why a line is suspended -------------------------------------------------------------------

#: The name billing's dunning run asks for debt suspensions and resumptions under
#: (`domain.billing.services.DUNNING_ACTOR`; billing imports orders, so it is repeated here).
DEBT_ACTOR = "dunning"


class SuspendedFor(StrEnum):
    """Why a line was suspended: the order that stopped it says who asked."""

    CUSTOMER = "customer"
    FRAUD = "fraud"
    DEBT = "debt"


@dataclass(frozen=True)
class Suspension:
    """Why a suspended line is suspended, and what still holds it."""

    line: str
    reason: SuspendedFor
    #: The order that suspended it.
    order: str | None
    #: The fraud case that holds it (confirmed since the line was last resumed), and who
    #: confirmed it.
    fraud_case: str | None
    confirmed_by: str | None
    account: str
    #: The account's dunning state while it holds the line (suspended for debt, or the
    #: debt that suspended the line not yet paid); None when the account holds nothing.
    dunning: DunningState | None

    @property
    def because(self) -> str:
        """In words: "suspended for fraud (F-3, confirmed by erin)"."""
        if self.reason == SuspendedFor.FRAUD:
            return f"suspended for fraud ({self.fraud_case}, confirmed by {self.confirmed_by})"
        if self.reason == SuspendedFor.DEBT:
            return "suspended for debt"
        return "suspended at the customer's request"

    def why(self, account: str | None = None) -> str:
        """Why, as a line's state reads on: "for fraud (case F-3)", "for debt on account
        BA100000001", "at the customer's request, and account BA100000001 is in dunning
        (suspended)". `account` is the account as the reader may see it (masked in a
        channel); the case's analyst is left out."""
        shown = account or self.account
        if self.reason == SuspendedFor.FRAUD:
            said = f"for fraud (case {self.fraud_case})"
        elif self.reason == SuspendedFor.DEBT:
            said = f"for debt on account {shown}"
        else:
            said = "at the customer's request"
        if self.dunning is not None and self.reason != SuspendedFor.DEBT:
            said += f", and account {shown} is in dunning ({self.dunning})"
        return said


def fraud_hold(session: Session, subscription_id: int) -> FraudCase | None:
    """The fraud case that holds the line: the latest case on it confirmed since the line
    was last resumed (or ever, if it never was). Confirming suspends an active line, and a
    line already suspended (for debt, at the customer's request) stays suspended, now for
    fraud too; only a resumption lifts it."""
    resumed = session.scalar(
        sa.select(sa.func.max(ProductOrder.created_at)).where(
            ProductOrder.subscription_id == subscription_id,
            ProductOrder.action == OrderAction.RESUME,
            ProductOrder.state.in_((OrderState.COMPLETED, OrderState.IN_PROGRESS)),
        )
    )
    query = sa.select(FraudCase).where(
        FraudCase.subscription_id == subscription_id,
        FraudCase.state == CaseState.CONFIRMED,
    )
    if resumed is not None:
        # At the same instant (a pinned clock) the case holds: a fraud hold is never
        # missed for want of a microsecond.
        query = query.where(FraudCase.decided_at >= resumed)
    return session.scalars(query.order_by(FraudCase.id.desc()).limit(1)).first()


def suspension_of(session: Session, subscription_id: int) -> Suspension | None:
    """Why the line is suspended (None when it is not): a fraud case confirmed since it was
    last resumed (`fraud_hold`) makes it fraud, whatever stopped it; otherwise the latest
    order that suspended it (asked for by dunning: debt; otherwise the customer's wish).
    The account's dunning holds it too while the account is suspended, or while the debt
    that suspended the line is unpaid."""
    sub = session.get_one(Subscription, subscription_id)
    if sub.state != SubscriptionState.SUSPENDED:
        return None
    account = session.get_one(BillingAccount, sub.billing_account_id)
    order = session.scalars(
        sa.select(ProductOrder)
        .where(
            ProductOrder.subscription_id == sub.id,
            ProductOrder.action == OrderAction.SUSPEND,
            ProductOrder.state.in_((OrderState.COMPLETED, OrderState.IN_PROGRESS)),
        )
        .order_by(ProductOrder.id.desc())
        .limit(1)
    ).first()
    for_debt = order is not None and order.requested_by == DEBT_ACTOR
    case = fraud_hold(session, sub.id)
    reason = (
        SuspendedFor.FRAUD if case else SuspendedFor.DEBT if for_debt else SuspendedFor.CUSTOMER
    )
    held = account.dunning_state == DunningState.SUSPENDED or (
        for_debt and account.dunning_state != DunningState.CURRENT
    )
    return Suspension(
        line=sub.identifier,
        reason=reason,
        order=order.ref if order else None,
        fraud_case=case.ref if case else None,
        confirmed_by=case.decided_by if case else None,
        account=account.account_number,
        dunning=account.dunning_state if held else None,
    )
