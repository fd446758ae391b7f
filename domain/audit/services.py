"""Audit services: append-only, hash-chained events; redaction; the idempotency ledger."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import cast

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from domain.audit.choices import Outcome
from domain.audit.models import AuditEvent, ProcessedRequest
from domain.db import Database, utcnow
from domain.privacy import AUDIT_KEEPS, mask_text

GENESIS = "0" * 64
_CHAIN_LOCK = 0x5357_4155  # "SWAU": one writer extends the chain at a time


def _digest(prev_hash: str, event: AuditEvent) -> str:
    fields: list[object] = [
        prev_hash,
        event.at.isoformat(),
        event.actor,
        event.roles,
        event.channel,
        event.command,
        event.arguments,
        str(event.outcome),
        event.detail,
        event.duration_ms,
    ]
    # `via` came with revision 0002; rows from before it carry "" and keep their seals.
    if event.via:
        fields.append(event.via)
    body = json.dumps(
        fields,
        ensure_ascii=False,
        separators=(",", ":"),
    )
    return hashlib.sha256(body.encode()).hexdigest()


def record_event(
    session: Session,
    *,
    actor: str,
    command: str,
    outcome: Outcome,
    roles: Iterable[str] = (),
    channel: str = "",
    via: str = "",
    arguments: str = "",
    detail: str = "",
    duration_ms: int = 0,
    at: datetime | None = None,
) -> AuditEvent:
    """Append one event, sealed with the hash of the one before it."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": _CHAIN_LOCK})
    # (On SQLite the write transaction already holds the database's single write lock.)
    prev = session.scalars(
        sa.select(AuditEvent.hash).order_by(AuditEvent.id.desc()).limit(1)
    ).one_or_none()
    event = AuditEvent(
        at=at or utcnow(),
        actor=actor[:64],
        roles=",".join(sorted(str(r) for r in roles))[:120],
        channel=channel[:64],
        via=via[:20],
        command=command[:120],
        arguments=visible(redact(arguments))[:4000],
        outcome=outcome,
        detail=visible(redact(detail))[:4000],
        duration_ms=duration_ms,
        prev_hash=prev or GENESIS,
        hash="",
    )
    event.hash = _digest(event.prev_hash, event)
    session.add(event)
    session.flush()
    return event


def audit(
    db: Database,
    *,
    actor: str,
    command: str,
    outcome: Outcome,
    roles: Iterable[str] = (),
    channel: str = "",
    via: str = "",
    arguments: str = "",
    detail: str = "",
    duration_ms: int = 0,
    at: datetime | None = None,
) -> None:
    """`record_event` in its own transaction: one command, click or refusal, kept."""
    with db.transaction() as s:
        record_event(
            s,
            actor=actor,
            command=command,
            outcome=outcome,
            roles=roles,
            channel=channel,
            via=via,
            arguments=arguments,
            detail=detail,
            duration_ms=duration_ms,
            at=at,
        )


@dataclass(frozen=True)
class ChainCheck:
    events: int
    first_broken: int | None = None
    reason: str = ""

    @property
    def intact(self) -> bool:
        return self.first_broken is None


def verify_chain(session: Session) -> ChainCheck:
    """Recompute every seal in order; name the first row that does not match."""
    prev = GENESIS
    count = 0
    query = sa.select(AuditEvent).order_by(AuditEvent.id).execution_options(yield_per=5000)
    for event in session.execute(query).scalars():
        count += 1
        if event.prev_hash != prev:
            return ChainCheck(
                count,
                event.id,
                "it does not point at the row before it (a row was removed or inserted)",
            )
        if _digest(prev, event) != event.hash:
            return ChainCheck(
                count, event.id, "its contents do not match its seal (the row was changed)"
            )
        prev = event.hash
    return ChainCheck(count)


# -- redaction ---------------------------------------------------------------------------


def visible(text: str) -> str:
    """Control characters and line separators spelled out (`\\r`, `\\u2028`): an audit row
    reads as what was typed, and no typed character can fake a second line in it."""
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode() for c in text)


def redact(text: str) -> str:
    """Secrets, identity and card numbers and e-mail addresses masked as everywhere else
    (domain/privacy.py); mobile numbers are kept: care work is audited by the number it
    concerns."""
    return mask_text(text, keep=AUDIT_KEEPS)


# -- idempotency ---------------------------------------------------------------------------


def claim_request(session: Session, key: str, at: datetime | None = None) -> bool:
    """Record a delivery as handled; False if it was already (on any replica)."""
    values = {"key": key[:200], "seen_at": at or utcnow()}
    dialect = session.get_bind().dialect.name
    table = cast(sa.Table, ProcessedRequest.__table__)
    insert = (pg_insert if dialect == "postgresql" else sqlite_insert)(table).values(**values)
    stmt = insert.on_conflict_do_nothing(index_elements=["key"]).returning(table.c.key)
    # A row comes back only when this call inserted it.
    return session.execute(stmt).first() is not None


def claim_delivery(db: Database, key: str, at: datetime | None = None) -> bool:
    """`claim_request` in its own transaction: False when a replica already had it."""
    with db.transaction() as s:
        return claim_request(s, key, at)
