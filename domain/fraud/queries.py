"""What fraud views show: cases with the line they are about, and how many there are."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session

from domain.customers.models import Subscription
from domain.fraud.choices import CaseState
from domain.fraud.models import FraudCase


@dataclass(frozen=True)
class CaseView:
    """A fraud case and the line it is about, as care agents name it (its MSISDN)."""

    case: FraudCase
    line: str


def case_view(session: Session, case_id: int) -> CaseView:
    """The case `case_id` as its card shows it."""
    case = session.get_one(FraudCase, case_id)
    return CaseView(case, session.get_one(Subscription, case.subscription_id).identifier)


def count_cases(session: Session, state: CaseState | None = None) -> int:
    """How many cases there are (in `state` when given)."""
    query = sa.select(sa.func.count()).select_from(FraudCase)
    if state is not None:
        query = query.where(FraudCase.state == state)
    return int(session.scalar(query) or 0)


def list_cases(session: Session, state: CaseState | None = None, limit: int = 25) -> list[CaseView]:
    """Cases with their line, highest score first (newest first when decided)."""
    query = sa.select(FraudCase, Subscription).join(
        Subscription, Subscription.id == FraudCase.subscription_id
    )
    if state is not None:
        query = query.where(FraudCase.state == state)
    order = (
        (FraudCase.score.desc(), FraudCase.id)
        if state == CaseState.OPEN
        else (FraudCase.opened_at.desc(), FraudCase.id.desc())
    )
    rows = session.execute(query.order_by(*order).limit(limit)).all()
    return [CaseView(c, line.identifier) for c, line in rows]
