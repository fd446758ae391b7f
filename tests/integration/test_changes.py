"""Config changes end to end over real SSH to the lab: plan, apply, verify, roll back."""

from __future__ import annotations

import re
import time

import pytest
import sqlalchemy as sa

from automation.changes import ChangeWorkflow
from automation.drivers import DeviceConnector
from automation.lab.lab import Lab
from domain.changes.choices import ChangeState, TargetState
from domain.changes.models import ChangeRequest, ChangeTarget, ConfigBackup
from domain.changes.services import lock_devices, mark_interrupted, running_lock
from domain.config import AutomationSettings, DeviceSettings
from domain.db import Database
from domain.errors import DomainError, PolicyViolation
from tests.world import lab_router

CISCO = ["r1-mum", "r2-del", "r4-tn"]


def workflow(
    db: Database, command_timeout_s: float | None = None, **policy: object
) -> ChangeWorkflow:
    """The change workflow over the lab; `command_timeout_s` in place of the shipped one."""
    automation = AutomationSettings(**{"batch_size": 2, "workers": 8, **policy})
    timeout = {} if command_timeout_s is None else {"command_timeout_s": command_timeout_s}
    devices = DeviceSettings(username="netops", password="lab-pw", connect_timeout_s=5, **timeout)
    return ChangeWorkflow(db, automation, DeviceConnector.from_settings(devices))


def targets(db: Database, ref: str) -> dict[str, ChangeTarget]:
    with db.read() as s:
        change = s.scalar(sa.select(ChangeRequest).where(ChangeRequest.id == int(ref[3:])))
        assert change is not None
        rows = s.execute(
            sa.text(
                "SELECT d.hostname, t.id FROM change_targets t "
                "JOIN devices d ON d.id = t.device_id WHERE t.change_id = :c"
            ),
            {"c": change.id},
        ).all()
        return {h: s.get_one(ChangeTarget, i) for h, i in rows}


def test_plan_apply_verify_and_roll_back(lab_db: tuple[Database, Lab]) -> None:
    db, lab = lab_db
    before = {h: lab.configs[h].text() for h in CISCO}
    flow = workflow(db)
    change, plan = flow.plan("ntp", CISCO, {"servers": "10.0.0.9"}, requested_by="alice")
    assert change.state == ChangeState.PLANNED
    assert [o.state for o in plan.outcomes] == [TargetState.PENDING] * 3
    assert all("+ ntp server 10.0.0.9" in o.detail for o in plan.outcomes)
    with db.read() as s:
        assert s.scalar(sa.select(sa.func.count()).select_from(ConfigBackup)) == 3
    progress: list[str] = []
    report = flow.apply(change.ref, "bob", progress.append)
    assert report.state == ChangeState.SUCCEEDED, report.summary
    assert report.summary == f"{change.ref} succeeded: 3 changed and verified"
    assert progress[0] == f"{change.ref}: canary r1-mum"
    assert progress[-1] == report.summary
    for h in CISCO:
        assert "ntp server 10.0.0.9" in lab.configs[h].text()
        assert "ntp server 10.0.0.9" in lab.configs[h].startup_text()
    # The roll back is a change of its own: planned (with its diff), then applied.
    undo, undo_plan = flow.plan_rollback(change.ref, "bob")
    assert undo.state == ChangeState.PLANNED and undo.reverts_id == change.id
    assert all("- ntp server 10.0.0.9" in o.detail for o in undo_plan.outcomes)
    assert {h: lab.configs[h].text() for h in CISCO} != before  # nothing sent at plan
    back = flow.apply(undo.ref, "alice")
    assert back.summary == f"{undo.ref} succeeded: 3 changed and verified"
    assert {h: lab.configs[h].text() for h in CISCO} == before
    with db.read() as s:
        assert s.get_one(ChangeRequest, change.id).state == ChangeState.ROLLED_BACK


