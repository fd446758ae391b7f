"""The network commands as engineers use them in Slack: signed slash commands into a
running `serve` on seeded data, with live device commands over SSH to the lab."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from automation.lab.lab import Lab, lab_devices
from domain.db import Database
from domain.demo.seed import seed
from domain.faults.models import Alarm
from domain.inventory.models import Device
from tests.conftest import free_ports
from tests.fakes.slack_api import Call
from tests.scenario.conftest import Served, _serve
from tests.world import AS_OF, SMALL


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, Lab]]:
    path = tmp_path_factory.mktemp("net") / "seeded.db"
    db = Database(f"sqlite:///{path}")
    seed(db, SMALL, seed=11, as_of=AS_OF, lab_base_port=free_ports(SMALL.lab_devices)[0])
    with Lab(lab_devices(db), username="netops", password="lab-pw") as lab:
        db.dispose()
        yield path, lab


@pytest.fixture
def net(tmp_path: Path, seeded: tuple[Path, Lab]) -> Iterator[Served]:
    yield from _serve(
        tmp_path,
        seeded[0],
        SWITCHBOARD_DEVICE_USER="netops",
        SWITCHBOARD_DEVICE_PASSWORD="lab-pw",
    )


def ask(served: Served, user: str, text: str) -> Call:
    """Send a slash command and wait for its answer, public or private."""

    def answers() -> list[Call]:
        return [
            c
            for c in served.slack.calls
            if c.method == "response_url"
            or (c.method == "chat.postMessage" and c.params["channel"] == "C0NOC")
        ]

    before = len(answers())
    answer, _ = served.command(user, text)
    assert answer.status == 200
    deadline = time.monotonic() + 30
    while len(answers()) <= before:
        assert time.monotonic() < deadline, f"no answer to {text}"
        time.sleep(0.02)
    return answers()[before]


def words(call: Call) -> str:
    return call.params.get("text", "") + json.dumps(call.params.get("blocks") or [])


def test_an_engineer_works_the_network_from_slack(net: Served) -> None:
    with net.sb.db.read() as s:
        other = s.scalars(sa.select(Device).where(Device.mgmt_host != "127.0.0.1")).first()
        assert other is not None
        raised = s.scalars(
            sa.select(Alarm).where(Alarm.state != "cleared", Alarm.acked_by.is_(None))
        ).first()
        assert raised is not None
    assert other.hostname in words(ask(net, "alice", f"/inventory show {other.mgmt_host}"))
    assert other.hostname in words(ask(net, "alice", f"/inventory show {other.serial}"))
    assert "r1-mum" in words(ask(net, "alice", "/inventory show r1-mum"))
    typo = ask(net, "alice", "/inventory show r1-mun")
    assert "did you mean" in words(typo) and "r1-mum" in words(typo)
    assert "cr01-mum-dc1" in words(ask(net, "alice", "/inventory search mum role:core"))
    assert "MUM" in words(ask(net, "alice", "/inventory site MUM"))
    assert "GigabitEthernet" in words(ask(net, "alice", "/inventory interfaces r1-mum"))
    facts = ask(net, "alice", "/inventory facts r1-mum")
    assert facts.params["text"] == "r1-mum: live facts" and "17.03.01a" in words(facts)

    assert raised.ref in words(ask(net, "alice", "/alarm list"))
    assert "Acknowledge" in words(ask(net, "alice", f"/alarm show {raised.ref}"))
    assert f"{raised.ref} acknowledged by alice" in words(
        ask(net, "alice", f"/alarm ack {raised.ref}")
    )

    opened = ask(net, "alice", '/ticket open r1-mum "Gi0/0/1 flapping" sev=2')
    ref = opened.params["text"].split()[0]
    assert opened.params["text"] == f"{ref} opened: Gi0/0/1 flapping"
    assert f"{ref} assigned to bob" in words(ask(net, "alice", f"/ticket assign {ref} bob"))
    assert ask(net, "bob", f'/ticket note {ref} "optics replaced"').params["text"] == (
        f"note added to {ref}"
    )
    assert "inProgress" in words(ask(net, "bob", f"/ticket status {ref} inProgress"))
    assert "resolved" in words(ask(net, "bob", f'/ticket resolve {ref} "SFP swapped"'))
    shown = ask(net, "bob", f"/ticket show {ref}")
    assert "optics replaced" in words(shown) and "SFP swapped" in words(shown)
    assert "closed" in words(ask(net, "alice", f"/ticket close {ref}"))
    breached = ask(net, "alice", "/ticket list breached")
    rows = next(b for b in breached.params["blocks"] if "```" in json.dumps(b))
    lines = rows["text"]["text"].strip("`").splitlines()[1:]
    assert lines and all(line.endswith("BREACHED") for line in lines)

    health = ask(net, "alice", "/network health")
    assert health.params["text"] == "Health of the network" and "down now" in words(health)
    run = ask(net, "alice", '/device run r1-mum "show version"')
    assert run.params["text"] == "r1-mum: show version"
    assert "*hostname*\\nr1-mum" in words(run)  # parsed by the ntc-templates template
    refused = ask(net, "alice", '/device run r1-mum "reload"')
    assert refused.params["response_type"] == "ephemeral"
    assert "allow" in words(refused).lower()
    denied = ask(net, "carol", '/device run r1-mum "show version"')
    assert "needs the engineer role" in words(denied)
