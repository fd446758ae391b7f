"""What a skill answers: one Reply that renders to Block Kit or to the terminal.

A Reply knows nothing of Slack. Buttons carry the typed command they stand for, so
the console, scripts and Slack reach the same actions.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
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

    @classmethod
    def error(cls, message: str, hint: str = "") -> Reply:
        """A one-line refusal with a hint, shown only to the caller."""
        return cls(text=message, hint=hint, ok=False, ephemeral=True)

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["files"] = [
            {"filename": f.filename, "title": f.title, "bytes": len(f.content)} for f in self.files
        ]
        return data
