"""Database plumbing: declarative base, column types, engine and unit of work.

Nothing connects at import time: `Database(url)` is built by the composition root.
SQLite (embedded default) and PostgreSQL (production) are both first-class.
"""

from __future__ import annotations

import fcntl
import hashlib
import re
import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import URL, Engine, make_url
from sqlalchemy.orm import DeclarativeBase, sessionmaker
from sqlalchemy.orm import Session as Session  # for skills and bot, which import no sqlalchemy
from sqlalchemy.orm.exc import StaleDataError

from domain.errors import Conflict, DatabaseUnavailable, NotFound
from domain.words import a

T = TypeVar("T")

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = sa.MetaData(naming_convention=NAMING)


def utcnow() -> datetime:
    return datetime.now(UTC)


class UtcDateTime(sa.types.TypeDecorator[datetime]):
    """Timestamps stored in UTC and always read back timezone-aware.

    SQLite keeps no zone, so values are normalised to UTC before they are written.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: pass an aware UTC time")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def enum_column(enum: type[StrEnum], **kw: Any) -> sa.Enum:
    """A portable enum column storing the member's value (TM Forum spelling)."""
    return sa.Enum(
        enum,
        native_enum=False,
        create_constraint=False,
        length=max(len(m.value) for m in enum) + 8,
        values_callable=lambda e: [m.value for m in e],
        validate_strings=True,
        **kw,
    )


def get_by_ref(session: Session, model: type[T], text: str, noun: str) -> T:
    """The entity a human reference ("T-12") names, or NotFound."""
    prefix: str = model.ref_prefix  # type: ignore[attr-defined]
    number = parse_ref(prefix, text, noun)
    found = session.get(model, number)
    if found is None:
        raise NotFound(f"no {noun} {make_ref(prefix, number)}", hint=_ref_hint(prefix))
    return found


# -- human references: T-12, O-1042, CR-7 ---------------------------------------------


def make_ref(prefix: str, number: int) -> str:
    return f"{prefix}-{number}"


#: The integers every database here stores (SQLite INTEGER, PostgreSQL BIGINT): ids,
#: backup ids and every number a command passes on to a query must lie in this range.
INT_MIN = -(2**63)
INT_MAX = 2**63 - 1

#: Where each kind of reference is listed, for the hint when a number names nothing.
_LISTED_BY = {
    "A": "`/alarm list` shows the open alarms",
    "T": "`/ticket list` shows recent ones",
    "O": "`/order list` shows recent ones",
    "F": "`/fraud cases` shows the open cases",
    "CR": "`/config history <device>` shows a device's changes",
}


def _ref_hint(prefix: str) -> str:
    listed = _LISTED_BY.get(prefix)
    return f"check the number; {listed}" if listed else "check the number"


def parse_ref(prefix: str, text: str, noun: str) -> int:
    """Turn "T-12", "t12" or "12" into 12; refuse anything else with a hint.

    A number too large for any id is NotFound like any other number that names nothing.
    """
    m = re.fullmatch(rf"(?:{re.escape(prefix)}-?)?([0-9]+)", text.strip(), re.IGNORECASE)
    if not m:
        raise NotFound(
            f"{_cut(text.strip())!r} is not {a(noun)} reference", hint=f"use the form {prefix}-12"
        )
    digits = m.group(1).lstrip("0") or "0"
    if len(digits) > len(str(INT_MAX)) or int(digits) > INT_MAX:
        raise NotFound(f"no {noun} {prefix}-{_cut(digits)}", hint=_ref_hint(prefix))
    return int(digits)


def _cut(text: str, most: int = 40) -> str:
    """Typed text short enough to repeat in a one-line error."""
    return text if len(text) <= most else text[: most - 1] + "…"


# -- engine and unit of work ------------------------------------------------------------


def normalise_url(url: str) -> str:
    if url.startswith(("postgres://", "postgresql://")):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


#: The databases Switchboard runs on, as a user would write each.
_BACKENDS = {
    "sqlite": "sqlite:///path/to/file.db",
    "postgresql": "postgresql+psycopg://user@host/db",
}
_USE = "use " + " or ".join(_BACKENDS.values())


def check_database_url(url: str) -> URL:
    """The parsed URL, or ValueError with one line saying what is wrong (never the password).

    Checked where the settings are read and again where an engine is made, so a URL that
    cannot work is refused in one line instead of a driver's traceback.
    """
    if not url.strip():
        raise ValueError(f"is empty; {_USE}")
    try:
        parsed = make_url(normalise_url(url))
    except sa.exc.ArgumentError:
        raise ValueError(f"is not a database URL; {_USE}") from None
    except (ValueError, TypeError):  # make_url's int() of the port
        raise ValueError(f"its port is not a number; {_USE}") from None
    backend = parsed.get_backend_name()
    if backend not in _BACKENDS:
        raise ValueError(f"unsupported database {_cut(backend)!r}; {_USE}")
    try:
        dialect = parsed.get_dialect()
    except sa.exc.NoSuchModuleError:
        raise ValueError(f"unknown driver {_cut(parsed.drivername)!r}; {_USE}") from None
    try:
        dialect.import_dbapi()
    except ImportError:
        raise ValueError(
            f"the driver of {_cut(parsed.drivername)!r} is not installed; {_USE}"
        ) from None
    if dialect.is_async:
        raise ValueError(f"{_cut(parsed.drivername)!r} is an asyncio driver; {_USE}")
    return parsed


