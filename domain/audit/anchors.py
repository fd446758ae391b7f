"""Anchors: the audit chain's head written outside the database, so cutting off the
newest rows (or rewriting the whole table) is noticed.

The anchor file is append-only text, one line per anchor:

    2024-05-01T08:00:00+00:00 event=1234 seal=<64 hex> key=<key id> mac=<64 hex>

`mac` is an HMAC, with the named audit key, of everything before it on the line, so a
writer without the key can neither forge nor edit a line. The scheduler appends one
every `audit.anchor_every_minutes` when the head moved; `switchboard audit anchor`
appends one at once.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from domain.audit.keys import AuditKey, Keyring
from domain.audit.queries import ChainHead
from domain.errors import DomainError

_LINE = re.compile(
    r"^(?P<at>\S+) event=(?P<event>\d+) seal=(?P<seal>[0-9a-f]{64}) "
    r"key=(?P<key>[0-9a-f]{1,16}) mac=(?P<mac>[0-9a-f]{64})$"
)


@dataclass(frozen=True)
class Anchor:
    """One line of the anchor file; `signed` when its HMAC checks with a key we hold.

    A line that is not an anchor at all (`readable` False) names no event.
    """

    line: int
    at: str
    event: int
    seal: str
    key_id: str
    signed: bool
    readable: bool = True

    def describe(self) -> str:
        return f"{self.at} event={self.event} seal={self.seal} key={self.key_id}"


def _body(at: str, event: int, seal: str, key_id: str) -> str:
    return f"{at} event={event} seal={seal} key={key_id}"


def read_anchors(path: Path, keys: Keyring | None) -> list[Anchor]:
    """Every line of the anchor file, in order; a line that does not parse is unreadable."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return []
    except OSError as exc:
        raise DomainError(
            f"cannot read the audit anchor file {path} ({exc.strerror})",
            "check its owner and mode",
        ) from None
    anchors = []
    for number, raw in enumerate(text.splitlines(), 1):
        m = _LINE.match(raw.strip())
        if not m:
            if raw.strip():
                anchors.append(Anchor(number, "", 0, "", "", False, readable=False))
            continue
        key = keys.get(m["key"]) if keys else None
        body = _body(m["at"], int(m["event"]), m["seal"], m["key"])
        signed = key is not None and key.mac(body.encode()) == m["mac"]
        anchors.append(Anchor(number, m["at"], int(m["event"]), m["seal"], m["key"], signed))
    return anchors


def append_anchor(path: Path, head: ChainHead, key: AuditKey, at: datetime) -> Anchor:
    """Append one signed line naming `head`; the file is only ever appended to."""
    stamp = at.isoformat(timespec="seconds")
    body = _body(stamp, head.event, head.seal, key.id)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    with os.fdopen(fd, "a", encoding="utf-8") as f:
        f.write(f"{body} mac={key.mac(body.encode())}\n")
        f.flush()
        os.fsync(f.fileno())
    return Anchor(0, stamp, head.event, head.seal, key.id, True)
