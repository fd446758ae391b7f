"""Change policy through the real ChangeWorkflow on a real database, devices in memory.

Windows and their time zones, freezes, the per-change device limit, device locks, a
second engineer for core devices, the canary, and devices that refuse, drop or do not
answer: each asserted as the engineer sees it (the report, the refusal and its hint)
and on the devices themselves.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from datetime import UTC, date, datetime, time

import pytest
import sqlalchemy as sa

from automation.changes import ChangeReport, ChangeWorkflow
from automation.drivers import DeviceConnector
from domain.changes.choices import ChangeState, Risk, TargetState
from domain.changes.models import ChangeRequest, DeviceLock
from domain.config import AutomationSettings, ChangeWindow, DeviceSettings, Freeze
from domain.db import Database
from domain.errors import DomainError, PolicyViolation
from domain.inventory.choices import DeviceRole, InterfaceKind, Platform
from domain.inventory.models import Device, Interface
from tests.fakes.devices import FakeNetwork
from tests.world import reset_sequences

#: Every device in the test inventory: hostname, role, management port. r1-mum comes
#: from the shared `world`; the others are added beside it in the same site.
DEVICES = [
    ("r1-mum", DeviceRole.ACCESS, 6000),
    ("r2-mum", DeviceRole.ACCESS, 6001),
    ("r3-mum", DeviceRole.ACCESS, 6002),
    ("cr1-mum", DeviceRole.CORE, 6003),
    ("pe1-mum", DeviceRole.PE, 6004),
]
ACCESS = ["r1-mum", "r2-mum", "r3-mum"]
UPLINK = "GigabitEthernet0/0/0"
#: A Wednesday morning in Mumbai, outside any weekend window.
WEDNESDAY = datetime(2026, 11, 25, 4, 30, tzinfo=UTC)  # 10:00 in Asia/Kolkata


@pytest.fixture
def network(world: Database) -> FakeNetwork:
    """The inventory's devices, in the database and in memory, each on a baseline config."""
    with world.transaction() as s:
        for n, (hostname, role, port) in enumerate(DEVICES[1:], start=2):
            s.add(
                Device(
                    id=n,
                    hostname=hostname,
                    site_id=1,
                    role=role,
                    platform=Platform.CISCO_IOS,
                    vendor="Cisco",
                    model="ASR-920",
                    os_version="17.6",
                    serial=f"FOC000{n}",
                    mgmt_host="127.0.0.1",
                    mgmt_port=port,
                )
            )
        # Each device's uplink, in the inventory as on the device.
        for n in range(1, len(DEVICES) + 1):
            s.add(Interface(device_id=n, name=UPLINK, kind=InterfaceKind.ETHERNET, speed_mbps=1000))
    reset_sequences(world)
    fake = FakeNetwork()
    for hostname, _, _ in DEVICES:
        fake.add(hostname, interfaces=((UPLINK, "uplink", "10.0.1.1/30"),))
    return fake


def workflow(
    db: Database, network: FakeNetwork, at: datetime = WEDNESDAY, **policy: object
) -> ChangeWorkflow:
    automation = AutomationSettings(**{"batch_size": 2, "workers": 4, **policy})
    devices = DeviceSettings(username="netops", password="lab-pw")
    clock: Callable[[], datetime] = lambda: at  # noqa: E731
    connector = DeviceConnector.from_settings(devices, opener=network)
    return ChangeWorkflow(db, automation, connector, clock=clock)


def states(report: ChangeReport) -> dict[str, TargetState]:
    return {o.hostname: o.state for o in report.outcomes}


def detail(report: ChangeReport, hostname: str) -> str:
    return next(o.detail for o in report.outcomes if o.hostname == hostname)


def change_state(db: Database, ref: str) -> tuple[ChangeState, str]:
    with db.read() as s:
        change = s.scalars(sa.select(ChangeRequest).where(ChangeRequest.id == int(ref[3:]))).one()
        return change.state, change.summary


def locks(db: Database) -> int:
    with db.read() as s:
        return int(s.scalar(sa.select(sa.func.count()).select_from(DeviceLock)) or 0)