def safe_url(url: str | URL) -> str:
    """The URL with any password hidden, for messages and logs."""
    try:
        parsed = make_url(str(url) if isinstance(url, URL) else url)
    except (sa.exc.ArgumentError, ValueError, TypeError):
        # Unparsable: hide whatever sits between the user name and the host.
        return re.sub(r"(://[^/@]*?:)[^/]*@", r"\1***@", str(url))
    return parsed.render_as_string(hide_password=True)


def database_tag(url: str | URL) -> str:
    """A short name for one database (its URL's hash, password hidden), for files kept
    beside the data that belong to it alone: the audit journal, the fraud window."""
    return hashlib.sha256(safe_url(url).encode()).hexdigest()[:12]


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.close()


#: conn.info key: the connection's changes when its write transaction began.
_CHANGES_AT_BEGIN = "sqlite_changes_at_begin"


def _sqlite_begin(conn: sa.Connection) -> None:
    # Writers take the lock at BEGIN: in WAL mode a reader that later writes would
    # otherwise fail at once (SQLITE_BUSY_SNAPSHOT) instead of waiting its turn.
    begin = conn.get_execution_options().get("sqlite_begin", "BEGIN")
    conn.exec_driver_sql(begin)
    dbapi = conn.connection.driver_connection
    writer = begin == "BEGIN IMMEDIATE" and dbapi is not None
    conn.info[_CHANGES_AT_BEGIN] = _changes_so_far(dbapi) if writer else None


def _changes_so_far(dbapi: Any) -> tuple[int, int]:
    # Rows changed on this connection, and the schema's version (DDL changes no rows).
    (schema,) = dbapi.execute("PRAGMA schema_version").fetchone()
    return int(dbapi.total_changes), int(schema)


def sqlite_file_as_seen_here(conn: sa.Connection) -> str | None:
    """The SQLite file whose committed state is exactly what this transaction sees.

    That holds in a write transaction (BEGIN IMMEDIATE: nobody else can commit while
    it lasts) that has changed nothing yet; then other connections may read for it.
    None for PostgreSQL, in-memory databases and every other case.
    """
    if conn.dialect.name != "sqlite":
        return None
    path = conn.engine.url.database
    if not path or path == ":memory:" or path.startswith("file:"):
        return None
    at_begin = conn.info.get(_CHANGES_AT_BEGIN)
    dbapi = conn.connection.driver_connection
    if at_begin is None or dbapi is None or not dbapi.in_transaction:
        return None
    if _changes_so_far(dbapi) != at_begin:
        return None
    return path


def _postgres_utc(dbapi_conn: Any, _record: Any) -> None:
    # Bulk COPY writes naive UTC strings; the session zone makes them mean UTC.
    # psycopg starts a transaction for the SET; end it so the pool sees an idle conn.
    with dbapi_conn.cursor() as cur:
        cur.execute("SET TIME ZONE 'UTC'")
    dbapi_conn.commit()


def create_engine(url: str, *, pool_size: int = 10, echo: bool = False) -> Engine:
    """An engine for SQLite or PostgreSQL with the settings each one needs."""
    url = normalise_url(url)
    try:
        parsed = check_database_url(url)
    except ValueError as exc:
        raise DatabaseUnavailable(
            f"database URL {_cut(safe_url(url), 80)}: {exc}",
            hint="check database.url in config.yaml (or SWITCHBOARD_DATABASE_URL)",
        ) from None
    if parsed.get_backend_name() == "sqlite":
        db = parsed.database
        if db and db != ":memory:" and not db.startswith("file:"):
            Path(db).parent.mkdir(parents=True, exist_ok=True)
        engine = sa.create_engine(
            url, echo=echo, connect_args={"timeout": 30, "check_same_thread": False}
        )
        event.listen(engine, "connect", _sqlite_pragmas)
        # pysqlite's own transaction handling defers BEGIN; take it over so that
        # a write transaction starts when SQLAlchemy says so (see SQLAlchemy docs,
        # "Serializable isolation / Savepoints / Transactional DDL").
        event.listen(engine, "connect", lambda c, _r: setattr(c, "isolation_level", None))
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    if parsed.get_backend_name() == "postgresql":
        engine = sa.create_engine(
            url,
            echo=echo,
            pool_size=pool_size,
            max_overflow=pool_size,
            pool_pre_ping=True,
            connect_args={"connect_timeout": 5},
        )
        event.listen(engine, "connect", _postgres_utc)
        return engine
    raise DatabaseUnavailable(
        f"unsupported database {safe_url(parsed)}",
        hint="use sqlite:///path/to/file.db or postgresql+psycopg://user@host/db",
    )


