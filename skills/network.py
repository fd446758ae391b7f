"""Network health in chat: devices up and down, availability, open alarms, worst sites, MTTR."""

from __future__ import annotations

from domain.faults.choices import PerceivedSeverity
from domain.faults.health import health_of
from domain.inventory.choices import DeviceStatus
from skills.context import Context
from skills.registry import Args, command, positional
from skills.reply import Field, Reply, Section, Table


class HealthArgs(Args):
    scope: str | None = positional(None, metavar="region|site")


@command("network health", args=HealthArgs)
def health(ctx: Context, args: HealthArgs) -> Reply:
    """Devices up and down, availability (24 h, 30 days), open alarms, worst sites, MTTR."""
    with ctx.db.read() as s:
        h = health_of(s, ctx.now(), args.scope)
    mttr = h.mttr_minutes
    severities = [p for p in PerceivedSeverity if p != PerceivedSeverity.CLEARED]
    fields = (
        Field("devices active", f"{h.active:,}"),
        Field("down now", f"{h.down_now:,}"),
        Field(
            "other states",
            ", ".join(f"{k.value} {v}" for k, v in h.statuses.items() if k != DeviceStatus.ACTIVE)
            or "none",
        ),
        Field("availability 24 h", f"{100 * h.availability(1):.3f}%"),
        Field("availability 30 days", f"{100 * h.availability(30):.3f}%"),
        Field(
            "MTTR (30 days)",
            f"{mttr:,.0f} min over {len(h.repairs):,} alarms"
            if mttr is not None
            else "no alarm cleared",
        ),
        Field(
            "open alarms",
            ", ".join(f"{p.value} {h.open_by_severity.get(p, 0)}" for p in severities),
        ),
    )
    return Reply(
        text=f"Health of {h.label}",
        sections=(Section(fields=fields),),
        tables=(
            Table(
                ("site", "open alarms"),
                tuple((c, str(n)) for c, n in h.worst_sites),
                title="worst sites",
            ),
        ),
        data=h.figures(),
    )
