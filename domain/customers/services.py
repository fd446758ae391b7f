"""Customer services: finding subscriptions and moving them through TMF637 states."""

from __future__ import annotations

import re
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from domain.customers.choices import SUBSCRIPTION_LIFECYCLE, SubscriptionState
from domain.customers.models import BillingAccount, Customer, Subscription
from domain.db import utcnow
from domain.errors import DomainError, NotFound
from domain.faults.choices import OPEN_TICKET_STATUSES
from domain.faults.models import Ticket
from domain.orders.choices import OrderState
from domain.orders.models import ProductOrder


def normalise_msisdn(text: str) -> str:
    """'+91 98765 43210', '09876543210' and '9876543210' all become '919876543210'."""
    digits = re.sub(r"[\s\-()+]", "", text)
    if not digits.isdigit():
        raise NotFound(f"{text!r} is not a mobile number", hint="use 10 digits, e.g. 9876543210")
    if len(digits) == 11 and digits.startswith("0"):
        digits = digits[1:]
    if len(digits) == 10:
        digits = "91" + digits
    return digits


def subscription_by_msisdn(session: Session, text: str) -> Subscription:
    msisdn = normalise_msisdn(text)
    sub = session.scalars(
        sa.select(Subscription).where(Subscription.msisdn == msisdn)
    ).one_or_none()
    if sub is None:
        raise NotFound(
            f"no subscription with number {msisdn}",
            hint="check the number, or search by customer name",
        )
    return sub


def move_subscription(
    session: Session, subscription: Subscription, to: SubscriptionState, now: datetime | None = None
) -> Subscription:
    now = now or utcnow()
    SUBSCRIPTION_LIFECYCLE.check(subscription.identifier, subscription.state, to)
    subscription.state = to
    if to == SubscriptionState.ACTIVE and subscription.activated_at is None:
        subscription.activated_at = now
    if to == SubscriptionState.TERMINATED:
        subscription.terminated_at = now
    return subscription


# -- finding a customer's account from what a caller says ---------------------------------

_ACCOUNT = re.compile(r"(?i)^BA\d{6,}$")
_CIRCUIT = re.compile(r"^[A-Za-z]{2,5}/[A-Za-z]+/\d+$")


def _like(text: str) -> str:
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def account_by_number(session: Session, number: str) -> BillingAccount:
    account = session.scalars(
        sa.select(BillingAccount).where(BillingAccount.account_number == number.strip().upper())
    ).one_or_none()
    if account is None:
        raise NotFound(f"no billing account {number}", hint="account numbers look like BA100000123")
    return account


def find_customers(session: Session, name: str, limit: int = 6) -> list[Customer]:
    """Customers whose name contains the words, exact matches first."""
    name = " ".join(name.split())
    if len(name) < 3:
        raise DomainError(
            f"{name!r} is too short to search customers by",
            hint="give at least 3 letters of the name, a mobile number or an account number",
        )
    exact = list(session.scalars(sa.select(Customer).where(Customer.name == name).limit(limit)))
    if exact:
        return exact
    return list(
        session.scalars(
            sa.select(Customer)
            .where(Customer.name.ilike(_like(name), escape="\\"))
            .order_by(Customer.name)
            .limit(limit)
        )
    )


def resolve_customer(session: Session, query: str) -> tuple[Customer, Subscription | None]:
    """The customer a care agent means: by mobile number, circuit, account or name."""
    text = query.strip()
    if _ACCOUNT.match(text):
        return account_by_number(session, text).customer, None
    if _CIRCUIT.match(text):
        sub = session.scalars(
            sa.select(Subscription).where(Subscription.circuit_id == text.upper())
        ).one_or_none()
        if sub is None:
            raise NotFound(f"no circuit {text}", hint="circuit ids look like MUM/FTTH/0000002")
        return sub.customer, sub
    if re.fullmatch(r"[\d\s+()-]{8,}", text):
        sub = subscription_by_msisdn(session, text)
        return sub.customer, sub
    found = find_customers(session, text)
    if not found:
        raise NotFound(
            f"no customer matches {text!r}",
            hint="try a mobile number, an account number (BA...) or part of the name",
        )
    if len(found) > 1:
        names = ", ".join(
            f"{c.name} ({c.city}, {c.accounts[0].account_number if c.accounts else 'no account'})"
            for c in found[:5]
        )
        raise DomainError(
            f"{text!r} matches several customers: {names}",
            hint="use the full name, a mobile number or an account number",
        )
    return found[0], None


def resolve_account(session: Session, query: str) -> BillingAccount:
    """The billing account a care agent means (the line's account for a number)."""
    text = query.strip()
    if _ACCOUNT.match(text):
        return account_by_number(session, text)
    customer, sub = resolve_customer(session, text)
    if sub is not None:
        return sub.account
    accounts = customer.accounts
    if len(accounts) != 1:
        numbers = ", ".join(a.account_number for a in accounts[:5]) or "none"
        raise DomainError(
            f"{customer.name} has {len(accounts)} billing accounts ({numbers})",
            hint="name the account number",
        )
    return accounts[0]


# -- what people may see --------------------------------------------------------------------


def mask_identity(number: str) -> str:
    """An identity number with all but its last four characters hidden."""
    return "•" * max(0, len(number) - 4) + number[-4:]


def mask_phone(msisdn: str) -> str:
    """A phone number with the middle hidden: 91••••••3210."""
    return msisdn if len(msisdn) < 8 else msisdn[:2] + "•" * (len(msisdn) - 6) + msisdn[-4:]


_OPEN_ORDERS = (
    OrderState.ACKNOWLEDGED,
    OrderState.PENDING,
    OrderState.IN_PROGRESS,
    OrderState.HELD,
)


def customer_work(session: Session, customer_id: int) -> tuple[list[Ticket], list[ProductOrder]]:
    """A customer's open tickets and orders still in flight."""
    tickets = list(
        session.scalars(
            sa.select(Ticket)
            .where(Ticket.customer_id == customer_id, Ticket.status.in_(OPEN_TICKET_STATUSES))
            .order_by(Ticket.sla_due_at)
            .limit(10)
        )
    )
    orders = list(
        session.scalars(
            sa.select(ProductOrder)
            .where(ProductOrder.customer_id == customer_id, ProductOrder.state.in_(_OPEN_ORDERS))
            .order_by(ProductOrder.id.desc())
            .limit(10)
        )
    )
    return tickets, orders
