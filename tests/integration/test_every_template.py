"""Every template on every lab platform that uses it, over real SSH: render, plan, apply,
verify, plan the rollback, apply it, and the device runs exactly what it ran before.

The cases come from the code (the intents, the template each lab platform renders from,
the lab's platforms), so a new template or platform is tested here the day it lands; an
intent without an example below fails, it is never skipped. A template a platform does
not have (`intents.supported`) is refused before any device is read (unit tests).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from automation import intents
from automation.changes import ChangeWorkflow
from automation.drivers import Credentials, DeviceConnector, Driver, Target, connect
from automation.lab.lab import Lab, lab_devices
from domain.changes.choices import ChangeState, TargetState
from domain.changes.models import ChangeRequest
from domain.config import AutomationSettings, DeviceSettings
from domain.db import Database
from domain.demo.reference import LAB_PLATFORMS
from domain.demo.seed import seed
from domain.errors import DomainError
from domain.inventory.choices import Platform
from domain.inventory.models import Device, Interface
from domain.secrets import mask_config
from tests.conftest import free_ports
from tests.world import AS_OF, SMALL

#: Stand for interfaces the chosen device has in the inventory: one with a description
#: (the change replaces it, and the rollback must put it back) and a free customer port
#: (no description, no address).
A_DESCRIBED_PORT = object()
A_FREE_PORT = object()

#: One valid set of values per intent; each must change what a lab device runs.
EXAMPLES: dict[str, dict[str, Any]] = {
    "ntp": {"servers": "10.0.0.9, 10.0.0.10"},
    "syslog": {"host": "10.0.1.10", "level": "warnings"},
    "snmp": {"community": "lab-ro-Comm1", "access": "ro", "location": "MUM rack 4"},
    "banner": {"text": "Authorised access only"},
    "interface_description": {"interface": A_DESCRIBED_PORT, "description": "to cust 42 via MUX-7"},
    "vlan": {"vlan": 1042, "name": "CUST-1042"},
    "customer_access_port": {
        "interface": A_FREE_PORT,
        "vlan": 1042,
        "description": "CUST-1042 fibre",
    },
    "customer_port_state": {"interface": A_FREE_PORT, "state": "down"},
    "acl_entry": {
        "acl": "CUST-IN",
        "sequence": 10,
        "action": "deny",
        "protocol": "tcp",
        "source": "10.20.0.0/16",
        "destination": "192.0.2.0/24",
    },
}


def _lab_platforms() -> list[Platform]:
    return sorted(LAB_PLATFORMS, key=lambda p: p.value)


CASES = [
    pytest.param(name, platform, id=f"{name}-{platform.value}")
    for name in intents.INTENTS
    for platform in _lab_platforms()
    if intents.supported(name, platform)
]


def test_every_template_a_lab_platform_renders_from_is_an_intent_with_a_case() -> None:
    covered = {(c.values[0], c.values[1]) for c in CASES}
    for platform in _lab_platforms():
        folders = {platform.value, intents.DIALECTS.get(platform, platform.value)}
        for folder in sorted(folders):
            files = {p.stem for p in (intents.TEMPLATES / folder).glob("*.j2")}
            assert files <= set(intents.INTENTS), f"{folder}/ templates no intent renders"
        # Its own folder's templates always apply; every intent it supports is a case.
        own = {p.stem for p in (intents.TEMPLATES / platform.value).glob("*.j2")}
        assert {(n, platform) for n in own} <= covered
        assert {n for n, p in covered if p == platform} == {
            n for n in intents.INTENTS if intents.supported(n, platform)
        }
    # EOS speaks its own ACL dialect, and it runs over SSH here.
    assert ("acl_entry", Platform.ARISTA_EOS) in covered
    eos_acl = intents.template_file("acl_entry", Platform.ARISTA_EOS)
    assert eos_acl == intents.TEMPLATES / "arista_eos" / "acl_entry.j2"


def test_every_intent_has_an_example() -> None:
    assert set(EXAMPLES) == set(intents.INTENTS), "give every intent an example in EXAMPLES"


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Database, Lab]]:
    path: Path = tmp_path_factory.mktemp("templates") / "seeded.db"
    db = Database(f"sqlite:///{path}")
    seed(db, SMALL, seed=5, as_of=AS_OF, lab_base_port=free_ports(SMALL.lab_devices)[0])
    with Lab(lab_devices(db), username="netops", password="lab-pw") as lab:
        yield db, lab
    db.dispose()


@pytest.fixture
def lab_db(seeded: tuple[Database, Lab]) -> Iterator[tuple[Database, Lab]]:
    """The module's seeded lab, each device put back as it was after every test."""
    _, lab = seeded
    saved = {h: (_copy(c.sections), _copy(c.startup)) for h, c in lab.configs.items()}
    yield seeded
    for host, (sections, startup) in saved.items():
        with lab.configs[host].lock:
            lab.configs[host].sections, lab.configs[host].startup = sections, startup


