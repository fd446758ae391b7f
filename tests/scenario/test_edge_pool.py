"""The edge's worker pool: bounded backlog, exactly-once, and a graceful drain."""

from __future__ import annotations

import threading
import time

from bot.slack.edge import SlackEdge
from tests.scenario.conftest import Served


def test_backlog_full_means_busy_and_drain_waits_for_work(served: Served) -> None:
    edge: SlackEdge = served.service.edge
    release = threading.Event()
    done: list[int] = []

    def slow(n: int) -> None:
        release.wait(5)
        done.append(n)

    limit = served.sb.settings.server.queue_limit
    accepted = [edge.submit(lambda n=n: slow(n), {}) for n in range(limit)]
    assert all(accepted)
    assert edge.submit(lambda: done.append(-1), {}) is False  # backlog full: "busy"
    release.set()
    assert edge.drain(timeout=30) == 0
    assert sorted(done) == list(range(limit))


def test_the_same_delivery_runs_once_even_without_a_retry_header(served: Served) -> None:
    edge: SlackEdge = served.service.edge
    ran: list[str] = []
    body = {"type": "event_callback", "event_id": "Ev0ONCE"}
    edge.submit(lambda: ran.append("first"), body)
    edge.submit(lambda: ran.append("second"), body)
    deadline = time.monotonic() + 5
    while len(ran) < 1 and time.monotonic() < deadline:
        time.sleep(0.01)
    time.sleep(0.2)
    assert ran == ["first"]


def test_drain_reports_work_cut_off(served: Served) -> None:
    edge: SlackEdge = served.service.edge
    stop = threading.Event()
    edge.submit(lambda: stop.wait(10), {})
    assert edge.drain(timeout=0.2) == 1
    stop.set()