def untouched(network: FakeNetwork, *hostnames: str) -> bool:
    """No configuration line reached these devices."""
    return all(network[h].received == [] for h in hostnames)


# -- change windows and freezes ----------------------------------------------------------------

WEEKEND_NIGHTS = (ChangeWindow(days=("sat", "sun"), start=time(0, 0), end=time(6, 0)),)


def test_a_change_runs_inside_its_window_in_the_windows_time_zone(
    world: Database, network: FakeNetwork
) -> None:
    # Friday 20:30 in UTC is already Saturday 02:00 in Kolkata, the window's zone.
    at = datetime(2026, 11, 20, 20, 30, tzinfo=UTC)
    flow = workflow(world, network, at, change_windows=WEEKEND_NIGHTS)
    change, _ = flow.plan("ntp", ["r1-mum"], {"servers": "10.0.0.9"}, requested_by="alice")
    report = flow.apply(change.ref, "bob")
    assert report.summary == f"{change.ref} succeeded: 1 changed and verified"
    assert "ntp server 10.0.0.9" in network["r1-mum"].running()


def test_a_change_outside_its_window_is_refused_before_any_device(
    world: Database, network: FakeNetwork
) -> None:
    # Saturday 01:30 in UTC would be inside the window there, but it is 07:00 in Kolkata.
    at = datetime(2026, 11, 21, 1, 30, tzinfo=UTC)
    flow = workflow(world, network, at, change_windows=WEEKEND_NIGHTS)
    change, _ = flow.plan("ntp", ["r1-mum"], {"servers": "10.0.0.9"}, requested_by="alice")
    with pytest.raises(PolicyViolation) as refused:
        flow.apply(change.ref, "bob")
    assert str(refused.value) == "this is outside the change windows"
    assert refused.value.hint == "windows: sat,sun 00:00-06:00 Asia/Kolkata"
    assert untouched(network, "r1-mum")
    assert change_state(world, change.ref)[0] == ChangeState.PLANNED  # it can run later
    later = workflow(
        world, network, datetime(2026, 11, 21, 22, 0, tzinfo=UTC), change_windows=WEEKEND_NIGHTS
    )
    assert later.apply(change.ref, "bob").state == ChangeState.SUCCEEDED  # Sunday 03:30 there


YEAR_END = (Freeze(start=date(2026, 12, 24), end=date(2027, 1, 2), reason="year-end freeze"),)


def test_a_freeze_refuses_changes_with_its_reason_and_lifts_after_its_last_day(
    world: Database, network: FakeNetwork
) -> None:
    frozen = workflow(world, network, datetime(2026, 12, 28, 6, 0, tzinfo=UTC), freezes=YEAR_END)
    change, _ = frozen.plan("ntp", ["r1-mum"], {"servers": "10.0.0.9"}, requested_by="alice")
    with pytest.raises(PolicyViolation) as refused:
        frozen.apply(change.ref, "bob")
    assert str(refused.value) == "changes are frozen until 2027-01-02 (year-end freeze)"
    assert refused.value.hint == (
        "changes run again from 2027-01-03; the freeze is set in automation.freezes"
    )
    assert untouched(network, "r1-mum")
    # A freeze wins over an open window.
    windows = (ChangeWindow(start=time(0, 0), end=time(23, 59)),)
    both = workflow(
        world,
        network,
        datetime(2026, 12, 28, 6, 0, tzinfo=UTC),
        freezes=YEAR_END,
        change_windows=windows,
    )
    with pytest.raises(PolicyViolation, match="frozen until 2027-01-02"):
        both.apply(change.ref, "bob")
    after = workflow(world, network, datetime(2027, 1, 3, 6, 0, tzinfo=UTC), freezes=YEAR_END)
    assert (
        after.apply(change.ref, "bob").summary == f"{change.ref} succeeded: 1 changed and verified"
    )


