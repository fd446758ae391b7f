"""Read-only commands on a device, from an allowlist, parsed into tables where possible.

What may be sent is decided by the show-command grammar (domain/show_commands.py) before
any device is contacted, and what is sent is the command it rebuilt, never the text typed
and never its output modifier: `| include`, `| section` and the like run here, on the
output with its secrets masked, as IOS would run them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import model_validator

from domain.errors import PolicyViolation
from domain.inventory.queries import one_device
from domain.secrets import mask_config
from domain.show_commands import ShowCommand, ShowGrammar, grammar
from skills.context import Context
from skills.registry import Args, command, positional
from skills.reply import Field, Reply, Section, Table
from skills.words import last_word_is

MAX_ROWS = 200
#: Most characters of text shown (a Slack section holds 3,000, with the code fence).
MAX_TEXT = 2900


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


@command("device run", args=RunArgs)
def run(ctx: Context, args: RunArgs) -> Reply:
    """Run an allowlisted read-only command on a device: /device run r1-mum "show version"."""
    shown = read_only(args, grammar(tuple(ctx.services.show_allowlist)))
    # What was typed after `|` may be a guess at a secret: it is shown masked too.
    command = mask_config(str(shown))
    with ctx.db.read() as s:
        device = one_device(s, args.device)
    with ctx.services.devices.session(device) as driver:
        # The modifier never reaches the device: it runs here, on the masked output, so
        # that a regex cannot tell a right guess at a secret from a wrong one.
        output = driver.show(shown.base, parse=shown.modifier is None)
    title = f"{device.hostname}: {command}"
    if isinstance(output, list) and output:
        return _rows(
            title, CommandOutput(device.hostname, command, output[:MAX_ROWS], None, len(output))
        )
    text = shown.keep(mask_config(str(output)))
    data = CommandOutput(device.hostname, command, None, text, 1)
    if not text.strip():
        said = (
            f"`{mask_config(f'| {shown.modifier} {shown.pattern}')}` kept no line of the output"
            if shown.modifier
            else "the device printed nothing"
        )
        return Reply(text=title, sections=(Section(text=said),), data=data)
    if len(text) > MAX_TEXT:
        title += (
            f" (the first {MAX_TEXT:,} of {len(text):,} characters; "
            "narrow it with | include, | begin or | section)"
        )
    return Reply(text=title, sections=(Section(text=f"```{text[:MAX_TEXT]}```"),), data=data)


def _rows(title: str, data: CommandOutput) -> Reply:
    """Parsed records: one (show version) as label and value, several as a table."""
    records = data.records or []
    if data.total == 1:
        fields = tuple(
            Field(k, ", ".join(map(str, v)) if isinstance(v, list) else str(v))
            for k, v in records[0].items()
            if v not in ("", [], None)
        )
        return Reply(text=title, sections=(Section(fields=fields),), data=data)
    columns = tuple(records[0])
    rows = tuple(tuple(str(r.get(c, "")) for c in columns) for r in records)
    more = f" (first {MAX_ROWS} of {data.total})" if data.total > MAX_ROWS else ""
    return Reply(text=title + more, tables=(Table(columns, rows),), data=data)
