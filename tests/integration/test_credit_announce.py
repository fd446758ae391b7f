"""Credits that wait for a manager reach the managers without anyone asking, through
serve's worker (the one loop that announces orders too) and the fake Slack Web API, on
SQLite and PostgreSQL: one card per credit in the approvals channel, masked for a channel,
updated in place once decided; the care agent who asked told by direct message; a Slack
error one warning line; the work survives a restart and runs on one replica at a time.

The `billed` world (tests/integration/test_credits.py): customer Priya Nair, account
BA100000001; a November invoice of ₹9,000.00 is added so a credit can pass the ₹5,000.00
approval limit.
"""

from __future__ import annotations

import json
import logging
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from typing import Any

import pytest
import sqlalchemy as sa
from slack_sdk import WebClient

from bot.bootstrap import Switchboard
from bot.orders import LOCK, OrderWorker
from bot.outbound import Outbound
from domain.billing.choices import CreditState
from domain.billing.models import CreditRequest
from domain.config import Settings
from domain.db import Database
from tests.fakes.slack_api import Call, FakeSlack
from tests.integration.test_care import invoice
from tests.integration.test_credits import billed, ticket_of
from tests.world import lab_router, lab_settings

__all__ = ["billed"]  # the fixture, used by name

BIG = "INV-202611-0000003"
CHANNEL = "#credit-approvals"
CHANNEL_ID = "C0CREDITAPP"  # what the fake Slack answers for #credit-approvals


def settings_with(approvals: str | None = CHANNEL) -> Settings:
    shipped = lab_settings()
    channels = shipped.channels.model_copy(update={"approvals": approvals})
    return shipped.model_copy(update={"channels": channels})


@contextmanager
def worker(db: Database, slack_url: str, settings: Settings | None = None) -> Iterator[OrderWorker]:
    """serve's worker over `db`, sending to the Slack Web API at `slack_url`."""
    router, access = lab_router(db)
    sb = Switchboard(settings or settings_with(), db, access, router, router.services)
    outbound = Outbound(WebClient(token="xoxb-test", base_url=slack_url), per_channel_s=0)
    try:
        yield OrderWorker(sb, outbound)
    finally:
        outbound.stop()


def pending_credit(db: Database, amount: str = "6000") -> str:
    """dave resolves carol's dispute on the big invoice with a credit above the limit;
    the worker is to tell carol, who asked for the dispute to be looked at."""
    with db.transaction() as s:
        invoice(s, 3, date(2026, 11, 1), recurring=900000)
    router, access = lab_router(db)
    carol = access.user("carol")
    ticket = ticket_of(router.handle(carol, f'/dispute open {BIG} "line was down a week"'))
    waits = router.handle(carol, f'/dispute resolve {ticket} "outage credit" credit={amount}')
    assert waits.ok and "waits for a manager" in waits.text, waits.text
    return ticket


def words(call: Call) -> str:
    return call.params.get("text", "") + json.dumps(
        call.params.get("blocks") or [], ensure_ascii=False
    )


def buttons(call: Call) -> list[dict[str, Any]]:
    blocks = call.params.get("blocks") or []
    return [e for b in blocks if b["type"] == "actions" for e in b["elements"]]


def posts(slack: FakeSlack, channel: str) -> list[Call]:
    return [c for c in slack.calls_to("chat.postMessage") if c.params["channel"] == channel]


def test_a_pending_credit_is_posted_once_masked_and_updated_in_place_when_approved(
    billed: Database,
) -> None:
    ticket = pending_credit(billed)
    with FakeSlack() as slack, worker(billed, slack.api_url) as w:
        first, second = w.run_once(), w.run_once()
        assert first is not None and (first.posted, first.updated, first.told) == (1, 0, 0)
        assert second is not None and (second.posted, second.updated) == (0, 0)
        (card,) = posts(slack, CHANNEL)
        assert card.params["text"] == (f"Credit CRD-1: ₹6,000.00 on {BIG}, waits for a manager")
        shown = words(card)
        assert "Priya N." in shown and "Priya Nair" not in shown  # masked for a channel
        assert "BA•••••0001" in shown and "BA100000001" not in shown
        assert f"{BIG}, dispute {ticket}" in shown
        assert "carol opened" in shown and "it is above ₹5,000.00" in shown
        approve, reject = buttons(card)
        assert (approve["text"]["text"], approve["value"]) == ("Approve", "/credit approve CRD-1")
        assert json.loads(reject["value"])["command"] == "/credit reject CRD-1"
        assert not slack.calls_to("conversations.open")  # nobody to tell yet
    with billed.read() as s:  # where the card is, kept for whichever replica runs next
        where = s.execute(sa.select(CreditRequest.slack_channel, CreditRequest.slack_ts)).one()
        assert tuple(where) == (CHANNEL_ID, "1700000001.000100")

    # dave approves (by the button's typed twin); a new worker, as after a restart,
    # updates the message the first one posted and tells carol.
    router, access = lab_router(billed)
    assert router.handle(access.user("dave"), "/credit approve CRD-1").ok
    with FakeSlack() as slack, worker(billed, slack.api_url) as w:
        done = w.run_once()
        assert done is not None and (done.posted, done.updated, done.told) == (0, 1, 1)
        (updated,) = slack.calls_to("chat.update")
        assert (updated.params["channel"], updated.params["ts"]) == tuple(where)
        assert updated.params["text"] == f"Credit CRD-1: ₹6,000.00 on {BIG}, approved by dave"
        assert buttons(updated) == [] and "ADJ-1, on the next invoice" in words(updated)
        assert "Priya Nair" not in words(updated)
        (opened,) = slack.calls_to("conversations.open")
        assert opened.params["users"] == "U0DEMOCAROL"
        (dm,) = posts(slack, "DU0DEMOCAROL")
        assert dm.params["text"] == (
            f"Your credit CRD-1 of ₹6,000.00 on {BIG} was approved by dave: ADJ-1 credits it "
            "on the next invoice"
        )
        again = w.run_once()
        assert again is not None and (again.posted, again.updated, again.told) == (0, 0, 0)
        assert not posts(slack, CHANNEL)  # never posted twice


