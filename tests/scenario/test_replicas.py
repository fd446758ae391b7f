"""Two `serve` processes on one PostgreSQL database, as behind a load balancer.

A slash command delivered to both (Slack retrying on the other replica) runs once; a
digest fires once; two changes never work on one device at once; a replica killed in
the middle of a change leaves it to be marked interrupted, and reported, at its next
start — while the other replica, alive, leaves its own running changes alone.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

import pytest
import sqlalchemy as sa

from automation.lab.lab import Lab, lab_devices
from domain.changes.models import ChangeRequest, ChangeTarget
from domain.config import PROJECT_ROOT
from domain.db import Database
from domain.demo.seed import seed
from domain.faults.models import Ticket
from domain.inventory.models import Device
from tests.conftest import PG_URL, _pg_database, _pg_url, free_ports
from tests.fakes.slack_api import FakeSlack
from tests.scenario.conftest import ALERTS_TOKEN, SECRET, USERS, sign
from tests.world import AS_OF, SMALL

SWITCHBOARD = str(Path(sys.executable).parent / "switchboard")


@dataclass
class Replica:
    port: int
    env: dict[str, str]
    proc: subprocess.Popen[bytes] | None = None
    log: Path | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        assert self.log is not None
        self.proc = subprocess.Popen(
            [SWITCHBOARD, "serve", "--port", str(self.port)],
            env=self.env,
            stdout=self.log.open("ab"),
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(self.url + "/healthz", timeout=2) as resp:
                    if resp.status == 200:
                        return
            except (urllib.error.URLError, ConnectionError, OSError):
                pass
            assert self.proc.poll() is None, self.log.read_text()[-3000:]
            assert time.monotonic() < deadline, "serve did not start"
            time.sleep(0.2)

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.kill()

    def command(self, user: str, text: str, trigger: str, response: str) -> int:
        name, _, rest = text.partition(" ")
        body = urlencode(
            {
                "team_id": "T0SWITCH",
                "channel_id": "C0NOC",
                "user_id": USERS[user],
                "command": name,
                "text": rest,
                "response_url": response,
                "trigger_id": trigger,
            }
        ).encode()
        request = urllib.request.Request(
            self.url + "/slack/events",
            data=body,
            headers={"Content-Type": "application/x-www-form-urlencoded", **sign(body)},
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=10) as resp:
            return int(resp.status)


@dataclass
class Cluster:
    db: Database
    slack: FakeSlack
    lab: Lab
    a: Replica
    b: Replica


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    if not PG_URL:
        pytest.skip("two replicas share PostgreSQL (.ci/run sets TEST_DATABASE_URL)")
    tmp = tmp_path_factory.mktemp("replicas")
    config = tmp / "config.yaml"
    config.write_text(
        (PROJECT_ROOT / "config.yaml")
        .read_text()
        .replace(
            "digests:\n",
            'digests:\n  - name: every-minute\n    cron: "* * * * *"\n'
            '    timezone: Asia/Kolkata\n    channel: "#replicas"\n    sections: [tickets]\n',
            1,
        )
    )
    with _pg_database() as name:
        url = _pg_url(name)
        db = Database(url)
        seed(db, SMALL, seed=5, as_of=AS_OF, lab_base_port=free_ports(SMALL.lab_devices)[0])
        with (
            FakeSlack() as slack,
            Lab(lab_devices(db), username="netops", password="lab-pw") as lab,
        ):
            env = {
                **os.environ,
                "SWITCHBOARD_CONFIG": str(config),
                "SWITCHBOARD_DATABASE_URL": url,
                "SLACK_BOT_TOKEN": "xoxb-test-token",
                "SLACK_SIGNING_SECRET": SECRET,
                "SLACK_API_URL": slack.api_url,
                "SWITCHBOARD_ALERTS_TOKEN": ALERTS_TOKEN,
                "SWITCHBOARD_DEVICE_USER": "netops",
                "SWITCHBOARD_DEVICE_PASSWORD": "lab-pw",
            }
            pa, pb = free_ports(2)
            a = Replica(pa, env, log=tmp / "a.log")
            b = Replica(pb, env, log=tmp / "b.log")
            a.start()
            b.start()
            try:
                yield Cluster(db, slack, lab, a, b)
            finally:
                a.stop()
                b.stop()
                db.dispose()


def test_a_command_delivered_to_both_replicas_runs_once(cluster: Cluster) -> None:
    response = cluster.slack.response_url("twice")
    text = '/ticket open r1-mum "delivered to both replicas"'
    answers: list[int] = []
    threads = [
        threading.Thread(
            target=lambda r=r: answers.append(r.command("alice", text, "trig.same", response))
        )
        for r in (cluster.a, cluster.b)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert answers == [200, 200]
    cluster.slack.wait_for(
        "chat.postMessage", where=lambda c: "delivered to both replicas" in c.params["text"]
    )
    time.sleep(1.5)
    with cluster.db.read() as s:
        made = s.scalars(
            sa.select(Ticket).where(Ticket.title == "delivered to both replicas")
        ).all()
    assert len(made) == 1
    posts = [
        c
        for c in cluster.slack.calls_to("chat.postMessage")
        if "delivered to both replicas" in c.params["text"]
    ]
    assert len(posts) == 1


def test_a_digest_fires_once_for_the_cluster(cluster: Cluster) -> None:
    first = cluster.slack.wait_for(
        "chat.postMessage", where=lambda c: c.params["channel"] == "#replicas", timeout=75
    )
    time.sleep(5)  # both schedulers would have fired within this if both ran jobs
    fired = [
        c for c in cluster.slack.calls_to("chat.postMessage") if c.params["channel"] == "#replicas"
    ]
    assert len(fired) == len(first) == 1


def _plan(cluster: Cluster, replica: Replica, device: str, servers: str, trigger: str) -> int:
    """Plan an NTP change through a replica; returns its id, read back from the database."""
    replica.command(
        "alice",
        f"/config plan ntp {device} servers={servers}",
        trigger,
        cluster.slack.response_url(trigger),
    )
    deadline = time.monotonic() + 30
    while True:
        with cluster.db.read() as s:
            found = s.scalars(
                sa.select(ChangeRequest.id).where(
                    ChangeRequest.params["servers"].as_string() == servers
                )
            ).first()
        if found is not None:
            return int(found)
        assert time.monotonic() < deadline, f"the plan for {servers} never appeared"
        time.sleep(0.1)


def _state(cluster: Cluster, change_id: int) -> str:
    with cluster.db.read() as s:
        return str(s.scalar(sa.select(ChangeRequest.state).where(ChangeRequest.id == change_id)))


def test_two_changes_never_work_on_one_device_at_once(cluster: Cluster) -> None:
    ids = [
        _plan(cluster, cluster.a, "r1-mum", "10.0.0.21", "trig.p1"),
        _plan(cluster, cluster.b, "r1-mum", "10.0.0.22", "trig.p2"),
    ]
    cluster.lab.configs["r1-mum"].faults.slow_line_s = 0.5  # long enough to overlap
    threads = [
        threading.Thread(
            target=replica.command,
            args=(
                "bob",
                f"/config apply CR-{cid}",
                f"trig.apply{cid}",
                cluster.slack.response_url(f"ap{cid}"),
            ),
        )
        for replica, cid in zip((cluster.a, cluster.b), ids, strict=True)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    refusals = ("is being changed by", "at the same moment", "being applied elsewhere")

    def refused() -> list[str]:
        return [
            c.params.get("text", "")
            for c in cluster.slack.calls_to("response_url")
            if any(r in c.params.get("text", "") for r in refusals)
        ]

    deadline = time.monotonic() + 90
    while True:
        done = [c for c in ids if _state(cluster, c) in ("succeeded", "failed", "rolled_back")]
        if len(done) + len(refused()) >= 2:
            break
        assert time.monotonic() < deadline, [_state(cluster, c) for c in ids]
        time.sleep(0.3)
    cluster.lab.configs["r1-mum"].faults.slow_line_s = 0.0
    with cluster.db.read() as s:
        runs = s.execute(
            sa.select(ChangeTarget.started_at, ChangeTarget.finished_at)
            .join(Device, Device.id == ChangeTarget.device_id)
            .where(
                Device.hostname == "r1-mum",
                ChangeTarget.change_id.in_(ids),
                ChangeTarget.started_at.is_not(None),
            )
            .order_by(ChangeTarget.started_at)
        ).all()
    assert len(runs) + len(refused()) == 2, (runs, refused())
    if len(runs) == 2:  # both ran: one after the other, never at once
        (_, end), (start, _) = runs
        assert end is not None and start >= end


# The lab's session thread for the killed client ends with an error, as a device's would.
@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")
def test_a_replica_killed_mid_change_leaves_it_interrupted_and_reported(cluster: Cluster) -> None:
    change = _plan(cluster, cluster.a, "r2-del", "10.0.0.31", "trig.k1")
    cluster.lab.configs["r2-del"].faults.slow_line_s = 5.0
    cluster.a.command(
        "bob", f"/config apply CR-{change}", "trig.kapply", cluster.slack.response_url("k")
    )
    deadline = time.monotonic() + 20
    while _state(cluster, change) != "running":
        assert time.monotonic() < deadline, _state(cluster, change)
        time.sleep(0.05)
    cluster.a.kill()
    time.sleep(1)
    # Replica b is alive and started long before: it does not touch the change.
    assert _state(cluster, change) == "running"
    cluster.lab.configs["r2-del"].faults.slow_line_s = 0.0
    cluster.a.start()  # its start finds the change orphaned
    assert _state(cluster, change) == "interrupted"
    (report,) = cluster.slack.wait_for(
        "chat.postMessage",
        where=lambda c: f"CR-{change} was cut off by a restart" in c.params["text"],
    )
    assert report.params["channel"] == "#net-changes"
