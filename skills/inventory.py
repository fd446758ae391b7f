"""Inventory in chat: a device's card, search, sites, interfaces and live facts."""

from __future__ import annotations

import difflib

import sqlalchemy as sa

from domain.config import Role
from domain.errors import DomainError, NotFound
from domain.faults.choices import OPEN_TICKET_STATUSES, AlarmState
from domain.faults.models import Alarm, Ticket
from domain.inventory.choices import DeviceRole, DeviceStatus, OperStatus, Platform
from domain.inventory.models import Device, Interface, Region, Site
from domain.inventory.services import find_device
from skills.context import Context
from skills.registry import Args, command, positional
from skills.reply import Button, Field, Reply, Section, Table

VIEWERS = [Role.ENGINEER, Role.MANAGER]
PAGE = 15


class DeviceArgs(Args):
    device: str = positional(metavar="hostname|address|serial")


class SearchArgs(Args):
    words: list[str] = positional([], metavar="words")
    page: int = 1


class SiteArgs(Args):
    site: str = positional(metavar="site-code")


@command("inventory show", roles=VIEWERS, args=DeviceArgs)
def show(ctx: Context, args: DeviceArgs) -> Reply:
    """A device's card: where it is, what it runs, its interfaces, alarms and tickets."""
    with ctx.db.read() as s:
        d = find_device(s, args.device)
        site = s.get_one(Site, d.site_id)
        region = s.get_one(Region, site.region_id)
        counts = dict(
            s.execute(
                sa.select(Interface.oper_status, sa.func.count())
                .where(Interface.device_id == d.id)
                .group_by(Interface.oper_status)
            ).all()
        )
        alarms = (
            s.scalar(
                sa.select(sa.func.count())
                .select_from(Alarm)
                .where(Alarm.device_id == d.id, Alarm.state != AlarmState.CLEARED)
            )
            or 0
        )
        tickets = (
            s.scalar(
                sa.select(sa.func.count())
                .select_from(Ticket)
                .where(Ticket.device_id == d.id, Ticket.status.in_(OPEN_TICKET_STATUSES))
            )
            or 0
        )
        fields = (
            Field("site", f"{site.code} ({site.name}, {region.name})"),
            Field("role", d.role.value),
            Field("status", d.status.value),
            Field("vendor / platform", f"{d.vendor} / {d.platform.value}"),
            Field("model", d.model),
            Field("OS", d.os_version),
            Field("serial", d.serial),
            Field("management", f"{d.mgmt_host}:{d.mgmt_port}"),
            Field(
                "interfaces",
                f"{counts.get(OperStatus.UP, 0)} up, {counts.get(OperStatus.DOWN, 0)} down",
            ),
            Field("open alarms / tickets", f"{alarms} / {tickets}"),
        )
        return Reply(
            text=f"{d.hostname}" + (" (lab)" if d.lab else ""),
            sections=(Section(fields=fields),),
            buttons=(
                Button("Interfaces", f"/inventory interfaces {d.hostname}"),
                Button("Live facts", f"/inventory facts {d.hostname}"),
            ),
        )


_FILTERS = {
    "site": lambda v: Site.code == v.upper(),
    "role": lambda v: Device.role == DeviceRole(v),
    "status": lambda v: Device.status == DeviceStatus(v),
    "platform": lambda v: Device.platform == Platform(v),
    "vendor": lambda v: sa.func.lower(Device.vendor) == v.lower(),
}


