"""Shared fixtures: a migrated database per test, on SQLite and (when configured) PostgreSQL.

Set TEST_DATABASE_URL (a PostgreSQL URL whose user may create databases) to run every
`db` test on PostgreSQL too; `.ci/run` starts a throwaway server and sets it.
"""

from __future__ import annotations

import os
import shutil
import socket
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import sqlalchemy as sa

from automation.lab.lab import Lab, LabDevice, lab_devices
from domain.db import Database, normalise_url
from domain.demo.seed import seed
from domain.migrate import upgrade
from tests.world import AS_OF, SMALL, populate_world

PG_URL = os.environ.get("TEST_DATABASE_URL", "")
# Tests (and the `switchboard` processes they start) seal audit events with a fixed key,
# so none creates a key file under var/ and warns about it; the key's own tests set theirs.
os.environ.setdefault("SWITCHBOARD_AUDIT_KEY", "5a" * 32)
# xdist's workers share the machine's cores. Left alone, OpenMP (scikit-learn's gradient
# boosting) starts a thread per core in every worker, and its threads spin while they
# wait for each other: three fraud models trained at once on two cores took about three
# times the CPU on two OpenMP threads each that they took on one, for the same scores.
# Each worker gets its share of the cores instead (a value already set is kept). OpenMP
# reads it when it loads, which no import of this file makes it do; the processes tests
# start inherit it.
_WORKERS = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "0"))
if _WORKERS:
    _CORES = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    os.environ.setdefault("OMP_NUM_THREADS", str(max(1, (_CORES or 1) // _WORKERS)))
BACKENDS = ["sqlite", "postgresql"]


def _pg_admin() -> sa.Engine:
    return sa.create_engine(normalise_url(PG_URL), isolation_level="AUTOCOMMIT")


def _pg_url(name: str) -> str:
    return str(sa.make_url(normalise_url(PG_URL)).set(database=name).render_as_string(False))


@contextmanager
def _pg_database(template: str | None = None) -> Iterator[str]:
    """A new PostgreSQL database (optionally a copy of `template`), dropped afterwards."""
    name = f"sbt_{uuid.uuid4().hex[:12]}"
    admin = _pg_admin()
    copy = f' TEMPLATE "{template}"' if template else ""
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"{copy}')
    try:
        yield name
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


def _need_postgres() -> None:
    if not PG_URL:
        pytest.skip("TEST_DATABASE_URL is not set (PostgreSQL runs in CI: .ci/run)")


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.db"
    db = Database(f"sqlite:///{path}")
    upgrade(db)
    with db.engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    db.dispose()
    return path


@pytest.fixture(scope="session")
def pg_template() -> Iterator[str]:
    if not PG_URL:
        yield ""
        return
    with _pg_database() as name:
        db = Database(_pg_url(name))
        upgrade(db)
        db.dispose()
        yield name


@pytest.fixture
def empty_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A URL to a new, empty database on the backend named by the `backend` param."""
    backend = getattr(request, "param", "sqlite")
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'test.db'}"
        return
    _need_postgres()
    with _pg_database() as name:
        yield _pg_url(name)


@pytest.fixture(params=BACKENDS)
def db(
    request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: Path, pg_template: str
) -> Iterator[Database]:
    """A migrated, empty database: a copy of a template, so each test starts clean."""
    if request.param == "sqlite":
        path = tmp_path / "test.db"
        shutil.copy(sqlite_template, path)
        database = Database(f"sqlite:///{path}")
        yield database
        database.dispose()
        return
    _need_postgres()
    with _pg_database(template=pg_template) as name:
        database = Database(_pg_url(name))
        yield database
        database.dispose()


@pytest.fixture
def world(db: Database) -> Database:
    """The `db` with one region, site, device, customer, account, offering and line."""
    return populate_world(db)


_next_block = [0]


def free_ports(n: int) -> list[int]:
    """n consecutive free ports on 127.0.0.1, below the kernel's ephemeral range.

    Ports the kernel hands out to outgoing connections (32768 and up) can be taken at
    any moment by a client socket; lab servers bind below that, each test worker in
    its own stretch so parallel workers never pick the same ports.
    """
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
    stretch = 20_000 + int(worker.removeprefix("gw") or 0) % 8 * 1_500
    while True:
        base = stretch + _next_block[0] % 1_400
        _next_block[0] += n + 1
        try:
            for port in range(base, base + n):
                with socket.socket() as s:
                    s.bind(("127.0.0.1", port))
        except OSError:
            continue
        return list(range(base, base + n))


@pytest.fixture
def lab() -> Iterator[Lab]:
    p1, p2 = free_ports(2)
    devices = [
        LabDevice(
            "r1-mum",
            "cisco_ios",
            p1,
            "17.6",
            (("GigabitEthernet0/0/0", "uplink", "10.0.1.1/30"), ("GigabitEthernet0/0/1", "", None)),
        ),
        LabDevice("r3-ka", "arista_eos", p2, "4.31.2F", (("Ethernet1", "uplink", None),)),
    ]
    with Lab(devices, username="admin", password="lab-secret") as running:
        yield running


@pytest.fixture
def lab_db(tmp_path: Path) -> Iterator[tuple[Database, Lab]]:
    base = free_ports(SMALL.lab_devices)[0]
    db = Database(f"sqlite:///{tmp_path / 'changes.db'}")
    seed(db, SMALL, seed=5, as_of=AS_OF, lab_base_port=base)
    with Lab(lab_devices(db), username="netops", password="lab-pw") as lab:
        yield db, lab
    db.dispose()


#: Modules with the longest tests (model training, demo-scale seeding), longest first:
#: collected first, they start on the three workers at once instead of leaving the run's
#: last minutes to one of them. A worker waiting for a model another trains (under the
#: file lock in tests/fraud_lines.py) uses no CPU, so three workers still fill two cores.
SLOW_FIRST = (
    "test_demo_fraud_cases.py",
    "test_fraud_model.py",
    "test_demo_any_hour.py",
    "test_fraud_ops.py",
    "test_fraud_feedback.py",
    "test_fraud_evaluate_suite.py",
    "test_csv_files.py",
    "test_json_results.py",
    "test_fraud_run_reported.py",
    "test_fraud_incremental.py",
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    rank = {name: i for i, name in enumerate(SLOW_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(SLOW_FIRST)))  # stable