def test_a_device_already_as_intended_is_unchanged(lab_db: tuple[Database, Lab]) -> None:
    db, _ = lab_db
    change, plan = workflow(db).plan("ntp", ["r1-mum"], {"servers": "10.0.0.1"}, "alice")
    assert [o.state for o in plan.outcomes] == [TargetState.UNCHANGED]
    assert change.state == ChangeState.UNCHANGED
    assert plan.summary == f"{change.ref} unchanged, nothing to apply: 1 unchanged"


def test_a_failing_canary_stops_the_change(lab_db: tuple[Database, Lab]) -> None:
    db, lab = lab_db
    before = {h: lab.configs[h].text() for h in CISCO}
    lab.configs["r1-mum"].faults.reject = re.compile("^logging host")
    flow = workflow(db)
    change, _ = flow.plan("syslog", CISCO, {"host": "10.0.1.10"}, "alice")
    report = flow.apply(change.ref, "bob")
    assert report.state == ChangeState.ROLLED_BACK
    states = {o.hostname: o.state for o in report.outcomes}
    assert states == {
        "r1-mum": TargetState.ROLLED_BACK,
        "r2-del": TargetState.SKIPPED,
        "r4-tn": TargetState.SKIPPED,
    }
    assert {h: lab.configs[h].text() for h in CISCO} == before


def test_a_device_failing_mid_change_is_rolled_back_alone(lab_db: tuple[Database, Lab]) -> None:
    db, lab = lab_db
    lab.configs["r4-tn"].faults.reject = re.compile("^logging trap")
    before = lab.configs["r4-tn"].text()
    flow = workflow(db)
    change, _ = flow.plan("syslog", CISCO, {"host": "10.0.1.10"}, "alice")
    report = flow.apply(change.ref, "bob")
    assert report.state == ChangeState.FAILED
    states = {o.hostname: o.state for o in report.outcomes}
    assert states == {
        "r1-mum": TargetState.VERIFIED,
        "r2-del": TargetState.VERIFIED,
        "r4-tn": TargetState.ROLLED_BACK,
    }
    assert lab.configs["r4-tn"].text() == before  # partly applied, then put back
    assert "logging host 10.0.1.10" in lab.configs["r2-del"].text()
    assert "refused the change" in next(o.detail for o in report.outcomes if o.hostname == "r4-tn")


def test_a_device_dropping_the_session_mid_change_is_rolled_back_alone(
    lab_db: tuple[Database, Lab],
) -> None:
    db, lab = lab_db
    before = lab.configs["r4-tn"].text()
    # A session that dies is noticed when a read gets no answer in command_timeout_s (the
    # lab answers a command in well under a second): 5 s instead of the shipped 30 s.
    flow = workflow(db, command_timeout_s=5)
    change, _ = flow.plan("syslog", CISCO, {"host": "10.0.1.11"}, "alice")
    # The session dies after one line of the change (the device reboots), then it answers.
    lab.configs["r4-tn"].faults.drop_after_lines = 1
    lab.configs["r4-tn"].faults.drop_once = True
    report = flow.apply(change.ref, "bob")
    assert report.state == ChangeState.FAILED
    states = {o.hostname: o.state for o in report.outcomes}
    assert states["r4-tn"] == TargetState.ROLLED_BACK
    assert {h for h, st in states.items() if st == TargetState.VERIFIED} == {"r1-mum", "r2-del"}
    assert lab.configs["r4-tn"].text() == before  # what it took before dropping is undone
    assert "logging host 10.0.1.11" in lab.configs["r1-mum"].text()
    with db.read() as s:
        summary = s.get_one(ChangeRequest, change.id).summary
    assert "r4-tn" in summary and "rolled back" in summary


def test_injected_cli_is_refused_before_any_device(lab_db: tuple[Database, Lab]) -> None:
    db, _ = lab_db
    with pytest.raises(DomainError, match=r"^text: must be one line"):
        workflow(db).plan("banner", ["r1-mum"], {"text": "hi\nusername x privilege 15"}, "alice")
    with db.read() as s:
        assert s.scalar(sa.select(sa.func.count()).select_from(ChangeRequest)) == 3  # seeded


