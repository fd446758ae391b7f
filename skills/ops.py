"""Help and identity: what you may run, and who Switchboard takes you for."""

from __future__ import annotations

from domain.config import Role
from skills.context import Context
from skills.registry import REGISTRY, Args, NoArgs, command, positional
from skills.reply import Field, Reply, Section, Table

EVERYONE = list(Role)


class HelpArgs(Args):
    topic: list[str] = positional([], metavar="command")


@command("ops help", roles=EVERYONE, args=HelpArgs)
def show_help(ctx: Context, args: HelpArgs) -> Reply:
    """List the commands you may run, or explain one: /ops help order approve."""
    mine = REGISTRY.visible_to(ctx.roles)
    if args.topic:
        wanted = " ".join(w.lower().lstrip("/") for w in args.topic)
        found = [c for c in mine if c.name == wanted or c.name.startswith(wanted + " ")]
        if not found:
            return Reply.error(f"no command /{wanted} that you may run", "try /ops help")
        sections = tuple(
            Section(text=f"*{c.usage}*\n{c.help}" + (f"\n{c.description}" if c.description else ""))
            for c in found
        )
        return Reply(text=f"Help for /{wanted}", sections=sections, ephemeral=True)
    rows = tuple((c.usage, c.help) for c in mine)
    return Reply(
        text=f"{len(rows)} commands you may run (roles: {', '.join(sorted(ctx.roles)) or 'none'})",
        tables=(Table(columns=("command", "what it does"), rows=rows),),
        ephemeral=True,
    )


@command("ops whoami", roles=EVERYONE, args=NoArgs)
def whoami(ctx: Context, args: NoArgs) -> Reply:
    """Show who you are to Switchboard and your roles."""
    return Reply(
        text=f"You are {ctx.services.display_name(ctx.actor)}",
        sections=(
            Section(
                fields=(
                    Field("user", ctx.actor),
                    Field("roles", ", ".join(sorted(ctx.roles)) or "none"),
                )
            ),
        ),
        ephemeral=True,
    )