def test_a_freeze_starts_at_midnight_where_the_operator_is(
    world: Database, network: FakeNetwork
) -> None:
    at = datetime(2026, 12, 23, 20, 30, tzinfo=UTC)  # 2026-12-24 02:00 in Kolkata
    flow = workflow(world, network, at, freezes=YEAR_END)
    change, _ = flow.plan("ntp", ["r1-mum"], {"servers": "10.0.0.9"}, requested_by="alice")
    with pytest.raises(PolicyViolation, match="frozen until 2027-01-02"):
        flow.apply(change.ref, "bob")


def test_a_night_window_that_crosses_midnight_is_open_at_night(
    world: Database, network: FakeNetwork
) -> None:
    nights = (ChangeWindow(days=("sat",), start=time(22, 0), end=time(4, 0)),)
    at = datetime(2026, 11, 21, 18, 0, tzinfo=UTC)  # Saturday 23:30 in Kolkata
    flow = workflow(world, network, at, change_windows=nights)
    change, _ = flow.plan("ntp", ["r1-mum"], {"servers": "10.0.0.9"}, requested_by="alice")
    assert flow.apply(change.ref, "bob").state == ChangeState.SUCCEEDED


# -- how much one change may touch ------------------------------------------------------------


def test_a_change_on_more_devices_than_allowed_is_refused_at_plan(
    world: Database, network: FakeNetwork
) -> None:
    flow = workflow(world, network, max_devices_per_change=2)
    with pytest.raises(PolicyViolation) as refused:
        flow.plan("ntp", ACCESS, {"servers": "10.0.0.9"}, requested_by="alice")
    assert str(refused.value) == "3 devices is more than a change may touch (2)"
    assert refused.value.hint == "split it, or narrow the targets"
    assert all(network[h].sessions == 0 for h in ACCESS)  # not even read
    with world.read() as s:
        assert s.scalar(sa.select(sa.func.count()).select_from(ChangeRequest)) == 0
    _, plan = flow.plan("ntp", ACCESS[:2], {"servers": "10.0.0.9"}, requested_by="alice")
    assert [o.state for o in plan.outcomes] == [TargetState.PENDING] * 2


# -- device locks ------------------------------------------------------------------------------


def test_a_device_in_one_running_change_refuses_a_second_change_until_it_is_released(
    world: Database, network: FakeNetwork
) -> None:
    flow = workflow(world, network)
    first, _ = flow.plan("ntp", ["r1-mum"], {"servers": "10.0.0.7"}, requested_by="alice")
    second, _ = flow.plan("syslog", ["r1-mum", "r2-mum"], {"host": "10.0.1.10"}, "alice")
    network["r1-mum"].hold = threading.Event()  # the first change stays in flight on r1
    reports: list[ChangeReport] = []
    running = threading.Thread(target=lambda: reports.append(flow.apply(first.ref, "bob")))
    running.start()
    try:
        assert network["r1-mum"].holding.wait(10), "the first change never reached r1-mum"
        assert locks(world) == 1
        with pytest.raises(PolicyViolation) as refused:
            flow.apply(second.ref, "bob")
        assert str(refused.value) == f"r1-mum is being changed by {first.ref}"
        assert refused.value.hint == "wait for that change to finish, then apply again"
        assert untouched(network, "r2-mum")  # all devices or none
        assert change_state(world, second.ref)[0] == ChangeState.PLANNED
    finally:
        network["r1-mum"].hold.set()
        running.join(30)
    assert reports[0].summary == f"{first.ref} succeeded: 1 changed and verified"
    assert locks(world) == 0  # released when the first change finished
    network["r1-mum"].hold = None
    report = flow.apply(second.ref, "bob")
    assert report.summary == f"{second.ref} succeeded: 2 changed and verified"
    assert locks(world) == 0


def test_a_failed_change_undoes_only_itself_not_a_change_applied_since_its_plan(
    world: Database, network: FakeNetwork
) -> None:
    flow = workflow(world, network)
    later, _ = flow.plan("syslog", ["r1-mum"], {"host": "10.0.1.10"}, requested_by="alice")
    earlier, _ = flow.plan("ntp", ["r1-mum"], {"servers": "10.0.0.7"}, requested_by="alice")
    assert flow.apply(earlier.ref, "bob").state == ChangeState.SUCCEEDED
    network["r1-mum"].refuse = re.compile("^logging trap")
    assert flow.apply(later.ref, "bob").state == ChangeState.ROLLED_BACK
    assert "ntp server 10.0.0.7" in network["r1-mum"].running()


