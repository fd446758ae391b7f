"""The audit trail in chat, for admins."""

from __future__ import annotations

from domain.audit.queries import recent_events
from skills.context import Context
from skills.registry import Args, command, positional
from skills.reply import Reply, Table, showing


class RecentArgs(Args):
    user: str | None = positional(None, metavar="user")
    limit: int = 20


@command("audit recent", args=RecentArgs)
def recent(ctx: Context, args: RecentArgs) -> Reply:
    """The latest audit events, optionally of one user."""
    with ctx.db.read() as s:
        trail = recent_events(s, args.user, max(1, min(args.limit, 200)))
    if args.user and not trail.total:
        # Nobody of that name has done anything: a user not configured is a typo, refused
        # with who there is. (One no longer configured, or an unknown Slack user's id, may
        # still have events, and those are shown.)
        ctx.services.known_user(args.user)
    rows = tuple(
        (
            f"{e.at:%Y-%m-%d %H:%M:%S}",
            e.actor,
            f"/{e.command}",
            str(e.outcome),
            e.arguments[:60],
        )
        for e in trail.events
    )
    who = f" by {args.user}" if args.user else ""
    return Reply(
        text=showing(f"latest audit events{who}", len(rows), trail.total, cap=200, narrow="a user"),
        tables=(Table(columns=("at (UTC)", "who", "command", "outcome", "as typed"), rows=rows),),
        ephemeral=True,
        data=trail,
    )
