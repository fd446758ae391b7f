"""Change services: the ChangeRequest lifecycle and its approval rule."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from domain.changes.choices import CHANGE_LIFECYCLE, ChangeState
from domain.changes.models import ChangeRequest
from domain.db import get_by_ref, utcnow
from domain.errors import PolicyViolation


def get_change(session: Session, ref: str) -> ChangeRequest:
    return get_by_ref(session, ChangeRequest, ref, "change")


def approve_change(
    session: Session, ref: str, approver: str, now: datetime | None = None
) -> ChangeRequest:
    """Approve a planned change; one touching core devices needs a second engineer."""
    now = now or utcnow()
    change = get_change(session, ref)
    if change.needs_second_approval and change.requested_by == approver:
        raise PolicyViolation(
            f"{change.ref} touches core devices; another engineer must approve it",
            hint=f"ask a colleague to run /config approve {change.ref}",
        )
    CHANGE_LIFECYCLE.check(change.ref, change.state, ChangeState.APPROVED)
    change.state = ChangeState.APPROVED
    change.approved_by = approver
    change.approved_at = now
    return change


def move_change(
    session: Session, ref: str, to: ChangeState, now: datetime | None = None
) -> ChangeRequest:
    now = now or utcnow()
    change = get_change(session, ref)
    CHANGE_LIFECYCLE.check(change.ref, change.state, to)
    change.state = to
    if to == ChangeState.RUNNING:
        change.started_at = now
    elif CHANGE_LIFECYCLE.is_final(to) or to in (
        ChangeState.SUCCEEDED,
        ChangeState.FAILED,
        ChangeState.INTERRUPTED,
    ):
        change.finished_at = now
    return change
