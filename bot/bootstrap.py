"""Composition root: the one place that turns settings into live components."""

from __future__ import annotations

import importlib
import pkgutil
from dataclasses import dataclass, field

import skills
from automation.changes import mark_interrupted
from bot.access import Access
from bot.router import Router
from domain.config import Settings
from domain.db import Database
from domain.migrate import upgrade
from skills.registry import REGISTRY, Registry

#: Modules of the skills package that are the kit, not skills.
_KIT = {"registry", "reply", "context", "charts"}


def load_skills() -> Registry:
    """Import every skill module once, so its commands register."""
    for info in pkgutil.iter_modules(skills.__path__):
        if info.name not in _KIT and not info.name.startswith("_"):
            importlib.import_module(f"skills.{info.name}")
    return REGISTRY


def open_database(settings: Settings, url: str | None = None, *, migrate: bool = True) -> Database:
    """The configured database (or `url`), its schema brought up to date."""
    db = Database(
        url or settings.database_url,
        pool_size=settings.database.pool_size,
        echo=settings.database.echo,
    )
    if migrate:
        upgrade(db)
    return db


@dataclass
class Switchboard:
    settings: Settings
    db: Database
    access: Access
    router: Router
    #: Changes a crash cut off, found at this start: (change, devices to check).
    interrupted: list[tuple[str, list[str]]] = field(default_factory=list)

    def close(self) -> None:
        self.db.dispose()


def bootstrap(settings: Settings, *, database_url: str | None = None) -> Switchboard:
    """Wire database, access control, skills and router from the settings."""
    db = open_database(settings, database_url)
    registry = load_skills()
    return Switchboard(
        settings=settings,
        db=db,
        access=Access(settings),
        router=Router(registry, db, settings),
        interrupted=mark_interrupted(db),
    )
