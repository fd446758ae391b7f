"""What a skill gets besides its arguments: who is asking, from where, and the services.

`Services` is built once by `bot.bootstrap` (the composition root) and shared by every
command, scheduled job and webhook: the database, the clock, the device connector,
the change workflow, the order provisioner and the fraud desk, plus the settings
sections skills show or check (currency, SLA hours, channels, people). Skills never
see the whole `Settings`, and never build a service themselves.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from typing import TYPE_CHECKING

from domain.config import (
    BillingSettings,
    ChannelSettings,
    DigestSettings,
    OrderSettings,
    Role,
    TicketSettings,
    UserSettings,
)
from domain.db import Database, utcnow
from domain.errors import NotFound
from domain.privacy import Audience

if TYPE_CHECKING:
    from automation.changes import ChangeWorkflow
    from automation.drivers import DeviceConnector
    from automation.provisioning import Provisioner
    from models.fraud.desk import FraudDesk


class Services:
    """The use-cases and settings sections skills call; heavy parts are built on first use."""

    def __init__(
        self,
        *,
        db: Database,
        clock: Callable[[], datetime],
        billing: BillingSettings,
        tickets: TicketSettings,
        orders: OrderSettings,
        channels: ChannelSettings,
        users: Mapping[str, UserSettings],
        unmasked_roles: frozenset[Role],
        digests: tuple[DigestSettings, ...],
        show_allowlist: tuple[str, ...],
        devices: Callable[[], DeviceConnector],
        changes: Callable[[], ChangeWorkflow],
        provisioner: Callable[[], Provisioner],
        fraud: Callable[[], FraudDesk],
    ) -> None:
        self.db = db
        self.clock = clock
        self.billing = billing
        self.tickets = tickets
        self.orders = orders
        self.channels = channels
        self.users = users
        self.unmasked_roles = unmasked_roles
        self.digests = digests
        self.show_allowlist = show_allowlist
        self._devices = devices
        self._changes = changes
        self._provisioner = provisioner
        self._fraud = fraud

    @cached_property
    def devices(self) -> DeviceConnector:
        """Opens a device over SSH with the configured credentials."""
        return self._devices()

    @cached_property
    def changes(self) -> ChangeWorkflow:
        """Plan, apply and roll back configuration changes."""
        return self._changes()

    @cached_property
    def provisioner(self) -> Provisioner:
        """Fulfil approved orders (mobile lines in place, fixed lines through a change)."""
        return self._provisioner()

    @cached_property
    def fraud(self) -> FraudDesk:
        """Score lines and open fraud cases with the configured model."""
        return self._fraud()

    def unmasked(self, roles: frozenset[Role]) -> bool:
        """Whether these roles see customers' personal data in full."""
        return bool(roles & self.unmasked_roles)

    def display_name(self, user: str) -> str:
        person = self.users.get(user)
        return person.display_name if person and person.display_name else user

    def known_user(self, name: str) -> str:
        """A configured user's name, or NotFound listing who exists."""
        if name not in self.users:
            raise NotFound(f"no user {name!r}", hint=f"users: {', '.join(sorted(self.users))}")
        return name

    def digest(self, name: str) -> DigestSettings:
        """The configured digest of that name, or NotFound listing the digests."""
        for d in self.digests:
            if d.name == name:
                return d
        names = ", ".join(d.name for d in self.digests) or "none configured"
        raise NotFound(f"no digest {name!r}", hint=f"digests: {names}")


@dataclass(frozen=True)
class Context:
    #: The configured user name (alice, ...) or, for unknown Slack users, their id.
    actor: str
    roles: frozenset[Role]
    services: Services
    channel: str = ""
    #: "slack", "console" or "chat": for the audit only; skills must not branch on it.
    source: str = "console"
    clock: Callable[[], datetime] = field(default=utcnow)
    #: Report progress of a long job ("12/50 devices done"); the edge shows and updates it.
    progress: Callable[[str], None] = field(default=lambda _text: None)

    @property
    def db(self) -> Database:
        return self.services.db

    @property
    def unmasked(self) -> bool:
        """Whether the caller sees customers' personal data in full."""
        return self.services.unmasked(self.roles)

    def audience(self, *, ephemeral: bool) -> Audience:
        """Who reads a reply: a public one everyone in the channel, so it is masked for
        them whoever asked; a private one the caller, in full if their roles allow."""
        if not ephemeral:
            return Audience.CHANNEL
        return Audience.FULL if self.unmasked else Audience.PRIVATE

    def now(self) -> datetime:
        return self.clock()
