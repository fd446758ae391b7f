"""The real Prometheus Alertmanager (Debian's `prometheus-alertmanager`, 0.25) in front of
a running `serve`, on SQLite and PostgreSQL.

Alerts are pushed into Alertmanager (`POST /api/v2/alerts`) as Prometheus would push
them; Alertmanager groups them and calls `/alerts/alertmanager` with its bearer token.
Nothing here fakes either side. The binary is required: CI installs it (`.ci/run`); a
machine without it fails these tests with the line that installs it.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from domain.config import PROJECT_ROOT
from domain.faults.choices import AlarmSource, AlarmState
from domain.faults.models import Alarm, Ticket
from tests.conftest import _need_postgres, _pg_database, _pg_url
from tests.scenario.conftest import ALERTS_TOKEN, Served, _serve, free_port, words
from tests.world import populate_world

BINARY = "prometheus-alertmanager"
INSTALL = "apt-get install -y prometheus-alertmanager"
IST = timezone(timedelta(hours=5, minutes=30))
#: A whole group of alerts comes a second after its first alert and again a second after
#: any change, so each step below is seen within a few seconds.
GROUPING = "group_wait: 1s\n  group_interval: 1s\n  repeat_interval: 1h"


class Alertmanager:
    """One `prometheus-alertmanager` on loopback, its config and storage in `folder`,
    sending every alert group to `serve`'s Alertmanager webhook."""

    def __init__(self, folder: Path, served: Served, group_by: str) -> None:
        binary = shutil.which(BINARY)
        if binary is None:
            pytest.fail(f"{BINARY} is not installed; install it with: {INSTALL}")
        folder.mkdir()
        config = folder / "alertmanager.yml"
        config.write_text(
            "route:\n"
            "  receiver: switchboard\n"
            f"  group_by: [{group_by}]\n"
            f"  {GROUPING}\n"
            "receivers:\n"
            "  - name: switchboard\n"
            "    webhook_configs:\n"
            f"      - url: {served.url}/alerts/alertmanager\n"
            "        send_resolved: true\n"
            "        http_config:\n"
            f"          authorization: {{type: Bearer, credentials: {ALERTS_TOKEN}}}\n"
        )
        self.log = folder / "alertmanager.log"
        self.url = f"http://127.0.0.1:{free_port()}"
        with self.log.open("wb") as out:
            self.process = subprocess.Popen(
                [
                    binary,
                    f"--config.file={config}",
                    f"--storage.path={folder / 'data'}",
                    f"--web.listen-address={self.url.removeprefix('http://')}",
                    "--cluster.listen-address=",  # no gossip port
                ],
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + 15
        while True:
            try:
                with urllib.request.urlopen(self.url + "/-/ready", timeout=2) as resp:
                    if resp.status == 200:
                        return
            except (urllib.error.URLError, OSError):
                pass
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                pytest.fail(f"Alertmanager did not start:\n{self.log.read_text()[-2000:]}")
            time.sleep(0.05)

    def push(self, *alerts: dict[str, Any]) -> None:
        """Alerts into Alertmanager, as Prometheus sends them."""
        request = urllib.request.Request(
            self.url + "/api/v2/alerts",
            data=json.dumps(list(alerts)).encode(),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=10) as resp:
            assert resp.status == 200

    def fingerprints(self) -> dict[str, str]:
        """alertname -> the fingerprint Alertmanager gave the alert."""
        with urllib.request.urlopen(self.url + "/api/v2/alerts", timeout=10) as resp:
            held = json.loads(resp.read())
        return {a["labels"]["alertname"]: a["fingerprint"] for a in held}

    def metric(self, name: str) -> float:
        """A webhook integration's counter from Alertmanager's own /metrics."""
        return _metric(self.url, name + r'\{integration="webhook"\}')

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)


def _metric(url: str, pattern: str) -> float:
    with urllib.request.urlopen(url + "/metrics", timeout=10) as resp:
        text = resp.read().decode()
    found = re.search(r"^" + pattern + r" ([0-9.e+]+)$", text, re.MULTILINE)
    return float(found.group(1)) if found else 0.0


