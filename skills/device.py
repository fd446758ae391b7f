"""Read-only commands on a device, from an allowlist, parsed into tables where possible."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import model_validator

from domain.config import Role
from domain.errors import PolicyViolation
from domain.inventory.queries import one_device
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


def allowed(command: str, allowlist: tuple[str, ...]) -> bool:
    """An allowlisted command, alone or followed by its arguments; never a pipe or a second
    line."""
    if not command.isprintable() or any(c in command for c in "|;`$"):
        return False
    text = " ".join(command.split()).lower()
    return any(text == a or text.startswith(a + " ") for a in allowlist)


@command("device run", roles=[Role.ENGINEER], args=RunArgs)
def run(ctx: Context, args: RunArgs) -> Reply:
    """Run an allowlisted read-only command on a device: /device run r1-mum "show version"."""
    allowlist = tuple(a.lower() for a in ctx.services.show_allowlist)
    if not allowed(args.command, allowlist):
        words = [*args.device, args.command]
        unquoted = next(
            (i for i in range(1, len(words) - 1) if allowed(" ".join(words[i:]), allowlist)),
            None,
        )
        if unquoted is not None:  # /device run r1-mum show version
            raise PolicyViolation(
                f"{args.command!r} is not an allowed read-only command",
                hint=f"quote the command: /device run {' '.join(words[:unquoted])} "
                f'"{" ".join(words[unquoted:])}"',
            )
        raise PolicyViolation(
            f"{args.command!r} is not an allowed read-only command",
            hint=f"allowed: {', '.join(allowlist)}",
        )
    command = " ".join(args.command.split())
    with ctx.db.read() as s:
        device = one_device(s, args.device)
    with ctx.services.devices.session(device) as driver:
        output = driver.show(command)
    title = f"{device.hostname}: {args.command}"
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