@command("inventory search", roles=VIEWERS, args=SearchArgs)
def search(ctx: Context, args: SearchArgs) -> Reply:
    """Find devices by words and site:X role:Y vendor:Z status:S platform:P, best first."""
    query = sa.select(Device, Site.code).join(Site, Site.id == Device.site_id)
    words = []
    for word in args.words:
        key, sep, value = word.partition(":")
        if sep and key in _FILTERS:
            try:
                query = query.where(_FILTERS[key](value))
            except ValueError:
                raise DomainError(
                    f"no {key} {value!r}",
                    hint=f"search filters: {', '.join(f'{k}:' for k in _FILTERS)}",
                ) from None
        else:
            words.append(word.lower())
    rank = sa.literal(0)
    for w in words:
        hit = sa.or_(
            Device.hostname.contains(w, autoescape=True),
            sa.func.lower(Site.name).contains(w, autoescape=True),
            sa.func.lower(Device.model).contains(w, autoescape=True),
            Device.serial.contains(w.upper(), autoescape=True),
        )
        query = query.where(hit)
        # Best first: the hostname itself, then hostnames starting with the word.
        rank = rank + sa.case(
            (Device.hostname == w, 3),
            (Device.hostname.startswith(w, autoescape=True), 2),
            (Device.hostname.contains(w, autoescape=True), 1),
            else_=0,
        )
    page = max(1, args.page)
    with ctx.db.read() as s:
        total = s.scalar(sa.select(sa.func.count()).select_from(query.subquery())) or 0
        rows = s.execute(
            query.order_by(rank.desc(), Device.hostname).offset((page - 1) * PAGE).limit(PAGE)
        ).all()
        table = Table(
            ("device", "site", "role", "platform", "status"),
            tuple(
                (d.hostname, code, d.role.value, d.platform.value, d.status.value)
                for d, code in rows
            ),
        )
    shown = f"{(page - 1) * PAGE + 1}-{(page - 1) * PAGE + len(rows)}" if rows else "none"
    more: tuple[Button, ...] = ()
    if page * PAGE < total:
        typed = " ".join(w for w in args.words)
        more = (Button("More", f"/inventory search {typed} page={page + 1}".replace("  ", " ")),)
    return Reply(text=f"{total:,} devices match; showing {shown}", tables=(table,), buttons=more)


@command("inventory site", roles=VIEWERS, args=SiteArgs)
def site(ctx: Context, args: SiteArgs) -> Reply:
    """A site and its devices."""
    with ctx.db.read() as s:
        found = s.scalars(sa.select(Site).where(Site.code == args.site.upper())).first()
        if found is None:
            codes = s.scalars(sa.select(Site.code).limit(5000)).all()
            close = difflib.get_close_matches(args.site.upper(), codes, n=3)
            raise NotFound(
                f"no site {args.site!r}",
                hint=f"did you mean {', '.join(close)}?"
                if close
                else "site codes look like MUM-AND1",
            )
        region = s.get_one(Region, found.region_id)
        devices = s.scalars(
            sa.select(Device).where(Device.site_id == found.id).order_by(Device.hostname)
        ).all()
        table = Table(
            ("device", "role", "platform", "model", "status"),
            tuple(
                (d.hostname, d.role.value, d.platform.value, d.model, d.status.value)
                for d in devices
            ),
        )
        fields = (
            Field("name", found.name),
            Field("kind", found.kind.value),
            Field("region", region.name),
            Field("city", found.city),
            Field("devices", str(len(devices))),
        )
        return Reply(text=f"Site {found.code}", sections=(Section(fields=fields),), tables=(table,))


@command("inventory interfaces", roles=VIEWERS, args=DeviceArgs)
def interfaces(ctx: Context, args: DeviceArgs) -> Reply:
    """A device's interfaces with their state."""
    with ctx.db.read() as s:
        d = find_device(s, args.device)
        rows = s.scalars(
            sa.select(Interface).where(Interface.device_id == d.id).order_by(Interface.id)
        ).all()
        table = Table(
            ("interface", "state", "speed", "address", "description"),
            tuple(
                (
                    i.name,
                    i.oper_status.value if i.enabled else "admin down",
                    f"{i.speed_mbps:,} Mb/s" if i.speed_mbps else "-",
                    i.ip_address or "-",
                    i.description,
                )
                for i in rows
            ),
        )
        return Reply(text=f"{d.hostname}: {len(rows)} interfaces", tables=(table,))


@command("inventory facts", roles=VIEWERS, args=DeviceArgs)
def facts(ctx: Context, args: DeviceArgs) -> Reply:
    """Live facts from the device itself (over SSH), with a timeout."""
    with ctx.db.read() as s:
        d = find_device(s, args.device)
        s.expunge(d)
    with ctx.services.devices.impatient(10.0).session(d) as driver:
        f = driver.facts()
    fields = (
        Field("hostname", f.hostname),
        Field("vendor", f.vendor),
        Field("model", f.model or "-"),
        Field("OS version", f.os_version or "-"),
        Field("serial", f.serial or "-"),
    )
    return Reply(text=f"{d.hostname}: live facts", sections=(Section(fields=fields),))
