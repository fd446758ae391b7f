"""Inventory reads: devices by selector, search, a device's card, a site, interfaces.

A `DeviceSelector` (domain/lookup.py) is checked against the inventory here (sites,
vendors and hostnames that exist, with "did you mean") and applied by one query, which
every command that targets devices uses: /inventory search, change targeting,
/device run and /config backup|diff|history. `one_device` is the one reading of "exactly
one device" (a hostname, address or serial, or a selector that matches one), for
/device run, /config backup|diff|history and, through the lookup grammar, /ticket open.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from domain.db import utcnow
from domain.errors import DomainError, NotFound
from domain.faults.queries import count_open_tickets, open_alarm_count
from domain.inventory.choices import (
    DeviceRole,
    DeviceStatus,
    InterfaceKind,
    OperStatus,
    Platform,
    SiteKind,
)
from domain.inventory.models import Device, Interface, Region, Site
from domain.inventory.services import (
    SITE_HINT,
    check_sites,
    device_named,
    near_sites,
    unknown_hostname_hint,
)
from domain.lookup import (
    LAB,
    SELECTOR_HINT,
    DeviceSelector,
    SelectorKey,
    glob_like,
    is_glob,
    parse_selector,
    selector_words,
    shown,
)
from domain.orders.queries import ports_in_use


def check_selector(session: Session, selector: DeviceSelector) -> None:
    """Refuse sites, vendors and exact hostnames the inventory does not have."""
    check_sites(session, selector.sites)
    if selector.vendors:
        vendors = {v.lower() for v in session.scalars(sa.select(Device.vendor).distinct()) if v}
        missing = sorted(selector.vendors - vendors)
        if missing:
            raise NotFound(
                f"no vendor {_quoted(missing)}", hint=f"vendors: {', '.join(sorted(vendors))}"
            )
    if selector.hostnames:
        have = set(
            session.scalars(
                sa.select(Device.hostname).where(Device.hostname.in_(selector.hostnames))
            )
        )
        missing = sorted(selector.hostnames - have)
        if missing:
            raise NotFound(
                f"no device {_quoted(missing)}", hint=unknown_hostname_hint(session, missing[0])
            )


def _quoted(values: Sequence[str]) -> str:
    return shown(", ".join(repr(v) for v in values))


def selector_clause(selector: DeviceSelector) -> sa.ColumnElement[bool]:
    """The selector as a WHERE clause over Device joined to Site."""
    clauses: list[sa.ColumnElement[bool]] = []
    named = [
        *([Device.hostname.in_(sorted(selector.hostnames))] if selector.hostnames else []),
        *(Device.hostname.like(glob_like(g), escape="\\") for g in sorted(selector.globs)),
    ]
    if named:
        clauses.append(sa.or_(*named))
    if selector.lab:
        clauses.append(Device.lab.is_(True))
    if selector.sites:
        clauses.append(Site.code.in_(sorted(selector.sites)))
    if selector.roles:
        clauses.append(Device.role.in_(sorted(selector.roles)))
    if selector.platforms:
        clauses.append(Device.platform.in_(sorted(selector.platforms)))
    if selector.statuses:
        clauses.append(Device.status.in_(sorted(selector.statuses)))
    if selector.vendors:
        clauses.append(sa.func.lower(Device.vendor).in_(sorted(selector.vendors)))
    for w in selector.words:
        clauses.append(
            sa.or_(
                Device.hostname.contains(w, autoescape=True),
                sa.func.lower(Site.name).contains(w, autoescape=True),
                sa.func.lower(Device.model).contains(w, autoescape=True),
                Device.serial.contains(w.upper(), autoescape=True),
            )
        )
    return sa.and_(sa.true(), *clauses)


def devices_matching(session: Session, selector: DeviceSelector) -> list[Device]:
    """Every device the selector names, in hostname order (after `check_selector`)."""
    check_selector(session, selector)
    return list(
        session.scalars(
            sa.select(Device)
            .join(Site, Site.id == Device.site_id)
            .where(selector_clause(selector))
            .order_by(Device.hostname)
        )
    )


def one_device(session: Session, words: Sequence[str]) -> Device:
    """The one device words name: a hostname, address or serial, or a selector that
    matches exactly one device (`site:MUM-AND1 role:core`, as one word or several).

    Every command that takes one device reads it here: /device run, /config
    backup|diff|history and, through the lookup grammar, /ticket open."""
    device = one_device_or_none(session, words)
    if device is not None:
        return device
    # Plain words that name no device by hostname, address or serial: as a selector they
    # are exact hostnames, refused with a "did you mean" (or "matches 2 devices").
    return _selected_one(session, selector_words(words))


def one_device_or_none(session: Session, words: Sequence[str]) -> Device | None:
    """`one_device`, or None when the words are plain words (no `key:value`, glob or
    `lab`) that name no device by hostname, address or serial, and so may name
    something else (a customer). A selector must match exactly one device."""
    words = selector_words(words)
    if any(_selector_word(w) for w in words):
        return _selected_one(session, words)
    if len(words) == 1:
        return device_named(session, words[0])
    return None


def _selected_one(session: Session, words: Sequence[str]) -> Device:
    selector = parse_selector(words)
    found = devices_matching(session, selector)
    if len(found) == 1:
        return found[0]
    if not found:
        raise NotFound(f"no device matches {shown(str(selector))}", hint=SELECTOR_HINT)
    listed = ", ".join(d.hostname for d in found[:5]) + (", ..." if len(found) > 5 else "")
    raise DomainError(
        f"{shown(str(selector))} matches {len(found)} devices ({listed}); this takes one",
        hint="name the device by its hostname",
    )


def _selector_word(word: str) -> bool:
    """A glob, `lab` or `key:value`, rather than a hostname, address or serial."""
    key, sep, _ = word.strip().partition(":")
    known = sep and key.lower() in {k.value for k in SelectorKey}
    return bool(known) or is_glob(word) or word.strip().lower() == LAB


PAGE = 15


@dataclass(frozen=True)
class DeviceRow:
    hostname: str
    site: str
    role: DeviceRole
    platform: Platform
    status: DeviceStatus


@dataclass(frozen=True)
class DeviceSearch:
    """One page of a search, best first, and how many devices match in all."""

    total: int
    page: int
    rows: tuple[DeviceRow, ...]

    @property
    def first(self) -> int:
        return (self.page - 1) * PAGE + 1

    @property
    def more(self) -> bool:
        return self.page * PAGE < self.total


def search_terms(session: Session, selector: DeviceSelector) -> DeviceSelector:
    """A search's selector with each search word that is exactly a hostname taken as that
    hostname, ORed with the other hostnames and globs as a selector takes them: so
    `r1-mum r2-* status:active` finds what a plan on `r1-mum r2-*` would change, while
    `r1` still finds every hostname containing it."""
    if not selector.words:
        return selector
    exact = set(
        session.scalars(sa.select(Device.hostname).where(Device.hostname.in_(selector.words)))
    )
    if not exact:
        return selector
    return replace(
        selector,
        hostnames=selector.hostnames | exact,
        words=tuple(w for w in selector.words if w not in exact),
    )


def search_devices(session: Session, selector: DeviceSelector, page: int = 1) -> DeviceSearch:
    """Devices the selector and its search words match, the best hostname match first.

    A word that is exactly a hostname is that hostname (see `search_terms`)."""
    selector = search_terms(session, selector)
    check_selector(session, selector)
    query = (
        sa.select(Device, Site.code)
        .join(Site, Site.id == Device.site_id)
        .where(selector_clause(selector))
    )
    rank: sa.ColumnElement[int] = sa.literal(0)
    for w in selector.words:
        # Best first: the hostname itself, then hostnames starting with the word.
        rank = rank + sa.case(
            (Device.hostname == w, 3),
            (Device.hostname.startswith(w, autoescape=True), 2),
            (Device.hostname.contains(w, autoescape=True), 1),
            else_=0,
        )
    page = max(1, page)
    total = session.scalar(sa.select(sa.func.count()).select_from(query.subquery())) or 0
    # A page past the end is empty without asking: its offset may be beyond any integer
    # the database takes.
    offset = (page - 1) * PAGE
    rows = (
        session.execute(
            query.order_by(rank.desc(), Device.hostname).offset(offset).limit(PAGE)
        ).all()
        if offset < total
        else []
    )
    return DeviceSearch(
        total,
        page,
        tuple(DeviceRow(d.hostname, code, d.role, d.platform, d.status) for d, code in rows),
    )


@dataclass(frozen=True)
class DeviceCard:
    """What /inventory show tells about a device."""

    hostname: str
    lab: bool
    site: str
    site_name: str
    region: str
    role: DeviceRole
    status: DeviceStatus
    vendor: str
    platform: Platform
    model: str
    os_version: str
    serial: str
    mgmt_host: str
    mgmt_port: int
    interfaces_up: int
    interfaces_down: int
    #: Open alarms as `/alarm list <device>` counts them (symptoms filed under a root
    #: cause count in the root cause).
    open_alarms: int
    open_tickets: int


def device_card(session: Session, text: str, now: datetime | None = None) -> DeviceCard:
    """A device (as `one_device` reads it) with where it is and what is open on it."""
    d = one_device(session, [text])
    site = session.get_one(Site, d.site_id)
    region = session.get_one(Region, site.region_id)
    counts = dict(
        session.execute(
            sa.select(Interface.oper_status, sa.func.count())
            .where(Interface.device_id == d.id)
            .group_by(Interface.oper_status)
        ).all()
    )
    return DeviceCard(
        hostname=d.hostname,
        lab=d.lab,
        site=site.code,
        site_name=site.name,
        region=region.name,
        role=d.role,
        status=d.status,
        vendor=d.vendor,
        platform=d.platform,
        model=d.model,
        os_version=d.os_version,
        serial=d.serial,
        mgmt_host=d.mgmt_host,
        mgmt_port=d.mgmt_port,
        interfaces_up=counts.get(OperStatus.UP, 0),
        interfaces_down=counts.get(OperStatus.DOWN, 0),
        open_alarms=open_alarm_count(session, device_id=d.id),
        open_tickets=count_open_tickets(session, now=now or utcnow(), device_id=d.id),
    )


@dataclass(frozen=True)
class SiteDevice:
    hostname: str
    role: DeviceRole
    platform: Platform
    model: str
    status: DeviceStatus


@dataclass(frozen=True)
class SiteDevices:
    """A site and its devices, in hostname order."""

    code: str
    name: str
    kind: SiteKind
    region: str
    city: str
    devices: tuple[SiteDevice, ...]


def site_devices(session: Session, code: str) -> SiteDevices:
    """A site by its code and its devices in hostname order; a typo gets 'did you mean'."""
    found = session.scalars(sa.select(Site).where(Site.code == code.strip().upper())).first()
    if found is None:
        close = near_sites(session, code)
        raise NotFound(
            f"no site {shown(code)!r}",
            hint=f"did you mean {', '.join(close)}?" if close else SITE_HINT,
        )
    devices = session.scalars(
        sa.select(Device).where(Device.site_id == found.id).order_by(Device.hostname)
    ).all()
    return SiteDevices(
        found.code,
        found.name,
        found.kind,
        session.get_one(Region, found.region_id).name,
        found.city,
        tuple(SiteDevice(d.hostname, d.role, d.platform, d.model, d.status) for d in devices),
    )


@dataclass(frozen=True)
class InterfaceRow:
    name: str
    enabled: bool
    oper_status: OperStatus
    speed_mbps: int | None
    ip_address: str | None
    description: str


@dataclass(frozen=True)
class DeviceInterfaces:
    hostname: str
    interfaces: tuple[InterfaceRow, ...]


def device_interfaces(session: Session, text: str) -> DeviceInterfaces:
    """A device (as `one_device` reads it) and its interfaces in their order."""
    d = one_device(session, [text])
    rows = session.scalars(
        sa.select(Interface).where(Interface.device_id == d.id).order_by(Interface.id)
    ).all()
    return DeviceInterfaces(
        d.hostname,
        tuple(
            InterfaceRow(
                i.name, i.enabled, i.oper_status, i.speed_mbps, i.ip_address, i.description
            )
            for i in rows
        ),
    )


def interface_names(session: Session, device_ids: Sequence[int]) -> dict[int, list[str]]:
    """Each device's interface names as the inventory holds them, in order."""
    names: dict[int, list[str]] = {i: [] for i in device_ids}
    rows = session.execute(
        sa.select(Interface.device_id, Interface.name)
        .where(Interface.device_id.in_(list(device_ids)))
        .order_by(Interface.device_id, Interface.id)
    ).all()
    for device_id, name in rows:
        names[device_id].append(name)
    return names


