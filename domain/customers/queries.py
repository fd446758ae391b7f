"""What care views of a customer show: who they are, what they hold, what is open for them.

Reads only, each taking a session. Personal data comes back masked for its audience
(domain/privacy.py's `Audience`), so a reply's text and its data (`switchboard chat
--json`) show the same: in full to one reader whose roles may see it; to one who may not,
the identity number's and phone's last four digits, the e-mail's first letter and domain
and the city; to a channel, the name's first word and initial (in the free text it shows,
ticket titles, too), and account numbers and lines with their last four digits.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from domain.catalog.choices import Segment
from domain.config import BillingSettings
from domain.customers.choices import CustomerStatus, DunningState, IdDocument, SubscriptionState
from domain.customers.services import customer_work, resolve_customer
from domain.faults.choices import TicketKind, TicketStatus
from domain.money import Amount
from domain.orders.choices import OrderAction, OrderState
from domain.orders.queries import service_of, suspension_of
from domain.privacy import (
    Audience,
    mask_email,
    mask_identity,
    mask_line,
    mask_name,
    mask_names,
    mask_phone,
    mask_reference,
    mask_text,
)

#: The lines a profile lists; `lines_total` says how many there are.
PROFILE_LINES = 20


@dataclass(frozen=True)
class AccountRow:
    account: str
    balance: Amount
    dunning: DunningState


@dataclass(frozen=True)
class LineRow:
    line: str
    plan: str
    state: SubscriptionState
    since: datetime | None
    #: What the line holds: its SIM, or its access device, port and VLAN.
    holds: str = ""
    #: Why a suspended line is suspended (`Suspension.why`): "for fraud (case F-3)", "for
    #: debt on account BA100000001" (the account masked as the accounts are), "at the
    #: customer's request"; None for a line that is not suspended.
    suspended: str | None = None

    @property
    def state_said(self) -> str:
        """The state with its reason: "suspended for fraud (case F-3)"."""
        return f"{self.state} {self.suspended}" if self.suspended else str(self.state)


@dataclass(frozen=True)
class OpenTicket:
    ticket: str
    kind: TicketKind
    status: TicketStatus
    title: str


@dataclass(frozen=True)
class OrderInFlight:
    order: str
    action: OrderAction
    state: OrderState
    requested_by: str


@dataclass(frozen=True)
class CustomerProfile:
    """What `/customer` tells: masked for its audience unless shown in full (`unmasked`)."""

    customer: str
    name: str
    segment: Segment
    status: CustomerStatus
    id_document: IdDocument
    id_number: str
    phone: str
    email: str
    #: The street address in full, or only the city when masked.
    address: str
    since: datetime
    accounts: list[AccountRow]
    #: The first `PROFILE_LINES` lines, oldest first.
    lines: list[LineRow]
    lines_total: int
    open_tickets: list[OpenTicket]
    orders_in_flight: list[OrderInFlight]
    unmasked: bool


def customer_profile(
    session: Session,
    query: str,
    billing: BillingSettings,
    *,
    audience: Audience = Audience.CHANNEL,
) -> CustomerProfile:
    """The customer a care agent names (number, account, invoice, circuit or name)."""
    c, _ = resolve_customer(session, query)
    tickets, orders = customer_work(session, c.id)
    subscriptions = sorted(c.subscriptions, key=lambda x: x.id)
    full = audience == Audience.FULL
    channel = audience == Audience.CHANNEL
    return CustomerProfile(
        customer=f"C-{c.id}",
        name=mask_name(c.name) if channel else c.name,
        segment=c.segment,
        status=c.status,
        id_document=c.id_document,
        id_number=c.id_number if full else mask_identity(c.id_number),
        phone=c.phone if full else mask_phone(c.phone),
        email=c.email if full else mask_email(c.email),
        address=c.address if full else c.city,
        since=c.created_at,
        accounts=[
            AccountRow(
                mask_reference(a.account_number) if channel else a.account_number,
                Amount.of(a.balance_minor, billing),
                a.dunning_state,
            )
            for a in c.accounts
        ],
        lines=[
            LineRow(
                mask_line(sub.identifier) if channel else sub.identifier,
                sub.offering.name,
                sub.state,
                sub.activated_at,
                service_of(session, sub.id).shown_to(audience),
                _suspended(session, sub.id, channel=channel),
            )
            for sub in subscriptions[:PROFILE_LINES]
        ],
        lines_total=len(subscriptions),
        open_tickets=[
            OpenTicket(
                t.ref,
                t.kind,
                t.status,
                mask_names(mask_text(t.title), [c.name]) if channel else mask_text(t.title),
            )
            for t in tickets
        ],
        orders_in_flight=[OrderInFlight(o.ref, o.action, o.state, o.requested_by) for o in orders],
        unmasked=full,
    )


def _suspended(session: Session, subscription_id: int, *, channel: bool) -> str | None:
    """Why the line is suspended, its account shown as the profile shows accounts."""
    why = suspension_of(session, subscription_id)
    if why is None:
        return None
    return why.why(mask_reference(why.account) if channel else why.account)
