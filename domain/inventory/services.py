"""Inventory services: finding devices the way people name them."""

from __future__ import annotations

import difflib

import sqlalchemy as sa
from sqlalchemy.orm import Session

from domain.errors import NotFound
from domain.inventory.models import Device


def find_device(session: Session, text: str) -> Device:
    """A device by hostname, management address or serial; a typo gets 'did you mean'."""
    key = text.strip()
    device = session.scalars(
        sa.select(Device).where(
            sa.or_(
                Device.hostname == key.lower(),
                Device.serial == key.upper(),
                Device.mgmt_host == key,
            )
        )
    ).first()
    if device is not None:
        return device
    like = session.scalars(
        sa.select(Device.hostname)
        .where(Device.hostname.contains(key.lower()[:12], autoescape=True))
        .limit(200)
    ).all()
    pool = (
        like
        or session.scalars(
            sa.select(Device.hostname)
            .where(Device.hostname.startswith(key.lower()[:2], autoescape=True))
            .limit(5000)
        ).all()
    )
    close = difflib.get_close_matches(key.lower(), pool, n=3, cutoff=0.6)
    hint = f"did you mean {', '.join(close)}?" if close else "try /inventory search <words>"
    raise NotFound(f"no device {key!r}", hint=hint)