# -- a second engineer for core devices ------------------------------------------------------


def test_a_change_on_a_core_device_needs_another_engineer_to_apply_it(
    world: Database, network: FakeNetwork
) -> None:
    flow = workflow(world, network)
    change, _ = flow.plan("ntp", ["cr1-mum", "r1-mum"], {"servers": "10.0.0.9"}, "alice")
    assert (change.needs_second_approval, change.risk) == (True, Risk.HIGH)
    with pytest.raises(PolicyViolation) as refused:
        flow.apply(change.ref, "alice")
    assert str(refused.value) == (
        f"{change.ref} touches core devices (cr1-mum); an engineer other than alice must apply it"
    )
    assert refused.value.hint == f"ask a colleague to run /config apply {change.ref}"
    assert untouched(network, "cr1-mum", "r1-mum") and locks(world) == 0
    report = flow.apply(change.ref, "bob")
    assert report.summary == f"{change.ref} succeeded: 2 changed and verified"
    with world.read() as s:
        assert s.get_one(ChangeRequest, change.id).approved_by == "bob"


def test_the_requester_may_apply_a_change_on_access_devices_alone(
    world: Database, network: FakeNetwork
) -> None:
    flow = workflow(world, network)
    change, _ = flow.plan("ntp", ACCESS, {"servers": "10.0.0.9"}, requested_by="alice")
    assert change.needs_second_approval is False
    assert (
        flow.apply(change.ref, "alice").summary == f"{change.ref} succeeded: 3 changed and verified"
    )


def test_the_roles_that_need_a_second_engineer_come_from_the_policy(
    world: Database, network: FakeNetwork
) -> None:
    flow = workflow(world, network, second_approval_roles=("pe",))
    core, _ = flow.plan("ntp", ["cr1-mum"], {"servers": "10.0.0.9"}, requested_by="alice")
    assert flow.apply(core.ref, "alice").state == ChangeState.SUCCEEDED
    pe, _ = flow.plan("ntp", ["pe1-mum"], {"servers": "10.0.0.9"}, requested_by="alice")
    with pytest.raises(PolicyViolation, match=r"touches pe devices \(pe1-mum\); an engineer other"):
        flow.apply(pe.ref, "alice")
    assert untouched(network, "pe1-mum")


def test_the_four_eyes_refusal_names_the_role_it_is_about(
    world: Database, network: FakeNetwork
) -> None:
    flow = workflow(world, network, second_approval_roles=("pe",))
    pe, _ = flow.plan("ntp", ["pe1-mum"], {"servers": "10.0.0.9"}, requested_by="alice")
    with pytest.raises(PolicyViolation) as refused:
        flow.apply(pe.ref, "alice")
    assert "core" not in str(refused.value)


# -- the canary and devices that misbehave ---------------------------------------------------


def test_a_canary_that_refuses_a_line_stops_the_change_and_is_put_back(
    world: Database, network: FakeNetwork
) -> None:
    running = {h: network[h].running() for h in ACCESS}
    startup = network["r1-mum"].startup()
    network["r1-mum"].refuse = re.compile("^logging trap")
    flow = workflow(world, network)
    change, _ = flow.plan("syslog", ACCESS, {"host": "10.0.1.10"}, requested_by="alice")
    progress: list[str] = []
    report = flow.apply(change.ref, "bob", progress.append)
    assert progress[0] == f"{change.ref}: canary r1-mum"
    assert report.state == ChangeState.ROLLED_BACK
    assert report.summary == f"{change.ref} rolled back: 2 skipped, 1 rolled back"
    assert states(report) == {
        "r1-mum": TargetState.ROLLED_BACK,
        "r2-mum": TargetState.SKIPPED,
        "r3-mum": TargetState.SKIPPED,
    }
    assert detail(report, "r1-mum") == (
        "r1-mum refused the change: Invalid input detected at command: logging trap "
        "informational, matched error: % Invalid input detected at '^' marker.; rolled back"
    )
    assert detail(report, "r2-mum") == "not pushed: the canary r1-mum did not take it"
    # Nothing else touched, and the canary as it was, saved that way too.
    assert untouched(network, "r2-mum", "r3-mum")
    assert {h: network[h].running() for h in ACCESS} == running
    assert network["r1-mum"].startup() == startup
    state, summary = change_state(world, change.ref)
    assert state == ChangeState.ROLLED_BACK
    assert summary == (
        f"{report.summary}. r1-mum: {detail(report, 'r1-mum')}; "
        "r2-mum, r3-mum: not pushed: the canary r1-mum did not take it"
    )
    assert locks(world) == 0


