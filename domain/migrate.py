"""Schema migrations with Alembic, applied by `switchboard db upgrade` and at start."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from domain.db import Database, unavailable
from domain.errors import DatabaseUnavailable

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
# Several replicas may start at once; on PostgreSQL one upgrades while the others wait.
_UPGRADE_LOCK = 0x5357_4442  # "SWDB"
_REVISION = re.compile(r"""^(down_)?revision\s*=\s*['"]?([\w]+|None)['"]?""", re.M)


def alembic_config() -> Config:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return cfg


@cache
def head_revision() -> str:
    """The newest migration, read from the files' `revision` / `down_revision` lines.

    Every start checks the schema; reading the files costs a millisecond, where
    importing Alembic to ask it costs a tenth of a second. A test keeps the two equal.
    """
    revisions: set[str] = set()
    parents: set[str] = set()
    for path in (MIGRATIONS / "versions").glob("*.py"):
        for down, value in _REVISION.findall(path.read_text(encoding="utf-8")):
            (parents if down else revisions).add(value)
    heads = revisions - parents
    if len(heads) != 1:
        raise RuntimeError(f"migrations must have one head, found {sorted(heads)}")
    return heads.pop()


def current_revision(db: Database) -> str | None:
    try:
        with db.engine.connect() as conn:
            if not sa.inspect(conn).has_table("alembic_version"):
                return None
            return conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar()
    except sa.exc.OperationalError as exc:
        raise unavailable(db.url, exc) from None


def upgrade(db: Database, revision: str = "head") -> tuple[str | None, str]:
    """Bring the schema to `revision`; returns (before, after)."""
    target = head_revision() if revision == "head" else revision
    # Every start upgrades: an up-to-date database costs one query, no lock, no check.
    if (current := current_revision(db)) == target:
        return current, target
    from alembic import command
    from alembic.runtime.migration import MigrationContext

    cfg = alembic_config()
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
    from alembic import command

    cfg = alembic_config()
    with db.engine.connect() as conn, _migrating(conn):
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "base")
