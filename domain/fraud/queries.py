"""What fraud views show: cases with the line they are about, and how many there are."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from domain.customers.models import Subscription
from domain.db import get_by_ref
from domain.fraud.choices import CaseState, FraudKind
from domain.fraud.models import FraudCase


@dataclass(frozen=True)
class CaseView:
    """A fraud case and the line it is about, as care agents name it (its MSISDN)."""

    ref: str
    line: str
    state: CaseState
    score: float
    kind: FraudKind | None
    #: Plain-words reasons the model gave, most important first.
    reasons: tuple[str, ...]
    model_version: str
    opened_at: datetime
    decided_by: str | None
    decided_at: datetime | None
    note: str | None


def _view(case: FraudCase, line: str) -> CaseView:
    return CaseView(
        ref=case.ref,
        line=line,
        state=case.state,
        score=case.score,
        kind=case.kind,
        reasons=tuple(case.reasons),
        model_version=case.model_version,
        opened_at=case.opened_at,
        decided_by=case.decided_by,
        decided_at=case.decided_at,
        note=case.note,
    )


def case_view(session: Session, case_id: int) -> CaseView:
    """The case `case_id` as its card shows it."""
    case = session.get_one(FraudCase, case_id)
    return _view(case, session.get_one(Subscription, case.subscription_id).identifier)


def case_by_ref(session: Session, ref: str) -> CaseView:
    """The case a reference names (F-12), as its card shows it."""
    return case_view(session, get_by_ref(session, FraudCase, ref, "fraud case").id)


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
    return [_view(c, line.identifier) for c, line in rows]


@dataclass(frozen=True)
class CaseList:
    """What `/fraud cases` shows: the first cases, and how many there are in all."""

    total: int
    cases: list[CaseView]


def case_list(session: Session, state: CaseState | None = None, limit: int = 25) -> CaseList:
    """`list_cases` with `count_cases` of the same state."""
    return CaseList(count_cases(session, state), list_cases(session, state, limit))
