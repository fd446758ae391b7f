"""Order services: TMF622 lifecycle, the approval policy, and fulfilment in the database.

An order is acknowledged, then either approved by the policy (-> inProgress) or left
pending for a manager other than the requester. Fulfilment is claimed once
(`claim_fulfilment`), so a line is never provisioned twice, and ends in
`complete_order` (the subscription moves: active, suspended, active again) or
`fail_order` (a provisioning ticket is opened). Orders that touch no device (mobile
lines, suspensions of mobile lines) are fulfilled in place, inside the caller's
transaction; orders on a fixed line's access port are fulfilled by the automation
layer (automation/provisioning.py), which pushes the change and then calls back here.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from domain import policy
from domain.approvals import require_second_person
from domain.catalog.choices import ProductLine, Segment
from domain.catalog.models import ProductOffering
from domain.config import BillingSettings, OrderSettings, Role, TicketSettings
from domain.customers.choices import (
    SUBSCRIPTION_LIFECYCLE,
    AccountStatus,
    CustomerStatus,
    DunningState,
    SubscriptionState,
)
from domain.customers.models import BillingAccount, Customer, Subscription
from domain.customers.services import move_subscription
from domain.db import Database, get_by_ref, utcnow
from domain.errors import DomainError, InvalidTransition, NotFound, PolicyViolation
from domain.faults.choices import TicketKind
from domain.faults.models import Ticket
from domain.faults.services import TITLE_MAX, open_ticket
from domain.inventory.choices import DeviceRole, DeviceStatus, InterfaceKind
from domain.inventory.models import Device, Interface, Region, Site
from domain.lookup import ORDER_CUSTOMER, SubjectKind, resolve_subject
from domain.messages import due_in_channel, due_to_requester
from domain.money import money
from domain.orders.choices import (
    CANCELLABLE_ORDER_STATES,
    OPEN_ORDER_STATES,
    ORDER_LIFECYCLE,
    OrderAction,
    OrderState,
)
from domain.orders.models import ProductOrder
from domain.orders.queries import SuspendedFor, ports_in_use, suspension_of
from domain.privacy import mask_name, mask_text
from domain.words import a

#: Who decides the orders the approval policy approves by itself.
SYSTEM = "policy"


def create_order(
    session: Session,
    *,
    customer_id: int,
    requested_by: str,
    action: OrderAction = OrderAction.ADD,
    offering_id: int | None = None,
    subscription_id: int | None = None,
    site_id: int | None = None,
    device_id: int | None = None,
    port: str | None = None,
    vlan: int | None = None,
    one_off_minor: int = 0,
    monthly_minor: int = 0,
    note: str | None = None,
    external_id: str | None = None,
    now: datetime | None = None,
) -> ProductOrder:
    now = now or utcnow()
    order = ProductOrder(
        action=action,
        state=OrderState.ACKNOWLEDGED,
        customer_id=customer_id,
        offering_id=offering_id,
        subscription_id=subscription_id,
        site_id=site_id,
        device_id=device_id,
        port=port,
        vlan=vlan,
        one_off_minor=one_off_minor,
        monthly_minor=monthly_minor,
        requested_by=requested_by,
        note=mask_text(note) if note else None,
        external_id=external_id,
        created_at=now,
        updated_at=now,
    )
    session.add(order)
    session.flush()
    return order


def get_order(session: Session, ref: str) -> ProductOrder:
    return get_by_ref(session, ProductOrder, ref, "order")


def _moved(order: ProductOrder, to: OrderState, now: datetime) -> None:
    ORDER_LIFECYCLE.check(order.ref, order.state, to)
    order.state = to
    order.updated_at = now
    if to == OrderState.COMPLETED:
        order.completed_at = now
    # A pending order is announced in the orders channel; once it is there, every
    # later move brings its message up to date.
    if to == OrderState.PENDING or order.slack_ts:
        order.channel_due = True


def move_order(
    session: Session,
    ref: str,
    to: OrderState,
    now: datetime | None = None,
    reason: str | None = None,
) -> ProductOrder:
    """Move an order along its lifecycle (provisioning, completion, failure, hold)."""
    now = now or utcnow()
    order = get_order(session, ref)
    _moved(order, to, now)
    if to == OrderState.FAILED:
        order.failure_reason = reason
    return order


def decide_order(
    session: Session,
    ref: str,
    approver: str,
    approve: bool,
    note: str = "",
    now: datetime | None = None,
) -> ProductOrder:
    """Approve (-> inProgress) or reject an order; the requester cannot decide their own."""
    now = now or utcnow()
    order = get_order(session, ref)
    require_second_person(
        order.ref,
        approver,
        [(order.requested_by, "requested")],
        who="a manager",
        hint="ask another manager",
    )
    to = OrderState.IN_PROGRESS if approve else OrderState.REJECTED
    if order.state != OrderState.PENDING and order.decided_by:
        raise PolicyViolation(
            f"order {order.ref} was already decided by {order.decided_by} ({order.state})"
        )
    _moved(order, to, now)
    order.decided_by = approver
    order.decided_at = now
    order.decision_note = mask_text(note) or None
    if not approve:
        order.requester_due = True
    return order


@dataclass(frozen=True)
class OrderDecided:
    """What a manager's (or requester's) decision on an order left it as."""

    order: str
    state: OrderState
    #: Who took this step.
    by: str
    at: datetime
    note: str | None


def approve_order(
    db: Database, ref: str, approver: str, *, note: str = "", now: datetime
) -> OrderDecided:
    """Approve a pending order (-> inProgress; fulfilment follows), in one transaction."""
    with db.transaction() as s:
        order = decide_order(s, ref, approver, approve=True, note=note, now=now)
        return OrderDecided(order.ref, order.state, approver, now, order.decision_note)


def reject_order(
    db: Database, ref: str, approver: str, *, note: str = "", now: datetime
) -> OrderDecided:
    """Reject a pending order; its requester hears why. One transaction."""
    with db.transaction() as s:
        order = decide_order(s, ref, approver, approve=False, note=note, now=now)
        return OrderDecided(order.ref, order.state, approver, now, order.decision_note)


def cancel_order(
    db: Database,
    ref: str,
    actor: str,
    *,
    manager: bool,
    note: str = "",
    now: datetime,
) -> OrderDecided:
    """Cancel an order before provisioning starts (its requester, or a manager), in one
    transaction."""
    with db.transaction() as s:
        order = get_order(s, ref)
        if actor != order.requested_by and not manager:
            raise PolicyViolation(
                f"{order.ref} was requested by {order.requested_by}; only they or a manager "
                "may cancel it",
                hint=f"ask {order.requested_by} or a manager",
            )
        if order.state not in CANCELLABLE_ORDER_STATES:
            started = order.state == OrderState.IN_PROGRESS
            raise InvalidTransition(
                f"order {order.ref} is {order.state}; "
                + (
                    "provisioning has started, so it cannot be cancelled"
                    if started
                    else "it is over"
                ),
                hint="once it completes, order a cease or suspension instead"
                if started
                else f"/order show {order.ref}",
            )
        _moved(order, OrderState.CANCELLED, now)
        order.decided_by = order.decided_by or actor
        order.decided_at = order.decided_at or now
        order.decision_note = mask_text(note) or order.decision_note
        order.requester_due = actor != order.requested_by
        return OrderDecided(order.ref, order.state, actor, now, order.decision_note)


# -- what an order names: customer, offering, access port -------------------------------


def find_customer(session: Session, text: str) -> Customer:
    """Whom an order is for: an account number, one of their lines, or a customer id (C-12).

    Not a name: an order makes a billed line, and a name may match someone else tomorrow.
    """
    subject = resolve_subject(session, text, ORDER_CUSTOMER)
    return session.get_one(Customer, subject.customer_id)


def find_offering(session: Session, code: str) -> ProductOffering:
    found = session.scalars(
        sa.select(ProductOffering).where(
            sa.func.upper(ProductOffering.code) == code.strip().upper(),
            ProductOffering.active.is_(True),
        )
    ).one_or_none()
    if found is None:
        codes = session.scalars(
            sa.select(ProductOffering.code)
            .where(ProductOffering.active.is_(True))
            .order_by(ProductOffering.code)
        ).all()
        raise NotFound(f"no offering {code!r}", hint=f"offerings: {', '.join(codes)}")
    return found


def account_of(session: Session, customer: Customer) -> BillingAccount:
    """The account a customer's new lines are billed to: the oldest one still open."""
    account = session.scalars(
        sa.select(BillingAccount)
        .where(
            BillingAccount.customer_id == customer.id,
            BillingAccount.status != AccountStatus.CLOSED,
        )
        .order_by(BillingAccount.id)
        .limit(1)
    ).first()
    if account is None:
        raise PolicyViolation(
            f"{customer.name} has no open billing account", hint="open an account first"
        )
    return account


