"""What a skill gets besides its arguments: who is asking, from where, and the services."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from domain.config import Role, Settings
from domain.db import Database, utcnow


@dataclass(frozen=True)
class Context:
    #: The configured user name (alice, ...) or, for unknown Slack users, their id.
    actor: str
    roles: frozenset[Role]
    db: Database
    settings: Settings
    channel: str = ""
    #: "slack", "console" or "chat": for the audit only; skills must not branch on it.
    source: str = "console"
    clock: Callable[[], datetime] = field(default=utcnow)
    #: Report progress of a long job ("12/50 devices done"); the edge shows and updates it.
    progress: Callable[[str], None] = field(default=lambda _text: None)

    def now(self) -> datetime:
        return self.clock()
