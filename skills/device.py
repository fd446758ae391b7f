"""Read-only commands on a device, from an allowlist, parsed into tables where possible.

What may be sent is decided by the show-command grammar (domain/show_commands.py) before
any device is contacted, and what is sent is the command it rebuilt, never the text typed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import model_validator

from domain.config import Role
from domain.errors import PolicyViolation
from domain.inventory.queries import one_device
from domain.secrets import mask_config
from domain.show_commands import ShowCommand, ShowGrammar, grammar
from skills.context import Context
from skills.registry import Args, command, positional
from skills.reply import Field, Reply, Section, Table
from skills.words import last_word_is

MAX_ROWS = 200


@dataclass(frozen=True)
class CommandOutput:
    """What a device printed: parsed records (the first MAX_ROWS of `total`) or raw text."""

    device: str
    command: str
    records: list[dict[str, Any]] | None
    text: str | None
    total: int


class RunArgs(Args):
    """The device may be a selector of several words; the last word is the show command
    (quote it: "show version"), unless named (command=...)."""

    device: list[str] = positional(metavar="device")
    command: str = positional(metavar="show command")

    @model_validator(mode="before")
    @classmethod
    def _last_word_is_the_command(cls, data: Any) -> Any:
        return last_word_is(data, "device", "command")


def read_only(args: RunArgs, allowed: ShowGrammar) -> ShowCommand:
    """The command as the grammar rebuilt it, or the refusal naming the word refused.

    An unquoted command (`/device run r1-mum show version`) reaches here split: the
    device words hold its start. When they do, the whole of it is what is judged, and a
    command the grammar takes gets a hint to quote it."""
    words = [*args.device, args.command]
    starts = allowed.first_words()
    split = next(
        (
            i
            for i in range(1, len(words) - 1)
            if len(words[i]) > 1 and any(w.startswith(words[i].lower()) for w in starts)
        ),
        None,
    )
    if split is None:
        return allowed.parse(args.command)
    typed = " ".join(words[split:])
    allowed.parse(typed)  # refused as a whole: the refusal names the word at fault
    raise PolicyViolation(
        f"{args.command!r} is not an allowed read-only command",
        hint=f'quote the command: /device run {" ".join(words[:split])} "{typed}"',
    )


@command("device run", roles=[Role.ENGINEER], args=RunArgs)
def run(ctx: Context, args: RunArgs) -> Reply:
    """Run an allowlisted read-only command on a device: /device run r1-mum "show version"."""
    shown = read_only(args, grammar(tuple(ctx.services.show_allowlist)))
    command = str(shown)
    with ctx.db.read() as s:
        device = one_device(s, args.device)
    with ctx.services.devices.session(device) as driver:
        output = driver.show(command)
    if isinstance(output, str):  # `show running-config` holds communities and keys
        output = mask_config(output)
    title = f"{device.hostname}: {command}"
    if isinstance(output, list) and output and isinstance(output[0], dict):
        data = CommandOutput(device.hostname, command, output[:MAX_ROWS], None, len(output))
    else:
        data = CommandOutput(device.hostname, command, None, str(output), 1)
    if isinstance(output, list) and len(output) == 1 and isinstance(output[0], dict):
        # One record (show version): label and value read better than a one-row table.
        fields = tuple(
            Field(k, ", ".join(map(str, v)) if isinstance(v, list) else str(v))
            for k, v in output[0].items()
            if v not in ("", [], None)
        )
        return Reply(text=title, sections=(Section(fields=fields),), data=data)
    if isinstance(output, list) and output and isinstance(output[0], dict):
        columns = tuple(output[0])
        rows = tuple(tuple(str(r.get(c, "")) for c in columns) for r in output[:MAX_ROWS])
        more = f" (first {MAX_ROWS} of {len(output)})" if len(output) > MAX_ROWS else ""
        return Reply(text=title + more, tables=(Table(columns, rows),), data=data)
    return Reply(text=title, sections=(Section(text=f"```{str(output)[:2900]}```"),), data=data)