def test_a_device_unreachable_at_apply_fails_alone_and_is_never_touched(
    world: Database, network: FakeNetwork
) -> None:
    flow = workflow(world, network)
    change, plan = flow.plan("ntp", ACCESS, {"servers": "10.0.0.9"}, requested_by="alice")
    assert [o.state for o in plan.outcomes] == [TargetState.PENDING] * 3
    network["r2-mum"].reachable = False  # it answered the plan, not the apply
    report = flow.apply(change.ref, "bob")
    assert report.state == ChangeState.FAILED
    assert report.summary == f"{change.ref} failed: 2 changed and verified, 1 unreachable"
    assert detail(report, "r2-mum") == (
        "r2-mum does not answer on 127.0.0.1:6001 (TCP connection to device failed.)"
    )
    assert untouched(network, "r2-mum")
    assert "ntp server 10.0.0.9" in network["r1-mum"].running()
    assert "ntp server 10.0.0.9" in network["r3-mum"].running()
    assert "r2-mum: r2-mum does not answer" in change_state(world, change.ref)[1]
    assert locks(world) == 0


def test_an_unreachable_canary_stops_the_change_before_any_other_device(
    world: Database, network: FakeNetwork
) -> None:
    flow = workflow(world, network)
    change, _ = flow.plan("ntp", ACCESS, {"servers": "10.0.0.9"}, requested_by="alice")
    network["r1-mum"].reachable = False
    report = flow.apply(change.ref, "bob")
    assert states(report) == {
        "r1-mum": TargetState.UNREACHABLE,
        "r2-mum": TargetState.SKIPPED,
        "r3-mum": TargetState.SKIPPED,
    }
    assert detail(report, "r1-mum").startswith("r1-mum does not answer on 127.0.0.1:6000")
    assert untouched(network, *ACCESS)
    assert locks(world) == 0


def test_a_device_that_drops_the_session_mid_commit_is_logged_into_again_and_put_back(
    world: Database, network: FakeNetwork
) -> None:
    before = network["r3-mum"].running()
    network["r3-mum"].drop_after_lines = 1  # reboots after one line, then answers
    flow = workflow(world, network)
    change, _ = flow.plan("syslog", ACCESS, {"host": "10.0.1.11"}, requested_by="alice")
    report = flow.apply(change.ref, "bob")
    assert report.summary == f"{change.ref} failed: 2 changed and verified, 1 rolled back"
    assert detail(report, "r3-mum") == (
        "r3-mum dropped the session during the change (Socket is closed); "
        "logged in again and rolled back"
    )
    assert network["r3-mum"].running() == before
    assert "logging host 10.0.1.11" in network["r2-mum"].running()


def test_a_device_that_stays_down_after_dropping_the_session_is_reported_for_checking(
    world: Database, network: FakeNetwork
) -> None:
    flow = workflow(world, network)
    change, _ = flow.plan("syslog", ["r2-mum", "r3-mum"], {"host": "10.0.1.11"}, "alice")
    device = network["r3-mum"]
    device.drop_after_lines = 1
    device.logins_left = 1  # the push's login; after the drop it never answers again
    report = flow.apply(change.ref, "bob")
    assert report.state == ChangeState.FAILED
    assert states(report)["r3-mum"] == TargetState.FAILED
    assert detail(report, "r3-mum").startswith(
        "r3-mum dropped the session during the change (Socket is closed); "
        "could not log in again to roll back"
    )
    # It took one line before the session died, and nobody could take it back: the
    # report says to check the device, and it does hold that line.
    assert "logging host 10.0.1.11" in device.running()


