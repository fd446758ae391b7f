"""Digests: what managers and engineers read every morning, with a chart.

A digest is defined in config.yaml (name, cron, time zone, channel or users,
sections); `build_digest` makes its Reply for any moment, so the scheduler, the
preview command and `switchboard digest preview` all show the same thing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from domain import policy
from domain.config import DigestSettings, Role
from domain.figures import PAST_SLA
from domain.jobs import join_digest, leave_digest
from domain.money import money
from domain.reports import DigestFigures, Span, digest_figures
from skills.charts import Panel, render_png, value_ticks
from skills.context import Context, Services
from skills.registry import Args, command, positional
from skills.reply import Button, Field, File, Reply, Section


@dataclass(frozen=True)
class Digest:
    """A digest as it goes out: its figures for the 24 hours before `at`."""

    name: str
    at: datetime
    timezone: str
    figures: DigestFigures
    #: The sections its reader may see, in the digest's order, and the ones left out.
    sections: tuple[str, ...] = ()
    left_out: tuple[str, ...] = ()


def _change(now: int, before: int) -> str:
    if before == 0:
        return "new" if now else "same"
    pct = 100 * (now - before) / abs(before)
    return f"{pct:+.0f}%"


def audience(spec: DigestSettings) -> frozenset[Role]:
    """Who reads the digest's channel: its configured audience, else the roles that may
    read every section it names."""
    return frozenset(spec.audience) or policy.full_readers(spec.sections)


def build_digest(
    services: Services, name: str, now: datetime, *, roles: frozenset[Role] | None = None
) -> Reply:
    """The digest `name` for the 24 hours before `now`, with its chart as a PNG file,
    for a reader with `roles`: only the sections (and buttons) those roles may see.

    Without `roles` it is the digest as its channel gets it: the sections (and buttons)
    every role of the channel's `audience` may see. Either way it says what it left out.
    """
    spec = services.digest(name)
    channel = audience(spec)
    if roles is None:
        shown = policy.readable_by_all(channel, spec.sections)
    else:
        shown = policy.readable(roles, spec.sections)

    def may_press(path: str) -> bool:
        if roles is None:
            return bool(channel) and all(policy.may_run({r}, path) for r in channel)
        return policy.may_run(roles, path)

    hidden = tuple(s for s in spec.sections if s not in shown)
    span = Span(now - timedelta(days=1), now)
    billing = services.billing
    sections: list[Section] = []
    buttons: list[Button] = []
    panels: list[Panel] = []
    with services.db.read() as s:
        figures = digest_figures(s, shown, span, billing)
    for part in shown:
        if part == "network" and (n := figures.network) is not None:
            worst = sorted(n.availability, key=lambda r: r[1])[:3]
            sections.append(
                Section(
                    text="*Network*",
                    fields=(
                        Field("alarms raised", f"{n.raised:,}"),
                        Field("alarms cleared", f"{n.cleared:,}"),
                        Field("open now", f"{n.open_now:,}"),
                        Field(
                            "MTTR (30 days)",
                            f"{n.mttr_minutes:,.0f} min" if n.mttr_minutes else "-",
                        ),
                        Field(
                            "availability 24 h, lowest regions",
                            ", ".join(f"{r} {100 * a:.2f}%" for r, a in worst) or "-",
                        ),
                    ),
                )
            )
            panels.append(
                Panel(
                    "Alarms per day",
                    {"raised": n.raised_per_day, "cleared": n.cleared_per_day},
                    bars=True,
                )
            )
        elif part == "tickets" and (t := figures.tickets) is not None:
            oldest = "; ".join(
                f"{ref} {title[:40]} ({(now - at).days} d)" for ref, title, at in t.oldest
            )
            sections.append(
                Section(
                    text="*Tickets*",
                    fields=(
                        Field("opened", f"{t.opened:,}"),
                        Field("resolved", f"{t.resolved:,}"),
                        Field(PAST_SLA, f"{t.breached_open:,}"),
                        Field("resolved late", f"{t.resolved_late:,}"),
                        Field("oldest open", oldest or "none"),
                    ),
                )
            )
            panels.append(
                Panel(
                    "Tickets per day",
                    {"opened": t.opened_per_day, "resolved": t.resolved_per_day},
                )
            )
        elif part == "orders" and (o := figures.orders) is not None:
            pending = "; ".join(f"{ref} {who}" for ref, who, _ in o.pending)
            sections.append(
                Section(
                    text="*Orders*",
                    fields=(
                        Field("awaiting approval", f"{o.pending_total:,}"),
                        Field("completed", f"{o.completed:,}"),
                        Field("failed", f"{o.failed:,}"),
                        Field("oldest pending", pending or "none"),
                    ),
                )
            )
            for ref, _, _ in o.pending[:3]:
                if may_press("order approve"):
                    buttons.append(Button(f"Approve {ref}", f"/order approve {ref}", "primary"))
                if may_press("order reject"):
                    buttons.append(Button(f"Reject {ref}", f"/order reject {ref}", "danger"))
        elif part == "revenue" and (r := figures.revenue) is not None:
            sections.append(
                Section(
                    text=f"*Revenue, {r.label}* (against {r.previous_label})"
                    # Said as /revenue says it: what is dated later than now is not counted.
                    + (f"\n{r.later[0].upper()}{r.later[1:]}." if r.later else ""),
                    fields=(
                        Field(
                            "billed",
                            f"{money(r.billed.minor, billing, whole=True)} "
                            f"({_change(r.billed.minor, r.previous_billed.minor)})",
                        ),
                        Field(
                            "collected",
                            f"{money(r.collected.minor, billing, whole=True)} "
                            f"({_change(r.collected.minor, r.previous_collected.minor)})",
                        ),
                        Field("outstanding now", money(r.outstanding.minor, billing, whole=True)),
                    ),
                )
            )
            panels.append(
                Panel(
                    "Collected per day",
                    {"collected": {d: v.minor for d, v in r.collected_per_day.items()}},
                    bars=True,
                    money=billing,
                )
            )
        elif part == "fraud" and (f := figures.fraud) is not None:
            sections.append(
                Section(
                    text="*Fraud*",
                    fields=(
                        Field("cases flagged", f"{f.flagged:,}"),
                        Field("confirmed", f"{f.confirmed:,}"),
                        Field("dismissed", f"{f.dismissed:,}"),
                        Field("open now", f"{f.open_now:,}"),
                        Field(
                            "loss prevented (est., a month)",
                            money(f.loss_prevented.minor, billing, whole=True),
                        ),
                    ),
                )
            )
        elif part == "changes" and (c := figures.changes) is not None:
            sections.append(
                Section(
                    text="*Changes and open work by site*",
                    fields=(
                        Field("changes done", f"{c.succeeded:,}"),
                        Field("failed", f"{c.failed:,}"),
                        Field("rolled back", f"{c.rolled_back:,}"),
                        Field(
                            "open alarms by site",
                            ", ".join(f"{k} {v}" for k, v in c.open_alarms_by_site) or "none",
                        ),
                        Field(
                            "open tickets by site",
                            ", ".join(f"{k} {v}" for k, v in c.open_tickets_by_site) or "none",
                        ),
                    ),
                )
            )
    if hidden:
        not_here = "Not in this channel" if roles is None else "Not shown to you"
        sections.append(Section(text=f"{not_here}: {policy.left_out(hidden)}."))
    files: tuple[File, ...] = ()
    if panels:
        png = render_png(f"{spec.name}, 7 days to {now:%d %b %Y %H:%M} UTC", panels)
        files = (File(f"{spec.name}-{now:%Y%m%d}.png", png, title=f"{spec.name} chart"),)
    local = now.astimezone(_zone(spec.timezone))
    return Reply(
        text=f"{spec.name.replace('-', ' ').capitalize()} digest, {local:%a %d %b %Y %H:%M} "
        f"({spec.timezone})",
        sections=tuple(sections),
        buttons=tuple(buttons),
        files=files,
        meta={
            "panels": [
                {"title": p.title, "series": list(p.series), "axis": [t for _, t in value_ticks(p)]}
                for p in panels
            ],
            "sections": list(shown),
            "left_out": list(hidden),
        },
        data=Digest(spec.name, now, spec.timezone, figures, shown, hidden),
    )


def _zone(name: str):  # type: ignore[no-untyped-def]
    from zoneinfo import ZoneInfo

    return ZoneInfo(name)


class DigestName(Args):
    name: str = positional(metavar="digest")


@command("digest list")
def list_(ctx: Context, args: Args) -> Reply:
    """The digests there are, when they go out and where."""
    fields = tuple(
        Field(
            d.name,
            f"{d.cron} ({d.timezone}) to {d.channel or 'subscribers'}: {', '.join(d.sections)}",
        )
        for d in ctx.services.digests
    )
    return Reply(
        text=f"{len(fields)} digest(s)",
        sections=(Section(fields=fields),) if fields else (),
        ephemeral=True,
        data=list(ctx.services.digests),
    )


@command("digest preview", args=DigestName)
def preview(ctx: Context, args: DigestName) -> Reply:
    """The digest as it would go out now, with its chart; only you see it, and only the
    sections your roles may read."""
    reply = build_digest(ctx.services, args.name, ctx.now(), roles=ctx.roles)
    return Reply(
        text=reply.text,
        sections=reply.sections,
        buttons=reply.buttons,
        files=reply.files,
        ephemeral=True,
        meta=reply.meta,
        data=reply.data,
    )


@command("digest subscribe", args=DigestName)
def subscribe_(ctx: Context, args: DigestName) -> Reply:
    """Get a digest in a direct message when it goes out."""
    spec = ctx.services.digest(args.name)
    done = join_digest(ctx.db, spec.name, ctx.actor, roles=ctx.roles, sections=spec.sections)
    if not done.changed:
        return Reply(text=f"You already get {spec.name}", ephemeral=True, data=done)
    return Reply(
        text=f"You will get {spec.name} by direct message ({spec.cron}, {spec.timezone}): "
        f"{policy.joined(spec.sections)}",
        ephemeral=True,
        data=done,
    )


@command("digest unsubscribe", args=DigestName)
def unsubscribe_(ctx: Context, args: DigestName) -> Reply:
    """Stop getting a digest by direct message."""
    spec = ctx.services.digest(args.name)
    done = leave_digest(ctx.db, spec.name, ctx.actor)
    if not done.changed:
        return Reply.error(
            f"you do not get {spec.name} by direct message", hint=f"/digest subscribe {spec.name}"
        )
    return Reply(text=f"You will no longer get {spec.name}", ephemeral=True, data=done)