def _copy(sections: dict[str, list[str]]) -> dict[str, list[str]]:
    return {k: list(v) for k, v in sections.items()}


def _workflow(db: Database) -> ChangeWorkflow:
    devices = DeviceSettings(username="netops", password="lab-pw", connect_timeout_s=5)
    return ChangeWorkflow(db, AutomationSettings(), DeviceConnector.from_settings(devices))


def _device(db: Database, platform: Platform) -> tuple[str, dict[object, str]]:
    """A lab device of the platform, and the interfaces of it the examples stand for."""
    with db.read() as s:
        device = s.scalars(
            sa.select(Device)
            .where(Device.lab, Device.platform == platform)
            .order_by(Device.mgmt_port)
            .limit(1)
        ).first()
        assert device is not None, f"the seeded lab has no {platform.value} device"
        ports = s.scalars(
            sa.select(Interface).where(Interface.device_id == device.id).order_by(Interface.id)
        ).all()
        described = next((i.name for i in ports if i.description), None)
        free = next((i.name for i in ports if not i.description and not i.ip_address), None)
        assert described and free, f"{device.hostname} lacks a described or a free port"
        return device.hostname, {A_DESCRIBED_PORT: described, A_FREE_PORT: free}


def _params(name: str, ports: dict[object, str]) -> dict[str, Any]:
    assert name in EXAMPLES, f"no example for the {name} intent: add one to EXAMPLES"
    return {
        k: ports[v] if v in (A_DESCRIBED_PORT, A_FREE_PORT) else v
        for k, v in EXAMPLES[name].items()
    }


def _added(diff: str) -> set[str]:
    """The lines a diff shows as added, without their marks and indentation."""
    return {ln.strip()[1:].strip() for ln in diff.splitlines() if ln.strip().startswith("+")}


def _shown(line: str, diff: str) -> bool:
    """The diff shows an intended line as added: as sent, or, for a one-line banner,
    as `show running-config` prints a banner (`banner motd ^C`, its text, `^C`)."""
    banner = re.fullmatch(r"(banner \S+) \^(.*)\^", line)
    block = banner is not None and f"+ {banner[1]} ^C\n{banner[2]}\n^C" in diff
    return block or line in _added(diff)


def _running(text: str) -> dict[str, list[str]]:
    """`show running-config` as its top-level lines, each with the lines indented under it."""
    tree: dict[str, list[str]] = {}
    top = ""
    for line in text.splitlines():
        if not line.strip() or line.strip() == "!":
            continue
        if line.startswith(" "):
            tree.setdefault(top, []).append(" ".join(line.split()))
        else:
            top = " ".join(line.split())
            tree.setdefault(top, [])
    return tree