def _same_port(typed: str, name: str) -> bool:
    """'Gi0/0/5' names GigabitEthernet0/0/5, as on the device's own CLI."""
    if typed.lower() == name.lower():
        return True
    m = re.fullmatch(r"([A-Za-z-]+)([0-9][0-9/.:]*)", typed)
    n = re.fullmatch(r"([A-Za-z-]+)([0-9][0-9/.:]*)", name)
    return bool(
        m and n and m.group(2) == n.group(2) and n.group(1).lower().startswith(m.group(1).lower())
    )


def find_access_port(session: Session, site_code: str, port: str) -> tuple[Site, Device, str]:
    """The access device at a site with the port named (`IFACE`, or `HOST:IFACE`)."""
    site = session.scalars(sa.select(Site).where(Site.code == site_code.strip().upper())).first()
    if site is None:
        raise NotFound(
            f"no site {site_code}", hint="site codes look like MUM-AND1: /inventory site"
        )
    host, _, iface = port.strip().rpartition(":")
    devices = session.scalars(
        sa.select(Device)
        .where(
            Device.site_id == site.id,
            Device.role == DeviceRole.ACCESS,
            Device.status == DeviceStatus.ACTIVE,
        )
        .order_by(Device.hostname)
    ).all()
    if host:
        devices = [d for d in devices if d.hostname == host.lower()]
    if not devices:
        raise NotFound(
            f"no active access device {host + ' ' if host else ''}at {site.code}",
            hint=f"/inventory site {site.code} lists its devices",
        )
    found = [
        (d, i)
        for d in devices
        for i in session.scalars(sa.select(Interface).where(Interface.device_id == d.id))
        if _same_port(iface, i.name)
    ]
    if not found:
        raise NotFound(
            f"no port {iface} on {', '.join(d.hostname for d in devices)} at {site.code}",
            hint=f"/inventory interfaces site:{site.code} free lists the free ports",
        )
    if len(found) > 1:
        # The same port name on two access devices: the free one, if only one is free
        # (the reply names the device, so nothing is guessed silently).
        held = ports_in_use(session, [d.id for d in devices])
        free = [(d, i) for d, i in found if (d.id, i.name) not in held]
        found = free if len(free) == 1 else found
    if len(found) > 1:
        raise DomainError(
            f"{iface} is on {len(found)} devices at {site.code}",
            hint=f"name the device: port:{found[0][0].hostname}:{found[0][1].name}",
        )
    device, interface = found[0]
    if interface.kind != InterfaceKind.ETHERNET or interface.ip_address:
        raise PolicyViolation(
            f"{device.hostname} {interface.name} is not a customer port "
            f"({interface.description or interface.kind})",
            hint=f"pick a free Ethernet port: /inventory interfaces {device.hostname} free",
        )
    taken = ports_in_use(session, [device.id]).get((device.id, interface.name))
    if taken:
        raise PolicyViolation(
            f"{device.hostname} {interface.name} is taken by {taken}",
            hint=f"pick a free port: /inventory interfaces {device.hostname} free",
        )
    return site, device, interface.name


