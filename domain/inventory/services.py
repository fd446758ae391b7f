"""Inventory services: finding devices the way people name them."""

from __future__ import annotations

import difflib
from collections.abc import Collection

import sqlalchemy as sa
from sqlalchemy.orm import Session

from domain.errors import DomainError, NotFound
from domain.inventory.models import Device, Site

SITE_HINT = "site codes look like MUM-AND1"


def near_sites(session: Session, code: str, n: int = 3) -> list[str]:
    """Site codes close to one that does not exist: 'MUM-AND2' finds 'MUM-AND1'."""
    codes = session.scalars(sa.select(Site.code).limit(5000)).all()
    return difflib.get_close_matches(code.strip().upper(), codes, n=n)


def check_sites(session: Session, codes: Collection[str]) -> None:
    """Refuse site codes (upper case) the inventory does not have, in one line with a
    "did you mean": what `site:` takes wherever it is typed (selectors, /ticket list,
    /alarm list)."""
    if not codes:
        return
    have = set(session.scalars(sa.select(Site.code).where(Site.code.in_(sorted(codes)))))
    missing = sorted(set(codes) - have)
    if missing:
        close = near_sites(session, missing[0])
        quoted = ", ".join(repr(c) for c in missing)
        raise NotFound(
            f"no site {quoted if len(quoted) <= 60 else quoted[:59] + '…'}",
            hint=f"did you mean {', '.join(close)}?" if close else SITE_HINT,
        )


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


def unknown_hostname_hint(session: Session, word: str) -> str:
    """What to try instead of a hostname that does not exist."""
    close = near_hostnames(session, word)
    if close:
        return f"did you mean {', '.join(close)}?"
    containing = session.scalar(
        sa.select(sa.func.count())
        .select_from(Device)
        .where(Device.hostname.contains(word.strip().lower(), autoescape=True))
    )
    if containing:
        glob = f"*{word.strip().lower()}*"
        return f"a bare word is one exact hostname; {glob} selects the {containing} containing it"
    return "try /inventory search <words>"


def device_named(session: Session, text: str) -> Device | None:
    """The device with this hostname or serial, or the one device at this address."""
    key = text.strip()
    by_name = sa.or_(Device.hostname == key.lower(), Device.serial == key.upper())
    found = session.scalars(
        sa.select(Device)
        .where(sa.or_(by_name, Device.mgmt_host == key))
        .order_by(sa.case((by_name, 0), else_=1), Device.hostname)
        .limit(6)
    ).all()
    if len(found) > 1 and key.lower() != found[0].hostname and key.upper() != found[0].serial:
        # Lab devices share 127.0.0.1: an address names a device only when it is its own.
        listed = ", ".join(d.hostname for d in found[:5])
        raise DomainError(
            f"{key} is the management address of several devices ({listed})",
            hint="name the device by its hostname",
        )
    return found[0] if found else None
