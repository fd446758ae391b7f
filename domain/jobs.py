"""Scheduled work: the scheduler's job store and who receives which digest."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, Session, mapped_column

from domain import policy
from domain.config import Role
from domain.db import Base, Database, UtcDateTime, utcnow
from domain.errors import PolicyViolation

#: APScheduler's SQLAlchemy job store, in our schema so migrations own it. The
#: columns are the ones APScheduler 3 defines; it only reads and writes rows here.
SCHEDULER_JOBS = sa.Table(
    "apscheduler_jobs",
    Base.metadata,
    sa.Column("id", sa.Unicode(191), primary_key=True),
    sa.Column("next_run_time", sa.Float(25), index=True),
    sa.Column("job_state", sa.LargeBinary, nullable=False),
)


class DigestSubscription(Base):
    """A person who asked for a digest in a direct message."""

    __tablename__ = "digest_subscriptions"

    id: Mapped[int] = mapped_column(primary_key=True)
    digest: Mapped[str] = mapped_column(sa.String(64))
    username: Mapped[str] = mapped_column(sa.String(64))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)

    __table_args__ = (sa.UniqueConstraint("digest", "username"),)


def subscribe(session: Session, digest: str, username: str) -> bool:
    """Add a subscriber; False when they already were one."""
    exists = session.scalar(
        sa.select(DigestSubscription.id).where(
            DigestSubscription.digest == digest, DigestSubscription.username == username
        )
    )
    if exists is not None:
        return False
    session.add(DigestSubscription(digest=digest, username=username))
    session.flush()
    return True


def subscribers(session: Session, digest: str) -> list[str]:
    """The users subscribed to a digest, in the order they subscribed."""
    return list(
        session.scalars(
            sa.select(DigestSubscription.username)
            .where(DigestSubscription.digest == digest)
            .order_by(DigestSubscription.id)
        )
    )


def unsubscribe(session: Session, digest: str, username: str) -> bool:
    """Remove a subscriber; False when they were not one."""
    gone = session.execute(
        sa.delete(DigestSubscription).where(
            DigestSubscription.digest == digest, DigestSubscription.username == username
        )
    )
    return bool(gone.rowcount)  # type: ignore[attr-defined]


@dataclass(frozen=True)
class DigestSubscriber:
    """Whether someone gets a digest by direct message, after asking to (or not to)."""

    digest: str
    username: str
    subscribed: bool
    #: False when nothing had to change (already subscribed, or never was).
    changed: bool


def join_digest(
    db: Database,
    digest: str,
    username: str,
    *,
    roles: Iterable[Role],
    sections: Sequence[str],
) -> DigestSubscriber:
    """Subscribe someone to a digest, in one transaction; asking twice changes nothing.

    Only someone whose roles may read every section of it (policy.DIGEST_SECTIONS): a
    subscription is to the whole digest, so nobody signs up for figures they may not see.
    """
    hidden = [s for s in sections if s not in policy.readable(roles, sections)]
    if hidden:
        raise PolicyViolation(
            f"you may not subscribe to {digest}: {policy.left_out(hidden)}",
            hint=f"/digest preview {digest} shows the part you may read",
        )
    with db.transaction() as s:
        return DigestSubscriber(digest, username, True, subscribe(s, digest, username))


def leave_digest(db: Database, digest: str, username: str) -> DigestSubscriber:
    """Unsubscribe someone from a digest, in one transaction."""
    with db.transaction() as s:
        return DigestSubscriber(digest, username, False, unsubscribe(s, digest, username))
