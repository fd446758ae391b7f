"""A Reply as Slack Block Kit, within Slack's limits, and honest about what did not fit.

Limits (Slack's; it refuses the whole message over any of them): 50 blocks a message,
3,000 characters a section text, 10 fields a section (2,000 characters each), 25
elements an actions block, 75 characters a button label, 2,000 characters a button
value, 24 characters a modal's title and submit label.

A long text is split over a few sections; a table longer than one section is split
over a few, and one longer than that goes out as a CSV file. What still does not fit
(past 50 blocks, a field past 2,000 characters, a command too long for a button) is
never just cut: it is attached in full and a line in the message says what and where.
"""

from __future__ import annotations

import io
import json
import re
from dataclasses import asdict, dataclass, field
from typing import Any

from domain.csvfiles import write_csv
from skills.reply import Button, File, Reply, Section, Table

MAX_BLOCKS = 50
MAX_TEXT = 3000
MAX_FIELDS = 10
MAX_FIELD_TEXT = 2000
MAX_ACTIONS = 25
MAX_VALUE = 2000
MAX_LABEL = 75
#: Slack's limit on a modal's title and its submit label.
MAX_MODAL_TITLE = 24
#: Slack's limit on an input block's label.
MAX_INPUT_LABEL = 2000
#: A table longer than this many section blocks goes out as a CSV file instead.
MAX_TABLE_BLOCKS = 6
#: Buttons past this many actions blocks (100 buttons) are listed as typed commands.
MAX_ACTION_BLOCKS = 4
#: Shown of a table's title above it; the CSV file keeps the whole title.
MAX_TABLE_TITLE = 200
#: Where what did not fit goes, in full.
REST_FILE = "reply-rest.txt"
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


def _split_text(text: str, limit: int) -> list[str]:
    """Text in pieces of at most `limit` characters that join back to it: cut after a
    newline where there is one, never inside an escaped character (&amp;)."""
    pieces = []
    while len(text) > limit:
        cut = text.rfind("\n", 0, limit) + 1 or limit
        amp = text.rfind("&", max(0, cut - 5), cut)
        if cut == limit and amp > 0 and ";" not in text[amp:cut]:
            cut = amp
        pieces.append(text[:cut])
        text = text[cut:]
    return [*pieces, text] if text or not pieces else pieces


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
    """The table as a CSV file, cells a spreadsheet would run as formulas kept as text."""
    buf = io.BytesIO()
    write_csv(buf, table.rows, header=table.columns)
    return buf.getvalue()


def _form_spec(button: Button) -> dict[str, Any]:
    """What a form button carries for its modal, inside the modal's own limits."""
    assert button.form is not None
    form = button.form
    return {
        "command": button.command,
        "title": _clip(form.title.strip() or button.label.strip() or "Form", MAX_MODAL_TITLE),
        "submit": _clip(form.submit.strip() or "Submit", MAX_MODAL_TITLE),
        "inputs": [
            {**asdict(i), "label": _clip(i.label.strip() or i.name, MAX_INPUT_LABEL)}
            for i in form.inputs
        ],
    }


def button_value(button: Button) -> str:
    """What a click sends back: the typed command (with its form, for form buttons)."""
    if button.form is None:
        return button.command
    return json.dumps(_form_spec(button))


def typed_command(button: Button) -> str:
    """The words to type for what the button does (a form's answers as name=...)."""
    asked = button.form.inputs if button.form is not None else ()
    return button.command + "".join(f" {i.name}=..." for i in asked)


