"""Schema migrations with Alembic, applied by `switchboard db upgrade` and at start."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from domain.db import Database, unavailable
from domain.errors import DatabaseUnavailable

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
# Several replicas may start at once; on PostgreSQL one upgrades while the others wait.
_UPGRADE_LOCK = 0x5357_4442  # "SWDB"


def alembic_config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return cfg


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


def current_revision(db: Database) -> str | None:
    try:
        with db.engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()
    except sa.exc.OperationalError as exc:
        raise unavailable(db.url, exc) from None


def upgrade(db: Database, revision: str = "head") -> tuple[str | None, str]:
    """Bring the schema to `revision`; returns (before, after)."""
    cfg = alembic_config()
    target = head_revision() if revision == "head" else revision
    # Every start upgrades: an up-to-date database costs one query, no lock, no check.
    if (current := current_revision(db)) == target:
        return current, target
    try:
        with db.engine.connect() as conn, _migrating(conn):
            if conn.dialect.name == "postgresql":
                conn.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": _UPGRADE_LOCK})
            before = MigrationContext.configure(conn).get_current_revision()
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, revision)
            after = MigrationContext.configure(conn).get_current_revision()
    except sa.exc.OperationalError as exc:
        raise unavailable(db.url, exc) from None
    return before, after or ""


@contextmanager
def _migrating(conn: sa.Connection) -> Iterator[None]:
    """The migrations' transaction; on SQLite with foreign keys off and checked at the end.

    SQLite alters a table by copying it, dropping the old one and renaming the copy.
    With foreign keys on, dropping a table that other rows refer to fails (0008 on a
    database with alarms filed under a storm). SQLite's documented procedure: keys off
    outside the transaction, PRAGMA foreign_key_check before the commit.
    """
    dbapi: Any = conn.connection.driver_connection
    sqlite = conn.dialect.name == "sqlite" and dbapi is not None
    if sqlite:
        dbapi.execute("PRAGMA foreign_keys=OFF")
    try:
        with conn.begin():
            yield
            broken = conn.exec_driver_sql("PRAGMA foreign_key_check").all() if sqlite else []
            if broken:
                table, row, parent, _ = broken[0]
                raise DatabaseUnavailable(
                    f"the migration would leave {len(broken):,} rows referring to missing "
                    f"rows (first: {table} row {row} -> {parent})",
                    hint="nothing was changed; restore those rows or remove them, then "
                    "run `switchboard db upgrade` again",
                )
    finally:
        if sqlite:
            dbapi.execute("PRAGMA foreign_keys=ON")
            if dbapi.execute("PRAGMA foreign_keys").fetchone()[0] != 1:
                # Still inside a transaction somehow: never pool a connection without keys.
                conn.invalidate()


def downgrade_to_base(db: Database) -> None:
    """Drop the whole schema through the migrations (used by `seed --reset`)."""
    cfg = alembic_config()
    with db.engine.connect() as conn, _migrating(conn):
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "base")
