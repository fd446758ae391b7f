"""Fraud services: an analyst's decision closes a case and becomes a training label."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from domain.db import get_by_ref, utcnow
from domain.fraud.choices import CASE_LIFECYCLE, CaseState, LabelSource
from domain.fraud.models import FraudCase, FraudLabel


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
    case.note = note or None
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
