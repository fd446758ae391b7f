"""What audit views show: the latest events, and the head of the chain."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from domain.audit.choices import Outcome
from domain.audit.models import AuditEvent


@dataclass(frozen=True)
class AuditRow:
    """One audit event as `/audit recent` shows it (arguments already redacted)."""

    id: int
    at: datetime
    actor: str
    roles: str
    channel: str
    via: str
    command: str
    arguments: str
    outcome: Outcome
    detail: str
    duration_ms: int


@dataclass(frozen=True)
class AuditTrail:
    """The latest events, newest first, and how many there are in all (of that actor)."""

    total: int
    events: list[AuditRow]


def recent_events(session: Session, actor: str | None = None, limit: int = 20) -> AuditTrail:
    """The latest `limit` audit events, newest first; only `actor`'s when given."""
    query = sa.select(AuditEvent).order_by(AuditEvent.id.desc()).limit(limit)
    count = sa.select(sa.func.count()).select_from(AuditEvent)
    if actor:
        query = query.where(AuditEvent.actor == actor)
        count = count.where(AuditEvent.actor == actor)
    return AuditTrail(
        int(session.scalar(count) or 0),
        [
            AuditRow(
                e.id,
                e.at,
                e.actor,
                e.roles,
                e.channel,
                e.via,
                e.command,
                e.arguments,
                e.outcome,
                e.detail,
                e.duration_ms,
            )
            for e in session.scalars(query)
        ],
    )


@dataclass(frozen=True)
class ChainHead:
    """The newest audit event and its seal: what an anchor records."""

    event: int
    seal: str


def chain_head(session: Session) -> ChainHead | None:
    """The newest event's id and seal; None when the trail is empty."""
    row = session.execute(
        sa.select(AuditEvent.id, AuditEvent.hash).order_by(AuditEvent.id.desc()).limit(1)
    ).first()
    return None if row is None else ChainHead(int(row.id), str(row.hash))
