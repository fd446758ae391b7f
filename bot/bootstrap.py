"""Composition root: the one place that turns settings into live components.

`bootstrap(settings)` opens the database (migrated), builds the services every entry
point shares (`build_services`: device connector, change workflow, provisioner, fraud
desk, each with its own settings section) and the router; `Switchboard.outbound`
builds the paced Slack queue on first use. The CLI, `serve`, scheduled jobs, the
console and tests all start here, so each use-case is wired once.
"""

from __future__ import annotations

import importlib
import json
import os
import pkgutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

import skills
from bot.access import Access
from bot.router import Router
from domain.audit.journal import journal_beside
from domain.config import Settings
from domain.db import Database, utcnow
from domain.migrate import upgrade
from skills.context import Services
from skills.registry import REGISTRY, Registry

if TYPE_CHECKING:
    from slack_sdk import WebClient

    from automation.changes import ChangeWorkflow
    from automation.drivers import DeviceConnector, Opener
    from automation.provisioning import Provisioner
    from bot.outbound import Outbound
    from models.fraud.desk import FraudDesk

#: Modules of the skills package that are the kit, not skills.
_KIT = {"registry", "reply", "context", "charts"}


def load_skills(*, lazy: bool = False) -> Registry:
    """Every skill's commands in the registry.

    Eager (the default) imports every skill module. Lazy reads the command index (paths,
    roles, help and usage of every command) that the last eager load wrote beside the
    skills, when no skill file changed since; a command's module is then imported when
    it runs, so a process that answers one command loads one skill.
    """
    if lazy and (entries := _read_index()) is not None:
        REGISTRY.add_indexed(entries)
        return REGISTRY
    for info in pkgutil.iter_modules(skills.__path__):
        if info.name not in _KIT and not info.name.startswith("_"):
            importlib.import_module(f"skills.{info.name}")
    _write_index(REGISTRY)
    return REGISTRY


_INDEX = Path(skills.__file__).resolve().parent / "__pycache__" / "command-index.json"


def _fingerprint() -> list[list[object]]:
    """Each skill file's name, size and modification time: the index is only as new."""
    folder = _INDEX.parent.parent
    return [[f.name, (st := f.stat()).st_size, st.st_mtime_ns] for f in sorted(folder.glob("*.py"))]


def _read_index() -> list[dict[str, Any]] | None:
    try:
        data = json.loads(_INDEX.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or data.get("files") != _fingerprint():
        return None
    entries = data.get("commands")
    return entries if isinstance(entries, list) else None


def _write_index(registry: Registry) -> None:
    """Best effort: a folder that cannot be written only means loading eagerly next time."""
    body = json.dumps({"files": _fingerprint(), "commands": registry.index()})
    try:
        _INDEX.parent.mkdir(exist_ok=True)
        with tempfile.NamedTemporaryFile(
            "w", dir=_INDEX.parent, delete=False, suffix=".tmp", encoding="utf-8"
        ) as f:
            f.write(body)
        os.chmod(f.name, 0o644)
        os.replace(f.name, _INDEX)
    except OSError:
        return


def open_database(settings: Settings, url: str | None = None, *, migrate: bool = True) -> Database:
    """The configured database (or `url`), its schema brought up to date, and the audit
    keys the settings name for sealing what this process writes to it."""
    from domain.audit.keys import configure

    configure(settings)
    db = Database(
        url or settings.database_url,
        pool_size=settings.database.pool_size,
        echo=settings.database.echo,
    )
    if migrate:
        upgrade(db)
    return db


def build_services(
    settings: Settings,
    db: Database,
    *,
    clock: Callable[[], datetime] = utcnow,
    opener: Opener | None = None,
) -> Services:
    """Every service wired from its settings section; `opener` replaces SSH (tests).

    Services read the time through `services.clock`, so pinning it pins them all.
    """

    def now() -> datetime:
        return services.clock()

    def devices() -> DeviceConnector:
        from automation.drivers import DeviceConnector

        return DeviceConnector.from_settings(
            settings.devices, settings.automation.napalm_platforms, opener=opener
        )

    def changes() -> ChangeWorkflow:
        from automation.changes import ChangeWorkflow

        return ChangeWorkflow(db, settings.automation, services.devices, clock=now)

    def provisioner() -> Provisioner:
        from automation.provisioning import Provisioner

        return Provisioner(db, services.changes, settings.orders, settings.tickets, clock=now)

    def fraud() -> FraudDesk:
        from models.fraud.desk import FraudDesk

        return FraudDesk(db, settings.fraud, clock=now)

    services = Services(
        db=db,
        clock=clock,
        billing=settings.billing,
        tickets=settings.tickets,
        orders=settings.orders,
        channels=settings.channels,
        users=settings.users,
        unmasked_roles=frozenset(settings.access.unmasked_roles),
        digests=settings.digests,
        show_allowlist=tuple(settings.devices.show_allowlist),
        devices=devices,
        changes=changes,
        provisioner=provisioner,
        fraud=fraud,
    )
    return services


@dataclass
class Switchboard:
    settings: Settings
    db: Database
    access: Access
    router: Router
    services: Services
    #: Changes a crash cut off, found at this start: (change, devices to check).
    interrupted: list[tuple[str, list[str]]] = field(default_factory=list)

    @cached_property
    def slack_client(self) -> WebClient:
        """The Slack Web API client (SLACK_API_URL, retries on 429 and connection errors)."""
        from bot.slack.edge import web_client

        return web_client(self.settings.slack)

    @cached_property
    def outbound(self) -> Outbound:
        """The paced queue every proactive message goes through."""
        from bot.outbound import Outbound

        token = None if self.settings.slack.bot_token else "SLACK_BOT_TOKEN unset"
        return Outbound(self.slack_client, missing=token)

    @property
    def slack_missing(self) -> str | None:
        """Why `serve` cannot take Slack's requests ("SLACK_BOT_TOKEN unset"); None if it can."""
        slack = self.settings.slack
        unset = []
        if slack.bot_token is None:
            unset.append("SLACK_BOT_TOKEN")
        # Socket Mode needs no signing secret: Slack's socket is authenticated by the app token.
        if slack.signing_secret is None and not slack.socket_mode:
            unset.append("SLACK_SIGNING_SECRET")
        return f"{' and '.join(unset)} unset" if unset else None

    def close(self) -> None:
        if "outbound" in self.__dict__:
            self.outbound.stop()
        self.db.dispose()


def bootstrap(
    settings: Settings,
    *,
    database_url: str | None = None,
    clock: Callable[[], datetime] = utcnow,
    opener: Opener | None = None,
) -> Switchboard:
    """Wire database, services, access control, skills and router from the settings."""
    from domain.changes.services import mark_interrupted

    db = open_database(settings, database_url)
    services = build_services(settings, db, clock=clock, opener=opener)
    return Switchboard(
        settings=settings,
        db=db,
        access=Access(settings),
        router=Router(
            load_skills(lazy=True),
            services,
            journal=journal_beside(settings.resolve_path(settings.audit.anchor_file), db.url),
        ),
        services=services,
        interrupted=mark_interrupted(db),
    )
