"""`serve` without Slack's credentials: the webhooks, /healthz and /metrics still serve,
/slack/events says Slack is not configured, and the loops that post skip it quietly."""

from __future__ import annotations

import json
import logging
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from domain.orders.models import ProductOrder
from tests.conftest import _need_postgres, _pg_database, _pg_url
from tests.integration.test_orders import more_world
from tests.scenario.conftest import ALERTS_TOKEN, Served, _serve
from tests.scenario.test_alert_intake import alert, am
from tests.world import populate_world

ORDERS_TOKEN = "orders-test-token"
NO_SLACK = {
    "SLACK_BOT_TOKEN": "",
    "SLACK_SIGNING_SECRET": "",
    "SWITCHBOARD_ORDERS_TOKEN": ORDERS_TOKEN,
}


@pytest.fixture(params=["sqlite", "postgresql"])
def unslacked(
    request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: Path, pg_template: str
) -> Iterator[Served]:
    """`serve` with no bot token and no signing secret, over the orders' world."""
    if request.param == "sqlite":
        served = _serve(tmp_path, sqlite_template, **NO_SLACK)
    else:
        _need_postgres()
        name = _pg_database(template=pg_template)
        served = _serve(tmp_path, None, database_url=_pg_url(name.__enter__()), **NO_SLACK)
        request.addfinalizer(lambda: name.__exit__(None, None, None))
    s = next(served)
    more_world(populate_world(s.sb.db))
    yield s
    next(served, None)


def get(served: Served, path: str) -> tuple[int, bytes]:
    with urllib.request.urlopen(served.url + path, timeout=10) as resp:
        return resp.status, resp.read()


def test_serve_without_slack_takes_alerts_and_orders_and_refuses_slack_in_one_line(
    unslacked: Served, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    alerts = unslacked.post(
        am(alert("LinkDown", "a1b2c3d4e5f60001")),
        "application/json",
        {"Authorization": f"Bearer {ALERTS_TOKEN}"},
        signed=False,
        path="/alerts/alertmanager",
    )
    assert alerts.status == 202, alerts.body
    assert json.loads(alerts.body)["accepted"] is True

    line = {"customer": "BA100000001", "offering": "POST-1499", "requested_by": "carol"}
    placed = unslacked.post(
        json.dumps(line).encode(),
        "application/json",
        {"Authorization": f"Bearer {ORDERS_TOKEN}"},
        signed=False,
        path="/orders",
    )
    assert placed.status == 202, placed.body
    assert json.loads(placed.body)["state"] == "pending"

    assert get(unslacked, "/healthz") == (200, b'{"status":"ok","database":"ok"}')
    status, metrics = get(unslacked, "/metrics")
    assert status == 200 and b"switchboard_commands_total" in metrics

    slack = unslacked.post(b'{"type":"url_verification","challenge":"x"}', "application/json")
    assert slack.status == 503
    assert slack.body == (
        b"Slack is not configured on this server (SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET unset)\n"
    )

    # The order worker tries to post the pending order a few times: nothing reaches the
    # Slack API, the order stays due for when Slack is configured, and its loop is
    # warned about once, not once per pass or per order.
    for _ in range(3):
        unslacked.service.order_worker.wake()
        time.sleep(0.3)
    assert unslacked.slack.calls == []
    with unslacked.sb.db.read() as s:
        assert s.scalars(sa.select(ProductOrder.slack_ts)).all() == [None]
    skipped = [
        r.getMessage() for r in caplog.records if "its Slack messages are skipped" in r.getMessage()
    ]
    assert skipped == [
        "order-worker: Slack is not configured (SLACK_BOT_TOKEN unset); "
        "its Slack messages are skipped"
    ]
    assert any(
        r.getMessage() == "alarm-notifier: Slack is not configured (SLACK_BOT_TOKEN unset); "
        "alarm messages are not posted"
        for r in caplog.get_records("setup")
    )
    assert not any(r.exc_info for r in caplog.get_records("setup") + caplog.records)
    # The worker's passes go on quietly: no warning per pass about the order not sent.
    assert not [r for r in caplog.records if "waits" in r.getMessage()], [
        r.getMessage() for r in caplog.records
    ]
