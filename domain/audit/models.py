"""Audit entities: AuditEvent (append-only, HMAC-chained), ProcessedRequest (idempotency)."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from domain.audit.choices import Outcome
from domain.db import Base, BigId, UtcDateTime, enum_column, utcnow


class AuditEvent(Base):
    """Who did what, from where, and how it ended. Each row seals the one before it."""

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    actor: Mapped[str] = mapped_column(sa.String(64), index=True)
    roles: Mapped[str] = mapped_column(sa.String(120), default="")
    channel: Mapped[str] = mapped_column(sa.String(64), default="")
    #: How it arrived: slack:command, slack:click, slack:form, slack:mention, console, chat.
    via: Mapped[str] = mapped_column(sa.String(20), default="", server_default="")
    command: Mapped[str] = mapped_column(sa.String(120))
    #: Arguments as typed, with secrets and identity/card numbers redacted.
    arguments: Mapped[str] = mapped_column(sa.Text, default="")
    outcome: Mapped[Outcome] = mapped_column(enum_column(Outcome))
    detail: Mapped[str] = mapped_column(sa.Text, default="")
    duration_ms: Mapped[int] = mapped_column(default=0)
    prev_hash: Mapped[str] = mapped_column(sa.String(64))
    #: The seal: HMAC-SHA256 over the previous seal and this row, with the key `key_id`
    #: names (the key itself is never in the database; see domain/audit/keys.py).
    hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    #: Which audit key sealed the row; "" for rows sealed with plain SHA-256 before keys.
    key_id: Mapped[str] = mapped_column(sa.String(16), default="", server_default="")


class ProcessedRequest(Base):
    """A Slack delivery already handled (event_id, trigger_id, action_ts...)."""

    __tablename__ = "processed_requests"

    key: Mapped[str] = mapped_column(sa.String(200), primary_key=True)
    seen_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, index=True)
