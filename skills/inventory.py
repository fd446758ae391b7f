"""Inventory in chat: a device's card, search, sites, interfaces and live facts."""

from __future__ import annotations

from domain.inventory.queries import (
    FREE_WORDS,
    device_card,
    device_interfaces,
    free_access_ports,
    one_device,
    search_devices,
    site_devices,
)
from domain.lookup import parse_selector
from skills.context import Context
from skills.registry import Args, command, positional
from skills.reply import Button, Field, Reply, Section, Table


class DeviceArgs(Args):
    device: str = positional(metavar="hostname|address|serial")


class SearchArgs(Args):
    words: list[str] = positional([], metavar="words")
    page: int = 1


class InterfacesArgs(Args):
    words: list[str] = positional(metavar="device|site:X [free]")


class SiteArgs(Args):
    site: str = positional(metavar="site-code")


@command("inventory show", args=DeviceArgs)
def show(ctx: Context, args: DeviceArgs) -> Reply:
    """A device's card: where it is, what it runs, its interfaces, alarms and tickets."""
    with ctx.db.read() as s:
        d = device_card(s, args.device, ctx.now())
    fields = (
        Field("site", f"{d.site} ({d.site_name}, {d.region})"),
        Field("role", d.role.value),
        Field("status", d.status.value),
        Field("vendor / platform", f"{d.vendor} / {d.platform.value}"),
        Field("model", d.model),
        Field("OS", d.os_version),
        Field("serial", d.serial),
        Field("management", f"{d.mgmt_host}:{d.mgmt_port}"),
        Field("interfaces", f"{d.interfaces_up} up, {d.interfaces_down} down"),
        Field("open alarms / tickets", f"{d.open_alarms} / {d.open_tickets}"),
    )
    return Reply(
        text=f"{d.hostname}" + (" (lab)" if d.lab else ""),
        sections=(Section(fields=fields),),
        buttons=(
            Button("Interfaces", f"/inventory interfaces {d.hostname}"),
            Button("Live facts", f"/inventory facts {d.hostname}"),
        ),
        data=d,
    )


@command("inventory search", args=SearchArgs)
def search(ctx: Context, args: SearchArgs) -> Reply:
    """Find devices by words, globs (r1-*) and site: role: platform: status: vendor: lab."""
    selector = parse_selector(args.words, search=True)
    with ctx.db.read() as s:
        found = search_devices(s, selector, args.page)
    table = Table(
        ("device", "site", "role", "platform", "status"),
        tuple(
            (r.hostname, r.site, r.role.value, r.platform.value, r.status.value) for r in found.rows
        ),
    )
    last = found.first + len(found.rows) - 1
    shown = f"{found.first}-{last}" if found.rows else "none"
    more: tuple[Button, ...] = ()
    if found.more:
        typed = " ".join(args.words)
        more = (
            Button("More", f"/inventory search {typed} page={found.page + 1}".replace("  ", " ")),
        )
    return Reply(
        text=f"{found.total:,} devices match; showing {shown}",
        tables=(table,),
        buttons=more,
        data=found,
    )


@command("inventory site", args=SiteArgs)
def site(ctx: Context, args: SiteArgs) -> Reply:
    """A site and its devices."""
    with ctx.db.read() as s:
        found = site_devices(s, args.site)
    table = Table(
        ("device", "role", "platform", "model", "status"),
        tuple(
            (d.hostname, d.role.value, d.platform.value, d.model, d.status.value)
            for d in found.devices
        ),
    )
    fields = (
        Field("name", found.name),
        Field("kind", found.kind.value),
        Field("region", found.region),
        Field("city", found.city),
        Field("devices", str(len(found.devices))),
    )
    return Reply(
        text=f"Site {found.code}", sections=(Section(fields=fields),), tables=(table,), data=found
    )


@command("inventory interfaces", args=InterfacesArgs)
def interfaces(ctx: Context, args: InterfacesArgs) -> Reply:
    """A device's interfaces; with `free`, the free customer ports (r4-tn free, site:X free)."""
    if any(w.strip().lower() in FREE_WORDS for w in args.words):
        return _free_ports(ctx, args.words)
    with ctx.db.read() as s:
        found = device_interfaces(s, " ".join(args.words))
    rows = found.interfaces
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
    return Reply(text=f"{found.hostname}: {len(rows)} interfaces", tables=(table,), data=found)


def _free_ports(ctx: Context, words: list[str]) -> Reply:
    with ctx.db.read() as s:
        found = free_access_ports(s, words)
    rows = found.ports
    table = Table(
        ("device", "site", "port", "state", "speed"),
        tuple(
            (
                p.hostname,
                p.site,
                p.name,
                p.oper_status.value,
                f"{p.speed_mbps:,} Mb/s" if p.speed_mbps else "-",
            )
            for p in rows
        ),
    )
    devices = ", ".join(found.devices)
    first = rows[0] if rows else None
    return Reply(
        text=f"{len(rows)} free customer port(s) on {devices}",
        tables=(table,),
        hint=(
            f"order a fixed line on one: /order new <account> FIBRE-100 site:{first.site} "
            f"port:{first.hostname}:{first.name}"
            if first
            else "every customer port there is taken; try another access device"
        ),
        data=found,
    )


@command("inventory facts", args=DeviceArgs)
def facts(ctx: Context, args: DeviceArgs) -> Reply:
    """Live facts from the device itself (over SSH), with a timeout."""
    with ctx.db.read() as s:
        d = one_device(s, [args.device])
    with ctx.services.devices.impatient(10.0).session(d) as driver:
        f = driver.facts()
    fields = (
        Field("hostname", f.hostname),
        Field("vendor", f.vendor),
        Field("model", f.model or "-"),
        Field("OS version", f.os_version or "-"),
        Field("serial", f.serial or "-"),
    )
    return Reply(text=f"{d.hostname}: live facts", sections=(Section(fields=fields),), data=f)