def test_a_rejected_credit_reads_who_rejected_it_and_why(billed: Database) -> None:
    pending_credit(billed)
    with FakeSlack() as slack, worker(billed, slack.api_url) as w:
        assert w.run_once() is not None
        router, access = lab_router(billed)
        no = router.handle(access.user("dave"), '/credit reject CRD-1 "the outage was 2 days"')
        assert no.ok, no.text
        done = w.run_once()
        assert done is not None and (done.updated, done.told) == (1, 1)
        (updated,) = slack.calls_to("chat.update")
        assert updated.params["text"] == (
            f"Credit CRD-1: ₹6,000.00 on {BIG}, rejected by dave: the outage was 2 days"
        )
        assert buttons(updated) == []
        (dm,) = posts(slack, "DU0DEMOCAROL")
        assert dm.params["text"] == (
            f"Your credit CRD-1 of ₹6,000.00 on {BIG} was rejected by dave: the outage was 2 days"
        )


def test_without_an_approvals_channel_credits_go_where_orders_are_decided(
    billed: Database,
) -> None:
    pending_credit(billed)
    with FakeSlack() as slack, worker(billed, slack.api_url, settings_with(None)) as w:
        assert w.run_once() is not None
        (card,) = posts(slack, "#orders")
        assert card.params["text"].startswith("Credit CRD-1: ")


def test_a_credit_decided_before_it_was_posted_is_not_posted_but_its_asker_is_told(
    billed: Database,
) -> None:
    pending_credit(billed)
    router, access = lab_router(billed)
    assert router.handle(access.user("root"), "/credit approve CRD-1").ok
    with FakeSlack() as slack, worker(billed, slack.api_url) as w:
        done = w.run_once()
        assert done is not None and (done.posted, done.updated, done.told) == (0, 0, 1)
        assert not posts(slack, CHANNEL) and not slack.calls_to("chat.update")
    with billed.read() as s:
        due = s.execute(sa.select(CreditRequest.channel_due, CreditRequest.requester_due)).one()
        assert tuple(due) == (False, False)


def test_a_slack_refusal_is_one_warning_and_not_retried(
    billed: Database, caplog: pytest.LogCaptureFixture
) -> None:
    pending_credit(billed)
    with FakeSlack() as slack, worker(billed, slack.api_url) as w:
        slack.expect_rejections()
        slack.fail_next("chat.postMessage", status=200, error="not_in_channel")
        with caplog.at_level(logging.WARNING, logger="bot.orders"):
            done = w.run_once()
        assert done is not None and done.posted == 0
        (warning,) = [r for r in caplog.records if r.name == "bot.orders"]
        assert warning.getMessage() == "credit CRD-1 message not sent: not_in_channel"
        assert warning.exc_info is None  # a line, not a traceback
        assert w.run_once() is not None and len(slack.calls_to("chat.postMessage")) == 1


def test_slack_out_of_reach_is_one_warning_and_the_card_comes_later(
    billed: Database, caplog: pytest.LogCaptureFixture
) -> None:
    pending_credit(billed)
    with socket.socket() as closed:  # a port nobody listens on
        closed.bind(("127.0.0.1", 0))
        nowhere = f"http://127.0.0.1:{closed.getsockname()[1]}/api/"
        with worker(billed, nowhere) as w, caplog.at_level(logging.INFO):
            waits = [w.step() for _ in range(3)]
    # One warning for the outage, with the error's class and message, and no traceback;
    # the passes back off instead of knocking every few seconds.
    said = [r for r in caplog.records if r.levelno >= logging.WARNING]
    (warning,) = said
    text = warning.getMessage()
    assert "cannot reach Slack: URLError: " in text, text
    assert "Connection refused" in text and "\n" not in text and warning.exc_info is None
    assert waits[0] < waits[1] < waits[2]
    # Still due: once Slack answers, the card is posted.
    with FakeSlack() as slack, worker(billed, slack.api_url) as w:
        done = w.run_once()
        assert done is not None and done.posted == 1
        (card,) = posts(slack, CHANNEL)
        assert card.params["text"].startswith("Credit CRD-1: ")


def test_one_replica_at_a_time_announces(billed: Database) -> None:
    pending_credit(billed)
    with FakeSlack() as slack, worker(billed, slack.api_url) as w:
        with billed.hold(LOCK) as held:  # another replica's pass
            assert held
            assert w.run_once() is None
        assert not slack.calls_to("chat.postMessage")
        done = w.run_once()
        assert done is not None and done.posted == 1


def test_a_credit_decided_while_its_card_was_posted_stays_due(billed: Database) -> None:
    """The worker read it pending, a manager decided it before the card was recorded: the
    next pass still brings the card up to date."""
    from domain.billing.services import mark_credit_announced

    pending_credit(billed)
    router, access = lab_router(billed)
    with billed.read() as s:
        credit_id = s.scalars(sa.select(CreditRequest.id)).one()
    assert router.handle(access.user("dave"), "/credit approve CRD-1").ok
    mark_credit_announced(billed, credit_id, channel="C0X", ts="1.0", seen=CreditState.PENDING)
    with billed.read() as s:
        row = s.get_one(CreditRequest, credit_id)
        assert (row.slack_channel, row.slack_ts, row.channel_due) == ("C0X", "1.0", True)