#: In-memory SQLite databases live in one process; their named locks are plain locks.
_LOCAL_LOCKS: dict[tuple[str, str], threading.Lock] = {}


class Database:
    """One engine and its session factory; `transaction()` is the unit of work."""

    def __init__(self, url: str, *, pool_size: int = 10, echo: bool = False) -> None:
        # Every entity is known before the first session: a flush resolves foreign keys to
        # tables whose modules the caller may never have imported (the CLI's dunning,
        # which suspends lines through orders, failed on change_requests).
        import domain.schema  # noqa: F401

        self.url = normalise_url(url)
        self.engine = create_engine(self.url, pool_size=pool_size, echo=echo)
        writer = self.engine.execution_options(sqlite_begin="BEGIN IMMEDIATE")
        # SQLite has one writer at a time. Queueing this process's writers on a lock is
        # fair and prompt; leaving it to SQLite's busy handler means sleeps of up to 100 ms.
        self._write_lock: AbstractContextManager[Any] = (
            threading.RLock() if self.engine.dialect.name == "sqlite" else nullcontext()
        )
        self.sessions = sessionmaker(writer, expire_on_commit=False)
        self.readers = sessionmaker(self.engine, expire_on_commit=False)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def __repr__(self) -> str:
        return f"Database({safe_url(self.url)})"

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A session whose work is committed on success and rolled back on any error.

        A row changed by someone else meanwhile (a double click) raises Conflict.
        """
        try:
            with self._write_lock, self.sessions.begin() as session:
                yield session
        except StaleDataError:
            raise Conflict(
                "someone else changed this at the same moment; nothing was done",
                hint="look at it again, then retry if it is still needed",
            ) from None
        except (sa.exc.OperationalError, sa.exc.InterfaceError) as exc:
            if not _lost(exc):
                raise
            raise unavailable(self.url, exc) from None

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A session for reading only; it never takes the write lock."""
        try:
            with self.readers() as session:
                yield session
        except (sa.exc.OperationalError, sa.exc.InterfaceError) as exc:
            if not _lost(exc):
                raise
            raise unavailable(self.url, exc) from None

    @contextmanager
    def hold(self, name: str) -> Iterator[bool]:
        """Try to hold the lock `name` across processes and replicas for the block.

        Yields True when held and False at once when someone else holds it. On
        PostgreSQL it is a session advisory lock; on SQLite a lock on a file beside the
        database. Either is let go when the holder's process dies, so another takes over.
        """
        if self.dialect == "postgresql":
            key = int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)
            with self.engine.connect() as conn:
                held = bool(conn.scalar(sa.select(sa.func.pg_try_advisory_lock(key))))
                conn.commit()
                try:
                    yield held
                finally:
                    if held:
                        conn.execute(sa.select(sa.func.pg_advisory_unlock(key)))
                        conn.commit()
            return
        database = make_url(self.url).database
        if not database or database == ":memory:" or database.startswith("file:"):
            lock = _LOCAL_LOCKS.setdefault((self.url, name), threading.Lock())
            held = lock.acquire(blocking=False)
            try:
                yield held
            finally:
                if held:
                    lock.release()
            return
        path = Path(f"{database}.{name}.lock")
        with path.open("a") as handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                held = True
            except BlockingIOError:
                held = False
            try:
                yield held
            finally:
                if held:
                    fcntl.flock(handle, fcntl.LOCK_UN)

    def ping(self) -> None:
        """Connect once; raise DatabaseUnavailable with a readable reason if it fails."""
        try:
            with self.engine.connect() as conn:
                conn.exec_driver_sql("SELECT 1")
        except sa.exc.OperationalError as exc:
            raise unavailable(self.url, exc) from None

    def dispose(self) -> None:
        self.engine.dispose()


def _lost(exc: sa.exc.DBAPIError) -> bool:
    """The database cannot be reached (as opposed to a query it refused)."""
    if exc.connection_invalidated or isinstance(exc, sa.exc.InterfaceError):
        return True
    text = str(getattr(exc, "orig", exc)).lower()
    return any(
        words in text
        for words in (
            "connection",
            "server closed",
            "terminating",
            "could not connect",
            "unable to open database",
            "the database system is",
        )
    )


def unavailable(url: str, exc: BaseException) -> DatabaseUnavailable:
    """A one-line DatabaseUnavailable from a driver error."""
    orig = getattr(exc, "orig", exc)
    reason = str(orig).strip().splitlines()[0] if str(orig).strip() else type(orig).__name__
    reason = re.sub(r"^\(.*?\)\s*", "", reason)
    return DatabaseUnavailable(
        f"cannot use the database {safe_url(url)}: {reason}",
        hint="check database.url in config.yaml (or SWITCHBOARD_DATABASE_URL) and that the "
        "server is running",
    )


#: Integer primary keys that are 64-bit on PostgreSQL and rowid aliases on SQLite.
BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
