"""serve's background loops while Slack or the database is away, on SQLite and PostgreSQL:
one warning per outage naming what is away with the error's class and message and no
traceback, passes backing off 5 s, 10 s, 20 s ... up to 5 minutes, every failed pass
counted in /metrics, recovery said once, and what was due (an order's card, a credit's
card) posted once it is back.

The passes are driven by hand (`Loop.step`, which returns the wait before the next pass)
with a fake clock, so minutes of backoff take no time; the unreachable Slack is a closed
port on 127.0.0.1, then the fake Slack Web API.
"""

from __future__ import annotations

import logging
import socket
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import sqlalchemy as sa

from bot import metrics
from bot.notify import AlarmNotifier
from bot.orders import receive
from bot.worker import Loop
from domain.db import Database
from tests.conftest import _pg_admin
from tests.fakes.slack_api import FakeSlack
from tests.integration.test_credit_announce import (
    CHANNEL,
    pending_credit,
    posts,
    settings_with,
    worker,
)
from tests.integration.test_credits import billed
from tests.integration.test_orders import more_world
from tests.scenario.conftest import Served

__all__ = ["billed"]  # the fixture, used by name

ORDERS = "#orders"
INTERVAL = 5.0  # orders.worker_interval_s in the shipped config.yaml


class FakeTimer:
    """A monotonic clock that moves only when the test says a wait went by."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def failures(loop: str, error: str) -> float:
    return (
        metrics.REGISTRY.get_sample_value(
            "switchboard_background_failures_total", {"loop": loop, "error": error}
        )
        or 0.0
    )


def up(loop: str) -> float | None:
    return metrics.REGISTRY.get_sample_value("switchboard_background_up", {"loop": loop})


def closed_port() -> int:
    """A port on 127.0.0.1 nobody listens on."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def said(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    """What the bot and the Slack client logged at INFO and above."""
    return [
        r
        for r in caplog.records
        if r.name.split(".")[0] in ("bot", "slack_sdk", "domain", "automation")
        and r.levelno >= logging.INFO
    ]


def due_work(db: Database) -> None:
    """A credit and an order that wait for a manager: each card is due in its channel."""
    pending_credit(db)
    more_world(db)
    status, answer = receive(
        db,
        settings_with(),
        {"customer": "BA100000001", "offering": "POST-1499", "requested_by": "carol"},
    )
    assert (status, answer["state"]) == (202, "pending"), answer


def drive(loop: Loop, timer: FakeTimer, passes: int) -> list[float]:
    """Run `passes` passes, the fake clock moving by each wait the loop asks for."""
    waits = []
    for _ in range(passes):
        waits.append(loop.step())
        timer.now += waits[-1]
    return waits


def test_slack_away_is_one_warning_a_backoff_that_caps_and_the_cards_come_after(
    billed: Database, caplog: pytest.LogCaptureFixture
) -> None:
    due_work(billed)
    nowhere = f"http://127.0.0.1:{closed_port()}/api/"
    before = failures("order-worker", "URLError")
    caplog.set_level(logging.INFO)
    with FakeSlack() as slack, worker(billed, nowhere) as w:
        timer = FakeTimer()
        w.timer = timer
        waits = drive(w, timer, 8)
        assert waits == [5.0, 10.0, 20.0, 40.0, 80.0, 160.0, 300.0, 300.0]
        assert failures("order-worker", "URLError") - before == 8
        assert up("order-worker") == 0
        (warning,) = said(caplog)
        assert warning.levelno == logging.WARNING and warning.name == "bot.worker"
        assert warning.getMessage() == (
            "order-worker cannot reach Slack: URLError: "
            "<urlopen error [Errno 111] Connection refused>; retrying with backoff"
        )
        assert not any(r.exc_info for r in caplog.records)
        assert "Traceback" not in caplog.text

        caplog.clear()
        w.outbound.client.base_url = slack.api_url  # Slack answers again
        assert w.step() == INTERVAL
        assert w.step() == INTERVAL
        assert [r.getMessage() for r in said(caplog)] == [
            "order-worker recovered after 8 failed passes (915s)"
        ]
        assert up("order-worker") == 1
        # What was due all along is posted once, nothing twice.
        (credit,) = posts(slack, CHANNEL)
        assert credit.params["text"].startswith("Credit CRD-1: ")
        (order,) = posts(slack, ORDERS)
        assert "O-" in order.params["text"]
        assert len(slack.calls_to("chat.postMessage")) == 2


@contextmanager
def database_away(db: Database) -> Iterator[None]:
    """The database cannot be reached for the block: on SQLite its file is replaced by a
    directory (it cannot be opened); on PostgreSQL its connections are cut and it is
    renamed (no connection can open it). Put back as it was afterwards."""
    db.dispose()
    if db.dialect == "sqlite":
        path = Path(str(db.engine.url.database))
        aside = [(p, p.with_name(p.name + ".away")) for p in path.parent.glob(path.name + "*")]
        aside = [(p, q) for p, q in aside if not p.name.endswith(".lock")]
        for p, q in aside:
            p.rename(q)
        path.mkdir()
        try:
            yield
        finally:
            path.rmdir()
            for p, q in aside:
                q.rename(p)
        return
    name = str(db.engine.url.database)
    admin = _pg_admin()
    try:
        with admin.connect() as conn:
            conn.execute(
                sa.text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n"
                ),
                {"n": name},
            )
            conn.exec_driver_sql(f'ALTER DATABASE "{name}" RENAME TO "{name}_away"')
        try:
            yield
        finally:
            with admin.connect() as conn:
                conn.exec_driver_sql(f'ALTER DATABASE "{name}_away" RENAME TO "{name}"')
    finally:
        admin.dispose()


def test_the_database_away_is_one_warning_and_the_work_goes_on_after(
    billed: Database, caplog: pytest.LogCaptureFixture
) -> None:
    due_work(billed)
    error = "DatabaseUnavailable" if billed.dialect == "sqlite" else "OperationalError"
    before = failures("order-worker", error)
    with FakeSlack() as slack, worker(billed, slack.api_url) as w:
        timer = FakeTimer()
        w.timer = timer
        caplog.set_level(logging.INFO)
        with database_away(billed):
            waits = drive(w, timer, 5)
        assert waits == [5.0, 10.0, 20.0, 40.0, 80.0]
        assert failures("order-worker", error) - before == 5
        assert up("order-worker") == 0
        (warning,) = said(caplog)
        message = warning.getMessage()
        assert warning.levelno == logging.WARNING and "\n" not in message, message
        assert message.startswith(f"order-worker cannot reach the database: {error}: "), message
        assert message.endswith("; retrying with backoff"), message
        assert not any(r.exc_info for r in caplog.records)
        assert not slack.calls_to("chat.postMessage")

        caplog.clear()
        assert w.step() == INTERVAL
        assert [r.getMessage() for r in said(caplog)] == [
            "order-worker recovered after 5 failed passes (155s)"
        ]
        assert up("order-worker") == 1
        assert len(posts(slack, CHANNEL)) == 1 and len(posts(slack, ORDERS)) == 1


def test_the_alarm_notifier_is_the_same_loop(
    billed: Database, caplog: pytest.LogCaptureFixture
) -> None:
    """Slack away for the alarm notifier: the same one warning, counted, recovered once."""
    from tests.integration.test_alarm_notifier import _file

    _file(billed, "LinkDown")
    with worker(billed, f"http://127.0.0.1:{closed_port()}/api/") as w:
        notifier = AlarmNotifier(w.sb, w.outbound, interval_s=2.0)
        timer = FakeTimer()
        notifier.timer = timer
        caplog.set_level(logging.INFO)
        assert drive(notifier, timer, 4) == [2.0, 4.0, 8.0, 16.0]
        (warning,) = said(caplog)
        assert warning.getMessage().startswith(
            "alarm-notifier cannot reach Slack: URLError: <urlopen error [Errno 111]"
        )
        assert up("alarm-notifier") == 0
        with FakeSlack() as slack:
            caplog.clear()
            w.outbound.client.base_url = slack.api_url
            assert notifier.step() == 2.0
            assert [r.getMessage() for r in said(caplog)] == [
                "alarm-notifier recovered after 4 failed passes (30s)"
            ]
            assert len(slack.calls_to("chat.postMessage")) == 1


class KnocksOnAClosedPort(Loop):
    """A loop whose every pass tries a port nobody listens on, counting its passes."""

    name = "test-closed-port"
    interval_s = 0.2

    def __init__(self) -> None:
        super().__init__()
        self.port = closed_port()
        self.passes = 0

    def run_once(self) -> None:
        self.passes += 1
        socket.create_connection(("127.0.0.1", self.port), timeout=1).close()


def test_a_wake_does_not_cut_the_backoff_short_and_a_bug_is_told_once_with_its_trace(
    caplog: pytest.LogCaptureFixture,
) -> None:
    loop = KnocksOnAClosedPort()
    caplog.set_level(logging.INFO, logger="bot.worker")
    loop.start()
    try:
        # Woken a hundred times a second for 1.3 s (an alert storm): passes at about
        # 0.2 s, then 0.2, 0.4, 0.8 s apart, not a hundred.
        deadline = time.monotonic() + 1.3
        while time.monotonic() < deadline:
            loop.wake()
            time.sleep(0.01)
    finally:
        loop.stop()
    assert 2 <= loop.passes <= 4, loop.passes
    assert [r.getMessage() for r in caplog.records] == [
        "test-closed-port cannot reach Slack: ConnectionRefusedError: [Errno 111] "
        "Connection refused; retrying with backoff"
    ]

    class Broken(Loop):
        name = "test-broken"

        def run_once(self) -> None:
            raise KeyError("revision")

    caplog.clear()
    broken = Broken()
    for _ in range(3):
        broken.step()
    (bug,) = caplog.records
    assert bug.levelno == logging.ERROR and bug.exc_info is not None
    assert bug.getMessage() == "test-broken failed: KeyError: 'revision'; retrying with backoff"
    assert failures("test-broken", "KeyError") >= 3


def test_metrics_show_the_loops_and_slack_refusals(served: Served) -> None:
    """/metrics carries the failures, whether each loop is up, and refused Slack requests."""
    refused_before = (
        metrics.REGISTRY.get_sample_value("switchboard_slack_refused_total", {"status": "401"})
        or 0.0
    )
    answer = served.post(
        b"token=x&command=/ticket", "application/x-www-form-urlencoded", signed=False
    )
    assert answer.status == 401
    loop = KnocksOnAClosedPort()
    loop.step()
    with urllib.request.urlopen(served.url + "/metrics", timeout=10) as resp:
        text = resp.read().decode()
    assert f'switchboard_slack_refused_total{{status="401"}} {refused_before + 1}' in text
    assert (
        'switchboard_background_failures_total{error="ConnectionRefusedError",'
        'loop="test-closed-port"}'
    ) in text
    assert 'switchboard_background_up{loop="test-closed-port"} 0.0' in text