def test_a_banner_change_can_be_planned(world: Database, network: FakeNetwork) -> None:
    flow = workflow(world, network)
    _, plan = flow.plan("banner", ["r1-mum"], {"text": "Authorised access only"}, "alice")
    assert [o.state for o in plan.outcomes] == [TargetState.PENDING]


# -- rollback is a change like any other -------------------------------------------------------


def roll_back(flow: ChangeWorkflow, ref: str, planner: str = "alice", applier: str = "bob"):  # type: ignore[no-untyped-def]
    undo, _ = flow.plan_rollback(ref, planner)
    return undo, flow.apply(undo.ref, applier)


def test_changing_a_value_twice_and_rolling_each_back_gives_each_old_value(
    world: Database, network: FakeNetwork
) -> None:
    flow = workflow(world, network)
    baseline = network["r1-mum"].running()
    first, _ = flow.plan("syslog", ["r1-mum"], {"host": "10.9.9.9", "level": "warnings"}, "alice")
    assert flow.apply(first.ref, "bob").state == ChangeState.SUCCEEDED
    second, _ = flow.plan("syslog", ["r1-mum"], {"host": "10.9.9.9", "level": "errors"}, "alice")
    assert flow.apply(second.ref, "bob").state == ChangeState.SUCCEEDED
    running = network["r1-mum"].running()
    assert "logging trap errors" in running and "logging trap warnings" not in running
    # The first cannot be rolled back while the second holds the same lines.
    with pytest.raises(PolicyViolation, match=f"would undo {second.ref} on r1-mum"):
        flow.plan_rollback(first.ref, "alice")
    _, back = roll_back(flow, second.ref)
    assert back.state == ChangeState.SUCCEEDED
    assert "logging trap warnings" in network["r1-mum"].running()
    _, back = roll_back(flow, first.ref)
    assert back.state == ChangeState.SUCCEEDED
    assert network["r1-mum"].running() == baseline
    assert change_state(world, first.ref)[0] == ChangeState.ROLLED_BACK


def test_a_rollback_waits_for_its_window_and_thaws_with_the_freeze(
    world: Database, network: FakeNetwork
) -> None:
    open_now = workflow(world, network)
    change, _ = open_now.plan("ntp", ["r1-mum"], {"servers": "10.0.0.9"}, "alice")
    open_now.apply(change.ref, "bob")
    frozen = workflow(world, network, datetime(2026, 12, 28, 6, 0, tzinfo=UTC), freezes=YEAR_END)
    undo, plan = frozen.plan_rollback(change.ref, "alice")  # planning is always allowed
    assert [o.state for o in plan.outcomes] == [TargetState.PENDING]
    with pytest.raises(PolicyViolation, match="frozen until 2027-01-02"):
        frozen.apply(undo.ref, "bob")
    assert "ntp server 10.0.0.9" in network["r1-mum"].running()
    closed = workflow(world, network, change_windows=WEEKEND_NIGHTS)  # a Wednesday
    with pytest.raises(PolicyViolation, match="outside the change windows"):
        closed.apply(undo.ref, "bob")
    assert open_now.apply(undo.ref, "bob").state == ChangeState.SUCCEEDED
    assert "ntp server 10.0.0.9" not in network["r1-mum"].running()


def test_a_rollback_on_a_core_device_needs_another_engineer(
    world: Database, network: FakeNetwork
) -> None:
    flow = workflow(world, network)
    change, _ = flow.plan("ntp", ["cr1-mum"], {"servers": "10.0.0.9"}, "alice")
    flow.apply(change.ref, "bob")
    undo, _ = flow.plan_rollback(change.ref, "bob")
    assert undo.needs_second_approval
    with pytest.raises(PolicyViolation, match="an engineer other than bob must apply it"):
        flow.apply(undo.ref, "bob")
    assert "ntp server 10.0.0.9" in network["cr1-mum"].running()
    assert flow.apply(undo.ref, "alice").state == ChangeState.SUCCEEDED


