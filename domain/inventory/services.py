"""Inventory services: finding devices the way people name them."""

from __future__ import annotations

import difflib

import sqlalchemy as sa
from sqlalchemy.orm import Session

from domain.errors import NotFound
from domain.inventory.models import Device


def near_hostnames(session: Session, word: str, n: int = 3) -> list[str]:
    """Hostnames close to one that does not exist: 'r1-mun' finds 'r1-mum'."""
    key = word.strip().lower()
    if not key:
        return []
    like = session.scalars(
        sa.select(Device.hostname)
        .where(Device.hostname.contains(key[:12], autoescape=True))
        .limit(200)
    ).all()
    pool = (
        like
        or session.scalars(
            sa.select(Device.hostname)
            .where(Device.hostname.startswith(key[:2], autoescape=True))
            .limit(5000)
        ).all()
    )
    return difflib.get_close_matches(key, pool, n=n, cutoff=0.6)


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
    close = near_hostnames(session, key)
    hint = f"did you mean {', '.join(close)}?" if close else "try /inventory search <words>"
    raise NotFound(f"no device {key!r}", hint=hint)