def test_two_changes_cannot_hold_one_device(lab_db: tuple[Database, Lab]) -> None:
    db, _ = lab_db
    flow = workflow(db)
    first, _ = flow.plan("ntp", ["r1-mum"], {"servers": "10.0.0.7"}, "alice")
    second, _ = flow.plan("ntp", ["r1-mum", "r2-del"], {"servers": "10.0.0.8"}, "alice")
    with db.transaction() as s:  # the first change is running on r1-mum
        device_id = s.scalar(sa.text("SELECT id FROM devices WHERE hostname = 'r1-mum'"))
        lock_devices(s, s.get_one(ChangeRequest, first.id), [device_id], {device_id: "r1-mum"})
    with pytest.raises(PolicyViolation, match=f"r1-mum is being changed by {first.ref}"):
        flow.apply(second.ref, "bob")


def test_a_change_cut_off_by_a_crash_is_marked_interrupted(lab_db: tuple[Database, Lab]) -> None:
    db, _ = lab_db
    change, _ = workflow(db).plan("ntp", ["r1-mum"], {"servers": "10.0.0.6"}, "alice")
    with db.transaction() as s:
        s.execute(
            sa.text("UPDATE change_requests SET state = 'running' WHERE id = :i"), {"i": change.id}
        )
        s.execute(
            sa.text(
                "UPDATE change_targets SET started_at = '2026-11-01 10:00:00.000000' "
                "WHERE change_id = :i"
            ),
            {"i": change.id},
        )
    # While a live process (another replica) still holds the change, it is left alone.
    with db.hold(running_lock(change.id)):
        assert mark_interrupted(db) == []
    assert mark_interrupted(db) == [(change.ref, ["r1-mum"])]
    assert targets(db, change.ref)["r1-mum"].state == TargetState.INTERRUPTED


def test_change_windows_and_freezes(lab_db: tuple[Database, Lab]) -> None:
    db, _ = lab_db
    from datetime import UTC, date, datetime, time

    from domain.config import ChangeWindow, Freeze

    flow = workflow(
        db,
        change_windows=(ChangeWindow(days=("sun",), start=time(0, 0), end=time(6, 0)),),
        freezes=(Freeze(start=date(2026, 12, 24), end=date(2027, 1, 2), reason="year-end freeze"),),
    )
    with pytest.raises(PolicyViolation, match="outside the change windows"):
        flow.check_window(datetime(2026, 11, 25, 12, 0, tzinfo=UTC))  # a Wednesday
    flow.check_window(datetime(2026, 11, 28, 20, 0, tzinfo=UTC))  # Sunday 01:30 in Kolkata
    with pytest.raises(PolicyViolation, match="frozen until 2027-01-02 \\(year-end freeze\\)"):
        flow.check_window(datetime(2026, 12, 27, 20, 0, tzinfo=UTC))


def test_config_commands_in_chat(lab_db: tuple[Database, Lab]) -> None:
    """The same workflow through the router, as typed in the console or Slack."""
    db, lab = lab_db
    router, access = lab_router(db)
    planned = router.handle(access.user("alice"), "/config plan ntp r1-mum servers=10.0.0.5")
    ref = planned.meta["change"]
    assert planned.ok
    assert planned.text == f"1 device matched r1-mum. {ref}: ntp on 1 device(s); 1 to change"
    assert [b.command for b in planned.buttons] == [f"/config apply {ref}", f"/config cancel {ref}"]
    steps: list[str] = []
    applied = router.handle(access.user("bob"), f"/config apply {ref}", progress=steps.append)
    assert applied.text == f"{ref} succeeded: 1 changed and verified"
    assert steps[-1] == applied.text
    assert "ntp server 10.0.0.5" in lab.configs["r1-mum"].text()
    again = router.handle(access.user("bob"), f"/config apply {ref}")
    assert not again.ok
    assert again.text == f"{ref} is succeeded; only a planned change can be applied"
    assert again.hint == f"/config rollback {ref} plans its undo"
    shown = router.handle(access.user("alice"), f"/config show {ref}")
    assert shown.text == f"{ref} succeeded: 1 changed and verified"
    refused = router.handle(access.user("carol"), f"/config rollback {ref}")
    assert refused.text == "/config rollback needs the engineer role; you have care_agent"
    undo = router.handle(access.user("alice"), f"/config rollback {ref}")
    back = undo.meta["change"]
    assert undo.text == (
        f"rolls back {ref} on 1 device. {back}: the roll back of {ref} on 1 device(s); 1 to change"
    )
    assert [b.command for b in undo.buttons] == [f"/config apply {back}", f"/config cancel {back}"]
    assert "ntp server 10.0.0.5" in lab.configs["r1-mum"].text()  # planned, not yet sent
    undone = router.handle(access.user("bob"), f"/config apply {back}")
    assert undone.text == f"{back} succeeded: 1 changed and verified"
    assert "ntp server 10.0.0.5" not in lab.configs["r1-mum"].text()
    assert router.handle(access.user("bob"), f"/config show {ref}").text == (
        f"{ref} rolled back by {back}"
    )


