"""Fraud services: cases from the model's flags; an analyst's decision closes a case,
becomes a training label, and a confirmed case suspends the line through an order."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from domain.customers.choices import SubscriptionState
from domain.customers.models import Subscription
from domain.db import Database, get_by_ref, utcnow
from domain.fraud.choices import (
    CASE_LIFECYCLE,
    SCORE_PLACES,
    CaseState,
    FraudKind,
    LabelSource,
)
from domain.fraud.models import FraudCase, FraudLabel
from domain.orders.choices import OrderState
from domain.orders.models import ProductOrder
from domain.orders.queries import suspension_of
from domain.orders.services import request_suspension
from domain.privacy import mask_text


def get_case(session: Session, ref: str) -> FraudCase:
    return get_by_ref(session, FraudCase, ref, "fraud case")


def decide_case(
    session: Session,
    ref: str,
    analyst: str,
    confirmed: bool,
    note: str = "",
    now: datetime | None = None,
) -> FraudCase:
    """Confirm or dismiss an open case; the decision is kept as a label for training."""
    now = now or utcnow()
    case = get_case(session, ref)
    to = CaseState.CONFIRMED if confirmed else CaseState.DISMISSED
    CASE_LIFECYCLE.check(case.ref, case.state, to)
    case.state = to
    case.decided_by = analyst
    case.decided_at = now
    case.note = mask_text(note) or None
    session.add(
        FraudLabel(
            subscription_id=case.subscription_id,
            is_fraud=confirmed,
            kind=case.kind if confirmed else None,
            source=LabelSource.ANALYST,
            case_id=case.id,
            since=now,
        )
    )
    return case


@dataclass(frozen=True)
class Flag:
    """A subscriber the model flagged, as the scoring job hands it over."""

    msisdn: str
    score: float
    kind: str | None
    reasons: tuple[str, ...]


@dataclass(frozen=True)
class CasesOpened:
    """A scoring run's flags against the desk's daily budget of new cases."""

    cases: list[FraudCase]
    #: Lines due a case that did not fit the day's budget, worst first.
    held_back: tuple[Flag, ...]
    #: Flagged lines due no case: one is open or was decided within `quiet_days`, or the
    #: line is no longer active (or not a line of the database).
    not_due: int


def open_cases_within_budget(
    session: Session,
    flags: Sequence[Flag],
    *,
    model_version: str,
    quiet_days: int,
    now: datetime,
    daily_cap: int | None = None,
    day_start: datetime | None = None,
) -> CasesOpened:
    """A case for each flagged line that has none open and was not decided lately, worst
    first, until `daily_cap` cases were opened since `day_start` (no cap: every one).

    A line an analyst decided on within `quiet_days` is not raised again for the same
    usage; a suspended or ended line has nothing left to stop. The lines that do not fit
    are returned, not kept: the caller's next day starts by scoring every line again.
    """
    due = sorted(
        _due(session, flags, quiet_days=quiet_days, now=now),
        key=lambda d: (-d[0].score, d[0].msisdn),
    )
    room = len(due)
    if daily_cap is not None:
        if day_start is None:
            raise ValueError("a daily cap needs the day's start")
        room = max(0, daily_cap - cases_opened_since(session, day_start))
    return CasesOpened(
        cases=_open(session, due[:room], model_version, now),
        held_back=tuple(f for f, _ in due[room:]),
        not_due=len(flags) - len(due),
    )


def cases_opened_since(session: Session, since: datetime) -> int:
    """How many fraud cases were opened at or after `since`, whatever became of them."""
    return int(
        session.scalar(
            sa.select(sa.func.count()).select_from(FraudCase).where(FraudCase.opened_at >= since)
        )
        or 0
    )


def _due(
    session: Session, flags: Sequence[Flag], *, quiet_days: int, now: datetime
) -> list[tuple[Flag, int]]:
    """(flag, subscription id) of the flagged active lines with no open or recent case."""
    if not flags:
        return []
    by_msisdn = {f.msisdn: f for f in flags}
    subs: dict[str, int] = {
        str(m): int(i)
        for m, i in session.execute(
            sa.select(Subscription.msisdn, Subscription.id).where(
                Subscription.msisdn.in_(list(by_msisdn)),
                Subscription.state == SubscriptionState.ACTIVE,
            )
        ).all()
    }
    busy = set(
        session.scalars(
            sa.select(FraudCase.subscription_id).where(
                FraudCase.subscription_id.in_(list(subs.values())),
                sa.or_(
                    FraudCase.state == CaseState.OPEN,
                    FraudCase.decided_at >= now - timedelta(days=quiet_days),
                ),
            )
        )
    )
    return [(by_msisdn[m], i) for m, i in subs.items() if i not in busy]


def _open(
    session: Session, due: Sequence[tuple[Flag, int]], model_version: str, now: datetime
) -> list[FraudCase]:
    made = []
    for f, sub_id in due:
        case = FraudCase(
            subscription_id=sub_id,
            state=CaseState.OPEN,
            # Six places: worst first must still rank lines that two decimals show alike.
            score=round(float(f.score), SCORE_PLACES),
            kind=_kind(f.kind),
            reasons=list(f.reasons),
            model_version=model_version[:40],
            opened_at=now,
        )
        session.add(case)
        made.append(case)
    session.flush()
    return made


def _kind(value: str | None) -> FraudKind | None:
    try:
        return FraudKind(value) if value else None
    except ValueError:
        return None


def confirm_case(
    session: Session, ref: str, analyst: str, note: str = "", now: datetime | None = None
) -> tuple[FraudCase, ProductOrder | None, str | None]:
    """Confirm fraud: an active line is suspended through the order path, the label kept.

    A line already stopped (suspended for debt or at the customer's request, or ceased)
    is left as it is: no order, and the third item says how it was ("suspended for
    debt"). From then on a suspended line is held for fraud (`fraud_hold`), whatever
    stopped it first."""
    now = now or utcnow()
    sub = session.get_one(Subscription, get_case(session, ref).subscription_id)
    before = suspension_of(session, sub.id)
    case = decide_case(session, ref, analyst, confirmed=True, note=note, now=now)
    if before is not None:
        return case, None, before.because
    if sub.state != SubscriptionState.ACTIVE:
        return case, None, str(sub.state)
    order = request_suspension(
        session,
        case.subscription_id,
        reason=f"fraud confirmed in {case.ref}" + (f": {note}" if note else ""),
        requested_by=analyst,
        now=now,
    )
    return case, order, None


# -- the analyst's decisions: each owns its transaction and returns what happened ---------


@dataclass(frozen=True)
class CaseDecided:
    case: str
    state: CaseState
    #: The line the case is about, as care agents name it (its MSISDN).
    line: str
    decided_by: str
    decided_at: datetime
    #: The order that suspends the line, when fraud was confirmed on an active line.
    order: str | None = None
    order_state: OrderState | None = None
    #: How the line already was when fraud was confirmed, so no order was needed:
    #: "suspended for debt", "suspended at the customer's request", "terminated".
    already: str | None = None


def _decided(
    session: Session, case: FraudCase, order: ProductOrder | None, already: str | None = None
) -> CaseDecided:
    assert case.decided_by is not None and case.decided_at is not None
    return CaseDecided(
        case=case.ref,
        state=case.state,
        line=session.get_one(Subscription, case.subscription_id).identifier,
        decided_by=case.decided_by,
        decided_at=case.decided_at,
        order=order.ref if order else None,
        order_state=order.state if order else None,
        already=already,
    )


def confirm_fraud(
    db: Database, ref: str, analyst: str, *, note: str = "", now: datetime
) -> CaseDecided:
    """Confirm an open case and suspend its line through an order (unless it is already
    stopped), in one transaction."""
    with db.transaction() as s:
        case, order, already = confirm_case(s, ref, analyst, note=note, now=now)
        return _decided(s, case, order, already)


def dismiss_fraud(
    db: Database, ref: str, analyst: str, *, note: str = "", now: datetime
) -> CaseDecided:
    """Dismiss an open case as ordinary use (a label the model learns from), in one
    transaction."""
    with db.transaction() as s:
        case = decide_case(s, ref, analyst, confirmed=False, note=note, now=now)
        return _decided(s, case, None)