def button_element(button: Button, index: int) -> dict[str, Any]:
    """A button whose value is its typed command (with its form, for form buttons).

    A value over Slack's 2,000 characters cannot be a button (cut, it would run another
    command): `to_message` lists such a command for typing instead.
    """
    value = button_value(button)
    if len(value) > MAX_VALUE:
        raise ValueError(f"a button value of {len(value):,} characters is over Slack's limit")
    action_id = f"{ACTION_PREFIX}{index}" if button.form is None else f"{ACTION_PREFIX}form:{index}"
    element: dict[str, Any] = {
        "type": "button",
        "action_id": action_id,
        "text": {"type": "plain_text", "text": _clip(_label(button), MAX_LABEL)},
        "value": value,
    }
    if button.style != "default":
        element["style"] = button.style
    if button.confirm:
        c = button.confirm
        element["confirm"] = {
            "title": {"type": "plain_text", "text": _clip(c.title.strip() or "Sure?", 100)},
            "text": {
                "type": "mrkdwn",
                "text": _clip(c.text.strip() or f"{_label(button)}?", 300),
            },
            "confirm": {"type": "plain_text", "text": _clip(c.confirm.strip() or "Yes", 30)},
            "deny": {"type": "plain_text", "text": _clip(c.deny.strip() or "Cancel", 30)},
        }
    return element


def _label(button: Button) -> str:
    """The label to show: Slack refuses an empty one, so the command stands in."""
    return button.label.strip() or button.command.strip() or "Run"


@dataclass
class _Part:
    """One section or table of a Reply as blocks; `plain` is a section as plain text,
    `csv` the file a table already went to, `shortened` what its blocks hold only cut."""

    kind: str  # "section" or "table"
    blocks: list[dict[str, Any]]
    plain: str = ""
    table: Table | None = None
    csv: str | None = None
    shortened: list[str] = field(default_factory=list)


@dataclass
class _Rest:
    """What the blocks do not hold in full: plain text for the rest file, and counts."""

    lines: list[str] = field(default_factory=list)
    shortened: int = 0
    sections: int = 0
    tables: list[str] = field(default_factory=list)  # the CSV files they went to
    actions: int = 0

    def keep(self, text: str) -> None:
        self.lines.append(text)

    def note(self, files: list[str]) -> str:
        """One line: what is not in the message, and the files that hold it."""
        left = [_count(self.sections, "more section"), _count(len(self.tables), "more table")]
        said = []
        if any(left):
            said.append(" and ".join(x for x in left if x) + " did not fit in one Slack message")
        if self.actions:
            said.append(f"{_count(self.actions, 'action')} to type instead of click")
        if self.shortened:
            said.append(f"{_count(self.shortened, 'text')} above shortened")
        return _clip(f"… {'; '.join(said)}. In full: {', '.join(files)}", MAX_TEXT)


def _count(n: int, noun: str) -> str:
    return "" if not n else f"{n:,} {noun}{'s' * (n != 1)}"


def _section_part(section: Section) -> _Part:
    blocks = [_section(t) for t in _split_text(_escape(section.text), MAX_TEXT) if t]
    shortened = []
    for i in range(0, len(section.fields), MAX_FIELDS):
        texts = []
        for f in section.fields[i : i + MAX_FIELDS]:
            text = f"*{_escape(f.label)}*\n{_escape(f.value)}"
            if len(text) > MAX_FIELD_TEXT:
                shortened.append(f"{f.label}: {f.value}")
            texts.append({"type": "mrkdwn", "text": _clip(text, MAX_FIELD_TEXT)})
        blocks.append({"type": "section", "fields": texts})
    plain = "\n".join([section.text, *(f"{f.label}: {f.value}" for f in section.fields)])
    return _Part("section", blocks, plain=plain.strip("\n"), shortened=shortened)


def _csv_name(table: Table, n: int, taken: set[str]) -> str:
    stem = re.sub(r"[^\w .-]+", "", table.title)[:40].strip(" .") or f"table-{n}"
    name, k = f"{stem}.csv", 2
    while name in taken:
        name, k = f"{stem}-{k}.csv", k + 1
    taken.add(name)
    return name


def _attach(table: Table, n: int, files: list[File], taken: set[str]) -> str:
    name = _csv_name(table, n, taken)
    files.append(File(filename=name, content=table_csv(table), title=table.title or "table"))
    return name


