"""Things with a message in a Slack channel (orders, credits waiting for a manager): which
are due to be posted or updated. Each such model has `channel_due`, set when its state
changes and cleared once the channel shows it."""

from __future__ import annotations

from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.orm import Session

T = TypeVar("T")


def due_in_channel(session: Session, model: type[T], limit: int = 50) -> list[T]:
    """Rows of `model` whose channel message is missing or behind, oldest first."""
    table: Any = model
    return list(
        session.scalars(
            sa.select(model).where(table.channel_due.is_(True)).order_by(table.id).limit(limit)
        )
    )
