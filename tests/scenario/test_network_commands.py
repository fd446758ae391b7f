"""The network commands as engineers use them in Slack: signed slash commands into a
running `serve` on seeded data, with live device commands over SSH to the lab."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from automation.lab.lab import Lab
from domain.faults.models import Alarm
from domain.inventory.models import Device
from tests.scenario.conftest import Served, seeded_lab, serve_with_lab, words


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, Lab]]:
    yield from seeded_lab(tmp_path_factory.mktemp("net"), 11)


@pytest.fixture
def net(tmp_path: Path, seeded: tuple[Path, Lab]) -> Iterator[Served]:
    yield from serve_with_lab(tmp_path, seeded[0])


def test_an_engineer_works_the_network_from_slack(net: Served) -> None:
    with net.sb.db.read() as s:
        other = s.scalars(sa.select(Device).where(Device.mgmt_host != "127.0.0.1")).first()
        assert other is not None
        raised = s.scalars(
            sa.select(Alarm).where(Alarm.state != "cleared", Alarm.acked_by.is_(None))
        ).first()
        assert raised is not None
    assert other.hostname in words(net.ask("alice", f"/inventory show {other.mgmt_host}"))
    assert other.hostname in words(net.ask("alice", f"/inventory show {other.serial}"))
    assert "r1-mum" in words(net.ask("alice", "/inventory show r1-mum"))
    typo = net.ask("alice", "/inventory show r1-mun")
    assert "did you mean" in words(typo) and "r1-mum" in words(typo)
    assert "cr01-mum-dc1" in words(net.ask("alice", "/inventory search mum role:core"))
    assert "MUM" in words(net.ask("alice", "/inventory site MUM"))
    assert "GigabitEthernet" in words(net.ask("alice", "/inventory interfaces r1-mum"))
    with net.sb.db.read() as s:
        r1 = s.scalars(sa.select(Device).where(Device.hostname == "r1-mum")).one()
    facts = net.ask("alice", "/inventory facts r1-mum")
    # The lab answers with the inventory's own model, serial and version.
    assert facts.params["text"] == "r1-mum: live facts"
    assert all(v in words(facts) for v in (r1.os_version, r1.serial, r1.model))

    assert raised.ref in words(net.ask("alice", "/alarm list"))
    assert "Acknowledge" in words(net.ask("alice", f"/alarm show {raised.ref}"))
    assert f"{raised.ref} acknowledged by alice" in words(
        net.ask("alice", f"/alarm ack {raised.ref}")
    )

    opened = net.ask("alice", '/ticket open r1-mum "Gi0/0/1 flapping" sev=2')
    ref = opened.params["text"].split()[0]
    assert opened.params["text"] == f"{ref} opened: Gi0/0/1 flapping"
    assert f"{ref} assigned to bob" in words(net.ask("alice", f"/ticket assign {ref} bob"))
    assert net.ask("bob", f'/ticket note {ref} "optics replaced"').params["text"] == (
        f"note added to {ref}"
    )
    assert "inProgress" in words(net.ask("bob", f"/ticket status {ref} inProgress"))
    assert "resolved" in words(net.ask("bob", f'/ticket resolve {ref} "SFP swapped"'))
    shown = net.ask("bob", f"/ticket show {ref}")
    assert "optics replaced" in words(shown) and "SFP swapped" in words(shown)
    assert "closed" in words(net.ask("alice", f"/ticket close {ref}"))
    breached = net.ask("alice", "/ticket list breached")
    rows = next(b for b in breached.params["blocks"] if "```" in json.dumps(b))
    lines = rows["text"]["text"].strip("`").splitlines()[1:]
    assert lines and all(line.endswith("BREACHED") for line in lines)

    health = net.ask("alice", "/network health")
    assert health.params["text"] == "Health of the network" and "down now" in words(health)
    run = net.ask("alice", '/device run r1-mum "show version"')
    assert run.params["text"] == "r1-mum: show version"
    assert "*hostname*\\nr1-mum" in words(run)  # parsed by the ntc-templates template
    refused = net.ask("alice", '/device run r1-mum "reload"')
    assert refused.params["response_type"] == "ephemeral"
    assert "allow" in words(refused).lower()
    denied = net.ask("carol", '/device run r1-mum "show version"')
    assert "needs the engineer role" in words(denied)