def _table_part(table: Table, n: int, files: list[File], taken: set[str]) -> _Part:
    shortened = [f"table title: {table.title}"] if len(table.title) > MAX_TABLE_TITLE else []
    title = f"*{_escape(_clip(table.title, MAX_TABLE_TITLE))}*\n" if table.title else ""
    limit = MAX_TEXT - len(title) - 6
    chunks = _split_table(table, limit)
    if len(chunks) <= MAX_TABLE_BLOCKS and all(len(c) <= limit for c in chunks):
        blocks = [_section(f"{title if i == 0 else ''}```{c}```") for i, c in enumerate(chunks)]
        return _Part("table", blocks, table=table, shortened=shortened)
    name = _attach(table, n, files, taken)
    summary = _section(f"{title}{_count(len(table.rows), 'row') or '0 rows'}: attached as {name}")
    return _Part("table", [summary], csv=name, shortened=shortened)


def to_message(reply: Reply) -> Message:
    """Render a Reply; what does not fit in blocks is attached as files, and said so."""
    files = list(reply.files)
    taken = {f.filename for f in files}
    rest = _Rest()
    head = f"*{_escape(reply.text)}*" if reply.ok else f":warning: {_escape(reply.text)}"
    if len(head) > MAX_TEXT:
        rest.shortened += 1
        rest.keep(reply.text)
    fixed: list[dict[str, Any]] = [_section(head)]
    if reply.hint:
        hint = _escape(reply.hint)
        if len(hint) > MAX_TEXT:
            rest.shortened += 1
            rest.keep(f"hint: {reply.hint}")
        element = {"type": "mrkdwn", "text": _clip(hint, MAX_TEXT)}
        fixed.append({"type": "context", "elements": [element]})

    parts = [_section_part(s) for s in reply.sections if s.text or s.fields]
    for n, table in enumerate(reply.tables, start=1):
        parts.append(_table_part(table, n, files, taken))

    elements: list[dict[str, Any]] = []
    to_type: list[Button] = []
    for i, button in enumerate(reply.buttons):
        fits = len(button_value(button)) <= MAX_VALUE
        if fits and len(elements) < MAX_ACTIONS * MAX_ACTION_BLOCKS:
            elements.append(button_element(button, i))
        else:  # a command too long for a button, or one button too many: typed instead
            to_type.append(button)
    actions = [
        {"type": "actions", "elements": elements[i : i + MAX_ACTIONS]}
        for i in range(0, len(elements), MAX_ACTIONS)
    ]

    room = MAX_BLOCKS - len(fixed) - len(actions)
    cut = rest.lines or to_type or any(p.shortened for p in parts)
    need_note = bool(cut) or sum(len(p.blocks) for p in parts) > room
    room -= need_note
    shown: list[dict[str, Any]] = []
    for part in parts:
        # In order: once one part does not fit, the ones after it go with it.
        if not rest.sections and not rest.tables and len(part.blocks) <= room:
            shown += part.blocks
            room -= len(part.blocks)
            rest.shortened += len(part.shortened)
            rest.lines += part.shortened
        elif part.kind == "section":
            rest.sections += 1
            rest.keep(part.plain)
        elif part.csv is not None:
            rest.tables.append(part.csv)
        elif part.table is not None:  # it would have shown inline; now it is a file
            n = reply.tables.index(part.table) + 1
            rest.tables.append(_attach(part.table, n, files, taken))
    if to_type:
        rest.actions = len(to_type)
        typed = [f"{_label(b)}: {typed_command(b)}" for b in to_type]
        rest.keep("Actions, to type:\n" + "\n".join(typed))
    if need_note:
        if rest.lines:
            content = "\n\n".join(rest.lines).encode()
            files.append(File(REST_FILE, content, title="the rest of the reply"))
        names = [*([REST_FILE] if rest.lines else []), *rest.tables]
        shown.append(_section(rest.note(names)))
    return Message(
        text=_clip(reply.text, MAX_TEXT),
        blocks=[*fixed, *shown, *actions],
        files=files,
        ephemeral=reply.ephemeral,
        thread=reply.thread,
    )
