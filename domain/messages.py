"""Things with a message in a Slack channel (orders, credits waiting for a manager): which
are due to be posted or updated, and whose requester is due to be told. Each such model
has `channel_due` (set when its state changes, cleared once the channel shows it) and
`requester_due` (set when it is decided, cleared once the requester is told)."""

from __future__ import annotations

from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.orm import Session

T = TypeVar("T")


def _due(session: Session, model: type[T], flag: str, limit: int) -> list[T]:
    table: Any = model
    return list(
        session.scalars(
            sa.select(model).where(getattr(table, flag).is_(True)).order_by(table.id).limit(limit)
        )
    )


def due_in_channel(session: Session, model: type[T], limit: int = 50) -> list[T]:
    """Rows of `model` whose channel message is missing or behind, oldest first."""
    return _due(session, model, "channel_due", limit)


def due_to_requester(session: Session, model: type[T], limit: int = 50) -> list[T]:
    """Rows of `model` (decided or ended) whose requester has not been told yet."""
    return _due(session, model, "requester_due", limit)
