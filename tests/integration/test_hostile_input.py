"""Hostile input through the router: any text after any command gives a reply with a
usage line or a readable refusal, never an unexpected failure (a traceback in chat)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.access import Access
from bot.bootstrap import load_skills
from bot.router import Router
from domain.db import Database
from tests.world import lab_router, populate_world

#: Words that mean something to some command, and words meant to break things.
TOKENS = [
    "r1-mum",
    "MUM",
    "MUM-AND1",
    "A-1",
    "T-1",
    "O-1",
    "C-1",
    "S-1",
    "9876543210",
    "BA100000001",
    "INV-202610-0000002",
    "Priya",
    "sev=2",
    "sev=99",
    "sev=-1",
    "--share",
    "--force",
    "page=0",
    "page=-5",
    "limit=100000000000",
    "credit=1e309",
    "amount=NaN",
    "ref=",
    "=",
    "==",
    "'",
    '"',
    "\\",
    "%",
    "_",
    "' OR 1=1 --",
    "; DROP TABLE alarms;",
    "site:",
    "role:core",
    "x" * 5000,
    "\n",
    "\t",
    "\u202e",
    "😀",
    "\x00",
    "ß" * 300,
    "show version",
    "reload",
    "show run | inc secret",
    "configure terminal",
]

words = st.one_of(st.sampled_from(TOKENS), st.text(max_size=40))


@pytest.fixture(scope="module")
def hostile(
    tmp_path_factory: pytest.TempPathFactory, sqlite_template: Path
) -> Iterator[tuple[Router, Access]]:
    path = tmp_path_factory.mktemp("hostile") / "h.db"
    shutil.copy(sqlite_template, path)
    db = Database(f"sqlite:///{path}")
    populate_world(db)
    router, access = lab_router(db)
    yield router, access
    db.dispose()


COMMANDS = sorted(c.name for c in load_skills().commands.values())


@settings(
    max_examples=400,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    name=st.sampled_from(COMMANDS),
    args=st.lists(words, max_size=6),
    quoted=st.booleans(),
)
def test_any_arguments_to_any_command_get_a_readable_answer(
    hostile: tuple[Router, Access], name: str, args: list[str], quoted: bool
) -> None:
    router, access = hostile
    text = f"/{name} " + " ".join(f'"{a}"' if quoted else a for a in args)
    reply = router.handle(access.user("root"), text)
    assert "failed unexpectedly" not in reply.text, (text, reply.text, reply.hint)
    assert reply.text.strip()
    if not reply.ok:
        assert "Traceback" not in reply.text + reply.hint
        assert len(reply.text) < 2000


@settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(text=st.text(max_size=300))
def test_any_text_at_all_gets_a_readable_answer(hostile: tuple[Router, Access], text: str) -> None:
    router, access = hostile
    reply = router.handle(access.user("carol"), text)
    assert "failed unexpectedly" not in reply.text, (text, reply.text)
    assert reply.text.strip()