def test_the_second_engineer_rule_is_the_policy_at_apply_not_at_plan(
    world: Database, network: FakeNetwork
) -> None:
    planned_under = workflow(world, network, second_approval_roles=("core",))
    change, _ = planned_under.plan("ntp", ["pe1-mum"], {"servers": "10.0.0.9"}, "alice")
    assert change.needs_second_approval is False
    stricter = workflow(world, network, second_approval_roles=("core", "pe"))
    with pytest.raises(PolicyViolation, match=r"touches pe devices \(pe1-mum\)"):
        stricter.apply(change.ref, "alice")
    assert untouched(network, "pe1-mum")


def test_a_forced_rollback_says_who_forced_it_and_over_what(
    world: Database, network: FakeNetwork
) -> None:
    flow = workflow(world, network)
    first, _ = flow.plan("ntp", ["r1-mum"], {"servers": "10.0.0.27"}, "alice")
    flow.apply(first.ref, "bob")
    later, _ = flow.plan("ntp", ["r1-mum"], {"servers": "10.0.0.27,10.0.0.28"}, "alice")
    flow.apply(later.ref, "bob")
    with pytest.raises(PolicyViolation, match="only an admin may force"):
        flow.plan_rollback(first.ref, "alice", force=True, may_force=False)
    undo, plan = flow.plan_rollback(first.ref, "root", force=True, may_force=True)
    assert plan.matched == f"rolls back {first.ref} on 1 device; forced over {later.ref}"
    assert (undo.forced_by, undo.params) == ("root", {"of": first.ref, "over": later.ref})
    assert flow.apply(undo.ref, "bob").state == ChangeState.SUCCEEDED
    assert "ntp server 10.0.0.27" not in network["r1-mum"].running()
    state, summary = change_state(world, later.ref)
    assert state == ChangeState.SUCCEEDED
    assert summary.endswith(f"; partly undone by {undo.ref}, a rollback forced by root")


def test_cancelling_a_change_that_ran_points_to_its_rollback(
    world: Database, network: FakeNetwork
) -> None:
    from domain.changes.services import cancel_change

    flow = workflow(world, network)
    change, _ = flow.plan("ntp", ["r1-mum"], {"servers": "10.0.0.9"}, "alice")
    flow.apply(change.ref, "bob")
    with pytest.raises(PolicyViolation) as refused:
        cancel_change(world, change.ref, "alice", now=WEDNESDAY)
    assert str(refused.value) == (
        f"{change.ref} is succeeded; only a change that has not run can be cancelled"
    )
    assert refused.value.hint == f"/config rollback {change.ref} plans its undo"


def test_a_rollback_over_a_later_change_of_the_same_description_is_refused(
    world: Database, network: FakeNetwork
) -> None:
    flow = workflow(world, network)
    port = {"interface": "GigabitEthernet0/0/0"}
    first, _ = flow.plan("interface_description", ["r1-mum"], {**port, "description": "A"}, "alice")
    flow.apply(first.ref, "bob")
    later, _ = flow.plan("interface_description", ["r1-mum"], {**port, "description": "B"}, "alice")
    flow.apply(later.ref, "bob")
    # Undoing the first would put `description uplink` back over the later `description B`.
    with pytest.raises(PolicyViolation, match=f"would undo {later.ref} on r1-mum"):
        flow.plan_rollback(first.ref, "alice")
    assert " description B" in network["r1-mum"].running()


