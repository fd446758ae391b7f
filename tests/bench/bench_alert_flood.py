"""Alert floods: a 10,000-alert batch about one device and one across 2,000 devices, each
filed through the webhook's receive(), while another thread opens tickets through the
router and times each one.

On SQLite (a fresh file under var/bench) and, when BENCH_DATABASE_URL names one, on
PostgreSQL: that database is migrated, given the flood's 2,000 devices (hostnames
`flood-0000`...) once, and cleared of the flood's alarms and tickets before each run.
Targets (issue 17): each batch filed in < 5 s, the ticket loop's p99 < 1 s.
"""

from __future__ import annotations

import os
import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa

from bot.access import Access
from bot.alerts import receive
from bot.bench import BenchContext, Measurement, benchmark
from bot.bootstrap import build_services, load_skills
from bot.router import Router
from domain.db import Database
from domain.faults.models import Alarm, Ticket
from domain.inventory.choices import DeviceRole, Platform, SiteKind
from domain.inventory.models import Device, Region, Site
from domain.migrate import upgrade

ALERTS = 10_000
DEVICES = 2_000
TITLE = "Flood bench: link flapping"


def _devices(db: Database) -> None:
    """The flood's devices (and a site for them), once; old flood alarms and tickets go."""
    with db.transaction() as s:
        s.execute(sa.delete(Alarm).where(Alarm.fingerprint.like("flood%")))
        s.execute(sa.delete(Ticket).where(Ticket.title == TITLE))
        if s.scalar(sa.select(sa.func.count()).where(Device.hostname.like("flood-%"))):
            return
        region = s.scalar(sa.select(Region).where(Region.code == "FLD"))
        if region is None:
            region = Region(code="FLD", name="Flood bench")
            s.add(region)
            s.flush()
        site = Site(
            code="FLD-1",
            name="Flood bench site",
            kind=SiteKind.EXCHANGE,
            region_id=region.id,
            city="Mumbai",
        )
        s.add(site)
        s.flush()
        created = datetime.now(UTC) - timedelta(days=365)
        s.execute(
            sa.insert(Device),
            [
                {
                    "hostname": f"flood-{i:04d}",
                    "site_id": site.id,
                    "role": DeviceRole.ACCESS,
                    "platform": Platform.CISCO_IOS,
                    "vendor": "Cisco",
                    "model": "ASR-920",
                    "os_version": "17.6",
                    "serial": f"FLD{i:07d}",
                    "mgmt_host": f"10.250.{i // 250}.{i % 250}",
                    "mgmt_port": 22,
                    "created_at": created,
                }
                for i in range(DEVICES)
            ],
        )


def _batch(tag: str, devices: int) -> dict[str, Any]:
    started = (datetime.now(UTC) - timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M:%SZ")
    names = ("InterfaceErrors", "LinkDown", "HighCPU", "BGPSessionDown", "FanFailure")
    return {
        "version": "4",
        "status": "firing",
        "alerts": [
            {
                "status": "firing",
                "labels": {
                    "alertname": names[i % len(names)],
                    "severity": "major",
                    "instance": f"flood-{i % devices:04d}:9100",
                    "interface": f"Gi0/0/{i % 48}",
                },
                "annotations": {"summary": f"{names[i % len(names)]} on Gi0/0/{i % 48}"},
                "startsAt": started,
                "endsAt": "0001-01-01T00:00:00Z",
                "fingerprint": f"flood{tag}{i:09d}",
            }
            for i in range(ALERTS)
        ],
    }


def _flood(db: Database, ctx: BenchContext, label: str) -> list[Measurement]:
    upgrade(db)
    _devices(db)
    router = Router(load_skills(), build_services(ctx.settings, db))
    alice = Access(ctx.settings).user("alice")
    waits: list[float] = []
    failures: list[str] = []
    stop = threading.Event()

    def open_tickets() -> None:
        n = 0
        while not stop.is_set():
            n += 1
            started = time.perf_counter()
            routed = router.route(alice, f'/ticket open flood-{n % DEVICES:04d} "{TITLE}" sev=3')
            waits.append(time.perf_counter() - started)
            if not routed.reply.ok:
                failures.append(routed.reply.text)
            time.sleep(0.02)  # a busy NOC, not a tight loop

    batches = {"1 device": _batch("a", 1), f"{DEVICES:,} devices": _batch("b", DEVICES)}
    results = []
    loop = threading.Thread(target=open_tickets, daemon=True)
    loop.start()
    try:
        time.sleep(0.5)  # the loop's own pace before the floods
        for what, body in batches.items():
            started = time.perf_counter()
            counts = receive(db, ctx.settings.alerts, ctx.settings.tickets, "alertmanager", body)
            took = time.perf_counter() - started
            results.append(
                Measurement(
                    f"alert flood: {ALERTS:,} alerts on {what} ({label})",
                    ALERTS,
                    samples=[took],
                    throughput=ALERTS / took,
                    unit="alerts/s",
                    target="< 5 s per batch",
                    note=f"filed in {took:.2f} s: {counts.counts()}",
                )
            )
    finally:
        stop.set()
        loop.join(timeout=30)
    opened = Measurement(
        f"/ticket open during the floods ({label})",
        len(waits),
        samples=waits,
        throughput=len(waits) / sum(waits) if waits else None,
        unit="tickets/s",
        target="p99 < 1 s",
    )
    p50, p99 = opened.percentile(50) or 0, opened.percentile(99) or 0
    opened.note = (
        f"{len(waits)} opened, p50 {p50 * 1000:.0f} ms, p99 {p99 * 1000:.0f} ms, "
        f"max {max(waits, default=0) * 1000:.0f} ms; "
        + (f"{len(failures)} failed, first: {failures[0]}" if failures else "none failed")
    )
    results.append(opened)
    db.dispose()
    return results


@benchmark("alert flood")
def alert_flood(ctx: BenchContext) -> list[Measurement]:
    """Two 10,000-alert batches on SQLite and (given BENCH_DATABASE_URL) PostgreSQL."""
    path = ctx.workdir / "flood.db"
    path.unlink(missing_ok=True)
    results = _flood(Database(f"sqlite:///{path}"), ctx, "SQLite")
    pg = os.environ.get("BENCH_DATABASE_URL")
    if pg:
        db = Database(pg)
        results += _flood(db, ctx, "PostgreSQL")
    return results