def _held(running: dict[str, list[str]], intended: list[str]) -> list[str]:
    """The intended lines the running config does not hold, as the device would read them:
    `no X` holds when X is gone (IOS shows no `no shutdown`)."""
    missing, top = [], ""
    for raw in intended:
        line = " ".join(raw.split())
        if raw.startswith(" "):
            have = running.get(top, [])
        else:
            top, have = line, list(running)
        if line.startswith("no ") and line not in have:
            gone = line[3:]
            if any(x == gone or x.startswith(gone + " ") for x in have):
                missing.append(raw)
        elif line not in have:
            missing.append(raw)
    return missing


@pytest.mark.parametrize(("name", "platform"), CASES)
def test_template_plans_applies_verifies_and_rolls_back(
    lab_db: tuple[Database, Lab], name: str, platform: Platform
) -> None:
    db, lab = lab_db
    host, ports = _device(db, platform)
    params = _params(name, ports)
    lines = intents.render(name, platform, dict(params))
    assert lines, f"{name} renders nothing on {platform.value}"
    device = lab.configs[host]
    before_text = device.text()
    flow = _workflow(db)

    change, plan = flow.plan(name, [host], dict(params), requested_by="alice")
    assert change.state == ChangeState.PLANNED, plan.detailed
    [outcome] = plan.outcomes
    assert outcome.state == TargetState.PENDING, outcome.detail
    assert outcome.detail.strip(), "an empty diff for a pending device"
    # Every intended line the device does not run yet shows in the diff as added.
    new = [mask_config(raw).strip() for raw in _held(_running(before_text), lines)]
    assert new and not [ln for ln in new if not _shown(ln, outcome.detail)], outcome.detail
    assert device.text() == before_text, "a plan sent lines to the device"

    report = flow.apply(change.ref, "bob")
    assert report.state == ChangeState.SUCCEEDED, report.detailed
    assert [o.state for o in report.outcomes] == [TargetState.VERIFIED], report.detailed
    running = device.text()
    assert not _held(_running(running), lines), running

    undo, undo_plan = flow.plan_rollback(change.ref, "bob")
    assert undo.state == ChangeState.PLANNED, undo_plan.detailed
    assert [o.state for o in undo_plan.outcomes] == [TargetState.PENDING], undo_plan.detailed
    back = flow.apply(undo.ref, "alice")
    assert back.state == ChangeState.SUCCEEDED, back.detailed
    assert device.text() == before_text
    with db.read() as s:
        assert s.get_one(ChangeRequest, change.id).state == ChangeState.ROLLED_BACK


def test_a_template_a_lab_platform_lacks_is_refused_before_any_device_is_read(
    lab_db: tuple[Database, Lab],
) -> None:
    db, lab = lab_db
    lacking = [
        (n, p) for n in intents.INTENTS for p in _lab_platforms() if not intents.supported(n, p)
    ]
    assert ("banner", Platform.ARISTA_EOS) in lacking  # EOS reads a banner up to `EOF`
    opened: list[str] = []

    def opener(target: Target, credentials: Credentials) -> Driver:
        opened.append(target.hostname)
        return connect(target, credentials)

    devices = DeviceSettings(username="netops", password="lab-pw", connect_timeout_s=5)
    flow = ChangeWorkflow(
        db, AutomationSettings(), DeviceConnector.from_settings(devices, (), opener)
    )
    with db.read() as s:
        changes = s.scalar(sa.select(sa.func.count()).select_from(ChangeRequest))
    for name, platform in lacking:
        hosts = [_device(db, p)[0] for p in _lab_platforms()]  # with a platform that has it
        before = {h: lab.configs[h].text() for h in hosts}
        with pytest.raises(DomainError) as exc:
            flow.plan(name, hosts, _params(name, _device(db, platform)[1]), requested_by="alice")
        assert str(exc.value).startswith(f"{name} has no template for {platform.value}")
        assert exc.value.hint and "narrow the targets, e.g. platform:" in exc.value.hint
        assert opened == [], f"{name} read {opened} before refusing {platform.value}"
        assert {h: lab.configs[h].text() for h in hosts} == before
    with db.read() as s:
        assert s.scalar(sa.select(sa.func.count()).select_from(ChangeRequest)) == changes