def free_vlan(session: Session, device_id: int, orders: OrderSettings) -> int:
    """The lowest customer VLAN on the device that no open order for a new line and no
    live line holds (a ceased line's VLAN is free again)."""
    used = set(
        session.scalars(
            sa.select(ProductOrder.vlan)
            .outerjoin(Subscription, Subscription.id == ProductOrder.subscription_id)
            .where(
                ProductOrder.device_id == device_id,
                ProductOrder.action == OrderAction.ADD,
                ProductOrder.vlan.is_not(None),
                sa.or_(
                    ProductOrder.state.in_(OPEN_ORDER_STATES),
                    sa.and_(
                        ProductOrder.state == OrderState.COMPLETED,
                        Subscription.state != SubscriptionState.TERMINATED,
                    ),
                ),
            )
        )
    )
    used.update(
        session.scalars(
            sa.select(Subscription.vlan).where(
                Subscription.device_id == device_id,
                Subscription.vlan.is_not(None),
                Subscription.state != SubscriptionState.TERMINATED,
            )
        )
    )
    vlans = orders.access_vlans
    for vlan in range(vlans.first, vlans.last + 1):
        if vlan not in used:
            return vlan
    raise PolicyViolation(
        f"every customer VLAN {vlans.first}-{vlans.last} is in use on this device",
        hint="widen orders.access_vlans in config.yaml",
    )


def next_msisdn(session: Session, prefix: str) -> str:
    """The next free mobile number starting with `prefix` (the unique index guards races)."""
    top = session.scalar(
        sa.select(sa.func.max(Subscription.msisdn)).where(
            Subscription.msisdn.like(prefix + "%"), sa.func.length(Subscription.msisdn) == 12
        )
    )
    number = int(top) + 1 if top else int(prefix.ljust(12, "0")) + 1
    msisdn = str(number)
    if not msisdn.startswith(prefix):
        raise PolicyViolation(
            f"no mobile numbers are left starting with {prefix}",
            hint="set another orders.msisdn_prefix in config.yaml",
        )
    return msisdn


