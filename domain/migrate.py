"""Schema migrations with Alembic, applied by `switchboard db upgrade` and at start."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from domain.db import Database, unavailable

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
    try:
        with db.engine.connect() as conn, _sqlite_keys_checked_at_end(conn), conn.begin():
            if conn.dialect.name == "postgresql":
                conn.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": _UPGRADE_LOCK})
            before = MigrationContext.configure(conn).get_current_revision()
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, revision)
            after = MigrationContext.configure(conn).get_current_revision()
            if conn.dialect.name == "sqlite":
                broken = conn.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                if broken:
                    raise RuntimeError(f"the migration left broken references: {broken[:5]}")
    except sa.exc.OperationalError as exc:
        raise unavailable(db.url, exc) from None
    return before, after or ""


@contextmanager
def _sqlite_keys_checked_at_end(conn: sa.Connection) -> Iterator[None]:
    """On SQLite, foreign keys off while migrating; references are checked before commit.

    SQLite alters a table by copying it, dropping the old one and renaming the copy.
    With foreign keys on, dropping a table that other rows refer to fails (0008 on a
    database with alarms filed under a storm). SQLite's documented procedure switches
    them off outside the transaction and runs PRAGMA foreign_key_check before commit.
    """
    dbapi = conn.connection.driver_connection
    if conn.dialect.name != "sqlite" or dbapi is None:
        yield
        return
    dbapi.execute("PRAGMA foreign_keys=OFF")
    try:
        yield
    finally:
        dbapi.execute("PRAGMA foreign_keys=ON")


def downgrade_to_base(db: Database) -> None:
    """Drop the whole schema through the migrations (used by `seed --reset`)."""
    cfg = alembic_config()
    with db.engine.connect() as conn, _sqlite_keys_checked_at_end(conn), conn.begin():
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "base")
