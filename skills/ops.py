"""Help and identity: what you may run, and who Switchboard takes you for."""

from __future__ import annotations

from dataclasses import dataclass

from domain.config import Role
from skills.context import Context
from skills.registry import REGISTRY, Args, Command, NoArgs, command, positional
from skills.reply import Field, Reply, Section, Table


@dataclass(frozen=True)
class CommandHelp:
    """A command as help lists it."""

    command: str
    usage: str
    help: str
    description: str
    roles: tuple[Role, ...]


@dataclass(frozen=True)
class Identity:
    """Who Switchboard takes the caller for."""

    user: str
    display_name: str
    roles: tuple[Role, ...]


def _help(c: Command) -> CommandHelp:
    return CommandHelp(f"/{c.name}", c.usage, c.help, c.description, tuple(sorted(c.roles)))


class HelpArgs(Args):
    topic: list[str] = positional([], metavar="command")


@command("ops help", args=HelpArgs)
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
        return Reply(
            text=f"Help for /{wanted}",
            sections=sections,
            ephemeral=True,
            data=[_help(c) for c in found],
        )
    rows = tuple((c.usage, c.help) for c in mine)
    return Reply(
        text=f"{len(rows)} commands you may run (roles: {', '.join(sorted(ctx.roles)) or 'none'})",
        tables=(Table(columns=("command", "what it does"), rows=rows),),
        ephemeral=True,
        data=[_help(c) for c in mine],
    )


@command("ops whoami", args=NoArgs)
def whoami(ctx: Context, args: NoArgs) -> Reply:
    """Show who you are to Switchboard and your roles."""
    me = Identity(ctx.actor, ctx.services.display_name(ctx.actor), tuple(sorted(ctx.roles)))
    return Reply(
        text=f"You are {me.display_name}",
        sections=(
            Section(
                fields=(
                    Field("user", ctx.actor),
                    Field("roles", ", ".join(sorted(ctx.roles)) or "none"),
                )
            ),
        ),
        ephemeral=True,
        data=me,
    )
