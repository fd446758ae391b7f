"""Managers learn of a credit that waits for them without asking, over signed Slack
requests against a running `serve`, on SQLite and PostgreSQL: carol resolves a dispute
with a credit above the limit, its card appears in the approvals channel (masked),
dave approves it by the card's button, the card is updated in place and carol is told;
a second click does nothing."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from domain.billing.choices import CreditState
from domain.billing.models import Adjustment, CreditRequest
from domain.config import PROJECT_ROOT
from tests.conftest import _need_postgres, _pg_database, _pg_url
from tests.fakes.slack_api import Call
from tests.integration.test_care import invoice
from tests.scenario.conftest import Served, _serve
from tests.world import populate_world

BIG = "INV-202611-0000003"
CHANNEL = "#credit-approvals"


@pytest.fixture(params=["sqlite", "postgresql"])
def approvals(
    request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: Path, pg_template: str
) -> Iterator[Served]:
    """`serve` with the shipped channels.approvals, over a world with a ₹9,000.00 invoice."""
    shipped = (PROJECT_ROOT / "config.yaml").read_text()
    assert f'  approvals: "{CHANNEL}"' in shipped
    config = tmp_path / "config.yaml"
    config.write_text(shipped)

    def world(served: Served) -> Served:
        db = populate_world(served.sb.db)
        with db.transaction() as s:
            invoice(s, 3, date(2026, 11, 1), recurring=900000)
        return served

    if request.param == "sqlite":
        for served in _serve(tmp_path, sqlite_template, config):
            yield world(served)
        return
    _need_postgres()
    with _pg_database(template=pg_template) as name:
        for served in _serve(tmp_path, None, config, database_url=_pg_url(name)):
            yield world(served)


def words(call: Call) -> str:
    return call.params.get("text", "") + json.dumps(
        call.params.get("blocks") or [], ensure_ascii=False
    )


def where_posted(served: Served) -> tuple[str, str]:
    """The card's channel and ts once the worker has recorded them (just after posting)."""
    deadline = time.monotonic() + 10
    while True:
        with served.sb.db.read() as s:
            channel, ts = s.execute(
                sa.select(CreditRequest.slack_channel, CreditRequest.slack_ts)
            ).one()
        if channel and ts:
            return channel, ts
        assert time.monotonic() < deadline, "the card's message was never recorded"
        time.sleep(0.05)


def buttons(call: Call) -> list[dict[str, Any]]:
    blocks = call.params.get("blocks") or []
    return [e for b in blocks if b["type"] == "actions" for e in b["elements"]]


def test_a_waiting_credit_reaches_the_managers_channel_and_is_settled_there_once(
    approvals: Served,
) -> None:
    served = approvals
    opened = served.ask("carol", f'/dispute open {BIG} "line was down a week"')
    ticket = opened.params["text"].split()[0]
    waits = served.ask("carol", f'/dispute resolve {ticket} "outage credit" credit=6000')
    assert waits.params["text"].startswith(
        f"{ticket} resolved; credit CRD-1 of ₹6,000.00 waits for a manager"
    )

    # Nobody asks: serve's worker posts the card to the approvals channel.
    served.service.order_worker.wake()
    (card,) = served.slack.wait_for(
        "chat.postMessage", where=lambda c: c.params["channel"] == CHANNEL
    )
    assert card.params["text"] == f"Credit CRD-1: ₹6,000.00 on {BIG}, waits for a manager"
    shown = words(card)
    assert "Priya N. (BA•••••0001)" in shown
    assert "Priya Nair" not in shown and "BA100000001" not in shown
    approve = buttons(card)[0]
    assert (approve["text"]["text"], approve["value"]) == ("Approve", "/credit approve CRD-1")
    channel, ts = where_posted(served)

    # dave clicks Approve on the card; a second click does nothing.
    message = {"ts": ts, "blocks": card.params["blocks"]}
    served.click("dave", approve, message, channel=channel)
    (clicked,) = served.slack.wait_for(
        "chat.update", where=lambda c: c.params["text"].startswith("CRD-1 approved")
    )
    assert clicked.params["text"].startswith("CRD-1 approved by dave: ADJ-1 credits ₹6,000.00")
    served.click("dave", approve, message, channel=channel)
    again = served.slack.wait_for(
        "response_url", where=lambda c: "was already approved" in c.params.get("text", "")
    )[-1]
    assert again.params["text"].startswith("CRD-1 was already approved by dave at ")
    assert again.params["text"].endswith("; nothing was done")

    # The worker brings the same message up to date and tells carol.
    served.service.order_worker.wake()
    (updated,) = served.slack.wait_for(
        "chat.update", where=lambda c: c.params["text"].startswith("Credit CRD-1")
    )
    assert updated.params["text"] == f"Credit CRD-1: ₹6,000.00 on {BIG}, approved by dave"
    assert (updated.params["channel"], updated.params["ts"]) == (channel, ts)
    assert buttons(updated) == [] and "Priya Nair" not in words(updated)
    (dm,) = served.slack.wait_for(
        "chat.postMessage", where=lambda c: c.params["channel"] == "DU0DEMOCAROL"
    )
    assert dm.params["text"] == (
        f"Your credit CRD-1 of ₹6,000.00 on {BIG} was approved by dave: ADJ-1 credits it on "
        "the next invoice"
    )
    with served.sb.db.read() as s:
        assert s.scalars(sa.select(CreditRequest.state)).all() == [CreditState.APPROVED]
        assert s.scalars(sa.select(Adjustment.amount_minor)).all() == [-600000]
    cards = [c for c in served.slack.calls_to("chat.postMessage") if c.params["channel"] == CHANNEL]
    assert len(cards) == 1  # posted once, whatever the worker's passes
