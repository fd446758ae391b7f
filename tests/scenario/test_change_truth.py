"""Config changes that never lie, as engineers meet them in Slack: signed slash commands
into a running `serve` on seeded data, the changes going over SSH to the lab.

Each test is one of issue 15's examples: a banner plan, a plan on a device that does not
answer (and the apply and roll back that followed it), a rollback that undid a later
change, and a secret posted in the channel.
"""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from automation.lab.lab import Lab
from domain.changes.models import ChangeRequest
from domain.inventory.choices import DeviceStatus
from domain.inventory.models import Device
from tests.fakes.slack_api import Call
from tests.scenario.conftest import Served, seeded_lab, serve_with_lab, words


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, Lab]]:
    yield from seeded_lab(tmp_path_factory.mktemp("truth"), 13)


@pytest.fixture
def net(tmp_path: Path, seeded: tuple[Path, Lab]) -> Iterator[Served]:
    yield from serve_with_lab(tmp_path, seeded[0])


@pytest.fixture
def lab(seeded: tuple[Path, Lab]) -> Lab:
    return seeded[1]


def commands(call: Call) -> list[str]:
    """The commands behind the buttons of a message."""
    found = []
    for block in call.params.get("blocks") or []:
        for element in block.get("elements", []):
            if element.get("type") == "button":
                found.append(element["value"])
    return found


FINISHED = r"CR-\d+ (succeeded|failed|rolled back|unchanged)"


def settle(net: Served, user: str, text: str) -> Call:
    """Send a command that reports progress; the message that says how it ended."""
    start = len(net.slack.calls)
    net.command(user, text)
    deadline = time.monotonic() + 60
    while True:
        for call in net.slack.calls[start:]:
            # The reply itself (with its table), not the progress line saying the same.
            if re.search(FINISHED, call.params.get("text") or "") and call.params.get("blocks"):
                return call
        assert time.monotonic() < deadline, f"{text} never finished"
        time.sleep(0.05)


def rollback_ref(call: Call) -> str:
    match = re.search(r"(CR-\d+): the roll back of", call.params.get("text", ""))
    assert match, call.params.get("text")
    return match.group(1)


def ref_in(call: Call) -> str:
    match = re.search(r"CR-\d+", call.params.get("text", ""))
    assert match, call.params.get("text")
    return match.group(0)


def test_a_banner_is_planned_applied_and_rolled_back_without_a_traceback(
    net: Served, lab: Lab, caplog: pytest.LogCaptureFixture
) -> None:
    before = lab.configs["r1-mum"].text()
    with caplog.at_level(logging.WARNING):
        planned = net.ask("alice", '/config plan banner r1-mum text="Authorised access only"')
    assert "Traceback" not in caplog.text and "still in a banner" not in caplog.text
    said = words(planned)
    assert "nothing to apply" not in said and "still in a banner" not in said
    ref = ref_in(planned)
    assert f"{ref}: banner on 1 device(s); 1 to change" in said
    assert f"/config apply {ref}" in commands(planned)
    applied = settle(net, "bob", f"/config apply {ref}")
    assert f"{ref} succeeded: 1 changed and verified" in words(applied)
    assert "banner motd ^Authorised access only^" in lab.configs["r1-mum"].text()
    undo = net.ask("bob", f"/config rollback {ref}")
    back = rollback_ref(undo)
    assert f"/config apply {back}" in commands(undo)
    assert f"{back} succeeded: 1 changed and verified" in words(
        settle(net, "alice", f"/config apply {back}")
    )
    assert lab.configs["r1-mum"].text() == before