#: The home network of new SIMs (MCC 404, MNC 45): an IMSI is these and ten digits.
HOME_PLMN = "40445"


def next_imsi(session: Session) -> str:
    """The SIM (IMSI) for a new mobile line: the next after the highest one issued."""
    top = session.scalar(
        sa.select(sa.func.max(Subscription.imsi)).where(
            Subscription.imsi.like(HOME_PLMN + "%"), sa.func.length(Subscription.imsi) == 15
        )
    )
    return str(int(top) + 1) if top else HOME_PLMN + "0000000001"


def is_fixed(session: Session, order: ProductOrder) -> bool:
    """The order is for a fixed line or enterprise access (a circuit on an access port)."""
    if order.offering_id is None:
        return order.device_id is not None
    return ProductLine(session.get_one(ProductOffering, order.offering_id).product_line).fixed


#: What names a line to suspend, resume or cease: its number or circuit id.
ORDER_LINE = frozenset({SubjectKind.MOBILE, SubjectKind.CIRCUIT})


def find_line(session: Session, text: str) -> Subscription:
    """The line a number or circuit id names (`/order suspend|resume|cease`)."""
    subject = resolve_subject(session, text, ORDER_LINE)
    return session.get_one(Subscription, subject.subscription_id)


# -- the approval policy ------------------------------------------------------------------


@dataclass(frozen=True)
class PolicyDecision:
    """Whether an order approves itself, and why a manager must decide when not."""

    approve: bool
    reasons: tuple[str, ...]

    @property
    def note(self) -> str:
        if self.approve:
            return "approved by policy: " + "; ".join(self.reasons)
        return "a manager decides: " + "; ".join(self.reasons)


def approval_policy(
    order: ProductOrder,
    customer: Customer,
    account: BillingAccount,
    orders: OrderSettings,
    billing: BillingSettings,
) -> PolicyDecision:
    """Apply the configured policy (`orders` and `billing.auto_approve_below`)."""
    if order.action in (OrderAction.SUSPEND, OrderAction.RESUME):
        return PolicyDecision(True, (f"{order.action} orders are carried out as asked",))
    if order.action == OrderAction.TERMINATE:
        # A cease ends a billed line for good: the same segments that need a manager to
        # start one need a manager to end one.
        if customer.segment.value in orders.manager_segments:
            return PolicyDecision(False, (f"cease of {a(customer.segment)} customer's line",))
        return PolicyDecision(True, ("cease orders of consumer lines are carried out as asked",))
    amount = order.one_off_minor + order.monthly_minor
    reasons = []
    if customer.segment.value in orders.manager_segments:
        reasons.append(f"{customer.segment} customer")
    if orders.overdue_needs_manager and account.dunning_state != DunningState.CURRENT:
        reasons.append(f"account {account.account_number} is overdue ({account.dunning_state})")
    if orders.credit_check and account.balance_minor + amount > account.credit_limit_minor:
        reasons.append(
            f"balance {money(account.balance_minor, billing)} plus {money(amount, billing)} "
            f"passes the credit limit {money(account.credit_limit_minor, billing)}"
        )
    limit = round(billing.auto_approve_below * 10**billing.minor_digits)
    if customer.segment == Segment.CONSUMER and amount >= limit:
        reasons.append(f"first bill {money(amount, billing)} is not below {money(limit, billing)}")
    if reasons:
        return PolicyDecision(False, tuple(reasons))
    return PolicyDecision(True, (f"{customer.segment} order under {money(limit, billing)}",))


