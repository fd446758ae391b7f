"""Customer services: finding subscriptions and moving them through TMF637 states."""

from __future__ import annotations

import re
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from domain.customers.choices import SUBSCRIPTION_LIFECYCLE, SubscriptionState
from domain.customers.models import Subscription
from domain.db import utcnow
from domain.errors import NotFound


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