def _refused_429(served: Served) -> float:
    return _metric(
        served.url,
        r'switchboard_webhook_refused_total\{endpoint="/alerts/alertmanager",status="429"\}',
    )


@dataclass
class Pair:
    served: Served
    am: Alertmanager

    def alarms(self) -> dict[str, Alarm]:
        with self.served.sb.db.read() as s:
            return {a.alarm_type: a for a in s.scalars(sa.select(Alarm))}

    def tickets(self) -> list[Ticket]:
        with self.served.sb.db.read() as s:
            return list(s.scalars(sa.select(Ticket)))

    def wait_for(self, what: str, done: Callable[[dict[str, Alarm]], bool], within: float) -> None:
        deadline = time.monotonic() + within
        while not done(self.alarms()):
            if time.monotonic() > deadline:
                pytest.fail(
                    f"{what}: not seen in {within} s; alarms {sorted(self.alarms())};"
                    f" Alertmanager said:\n{self.am.log.read_text()[-2000:]}"
                )
            time.sleep(0.1)


def _pair(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    sqlite_template: Path,
    pg_template: str,
    group_by: str,
    rate: str = "",
) -> Iterator[Pair]:
    """`serve` on the backend of `request.param` (its alert rate limit set by `rate`, a
    config fragment), a world with device r1-mum, and an Alertmanager sending to it."""
    config = PROJECT_ROOT / "config.yaml"
    if rate:
        shipped = config.read_text()
        assert "  message_interval_s: 2\n" in shipped
        config = tmp_path / "config.yaml"
        config.write_text(
            shipped.replace("  message_interval_s: 2\n", "  message_interval_s: 2\n" + rate)
        )

    def with_alertmanager(served: Served) -> Iterator[Pair]:
        populate_world(served.sb.db)
        am = Alertmanager(tmp_path / "alertmanager", served, group_by)
        try:
            yield Pair(served, am)
        finally:
            am.stop()

    if request.param == "sqlite":
        for served in _serve(tmp_path, sqlite_template, config):
            yield from with_alertmanager(served)
        return
    _need_postgres()
    with _pg_database(template=pg_template) as name:
        for served in _serve(tmp_path, None, config, database_url=_pg_url(name)):
            yield from with_alertmanager(served)


@pytest.fixture(params=["sqlite", "postgresql"])
def pair(
    request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: Path, pg_template: str
) -> Iterator[Pair]:
    """Alertmanager grouping by instance (one webhook call per device) into `serve`."""
    yield from _pair(request, tmp_path, sqlite_template, pg_template, "instance")


@pytest.fixture(params=["sqlite", "postgresql"])
def throttled(
    request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: Path, pg_template: str
) -> Iterator[Pair]:
    """Alertmanager grouping by alertname into `serve` that takes one alert request
    at once and one every 2 s after that."""
    yield from _pair(
        request,
        tmp_path,
        sqlite_template,
        pg_template,
        "alertname",
        "  rate_limit_per_minute: 30\n  rate_limit_burst: 1\n",
    )


def _alert(name: str, severity: str, **extra: Any) -> dict[str, Any]:
    return {
        "labels": {"alertname": name, "severity": severity, "instance": "r1-mum:9100"},
        "annotations": {"summary": f"{name} on r1-mum"},
        **extra,
    }