def request_order(
    session: Session,
    *,
    customer: str,
    offering: str,
    requested_by: str,
    orders: OrderSettings,
    billing: BillingSettings,
    site: str | None = None,
    port: str | None = None,
    note: str | None = None,
    external_id: str | None = None,
    now: datetime | None = None,
) -> ProductOrder:
    """A new line for a customer, checked and put through the approval policy.

    The order comes back pending (a manager decides), inProgress (approved; a fixed
    line waits for provisioning) or completed (a mobile line, activated at once).
    """
    now = now or utcnow()
    who = find_customer(session, customer)
    product = find_offering(session, offering)
    if who.status != CustomerStatus.ACTIVE:
        raise PolicyViolation(f"{who.name} is {who.status}; new lines need an active customer")
    if product.segment != who.segment:
        raise PolicyViolation(
            f"{product.code} is {a(product.segment)} offering; {who.name} is {a(who.segment)} "
            "customer",
            hint=f"pick {a(who.segment)} offering",
        )
    account = account_of(session, who)
    fixed = ProductLine(product.product_line).fixed
    if fixed and not (site and port):
        raise DomainError(
            f"{product.code} is a fixed line; say where it is delivered",
            hint="add site:CODE port:INTERFACE, e.g. site:TN-WHI1 port:Gi0/0/5",
        )
    if not fixed and (site or port):
        raise DomainError(
            f"{product.code} is a mobile line; it needs no site or port",
            hint="leave out site: and port:",
        )
    where: dict[str, object] = {}
    if fixed:
        assert site and port
        at, device, interface = find_access_port(session, site, port)
        where = {
            "site_id": at.id,
            "device_id": device.id,
            "port": interface,
            "vlan": free_vlan(session, device.id, orders),
        }
    order = create_order(
        session,
        customer_id=who.id,
        offering_id=product.id,
        requested_by=requested_by,
        one_off_minor=product.one_off_fee_minor,
        monthly_minor=product.monthly_fee_minor,
        note=note,
        external_id=external_id,
        now=now,
        **where,  # type: ignore[arg-type]
    )
    decision = approval_policy(order, who, account, orders, billing)
    order.policy_note = decision.note
    if not decision.approve:
        _moved(order, OrderState.PENDING, now)
        return order
    _approve_by_policy(order, now)
    if not needs_network(order):
        fulfil_in_place(session, order.ref, orders=orders, now=now, tell=False)
    return order


def _approve_by_policy(order: ProductOrder, now: datetime) -> None:
    _moved(order, OrderState.IN_PROGRESS, now)
    order.decided_by = SYSTEM
    order.decided_at = now


# -- fulfilment -----------------------------------------------------------------------------


def needs_network(order: ProductOrder) -> bool:
    """Orders on a fixed line's access port change a device; the others only the database."""
    return (
        order.device_id is not None
        and bool(order.port)
        and order.action
        in (
            OrderAction.ADD,
            OrderAction.SUSPEND,
            OrderAction.RESUME,
            OrderAction.TERMINATE,
        )
    )


def unplaced_fixed_line(session: Session, order: ProductOrder) -> str | None:
    """Why a new fixed line cannot be provisioned: it names no access port (an order
    recorded without one). None when it can. A fixed line never becomes a mobile number."""
    if order.action != OrderAction.ADD or order.device_id is not None:
        return None
    if not is_fixed(session, order):
        return None
    code = session.get_one(ProductOffering, order.offering_id).code
    return (
        f"{code} is a fixed line and {order.ref} names no access port, so nothing was "
        "provisioned; order it again with site:CODE port:INTERFACE"
    )


def orders_to_fulfil(session: Session, limit: int = 50) -> list[str]:
    """Approved orders nobody has started fulfilling, oldest first."""
    ids = session.scalars(
        sa.select(ProductOrder.id)
        .where(
            ProductOrder.state == OrderState.IN_PROGRESS,
            ProductOrder.fulfilment_started_at.is_(None),
        )
        .order_by(ProductOrder.id)
        .limit(limit)
    ).all()
    return [f"{ProductOrder.ref_prefix}-{i}" for i in ids]


