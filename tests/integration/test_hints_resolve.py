"""Every `/command` the router answers with names a command that exists.

tests/unit/test_hints_resolve.py reads the code; this runs it. Every registered command
goes through the router on one world (bills, alarms, orders, fraud cases, a change
history; devices in memory, tests/fakes/devices.py): its example from
tests/integration/test_json_results.py (the happy path), then with no arguments, with
`help`, with garbage, with references to nothing, as someone who may not run it, and as
`/ops help <command>`; then the change workflow off its happy path (a core device the
planner tries to apply, a device that does not answer). Every command named anywhere
in what comes back (text, hint, sections, tables, buttons) must resolve, by the rule in
tests/unit/test_hints_resolve.py, unless it only says back what the person typed
(`said_back`); and no answer is an unexpected failure.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.access import Access
from bot.bootstrap import build_services, load_skills
from bot.router import Router
from domain.config import PROJECT_ROOT, load_settings
from domain.db import Database
from domain.inventory.choices import DeviceRole, Platform
from domain.schema import Device
from skills.reply import Reply
from tests.fakes.devices import FakeNetwork
from tests.integration.test_json_results import EXAMPLES, _history
from tests.integration.test_orders import more_world
from tests.unit.test_hints_resolve import Mention, mentions, registry, resolves
from tests.world import NOW, populate_world

SETTINGS = load_settings(PROJECT_ROOT / "config.yaml", env={})
ACCESS = Access(SETTINGS)
USERS = ("carol", "erin", "dave", "alice", "root")

#: Words that fit no command: no slash in any, so an echo of them names no command.
GARBAGE = (
    "help",
    "zzz",
    "zzz qqq",
    "zzz=1",
    "--zzz",
    "999999",
    "T-999999",
    "CR-999999 r1-mum",
    "O-999999 note=x",
    "r1-mum zzz",
    "site:NOPE role:core",
    "9876543210 title",
)

COMMANDS = sorted(c.name for c in load_skills())


def texts(reply: Reply) -> Iterator[str]:
    """Everything a person reads or clicks in a reply."""
    yield reply.text
    yield reply.hint
    for section in reply.sections:
        yield section.text
        for field in section.fields:
            yield f"{field.label}: {field.value}"
    for table in reply.tables:
        yield table.title
        yield from (cell for row in table.rows for cell in row)
    for button in reply.buttons:
        yield button.command
        if button.confirm:
            yield button.confirm.text


def _add_device(db: Database, hostname: str, role: DeviceRole, port: int) -> None:
    with db.transaction() as s:
        s.add(
            Device(
                hostname=hostname,
                site_id=1,
                role=role,
                platform=Platform.CISCO_IOS,
                vendor="Cisco",
                model="ASR-920",
                os_version="17.6",
                serial=f"FOC{port}",
                mgmt_host="127.0.0.1",
                mgmt_port=port,
            )
        )


def _ref(reply: Reply) -> str:
    found = re.search(r"\bCR-\d+", reply.text)
    assert found, (reply.text, reply.hint)
    return found.group(0)


def sweep_router(path: Path, template: Path) -> Router:
    """A router on a copy of the migrated template holding the world, its history (from
    test_json_results), a core device and one that does not answer, all in memory."""
    shutil.copy(template, path)
    db = Database(f"sqlite:///{path}")
    populate_world(db)
    _history(db)
    _add_device(db, "cr1-mum", DeviceRole.CORE, 6001)
    _add_device(db, "r9-dark", DeviceRole.ACCESS, 6009)
    network = FakeNetwork()
    network.add("r1-mum", interfaces=(("GigabitEthernet0/0/0", "uplink", "10.0.1.1/30"),))
    network.add("cr1-mum")
    network.add("r9-dark").reachable = False
    settings = load_settings(PROJECT_ROOT / "config.yaml", env={})
    return Router(load_skills(), build_services(settings, db, clock=lambda: NOW, opener=network))


@pytest.fixture(scope="module")
def answers(
    tmp_path_factory: pytest.TempPathFactory, sqlite_template: Path
) -> Iterator[dict[str, list[tuple[str, str, Reply]]]]:
    """What the router answered, by command (and "unknown" for text that is none)."""
    tmp = tmp_path_factory.mktemp("hints")
    router = sweep_router(tmp / "hints.db", sqlite_template)
    found: dict[str, list[tuple[str, str, Reply]]] = {}

    def run(user: str, text: str) -> Reply:
        routed = router.route(ACCESS.user(user), text)
        name = routed.command if routed.command in COMMANDS else "unknown"
        found.setdefault(name, []).append((user, text, routed.reply))
        return routed.reply

    for user, text in EXAMPLES:
        run(user, text)
    # The change workflow off its happy path.
    core = run("alice", "/config plan ntp cr1-mum servers=10.0.0.7")
    run("alice", f"/config apply {_ref(core)}")
    run("root", f"/config rollback {_ref(core)}")
    dark = run("alice", "/config plan ntp r9-dark servers=10.0.0.7")
    run("bob", f"/config apply {_ref(dark)}")
    run("alice", "/device run r9-dark 'show version'")
    run("alice", "/config backup r9-dark")
    # A care agent ordering a fixed line without a port, with a port or a site that is
    # none, and one that is taken (a shop that sells fibre: test_orders.more_world).
    shop_db = Database(f"sqlite:///{shutil.copy(sqlite_template, tmp / 'shop.db')}")
    more_world(populate_world(shop_db))
    shop = Router(load_skills(), build_services(SETTINGS, shop_db, clock=lambda: NOW))
    for where in ("site:MUM-AND1", "site:MUM-AND1 port:Gi0/0/99", "site:NOPE port:Gi0/0/1"):
        typed = f"/order new BA100000001 FIBRE-100 {where}"
        found.setdefault("order new", []).append(
            ("carol", typed, shop.route(ACCESS.user("carol"), typed).reply)
        )
    shop_db.dispose()
    # Every command, every way it can go wrong.
    for name in COMMANDS:
        cmd, _ = router.registry.find(name.split())
        assert cmd is not None
        run("root", f"/{name}")
        for words in GARBAGE:
            run("root", f"/{name} {words}")
        run("carol", f"/ops help {name}")
        refused = next((u for u in USERS if not cmd.allows(ACCESS.user(u).roles)), None)
        if refused:
            run(refused, f"/{name}")
    # Families alone, and what is no command at all.
    for slash in router.registry.slash_commands():
        run("root", slash)
        run("root", f"{slash} zzz")
    for text in ("/confg plan", "/zzz", "", "/ops", "'unclosed"):
        run("alice", text)
    yield found
    router.db.dispose()


def said_back(mention: Mention, typed: str) -> bool:
    """Whether a mention repeats what the person typed that names no command
    ("unknown command /order aprove", "no command /zzz that you may run"): its words,
    as far as they run along the typed words, resolve to nothing. A command the reply
    adds of its own (`/config approve` to someone who typed /config apply) is no echo:
    `/config` alone resolves."""
    words = re.findall(r"[\w-]+", typed.lower())
    said = [w.lower() for w in mention.words]
    for i in range(len(words)):
        run = 0
        while run < len(said) and i + run < len(words) and said[run] == words[i + run]:
            run += 1
        if run and not resolves(Mention(mention.words[:run])):
            return True
    return False


#: Words that hand a command to someone else ("ask a manager to run /order approve O-1").
FOR_SOMEONE_ELSE = re.compile(
    r"\b(ask|asks|someone|other than|colleague|for (a|an|the) (manager|engineer|admin|"
    r"care agent|fraud analyst)s?|managers?|engineers?|admins?|analysts?|needs the|"
    r"may run|you have)\b",
    re.IGNORECASE,
)


def _not_theirs(user: str, mention: Mention, text: str, reply: Reply) -> bool:
    """A command the reader may not run, offered as if they could: a hint must name what
    its reader can do, or say who else may ("ask a manager")."""
    if not reply.ephemeral and any(b.command == text for b in reply.buttons):
        return False  # a public message's buttons are for whoever reads the channel
    command, _ = registry().find(list(mention.words))
    if command is None or command.allows(ACCESS.user(user).roles):
        return False
    return not FOR_SOMEONE_ELSE.search(text)


def _problems(answers: list[tuple[str, str, Reply]]) -> list[str]:
    problems = []
    for user, typed, reply in answers:
        for text in texts(reply):
            for mention in mentions(text):
                if not resolves(mention) and not said_back(mention, typed):
                    problems.append(f"{user} {typed!r}: names {mention} in {text!r}")
                elif _not_theirs(user, mention, text, reply) and not said_back(mention, typed):
                    problems.append(f"{user} {typed!r}: offers {mention} in {text!r}")
            if "failed unexpectedly" in text or "Traceback" in text:
                problems.append(f"{user} {typed!r}: {text!r}")
    return problems


#: Commands whose broken hints belong to another part of the work (strict: the fix
#: flips them). Empty: none is left.
OWNED_ELSEWHERE: dict[str, str] = {}


def _case(name: str) -> object:
    reason = OWNED_ELSEWHERE.get(name)
    marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
    return pytest.param(name, id=name, marks=marks)


@pytest.mark.parametrize("name", [_case(n) for n in [*COMMANDS, "unknown"]])
def test_every_command_an_answer_names_exists(
    answers: dict[str, list[tuple[str, str, Reply]]], name: str
) -> None:
    assert answers.get(name), f"/{name} was never run"
    problems = _problems(answers[name])
    assert not problems, "\n".join(problems)


def test_the_sweep_reaches_the_hints_off_the_happy_path(
    answers: dict[str, list[tuple[str, str, Reply]]],
) -> None:
    """The sweep is only as good as what it reaches: refusals, usage lines, "did you
    mean", the second engineer's approval and a device that does not answer."""
    said = {
        text
        for replies in answers.values()
        for _, _, reply in replies
        for text in (reply.text, reply.hint)
    }
    joined = "\n".join(said)
    assert "usage: /config plan" in joined
    assert "did you mean /config plan?" in joined
    assert "ask an admin to grant the role" in joined
    assert re.search(r"CR-\d+ touches core devices", joined)
    assert "r9-dark does not answer" in joined
    commands_typed = {t.lstrip("/").split()[0] for r in answers.values() for _, t, _ in r if t}
    assert {c.split()[0] for c in COMMANDS} <= commands_typed