def test_targets_by_hostname_glob_site_and_role(lab_db: tuple[Database, Lab]) -> None:
    from automation.inventory import select_devices

    db, _ = lab_db
    assert [d.hostname for d in select_devices(db, ["r1-m*"])] == ["r1-mum"]
    with pytest.raises(DomainError, match="no device 'r1-m'"):  # a bare word is exact
        select_devices(db, ["r1-m"])
    assert [d.hostname for d in select_devices(db, ["lab"])] == [
        "r1-mum",
        "r2-del",
        "r3-ka",
        "r4-tn",
        "r5-mh",
        "r6-kol",
        "r7-gj",
        "r8-ap",
    ]
    arista_lab = select_devices(db, ["lab", "platform:arista_eos"])  # keys narrow
    assert arista_lab and all(d.lab and d.platform.value == "arista_eos" for d in arista_lab)
    both = select_devices(db, ["r1-mum", "r3-ka"])  # hostnames add up
    assert [(d.hostname, d.platform.value) for d in both] == [
        ("r1-mum", "cisco_ios"),
        ("r3-ka", "arista_eos"),
    ]
    for hostile in ("%", "_", "r1' OR '1'='1", "role:wizard"):
        with pytest.raises(DomainError):
            select_devices(db, [hostile])


def test_an_eos_push_that_cuts_management_off_is_reverted_by_the_device_itself(
    lab_db: tuple[Database, Lab],
) -> None:
    """EOS commits through a configuration session with a commit timer: when the change
    takes the management session away, nobody can confirm it and the device reverts it.
    The workflow logs in again once the device answers, reads it, and says so."""
    import threading

    db, lab = lab_db
    device = lab.configs["r3-ka"]
    before = device.text()
    device.commit_timer_cap_s = 3  # the driver asks for 120 s; the lab makes it 3
    device.faults.drop_after_commit = True

    def management_path_down_until_the_timer_reverts() -> None:
        while device.pending is None:
            time.sleep(0.02)
        lab.stop_device("r3-ka")  # no SSH while the change holds
        while device.pending is not None:
            time.sleep(0.05)
        device.faults.drop_after_commit = False
        lab.start()  # reverted: the device answers again

    outage = threading.Thread(target=management_path_down_until_the_timer_reverts)
    outage.start()
    flow = ChangeWorkflow(
        db,
        AutomationSettings(workers=2),
        DeviceConnector.from_settings(
            DeviceSettings(
                username="netops", password="lab-pw", connect_timeout_s=2, command_timeout_s=2
            )
        ),
    )
    change, _ = flow.plan("ntp", ["r3-ka"], {"servers": "10.0.0.44"}, "alice")
    report = flow.apply(change.ref, "bob")
    outage.join(30)
    (outcome,) = report.outcomes
    assert outcome.state == TargetState.ROLLED_BACK, outcome.detail
    assert outcome.detail.endswith("; the device reverted the change itself (commit timer)")
    assert report.state == ChangeState.ROLLED_BACK
    assert device.text() == before