def claim_fulfilment(
    session: Session, ref: str, *, orders: OrderSettings | None = None, now: datetime | None = None
) -> ProductOrder | None:
    """Start fulfilling an approved order; None when someone else already has.

    A new line gets its subscription here (pendingActive, with its number or circuit).
    """
    now = now or utcnow()
    order = get_order(session, ref)
    if order.state != OrderState.IN_PROGRESS:
        raise InvalidTransition(
            f"order {order.ref} is {order.state}; only an approved order is fulfilled"
        )
    claimed = session.execute(
        sa.update(ProductOrder)
        .where(
            ProductOrder.id == order.id,
            ProductOrder.state == OrderState.IN_PROGRESS,
            ProductOrder.fulfilment_started_at.is_(None),
        )
        .values(fulfilment_started_at=now, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        return None
    session.refresh(order)
    if order.action == OrderAction.ADD and order.subscription_id is None:
        order.subscription_id = _new_subscription(session, order, orders or OrderSettings(), now).id
    return order


def _new_subscription(
    session: Session, order: ProductOrder, orders: OrderSettings, now: datetime
) -> Subscription:
    customer = session.get_one(Customer, order.customer_id)
    product = session.get_one(ProductOffering, order.offering_id)
    sub = Subscription(
        customer_id=customer.id,
        billing_account_id=account_of(session, customer).id,
        offering_id=product.id,
        state=SubscriptionState.PENDING_ACTIVE,
        created_at=now,
    )
    if ProductLine(product.product_line).fixed:
        if order.device_id is None or not order.port:
            raise PolicyViolation(unplaced_fixed_line(session, order) or f"{order.ref} has no port")
        region = session.scalar(
            sa.select(Region.code)
            .join(Site, Site.region_id == Region.id)
            .where(Site.id == order.site_id)
        )
        kind = "ILL" if product.product_line == ProductLine.LEASED_LINE else "FTTH"
        sub.circuit_id = f"{region or 'XX'}/{kind}/O{order.id:06d}"
        sub.site_id, sub.device_id, sub.port = order.site_id, order.device_id, order.port
        sub.vlan = order.vlan
    else:
        sub.msisdn = next_msisdn(session, orders.msisdn_prefix)
        sub.imsi = next_imsi(session)
    session.add(sub)
    session.flush()
    return sub


def port_description(session: Session, order: ProductOrder) -> str:
    """What the access port says about its customer: circuit id and the name as a first
    name and initial (device configs are read and shown widely), CLI-safe."""
    sub = session.get_one(Subscription, order.subscription_id)
    name = mask_name(session.get_one(Customer, order.customer_id).name)
    text = f"{sub.circuit_id} {name}"
    return "".join(c for c in text if c.isprintable() and c not in '^"')[:200]


def complete_order(
    session: Session, ref: str, *, now: datetime | None = None, tell: bool = True
) -> ProductOrder:
    """Fulfilment done: the subscription moves, and billing counts from now."""
    now = now or utcnow()
    order = get_order(session, ref)
    sub = session.get_one(Subscription, order.subscription_id)
    to = {
        OrderAction.ADD: SubscriptionState.ACTIVE,
        OrderAction.RESUME: SubscriptionState.ACTIVE,
        OrderAction.SUSPEND: SubscriptionState.SUSPENDED,
        OrderAction.TERMINATE: SubscriptionState.TERMINATED,
    }.get(order.action)
    if to is not None and sub.state != to:
        move_subscription(session, sub, to, now=now)
    _moved(order, OrderState.COMPLETED, now)
    order.requester_due = tell
    return order


def fail_order(
    session: Session,
    ref: str,
    reason: str,
    *,
    tickets: TicketSettings,
    now: datetime | None = None,
    tell: bool = True,
) -> tuple[ProductOrder, Ticket]:
    """Fulfilment failed: the order says why, a provisioning ticket is opened."""
    now = now or utcnow()
    order = get_order(session, ref)
    _moved(order, OrderState.FAILED, now)
    order.failure_reason = reason
    order.requester_due = tell
    sub = session.get(Subscription, order.subscription_id) if order.subscription_id else None
    if order.action == OrderAction.ADD and sub is not None:
        move_subscription(session, sub, SubscriptionState.TERMINATED, now=now)
    what = sub.identifier if sub is not None else f"customer {order.customer_id}"
    title = f"Provisioning failed: {order.ref} {order.action} {what}"[:TITLE_MAX]
    ticket = open_ticket(
        session,
        title=title,
        severity=3,
        reporter=SYSTEM,
        sla_hours=tickets.sla_hours,
        kind=TicketKind.PROVISIONING,
        description=f"{reason}\nport {order.port or '-'}, requested by {order.requested_by}",
        device_id=order.device_id,
        customer_id=order.customer_id,
        subscription_id=order.subscription_id,
        now=now,
    )
    return order, ticket


def fulfil_in_place(
    session: Session,
    ref: str,
    *,
    orders: OrderSettings,
    now: datetime | None = None,
    tell: bool = True,
) -> ProductOrder:
    """Fulfil an approved order that touches no device, inside this transaction."""
    now = now or utcnow()
    order = get_order(session, ref)
    if needs_network(order):
        raise DomainError(f"{order.ref} changes a device; it is provisioned, not moved")
    if claim_fulfilment(session, ref, orders=orders, now=now) is None:
        return order
    return complete_order(session, ref, now=now, tell=tell)


# -- suspension and resumption, for dunning and the fraud desk ------------------------------


def request_suspension(
    session: Session, subscription_id: int, *, reason: str, requested_by: str, now: datetime
) -> ProductOrder:
    """A SUSPEND order, approved by policy and fulfilled (see `_state_order`)."""
    return _state_order(
        session,
        subscription_id,
        OrderAction.SUSPEND,
        SubscriptionState.SUSPENDED,
        reason=reason,
        requested_by=requested_by,
        now=now,
    )


def request_resume(
    session: Session, subscription_id: int, *, reason: str, requested_by: str, now: datetime
) -> ProductOrder:
    """A RESUME order, approved by policy and fulfilled (see `_state_order`)."""
    return _state_order(
        session,
        subscription_id,
        OrderAction.RESUME,
        SubscriptionState.ACTIVE,
        reason=reason,
        requested_by=requested_by,
        now=now,
    )


def request_cease(
    session: Session,
    subscription_id: int,
    *,
    reason: str,
    requested_by: str,
    now: datetime,
    orders: OrderSettings | None = None,
) -> ProductOrder:
    """A TERMINATE (cease) order, through the approval policy (see `_state_order`).

    Done, the line is terminated at that moment and billed up to that day; a mobile
    number stays on the ceased line's record and is never handed out again (new numbers
    come from the top of the block); a fixed line's port configuration is removed by
    undoing the change that provisioned it, and its port and VLAN are free again.
    """
    return _state_order(
        session,
        subscription_id,
        OrderAction.TERMINATE,
        SubscriptionState.TERMINATED,
        reason=reason,
        requested_by=requested_by,
        now=now,
        orders=orders or OrderSettings(),
    )


@dataclass(frozen=True)
class LineOrdered:
    """What asking to suspend, resume or cease a line left: the order (new, or the open
    one of the same kind asked for before) and the line."""

    ref: str
    state: OrderState
    policy_note: str
    requested_by: str
    line: str
    new: bool


def order_for_line(
    db: Database,
    line: str,
    action: OrderAction,
    *,
    reason: str,
    requested_by: str,
    now: datetime,
    orders: OrderSettings,
    roles: Iterable[Role],
) -> LineOrdered:
    """Suspend, resume or cease the line a number or circuit id names, in one
    transaction, through the approval policy (`/order suspend|resume|cease`).

    A line suspended for fraud, or on an account in dunning, is resumed or ceased only by
    `roles` that may lift that hold (`hold_overrides`)."""
    with db.transaction() as s:
        sub = find_line(s, line)
        overrides: list[str] = []
        if action in (OrderAction.RESUME, OrderAction.TERMINATE):
            overrides = hold_overrides(s, sub.id, roles, requested_by, action)
        if action == OrderAction.TERMINATE:
            order = request_cease(
                s, sub.id, reason=reason, requested_by=requested_by, now=now, orders=orders
            )
        elif action in (OrderAction.SUSPEND, OrderAction.RESUME):
            ask = request_suspension if action == OrderAction.SUSPEND else request_resume
            order = ask(s, sub.id, reason=reason, requested_by=requested_by, now=now)
        else:
            raise ValueError(f"a line is not ordered to {action}")
        if overrides and order.created_at == now:
            order.policy_note = "approved by policy: " + "; ".join(overrides)
        return LineOrdered(
            order.ref,
            order.state,
            order.policy_note or "",
            order.requested_by,
            sub.identifier,
            new=order.created_at == now,
        )


#: The ACTIONS rows (domain/policy.py) that lift a suspended line's holds: resuming the line,
#: or ceasing it (which ends the hold for good), needs the same roles.
RESUME_OVER_FRAUD = "order resume / order cease, a line suspended for fraud"
RESUME_OVER_DUNNING = "order resume / order cease, a line on an account in dunning"

#: The command that lifts a hold by each action, and its verb.
_LIFTS = {OrderAction.RESUME: "resume", OrderAction.TERMINATE: "cease"}


def hold_overrides(
    session: Session,
    subscription_id: int,
    roles: Iterable[Role],
    actor: str,
    action: OrderAction = OrderAction.RESUME,
) -> list[str]:
    """Whether `roles` may resume (or cease) the line: a line suspended for fraud needs a
    fraud analyst or manager; a line on an account in dunning waits until it is paid,
    unless a manager overrides. Raises PolicyViolation naming why the line is suspended
    and who may; returns what the caller overrode, in words, for the order's note."""
    why = suspension_of(session, subscription_id)
    if why is None:
        return []
    verb = _LIFTS[action]
    held = frozenset(roles)
    have = ", ".join(sorted(r.value for r in held)) or "no role"
    overrides = []
    if why.reason == SuspendedFor.FRAUD:
        if not policy.may(held, RESUME_OVER_FRAUD):
            raise PolicyViolation(
                f"{why.line} is {why.because}; only {who_may(RESUME_OVER_FRAUD, verb)} may "
                f"{verb} it (you have {have})",
                hint=f"ask {_one_of(RESUME_OVER_FRAUD, verb)}; /fraud explain {why.fraud_case} "
                "shows why it was confirmed",
            )
        overrides.append(f"{actor} may {verb} a line suspended for fraud ({why.fraud_case})")
    if why.dunning is not None:
        owed = f"account {why.account} is in dunning ({why.dunning})"
        if not policy.may(held, RESUME_OVER_DUNNING):
            because = (
                f"{why.because}: {owed}"
                if why.reason == SuspendedFor.DEBT
                else (f"{why.because}, and {owed}")
            )
            who = who_may(RESUME_OVER_DUNNING, verb)
            until = (
                f"it is resumed when the account is paid, or by {who}"
                if action == OrderAction.RESUME
                else f"only {who} may cease it before the account is paid"
            )
            raise PolicyViolation(
                f"{why.line} is {because}; {until} (you have {have})",
                hint=f"/bill {why.account}",
            )
        overrides.append(f"{actor} may {verb} a line while {owed}")
    return overrides


def resume_overrides(
    session: Session, subscription_id: int, roles: Iterable[Role], actor: str
) -> list[str]:
    """`hold_overrides` for resuming the line."""
    return hold_overrides(session, subscription_id, roles, actor, OrderAction.RESUME)


def who_may(action: str, verb: str = "resume") -> str:
    """Who may do an action through /order resume (or cease): its row and the command's,
    met."""
    return policy.people(policy.ACTIONS[action] & policy.command_roles(f"order {verb}"))


def _one_of(action: str, verb: str = "resume") -> str:
    """ "a manager", "a fraud analyst or a manager": whom to ask."""
    roles = policy.ACTIONS[action] & policy.command_roles(f"order {verb}")
    names = [r.value.replace("_", " ") for r in Role if r in roles] or ["admin"]
    return " or ".join(a(n) for n in names)


def _state_order(
    session: Session,
    subscription_id: int,
    action: OrderAction,
    to: SubscriptionState,
    *,
    reason: str,
    requested_by: str,
    now: datetime,
    orders: OrderSettings | None = None,
) -> ProductOrder:
    """Suspend or resume a line through an order, inside the caller's transaction.

    A mobile line (or a fixed one with no known port) moves at once and the order comes
    back completed. A fixed line's order comes back inProgress: the provisioning worker
    shuts (or opens) its access port after the caller commits, then moves the line. An
    open order of the same kind for the line is returned as it is, so asking twice does
    the work once.
    """
    sub = session.get(Subscription, subscription_id)
    if sub is None:
        raise NotFound(f"no subscription {subscription_id}")
    open_one = session.scalars(
        sa.select(ProductOrder).where(
            ProductOrder.subscription_id == sub.id,
            ProductOrder.action == action,
            ProductOrder.state.in_(OPEN_ORDER_STATES),
        )
    ).first()
    if open_one is not None:
        return open_one
    if sub.state == to:
        raise InvalidTransition(
            f"{sub.identifier} is already {to}", hint=f"/customer {sub.identifier}"
        )
    SUBSCRIPTION_LIFECYCLE.check(sub.identifier, sub.state, to)
    order = create_order(
        session,
        customer_id=sub.customer_id,
        action=action,
        offering_id=sub.offering_id,
        subscription_id=sub.id,
        site_id=sub.site_id,
        device_id=sub.device_id,
        port=sub.port,
        requested_by=requested_by,
        note=reason,
        now=now,
    )
    if action == OrderAction.TERMINATE:
        customer = session.get_one(Customer, sub.customer_id)
        account = session.get_one(BillingAccount, sub.billing_account_id)
        decision = approval_policy(
            order, customer, account, orders or OrderSettings(), BillingSettings()
        )
        order.policy_note = decision.note
        if not decision.approve:
            _moved(order, OrderState.PENDING, now)
            return order
    else:
        order.policy_note = f"approved by policy: {action} orders are carried out as asked"
    _approve_by_policy(order, now)
    if not needs_network(order):
        claim_fulfilment(session, order.ref, now=now)
        complete_order(session, order.ref, now=now, tell=False)
    return order


# -- messages: the orders channel and the requester ----------------------------------------


def orders_to_announce(session: Session, limit: int = 50) -> list[ProductOrder]:
    """Orders whose message in the orders channel is missing or behind, oldest first."""
    return due_in_channel(session, ProductOrder, limit)


def mark_announced(
    db: Database, order_id: int, *, channel: str | None, ts: str | None, seen: datetime
) -> None:
    """The channel message shows the order as it was at `seen` (its updated_at)."""
    with db.transaction() as s:
        order = s.get_one(ProductOrder, order_id)
        if channel and ts:
            order.slack_channel, order.slack_ts = channel, ts
        if order.updated_at <= seen:  # moved again meanwhile: stay due
            order.channel_due = False


def orders_to_tell(session: Session, limit: int = 50) -> list[ProductOrder]:
    """Orders whose requester has not yet heard how they ended."""
    return due_to_requester(session, ProductOrder, limit)


def mark_told(db: Database, order_id: int) -> None:
    """The requester has been told how their order ended."""
    with db.transaction() as s:
        s.get_one(ProductOrder, order_id).requester_due = False
