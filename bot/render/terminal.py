"""A Reply in the terminal (console and `switchboard chat`), with rich.

Slack's emoji shortcodes (`:red_circle:`) become the emoji, or go when there is none;
when the output is a pipe or a file, tables print at their full width and are never
cut short with an ellipsis, so scripts read every value.
"""

from __future__ import annotations

import re
import sys
from typing import IO

from rich.console import Console, Group, RenderableType
from rich.emoji import Emoji, NoEmoji
from rich.table import Table as RichTable
from rich.text import Text

from skills.reply import Reply

#: Slack's names that rich spells differently.
_ALIASES = {"large_orange_circle": "orange_circle", "large_yellow_circle": "yellow_circle"}
#: A shortcode stands alone between spaces, so times (10:30:45) and IPv6 never match.
_SHORTCODE = re.compile(r"(?<![\w:]):([a-z][a-z0-9_+-]*):( |(?=\s)|$)")
#: Wide enough that no table is squeezed; lines are as long as their content.
PIPE_WIDTH = 100_000


def emoji(text: str) -> str:
    """Slack shortcodes as emoji; a code with no emoji is dropped, never printed raw.

    Only our own message heads use shortcodes, so code blocks are left alone.
    """

    def one(m: re.Match[str]) -> str:
        try:
            return str(Emoji(_ALIASES.get(m.group(1), m.group(1)))) + m.group(2)
        except NoEmoji:
            return ""  # and the space after it

    parts = text.split("```")
    parts[::2] = [_SHORTCODE.sub(one, p) for p in parts[::2]]
    return "```".join(parts)


def console_for(stream: IO[str] | None = None, *, stderr: bool = False) -> Console:
    """A console for the terminal, or full width without wrapping for a pipe."""
    target = stream or (sys.stderr if stderr else sys.stdout)
    tty = bool(getattr(target, "isatty", lambda: False)())
    return Console(
        file=stream,
        stderr=stderr,
        highlight=False,
        soft_wrap=True,
        width=None if tty else PIPE_WIDTH,
    )


#: `*bold*` in Slack's mrkdwn: stars around a word, not a mask (`********`) or `S*`.
_BOLD = re.compile(r"(?<![\w*])\*(?=\S)([^*\n]+?)(?<=\S)\*(?![\w*])")


def plain(text: str) -> str:
    """Slack's mrkdwn for a terminal: code fences dropped with their text kept as it is,
    `*bold*` marks dropped outside them. Device output (`*09:00`, `S*` routes) and
    masked secrets (`********`) stay as they were."""
    parts = text.split("```")
    return "".join(part if i % 2 else _BOLD.sub(r"\1", part) for i, part in enumerate(parts))


def renderables(reply: Reply) -> list[RenderableType]:
    out: list[RenderableType] = []
    head = Text(emoji(reply.text), style="bold" if reply.ok else "bold red")
    out.append(head)
    if reply.hint:
        out.append(Text(f"hint: {reply.hint}", style="dim"))
    for section in reply.sections:
        if section.text:
            out.append(Text(plain(emoji(section.text))))
        if section.fields:
            grid = RichTable.grid(padding=(0, 2))
            grid.add_column(style="cyan", no_wrap=True)
            grid.add_column()
            for f in section.fields:
                grid.add_row(f.label, f.value)
            out.append(grid)
    for table in reply.tables:
        t = RichTable(title=table.title or None, show_lines=False)
        for col in table.columns:
            t.add_column(col, overflow="fold")
        for row in table.rows:
            t.add_row(*row)
        out.append(t)
    for button in reply.buttons:
        style = {"primary": "green", "danger": "red"}.get(button.style, "white")
        command = button.command
        if button.form is not None:  # what the form would ask, as the words to type
            command += "".join(f" {i.name}=..." for i in button.form.inputs)
        out.append(Text.assemble((f"[{button.label}]", f"bold {style}"), "  ", command))
    for attached in reply.files:
        size = len(attached.content)
        out.append(Text(f"file: {attached.filename} ({size:,} bytes)", style="dim"))
    return out


def render(reply: Reply, console: Console) -> None:
    console.print(Group(*renderables(reply)))