def test_a_plan_on_a_device_that_does_not_answer_fails_and_cannot_be_applied(
    net: Served, caplog: pytest.LogCaptureFixture
) -> None:
    with net.sb.db.read() as s:
        silent = s.scalars(
            sa.select(Device.hostname)
            .where(~Device.lab, Device.status == DeviceStatus.ACTIVE)
            .order_by(Device.id)
        ).first()
    assert silent is not None
    with caplog.at_level(logging.WARNING):
        planned = net.ask("alice", f"/config plan ntp {silent} servers=10.0.0.9")
    assert "Traceback" not in caplog.text
    said = words(planned)
    ref = ref_in(planned)
    assert "nothing to apply" not in said
    assert f"{ref} plan failed: 1 unreachable" in said
    assert "could not be read, so it cannot be applied" in said
    assert f"{silent} does not answer" in said
    assert commands(planned) == []  # no Apply button on a plan that failed
    refused = net.ask("bob", f"/config apply {ref}")
    assert f"{ref} cannot be applied: its plan failed" in words(refused)
    assert "succeeded" not in words(refused)
    assert commands(refused) == []  # and no Roll back button for a change that never ran
    with net.sb.db.read() as s:
        change = s.scalars(sa.select(ChangeRequest).where(ChangeRequest.id == int(ref[3:]))).one()
        assert (change.state.value, change.started_at) == ("failed", None)


def test_rolling_back_a_change_keeps_what_a_later_change_configured(net: Served, lab: Lab) -> None:
    first = ref_in(net.ask("alice", "/config plan ntp r2-del servers=10.0.0.17"))
    settle(net, "bob", f"/config apply {first}")
    later = ref_in(net.ask("alice", "/config plan ntp r2-del servers=10.0.0.18"))
    settle(net, "bob", f"/config apply {later}")
    undo = net.ask("alice", f"/config rollback {first}")
    said = words(undo)
    assert f"rolls back {first} on 1 device" in said
    assert "- ntp server 10.0.0.17" in said and "10.0.0.18" not in said
    back = rollback_ref(undo)
    assert "succeeded" in words(settle(net, "bob", f"/config apply {back}"))
    running = lab.configs["r2-del"].text()
    assert "ntp server 10.0.0.17" not in running
    assert "ntp server 10.0.0.18" in running  # the later change is left alone


def test_a_rollback_that_would_undo_a_later_change_is_refused_naming_it(
    net: Served, lab: Lab
) -> None:
    first = ref_in(net.ask("alice", "/config plan ntp r4-tn servers=10.0.0.27"))
    settle(net, "bob", f"/config apply {first}")
    # The later change wants the same server (and another): rolling back the first
    # would take away a line the later one relies on.
    later = ref_in(net.ask("alice", "/config plan ntp r4-tn servers=10.0.0.27,10.0.0.28"))
    settle(net, "bob", f"/config apply {later}")
    refused = net.ask("alice", f"/config rollback {first}")
    said = words(refused)
    assert f"rolling back {first} would undo {later} on r4-tn (ntp server 10.0.0.27)" in said
    assert f"/config rollback {later}" in said
    not_admin = net.ask("alice", f"/config rollback {first} force")
    assert "only an admin may force" in words(not_admin)
    forced = net.ask("root", f"/config rollback {first} force")
    assert f"forced over {later}" in words(forced)
    shown = words(net.ask("bob", f"/config show {rollback_ref(forced)}"))
    assert "rolls back" in shown and first in shown
    assert "forced by" in shown and "root, over a later change" in shown
    assert "ntp server 10.0.0.27" in lab.configs["r4-tn"].text()  # planned, nothing sent
    with net.sb.db.read() as s:
        change = s.scalars(sa.select(ChangeRequest).where(ChangeRequest.forced_by == "root")).one()
        assert change.params == {"of": first, "over": later}


def test_a_secret_is_never_posted_or_audited_in_clear(net: Served, lab: Lab) -> None:
    planned = net.ask("alice", "/config plan snmp r5-mh community=Zx9-s3cret-42")
    ref = ref_in(planned)
    settle(net, "bob", f"/config apply {ref}")
    net.ask("bob", f"/config show {ref}")
    net.ask("bob", "/config history r5-mh")
    assert "snmp-server community Zx9-s3cret-42 RO" in lab.configs["r5-mh"].text()
    for call in net.slack.calls:
        assert "Zx9-s3cret-42" not in json.dumps(call.params), call.method
    with net.sb.db.read() as s:
        audit = s.execute(sa.text("SELECT * FROM audit_events")).all()
    assert audit and "Zx9-s3cret-42" not in repr(audit)
