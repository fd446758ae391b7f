"""What audit views show: the latest events."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session

from domain.audit.models import AuditEvent


def recent_events(session: Session, actor: str | None = None, limit: int = 20) -> list[AuditEvent]:
    """The latest `limit` audit events, newest first; only `actor`'s when given."""
    query = sa.select(AuditEvent).order_by(AuditEvent.id.desc()).limit(limit)
    if actor:
        query = query.where(AuditEvent.actor == actor)
    return list(session.scalars(query))