def test_a_device_changed_between_plan_and_apply_is_not_sent_unapproved_lines(
    world: Database, network: FakeNetwork
) -> None:
    flow = workflow(world, network)
    first, _ = flow.plan("ntp", ["r1-mum"], {"servers": "10.0.0.27"}, "alice")
    flow.apply(first.ref, "bob")
    undo, _ = flow.plan_rollback(first.ref, "alice")  # approved diff: - ntp 10.0.0.27
    # Meanwhile a later change wants that same server too.
    later, _ = flow.plan("ntp", ["r1-mum"], {"servers": "10.0.0.27,10.0.0.28"}, "alice")
    flow.apply(later.ref, "bob")
    report = flow.apply(undo.ref, "bob")
    assert report.state == ChangeState.FAILED
    assert states(report) == {"r1-mum": TargetState.SKIPPED}
    assert detail(report, "r1-mum").startswith(f"not pushed: it would now undo {later.ref}")
    assert "ntp server 10.0.0.27" in network["r1-mum"].running()
    assert change_state(world, first.ref)[0] == ChangeState.SUCCEEDED  # not "rolled back"


def test_a_rollback_whose_lines_a_later_change_already_replaced_changes_nothing_and_says_so(
    world: Database, network: FakeNetwork
) -> None:
    flow = workflow(world, network)
    port = {"interface": "GigabitEthernet0/0/0"}
    first, _ = flow.plan("interface_description", ["r1-mum"], {**port, "description": "A"}, "a")
    flow.apply(first.ref, "bob")
    undo, _ = flow.plan_rollback(first.ref, "alice")  # approved: description uplink
    network["r1-mum"].config.apply("description typed by hand", "interface GigabitEthernet0/0/0")
    report = flow.apply(undo.ref, "bob")
    assert states(report) == {"r1-mum": TargetState.SKIPPED}
    assert "changed since" in detail(report, "r1-mum") and "plan it again" in detail(
        report, "r1-mum"
    )
    assert " description typed by hand" in network["r1-mum"].running()


def test_roll_back_is_offered_only_when_a_device_may_hold_the_change(
    world: Database, network: FakeNetwork
) -> None:
    from bot.access import Access
    from tests.world import lab_settings, make_router

    settings = lab_settings()
    router = make_router(world, settings, clock=lambda: WEDNESDAY, opener=network)
    alice, bob = Access(settings).user("alice"), Access(settings).user("bob")
    planned = router.handle(alice, "/config plan ntp r1-mum r2-mum servers=10.0.0.9")
    network["r1-mum"].reachable = False  # the canary: nothing is pushed anywhere
    failed = router.handle(bob, f"/config apply {planned.meta['change']}")
    assert not failed.ok and " failed: " in failed.text
    assert failed.buttons == ()
    network["r1-mum"].reachable = True
    planned = router.handle(alice, "/config plan ntp r1-mum r2-mum servers=10.0.0.8")
    applied = router.handle(bob, f"/config apply {planned.meta['change']}")
    assert [b.command for b in applied.buttons] == [f"/config rollback {planned.meta['change']}"]


@pytest.mark.parametrize(
    ("typed", "said"),
    [
        ("Gi9/9/9", "r1-mum has no interface GigabitEthernet9/9/9 (typed Gi9/9/9)"),
        ("Ethernet1", "r1-mum has no interface Ethernet1"),
    ],
)
def test_an_interface_the_device_does_not_have_is_refused_before_any_device(
    world: Database, network: FakeNetwork, typed: str, said: str
) -> None:
    flow = workflow(world, network)
    with pytest.raises(DomainError) as refused:
        flow.plan(
            "interface_description", ["r1-mum"], {"interface": typed, "description": "x"}, "a"
        )
    assert str(refused.value) == said
    assert refused.value.hint is not None and refused.value.hint.startswith("its interfaces: ")
    assert network["r1-mum"].sessions == 0


def test_a_short_interface_name_is_the_full_one(world: Database, network: FakeNetwork) -> None:
    flow = workflow(world, network)
    port, short = UPLINK, UPLINK.replace("GigabitEthernet", "Gi")
    change, plan = flow.plan(
        "interface_description", ["r1-mum"], {"interface": short, "description": "x"}, "a"
    )
    assert change.params["interface"] == port
    assert f"interface {port}" in plan.outcomes[0].detail