def _to_ms(at: datetime) -> datetime:
    return at.replace(microsecond=at.microsecond // 1000 * 1000)


def _ist(at: datetime) -> str:
    """A time as a sender in India writes it: +05:30, to the millisecond."""
    return at.astimezone(IST).isoformat(timespec="milliseconds")


def test_alerts_through_alertmanager_become_alarms_resolve_and_open_one_ticket(
    pair: Pair,
) -> None:
    """Three alerts on r1-mum arrive as three alarms under Alertmanager's fingerprints,
    at the instants Alertmanager reported (an IST startsAt is stored and shown as its UTC
    instant; one Alertmanager stamped itself, in nanoseconds, is taken as it is). The
    critical DeviceDown opens one ticket and LinkDown is filed under it. When LinkDown
    is resolved, Alertmanager sends the group again: LinkDown clears at its endsAt and
    DeviceDown, sent again, is a repeat that opens no second ticket."""
    # To the millisecond a sender writes, and not before the device was created.
    started = _to_ms(datetime.now(UTC) + timedelta(milliseconds=1))
    before = datetime.now(UTC)
    pair.am.push(
        _alert("DeviceDown", "critical", startsAt=_ist(started)),
        _alert("LinkDown", "major", startsAt=_ist(started)),
        _alert("HighCPU", "warning"),  # Alertmanager sets startsAt when it gets it
    )
    after = datetime.now(UTC)
    pair.wait_for("three alarms", lambda a: len(a) == 3, within=10)

    rows = pair.alarms()
    assert {n: a.fingerprint for n, a in rows.items()} == pair.am.fingerprints()
    assert all(
        a.source == AlarmSource.ALERTMANAGER and a.device_id == 1 and a.state == AlarmState.RAISED
        for a in rows.values()
    )
    # Times: the sender's instants, not its wall clock, and none of them clamped.
    assert rows["DeviceDown"].raised_at == started
    assert rows["LinkDown"].raised_at == started
    assert before <= rows["HighCPU"].raised_at <= after
    assert not any("switchboard_time" in a.labels for a in rows.values())
    shown = words(pair.served.ask("alice", f"/alarm show {rows['DeviceDown'].ref}"))
    assert f"{started:%Y-%m-%d %H:%M} UTC" in shown
    assert f"{started.astimezone(IST):%Y-%m-%d %H:%M} UTC" not in shown

    (ticket,) = pair.tickets()
    assert (ticket.severity, ticket.device_id) == (1, 1)
    assert rows["DeviceDown"].ticket_id == ticket.id
    assert rows["LinkDown"].parent_id == rows["DeviceDown"].id

    ended = _to_ms(datetime.now(UTC) - timedelta(seconds=0.5))
    assert ended > started
    pair.am.push(_alert("LinkDown", "major", startsAt=_ist(started), endsAt=_ist(ended)))
    pair.wait_for(
        "LinkDown cleared",
        lambda a: a["LinkDown"].state == AlarmState.CLEARED,
        within=10,
    )
    rows = pair.alarms()
    assert rows["LinkDown"].cleared_at == ended
    assert rows["DeviceDown"].state != AlarmState.CLEARED
    assert rows["DeviceDown"].repeat_count == 2  # the group came again, DeviceDown in it
    assert len(pair.tickets()) == 1


def test_alertmanager_drops_a_429_and_sends_the_group_again_at_its_group_interval(
    throttled: Pair,
) -> None:
    """What Alertmanager 0.25 does with our 429, as observed: it does not retry it
    ("notify retry canceled due to unrecoverable error after 1 attempts: unexpected
    status code 429", logged at error level) and ignores Retry-After; but a failed
    notification is not recorded as sent, so at the group's next group_interval the
    group is sent again, and again, until one gets through. No alert is lost: each
    arrives once the sender's bucket has a token, up to one group_interval after it
    (here 1 s; with Alertmanager's default of 5 minutes, up to 5 minutes late). Every
    request Alertmanager counts as failed is a 429 Switchboard counted."""
    am, served = throttled.am, throttled.served
    refused_before = _refused_429(served)
    names = ["LinkDown", "HighCPU", "FanFailure", "PowerSupplyFailure"]
    am.push(*(_alert(n, "minor") for n in names))

    # Four groups fall due together; the burst of one lets the first in, and then one
    # every 2 s as the bucket refills: all four within about 8 s.
    throttled.wait_for("all four alarms", lambda a: sorted(a) == sorted(names), within=20)
    assert {n: a.fingerprint for n, a in throttled.alarms().items()} == am.fingerprints()
    assert all(a.repeat_count == 1 for a in throttled.alarms().values())  # each filed once

    refused = _refused_429(served) - refused_before
    assert refused >= 3  # at least the three groups that came with the first
    failed = am.metric("alertmanager_notification_requests_failed_total")
    sent = am.metric("alertmanager_notification_requests_total")
    assert failed == refused and sent == failed + 4
    log = am.log.read_text()
    dropped = "notify retry canceled due to unrecoverable error after 1 attempts"
    assert log.count(dropped + ": unexpected status code 429") == refused
    assert "level=error" in log