#: The words that ask `/inventory interfaces` for free customer ports only.
FREE_WORDS = frozenset({"free", "status:free"})


@dataclass(frozen=True)
class FreePort:
    hostname: str
    site: str
    name: str
    oper_status: OperStatus
    speed_mbps: int | None


@dataclass(frozen=True)
class FreePorts:
    """Free customer ports of the active access devices words name."""

    #: The access devices looked at, in hostname order.
    devices: tuple[str, ...]
    ports: tuple[FreePort, ...]


def free_access_ports(session: Session, words: Sequence[str]) -> FreePorts:
    """The ports a new fixed line can be ordered on: Ethernet ports without an address on
    an active access device (a hostname, or a selector such as site:TN-WHI1), that no
    live line or open order holds (`ports_in_use`, the rule `/order new` checks)."""
    words = [w for w in selector_words(words) if w.strip().lower() not in FREE_WORDS]
    if not words:
        raise DomainError(
            "free ports of which device or site?",
            hint="/inventory interfaces site:TN-WHI1 free, or /inventory interfaces r4-tn free",
        )
    if any(_selector_word(w) for w in words):
        devices = devices_matching(session, parse_selector(words))
    else:
        devices = [one_device(session, words)]
    access = [d for d in devices if d.role == DeviceRole.ACCESS and d.status == DeviceStatus.ACTIVE]
    if not access:
        said = " ".join(words)
        raise NotFound(
            f"{shown(said)} has no active access device; customer ports are on access devices",
            hint="/inventory search role:access lists them",
        )
    taken = ports_in_use(session, [d.id for d in access])
    sites = dict(
        session.execute(
            sa.select(Site.id, Site.code).where(Site.id.in_({d.site_id for d in access}))
        ).all()
    )
    rows = session.scalars(
        sa.select(Interface)
        .where(
            Interface.device_id.in_([d.id for d in access]),
            Interface.kind == InterfaceKind.ETHERNET,
            Interface.ip_address.is_(None),
        )
        .order_by(Interface.device_id, Interface.id)
    ).all()
    by_id = {d.id: d for d in access}
    return FreePorts(
        tuple(sorted(d.hostname for d in access)),
        tuple(
            FreePort(
                by_id[i.device_id].hostname,
                sites[by_id[i.device_id].site_id],
                i.name,
                i.oper_status,
                i.speed_mbps,
            )
            for i in sorted(rows, key=lambda i: (by_id[i.device_id].hostname, i.id))
            if (i.device_id, i.name) not in taken
        ),
    )
