"""Faults while `serve` runs: the database restarts under it.

The test starts its own PostgreSQL cluster (the one .ci/run starts is shared by the
other tests), stops it while `serve` answers Slack, and starts it again.
"""

from __future__ import annotations

import json
import shlex
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from domain.db import Database
from domain.migrate import upgrade
from tests.conftest import PG_URL
from tests.scenario.conftest import Served, _serve
from tests.world import populate_world

ROOT = Path(__file__).resolve().parents[2]


def _sh(script: str) -> str:
    return subprocess.run(
        ["bash", "-c", f". {ROOT}/.ci/pg.sh; {script}"],
        check=True,
        capture_output=True,
        text=True,
        timeout=120,
    ).stdout


@pytest.fixture
def private_pg() -> Iterator[tuple[str, str]]:
    """A PostgreSQL cluster of this test's own: (url, pg_ctl command prefix)."""
    if not PG_URL:
        pytest.skip("PostgreSQL runs in CI (.ci/run sets TEST_DATABASE_URL)")
    out = _sh('pg_up >/dev/null; echo "$TEST_DATABASE_URL"; echo "$PG_DIR"; echo "${PG_AS[*]}"')
    url, pg_dir, run_as = [*out.splitlines(), ""][:3]
    port = url.rsplit(":", 1)[1].split("/")[0]
    d = shlex.quote(pg_dir)
    ctl = f"{run_as} $(pg_bin)/pg_ctl -D {d}/data -l {d}/log -w -t 60".strip()
    # What `start` needs again after a stop (pg_ctl keeps options only across restart).
    opts = f"-c listen_addresses=127.0.0.1 -p {port} -k {pg_dir} -c fsync=off"
    try:
        yield url, f"{ctl} -o {shlex.quote(opts)}"
    finally:
        _sh(f"{ctl} -m immediate stop >/dev/null 2>&1 || true; rm -rf {d}")


@pytest.fixture
def served_pg(tmp_path: Path, private_pg: tuple[str, str]) -> Iterator[tuple[Served, str]]:
    url, ctl = private_pg
    db = Database(url)
    upgrade(db)
    populate_world(db)
    db.dispose()
    for served in _serve(tmp_path, None, database_url=url):
        yield served, ctl


def _health(served: Served) -> int:
    try:
        with urllib.request.urlopen(served.url + "/healthz", timeout=10) as resp:
            return int(resp.status)
    except urllib.error.HTTPError as err:
        return int(err.code)


def test_a_database_restart_gets_a_clear_reply_and_serve_recovers_by_itself(
    served_pg: tuple[Served, str],
) -> None:
    served, ctl = served_pg
    assert served.ask("alice", "/alarm list").params["text"] == "0 raised alarm(s)"
    _sh(f"{ctl} -m fast stop >/dev/null")
    down = served.ask("alice", "/alarm list")
    assert down.params["text"].startswith("cannot use the database postgresql+psycopg://")
    assert "Traceback" not in json.dumps(down.params)
    assert _health(served) == 503
    _sh(f"{ctl} start >/dev/null")
    deadline = time.monotonic() + 30
    while _health(served) != 200:
        assert time.monotonic() < deadline, "serve did not see the database come back"
        time.sleep(0.5)
    back = served.ask("alice", "/alarm list")
    assert back.params["text"] == "0 raised alarm(s)"
