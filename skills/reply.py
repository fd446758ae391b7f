"""What a skill answers: one Reply that renders to Block Kit or to the terminal.

A Reply knows nothing of Slack. Buttons carry the typed command they stand for, so
the console, scripts and Slack reach the same actions.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal
from enum import Enum
from pathlib import Path
from typing import Any, Literal


@dataclass(frozen=True)
class Confirm:
    """A question asked before a button acts."""

    title: str
    text: str
    confirm: str = "Yes"
    deny: str = "Cancel"


@dataclass(frozen=True)
class Input:
    """One field of a Form; its value is passed to the command as name=value."""

    name: str
    label: str
    multiline: bool = False
    optional: bool = False
    #: What the field holds when the form opens.
    initial: str = ""


@dataclass(frozen=True)
class Form:
    """Questions asked before a button acts (a modal in Slack)."""

    title: str
    inputs: tuple[Input, ...]
    submit: str = "Submit"


@dataclass(frozen=True)
class Button:
    """A button; clicking it runs `command` (e.g. "/order approve O-1042").

    With a form, the answers are appended to the command as name=value words.
    """

    label: str
    command: str
    style: Literal["primary", "danger", "default"] = "default"
    confirm: Confirm | None = None
    form: Form | None = None


@dataclass(frozen=True)
class Field:
    label: str
    value: str


@dataclass(frozen=True)
class Section:
    text: str = ""
    fields: tuple[Field, ...] = ()


@dataclass(frozen=True)
class Table:
    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    title: str = ""


@dataclass(frozen=True)
class File:
    """A file to attach (a chart, a long table as CSV)."""

    filename: str
    content: bytes
    title: str = ""


@dataclass(frozen=True)
class Reply:
    """A skill's answer."""

    text: str
    sections: tuple[Section, ...] = ()
    tables: tuple[Table, ...] = ()
    buttons: tuple[Button, ...] = ()
    files: tuple[File, ...] = ()
    #: Only the caller sees it (care lookups, refusals).
    ephemeral: bool = False
    #: False for refusals and failures: `chat` exits 1 and the audit says so.
    ok: bool = True
    hint: str = ""
    #: Slack thread to answer in, when the command came from one.
    thread: str | None = None
    meta: dict[str, Any] = field(default_factory=dict)
    #: The typed result the text shows (ids, amounts with their currency, states, times),
    #: for scripts: `switchboard chat --json` carries it beside the display text.
    data: Any = None

    @classmethod
    def error(cls, message: str, hint: str = "") -> Reply:
        """A one-line refusal with a hint, shown only to the caller."""
        return cls(text=message, hint=hint, ok=False, ephemeral=True)

    def to_json(self) -> dict[str, Any]:
        out = _fields(self)
        out["files"] = [
            {"filename": f.filename, "title": f.title, "bytes": len(f.content)} for f in self.files
        ]
        return out


def showing(
    what: str,
    shown: int,
    total: int,
    *,
    cap: int | None = None,
    narrow: str = "",
    page: str = "",
) -> str:
    """The head of a list: "66 open tickets" when every one is shown; when the list is
    cut, "66 open tickets, showing 20 of 66" and how to see the rest: the next `page`
    (the words to type), `limit=` up to `cap`, or the filters that `narrow` it.

    Every list command says so through this, so no list is ever cut silently.
    """
    head = f"{total:,} {what}"
    if shown >= total:
        return head
    ways = []
    if page:
        ways.append(f"next page: {page}")
    if cap is not None and cap > shown:
        ways.append(
            f"limit={total} shows them all" if total <= cap else f"limit={cap} shows {cap:,}"
        )
    if narrow:
        ways.append(f"narrow with {narrow}")
    if not ways:
        ways.append("narrow the search to see the rest")
    return f"{head}, showing {shown:,} of {total:,}; " + ", or ".join(ways)


def jsonable(value: Any) -> Any:
    """Plain JSON values: numbers stay numbers, times are ISO 8601, enums their value.

    A value may say how it wants to be written with a `to_json()` method (amounts
    write their number and currency).
    """
    if value is None or isinstance(value, bool | int | float | str):
        return value
    to_json = getattr(value, "to_json", None)
    if callable(to_json) and not isinstance(value, type | Reply):
        return to_json()
    if isinstance(value, Enum):
        return jsonable(value.value)
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value) if value != value.to_integral_value() else int(value)
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, bytes):
        return {"bytes": len(value)}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return _fields(value)
    if isinstance(value, dict):
        return {str(jsonable(k)): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [jsonable(v) for v in value]
    dump = getattr(value, "model_dump", None)  # pydantic models
    if callable(dump):
        return jsonable(dump())
    return str(value)


def _fields(value: Any) -> dict[str, Any]:
    """A dataclass's fields, but those that spell amounts out in words for people
    (`domain.money.SPELLED_OUT`): results carry money as numbers only."""
    return {
        f.name: jsonable(getattr(value, f.name))
        for f in dataclasses.fields(value)
        if not f.metadata.get("spelled_out")
    }
