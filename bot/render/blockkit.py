"""A Reply as Slack Block Kit, within Slack's limits.

Limits (Slack's): 50 blocks a message, 3,000 characters a section text, 10 fields a
section (2,000 characters each), 25 elements an actions block, 2,000 characters a
button value. A table longer than one section is split over a few; a table longer
than that goes out as a CSV file instead.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import asdict, dataclass, field
from typing import Any

from skills.reply import Button, File, Reply, Table

MAX_BLOCKS = 50
MAX_TEXT = 3000
MAX_FIELDS = 10
MAX_FIELD_TEXT = 2000
MAX_ACTIONS = 25
MAX_VALUE = 2000
#: A table longer than this many section blocks goes out as a CSV file instead.
MAX_TABLE_BLOCKS = 6
ACTION_PREFIX = "sb:"


@dataclass
class Message:
    """What the Slack edge sends: text (notification fallback), blocks, files to upload."""

    text: str
    blocks: list[dict[str, Any]]
    files: list[File] = field(default_factory=list)
    ephemeral: bool = False
    thread: str | None = None


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": _clip(text, MAX_TEXT)}}


def table_text(table: Table) -> str:
    """A table as aligned monospace text."""
    widths = [len(c) for c in table.columns]
    for row in table.rows:
        widths = [max(w, len(v)) for w, v in zip(widths, row, strict=True)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(table.columns, widths, strict=True)).rstrip()]
    lines += [
        "  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)).rstrip()
        for row in table.rows
    ]
    return "\n".join(lines)


def _split_table(table: Table, limit: int) -> list[str]:
    """The table as monospace text in pieces of at most `limit` characters, whole rows."""
    lines = _escape(table_text(table)).split("\n")
    header, pieces, current = lines[0], [], [lines[0]]
    for line in lines[1:]:
        if len("\n".join([*current, line])) > limit:
            pieces.append("\n".join(current))
            current = [header, line]
        else:
            current.append(line)
    pieces.append("\n".join(current))
    return pieces


def table_csv(table: Table) -> bytes:
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(table.columns)
    writer.writerows(table.rows)
    return buf.getvalue().encode()


def button_element(button: Button, index: int) -> dict[str, Any]:
    """A button whose value is its typed command (with its form, for form buttons)."""
    value = button.command
    action_id = f"{ACTION_PREFIX}{index}"
    if button.form is not None:
        action_id = f"{ACTION_PREFIX}form:{index}"
        value = json.dumps(
            {
                "command": button.command,
                "title": button.form.title,
                "submit": button.form.submit,
                "inputs": [asdict(i) for i in button.form.inputs],
            }
        )
    element: dict[str, Any] = {
        "type": "button",
        "action_id": action_id,
        "text": {"type": "plain_text", "text": _clip(button.label, 75)},
        "value": value[:MAX_VALUE],
    }
    if button.style != "default":
        element["style"] = button.style
    if button.confirm:
        c = button.confirm
        element["confirm"] = {
            "title": {"type": "plain_text", "text": _clip(c.title, 100)},
            "text": {"type": "mrkdwn", "text": _clip(c.text, 300)},
            "confirm": {"type": "plain_text", "text": _clip(c.confirm, 30)},
            "deny": {"type": "plain_text", "text": _clip(c.deny, 30)},
        }
    return element


def to_message(reply: Reply) -> Message:
    """Render a Reply; what does not fit in blocks is attached as files."""
    files = list(reply.files)
    head = f"*{_escape(reply.text)}*" if reply.ok else f":warning: {_escape(reply.text)}"
    blocks: list[dict[str, Any]] = [_section(head)]
    if reply.hint:
        blocks.append(
            {
                "type": "context",
                "elements": [{"type": "mrkdwn", "text": _clip(_escape(reply.hint), 3000)}],
            }
        )
    for section in reply.sections:
        if section.text:
            blocks.append(_section(_escape(section.text)))
        for i in range(0, len(section.fields), MAX_FIELDS):
            chunk = section.fields[i : i + MAX_FIELDS]
            blocks.append(
                {
                    "type": "section",
                    "fields": [
                        {
                            "type": "mrkdwn",
                            "text": _clip(
                                f"*{_escape(f.label)}*\n{_escape(f.value)}", MAX_FIELD_TEXT
                            ),
                        }
                        for f in chunk
                    ],
                }
            )
    for n, table in enumerate(reply.tables, start=1):
        title = f"*{_escape(table.title)}*\n" if table.title else ""
        chunks = _split_table(table, MAX_TEXT - len(title) - 6)
        if len(chunks) <= MAX_TABLE_BLOCKS:
            for i, chunk in enumerate(chunks):
                blocks.append(_section(f"{title if i == 0 else ''}```{chunk}```"))
        else:
            name = f"table-{n}.csv" if not table.title else f"{table.title[:40]}.csv"
            files.append(
                File(filename=name, content=table_csv(table), title=table.title or "table")
            )
            blocks.append(_section(f"{title}{len(table.rows):,} rows: attached as {name}"))
    buttons = [button_element(b, i) for i, b in enumerate(reply.buttons)]
    for i in range(0, len(buttons), MAX_ACTIONS):
        blocks.append({"type": "actions", "elements": buttons[i : i + MAX_ACTIONS]})
    if len(blocks) > MAX_BLOCKS:
        keep = blocks[: MAX_BLOCKS - 1]
        keep.append(_section(f"… {len(blocks) - len(keep)} more blocks were left out"))
        blocks = keep
    return Message(
        text=_clip(reply.text, MAX_TEXT),
        blocks=blocks,
        files=files,
        ephemeral=reply.ephemeral,
        thread=reply.thread,
    )
