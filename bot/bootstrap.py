"""Composition root: the one place that turns settings into live components."""

from __future__ import annotations

from domain.config import Settings
from domain.db import Database
from domain.migrate import upgrade


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
