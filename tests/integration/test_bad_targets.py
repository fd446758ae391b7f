"""Bad targets get one line and a hint: selectors naming values that do not exist, and
numbers no database holds, through the router, for every command that takes them.

Which commands take what is read from the commands themselves: a number where a
command's `Args` have an int field, a reference where its example (the happy path in
tests/integration/test_json_results.py) has one, devices where its example names r1-mum.
"""

from __future__ import annotations

import re
import types
import typing
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.access import Access
from bot.bootstrap import load_skills
from bot.router import Router
from domain.config import PROJECT_ROOT, load_settings
from domain.db import INT_MAX, INT_MIN
from domain.inventory.choices import DeviceRole, DeviceStatus, Platform
from skills.registry import Command
from skills.reply import Reply
from tests.integration.test_hints_resolve import sweep_router
from tests.integration.test_json_results import EXAMPLES

ACCESS = Access(load_settings(PROJECT_ROOT / "config.yaml", env={}))
REGISTRY = load_skills()

HUGE = 10**30
#: Out of the database's integer range, and the edges that are not.
OUT_OF_RANGE = (HUGE, INT_MAX + 1, -HUGE, INT_MIN - 1)
EDGES = (-1, 0)


@pytest.fixture(scope="module")
def router(tmp_path_factory: pytest.TempPathFactory, sqlite_template: Path) -> Iterator[Router]:
    router = sweep_router(tmp_path_factory.mktemp("targets") / "targets.db", sqlite_template)
    yield router
    router.db.dispose()


def _command(text: str) -> Command:
    cmd, _ = REGISTRY.find(text.lstrip("/").split())
    assert cmd is not None, text
    return cmd


def _takes_int(annotation: object) -> bool:
    if annotation is int:
        return True
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        return any(_takes_int(a) for a in typing.get_args(annotation))
    return False


def _one_line(reply: Reply, typed: str) -> None:
    """A refusal a person can act on: one short line and a hint, no traceback."""
    said = f"{typed!r}: {reply.text!r} / {reply.hint!r}"
    assert not reply.ok, said
    assert "\n" not in reply.text and len(reply.text) < 200, said
    assert reply.hint.strip(), said
    assert "failed unexpectedly" not in reply.text + reply.hint, said
    assert "Traceback" not in reply.text + reply.hint, said


def _no_failure(reply: Reply, typed: str) -> None:
    said = f"{typed!r}: {reply.text!r} / {reply.hint!r}"
    assert "failed unexpectedly" not in reply.text + reply.hint, said
    if not reply.ok:
        _one_line(reply, typed)


# -- numbers ------------------------------------------------------------------------------------


def int_cases() -> list[tuple[str, str, str]]:
    """(user, example text, how to add a number) for every int field of every command."""
    cases = []
    for user, text in EXAMPLES:
        cmd = _command(text)
        for name, info in cmd.args.model_fields.items():
            if not _takes_int(info.annotation):
                continue
            extra = info.json_schema_extra
            positional = isinstance(extra, dict) and extra.get("positional")
            cases.append((user, text, "{n}" if positional else f"{name}={{n}}"))
    return sorted(set(cases))


INT_CASES = int_cases()


def test_the_int_sweep_finds_every_command_that_takes_a_number() -> None:
    named = {_command(text).name for _, text, _ in INT_CASES}
    every = {
        c.name
        for c in REGISTRY
        if any(_takes_int(f.annotation) for f in c.args.model_fields.values())
    }
    assert named == every
    assert {"config diff", "inventory search", "ticket list", "alarm list"} <= named


@pytest.mark.parametrize(("user", "text", "number"), INT_CASES, ids=lambda v: str(v))
def test_a_number_no_database_holds_is_one_line(
    router: Router, user: str, text: str, number: str
) -> None:
    for n in OUT_OF_RANGE:
        typed = f"{text} {number.format(n=n)}"
        reply = router.handle(ACCESS.user(user), typed)
        _one_line(reply, typed)
        if n > 0 or number != "{n}":  # a negative last word is no backup id but a device
            assert "too large" in reply.text or "too small" in reply.text, reply.text
    for n in EDGES:
        typed = f"{text} {number.format(n=n)}"
        _no_failure(router.handle(ACCESS.user(user), typed), typed)


REF = re.compile(r"^(A|T|O|F|CR|CRD)-\d+$")
NOUNS = {
    "A": "alarm",
    "T": "ticket",
    "O": "order",
    "F": "fraud case",
    "CR": "change",
    "CRD": "credit",
}


def ref_cases() -> list[tuple[str, str, str]]:
    """(user, example text with {ref} for its reference, prefix) for every command whose
    example names a reference."""
    cases = []
    for user, text in EXAMPLES:
        words = text.split(" ")
        for i, word in enumerate(words):
            if m := REF.match(word):
                template = " ".join([*words[:i], "{ref}", *words[i + 1 :]])
                cases.append((user, template, m.group(1)))
                break
    return cases


REF_CASES = ref_cases()


def test_the_ref_sweep_finds_every_command_that_takes_a_reference() -> None:
    named = {_command(text).name for _, text, _ in REF_CASES}
    assert {"config show", "config apply", "order show", "ticket show", "fraud explain"} <= named
    assert {"alarm show", "dispute resolve", "config rollback", "credit approve"} <= named


