"""An SNMP community typed in chat reaches the device and nowhere else people read.

Through the router, with devices in memory (tests/fakes/devices.py): a community that
is refused (bad shape, misspelt name) leaves no trace of itself in the reply or the
audit table; a good one is pushed to the device in full, while `/config show` and the
audit show `********`.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from bot.access import Access
from bot.bootstrap import build_services, load_skills
from bot.router import Router
from domain.audit.models import AuditEvent
from domain.config import PROJECT_ROOT, load_settings
from domain.db import Database
from domain.secrets import MASK
from skills.reply import Reply, jsonable
from tests.fakes.devices import FakeNetwork
from tests.world import NOW

COMMUNITY = "Mum-Comm_2026x"


@pytest.fixture
def network() -> FakeNetwork:
    network = FakeNetwork()
    network.add("r1-mum", interfaces=(("GigabitEthernet0/0/0", "uplink", "10.0.1.1/30"),))
    return network


@pytest.fixture
def router(world: Database, network: FakeNetwork) -> Iterator[Router]:
    settings = load_settings(PROJECT_ROOT / "config.yaml", env={})
    yield Router(load_skills(), build_services(settings, world, clock=lambda: NOW, opener=network))


def say(router: Router, user: str, text: str) -> Reply:
    access = Access(load_settings(PROJECT_ROOT / "config.yaml", env={}))
    return router.handle(access.user(user), text)


def shown(reply: Reply) -> str:
    """Everything a reply shows or carries: its text, hint, blocks and typed data."""
    return json.dumps(reply.to_json(), ensure_ascii=False) + json.dumps(
        jsonable(reply.data), ensure_ascii=False
    )


def audit_table(db: Database) -> str:
    """Every column of every audit event, as one text."""
    with db.read() as s:
        rows = s.execute(sa.select(AuditEvent.__table__)).all()
    return "\n".join(" ".join(str(v) for v in row) for row in rows)


@pytest.mark.parametrize(
    ("typed", "secret", "said"),
    [
        ("community=bad!", "bad!", "community: must look like"),
        ("community=bad!secret", "bad!secret", "(got a value of 10 characters)"),
        ('community="two words!"', "two words!", "(got a value of 10 characters)"),
        ("comunity=Comm2024x", "Comm2024x", "template snmp needs community="),  # misspelt
    ],
)
def test_a_refused_community_is_kept_nowhere(
    router: Router, world: Database, network: FakeNetwork, typed: str, secret: str, said: str
) -> None:
    reply = say(router, "alice", f"/config plan snmp r1-mum {typed}")
    assert not reply.ok
    assert said in reply.text
    assert secret not in shown(reply)
    events = audit_table(world)
    assert "config plan" in events  # the refusal is audited...
    assert secret not in events  # ...without the secret
    assert MASK in events
    assert network["r1-mum"].received == []


def test_a_community_goes_to_the_device_and_shows_masked(
    router: Router, world: Database, network: FakeNetwork
) -> None:
    plan = say(router, "alice", f"/config plan snmp r1-mum community={COMMUNITY} location=Andheri")
    assert plan.ok, plan.text
    ref = plan.meta["change"]
    applied = say(router, "bob", f"/config apply {ref}")
    assert applied.ok, applied.text
    assert f"snmp-server community {COMMUNITY} RO" in network["r1-mum"].received
    assert f"snmp-server community {COMMUNITY} RO" in network["r1-mum"].running()

    change = say(router, "alice", f"/config show {ref}")
    assert change.ok, change.text
    assert COMMUNITY not in shown(change)
    assert f"community={MASK}" in shown(change)
    assert "location=Andheri" in shown(change)
    assert change.data.params == {"community": MASK, "location": "Andheri"}
    assert all(COMMUNITY not in t.diff for t in change.data.devices)
    assert any(f"snmp-server community {MASK} RO" in t.diff for t in change.data.devices)

    events = audit_table(world)
    assert f"community={MASK}" in events
    assert COMMUNITY not in events