@pytest.mark.parametrize(("user", "template", "prefix"), REF_CASES, ids=lambda v: str(v))
def test_a_reference_no_database_holds_is_no_such_thing(
    router: Router, user: str, template: str, prefix: str
) -> None:
    for written in (f"{prefix}-{HUGE}", str(HUGE), f"{prefix}-{INT_MAX + 1}"):
        typed = template.format(ref=written)
        reply = router.handle(ACCESS.user(user), typed)
        _one_line(reply, typed)
        number = written.rpartition("-")[2]
        assert reply.text == f"no {NOUNS[prefix]} {prefix}-{number}", reply.text
    for written in (f"{prefix}-0", "0", "-1", f"{prefix}--1"):
        typed = template.format(ref=written)
        _one_line(router.handle(ACCESS.user(user), typed), typed)


#: Amounts are numbers too, read by domain/money.py's parse_money.
AMOUNTS = [
    pytest.param("root", "/payment record BA100000001 {n} ref=UTR-BIG", id="payment record"),
    pytest.param(
        "dave",
        '/dispute resolve {ticket} "refunded the Dubai calls" credit={n}',
        id="dispute resolve",
    ),
]


@pytest.mark.parametrize(("user", "template"), AMOUNTS)
def test_an_amount_no_database_holds_is_one_line(router: Router, user: str, template: str) -> None:
    opened = router.handle(ACCESS.user("carol"), '/dispute open INV-202610-0000002 "not mine"')
    ticket = re.search(r"\bT-\d+", opened.text)
    assert ticket, (opened.text, opened.hint)
    typed = template.format(n=HUGE, ticket=ticket.group(0))
    _one_line(router.handle(ACCESS.user(user), typed), typed)


def test_a_backup_id_too_large_for_the_database_says_so(router: Router) -> None:
    """The issue's example: a huge backup id gave a traceback."""
    reply = router.handle(ACCESS.user("alice"), "/config diff r1-mum 99999999999999999999999")
    assert (reply.ok, reply.text, reply.hint) == (
        False,
        f"backup-id: 99999999999999999999999 is too large; at most {INT_MAX}",
        "usage: /config diff <device>... [<backup-id>]",
    )


def test_a_page_past_the_last_is_empty_however_far(router: Router) -> None:
    for page in (2, 10**6, INT_MAX):
        reply = router.handle(ACCESS.user("alice"), f"/inventory search r1 page={page}")
        assert reply.ok and reply.text.endswith("showing none"), reply.text
        assert reply.tables[0].rows == ()


# -- selectors ----------------------------------------------------------------------------------


def device_commands() -> list[tuple[str, str]]:
    """(user, example with {sel} for its device) for every command that targets devices."""
    found = [(u, t.replace("r1-mum", "{sel}", 1)) for u, t in EXAMPLES if " r1-mum" in t]
    return [*found, ("alice", "/inventory search {sel}")]


DEVICE_COMMANDS = device_commands()


def _listing(choices: type[object]) -> str:
    return ", ".join(c.value for c in choices)  # type: ignore[attr-defined]


BAD_VALUES = [
    ("platform:foo", "no platform 'foo'", f"platforms: {_listing(Platform)}"),
    ("PLATFORM:Foo", "no platform 'foo'", f"platforms: {_listing(Platform)}"),
    ("role:wizard", "no role 'wizard'", f"roles: {_listing(DeviceRole)}"),
    ("status:up", "no status 'up'", f"states: {_listing(DeviceStatus)}"),
    ("vendor:foo", "no vendor 'foo'", "vendors: cisco"),
    ("site:NOPE", "no site 'NOPE'", "site codes look like MUM-AND1"),
    ("'platform:foo role:core'", "no platform 'foo'", f"platforms: {_listing(Platform)}"),
    ("r1-mum platform:foo", "no platform 'foo'", f"platforms: {_listing(Platform)}"),
]


def test_the_selector_sweep_covers_every_command_that_targets_devices() -> None:
    named = {_command(t).name for _, t in DEVICE_COMMANDS}
    assert named == {
        "config backup",
        "config diff",
        "config history",
        "config plan",
        "device run",
        "inventory facts",
        "inventory interfaces",
        "inventory search",
        "inventory show",
        "ticket open",
    }


@pytest.mark.parametrize(("user", "template"), DEVICE_COMMANDS, ids=lambda v: str(v))
def test_a_value_no_device_has_is_one_line_naming_it_with_the_valid_ones(
    router: Router, user: str, template: str
) -> None:
    for selector, message, hint in BAD_VALUES:
        one_word = template.startswith("/inventory") and not template.startswith(
            "/inventory search"
        )
        if one_word and " " in selector.strip("'"):
            continue  # show/interfaces/facts take exactly one word
        typed = template.format(sel=selector)
        reply = router.handle(ACCESS.user(user), typed)
        _one_line(reply, typed)
        assert (reply.text, reply.hint.rpartition("? ")[2]) == (message, hint), typed


@pytest.mark.parametrize(("user", "template"), DEVICE_COMMANDS, ids=lambda v: str(v))
def test_an_unknown_selector_key_is_one_line_naming_it(
    router: Router, user: str, template: str
) -> None:
    typed = template.format(sel="colour:red")
    reply = router.handle(ACCESS.user(user), typed)
    _one_line(reply, typed)
    assert "colour" in reply.text, reply.text
    if not template.startswith("/ticket open"):  # a ticket may be about a customer's name
        assert reply.text == "unknown selector colour:"
        assert "site:CODE, role:ROLE, platform:NAME, status:STATE, vendor:NAME" in reply.hint
