"""Every message a background loop sends, when Slack fails to take it and when Slack
refuses it for good, on SQLite and PostgreSQL.

Failed (a 5xx or 429 after the client's retries, an error that says Slack itself failed,
a revoked token an operator can put right): the pass ends with the error, nothing is
marked sent, and the next pass sends it once. Refused for good (the bot is not in the
channel): one warning, marked, never asked again. Before, both loops took a 5xx for a
refusal and the message was never sent.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
import sqlalchemy as sa
from slack_sdk.errors import SlackApiError

from bot.notify import AlarmNotifier
from bot.orders import OrderWorker
from domain.db import Database
from domain.faults.models import Alarm
from domain.faults.services import acknowledge_alarm
from tests.fakes.slack_api import FakeSlack
from tests.integration.test_alarm_notifier import _file
from tests.integration.test_credit_announce import CHANNEL, CHANNEL_ID, pending_credit, worker
from tests.integration.test_credits import billed
from tests.world import lab_router, lab_settings

__all__ = ["billed"]  # the fixture, used by name

CAROL_DM = "DU0DEMOCAROL"


@dataclass(frozen=True)
class Message:
    """One message a loop sends: what prepares it, the Web API method and channel it goes
    to, and which loop sends it."""

    name: str
    prepare: Callable[[Database, OrderWorker, AlarmNotifier], None]
    method: str
    channel: str | None  # None: any channel (the alarm channels)
    loop: str  # "orders" or "alarms"
    #: Whether something else in its pass got through first (the card's update before
    #: the requester's direct message): then its failure is its own and the pass goes on.
    after_another: bool = False


def _credit_decided(db: Database, w: OrderWorker, n: AlarmNotifier) -> None:
    pending_credit(db)
    assert w.run_once() is not None  # the card is posted
    router, access = lab_router(db)
    assert router.handle(access.user("dave"), "/credit approve CRD-1").ok


def _alarm_acknowledged(db: Database, w: OrderWorker, n: AlarmNotifier) -> None:
    _file(db, "LinkDown")
    assert n.run_once() is not None  # the alarm's message is posted
    with db.transaction() as s:
        ref = s.scalars(sa.select(Alarm)).one().ref
        acknowledge_alarm(s, ref, "alice")


def _storm(db: Database, w: OrderWorker, n: AlarmNotifier) -> None:
    _file(db, "LinkDown", "FanFailure", "PsuFailure")  # over storm_per_minute (1)


MESSAGES = [
    Message("credit card posted", lambda db, w, n: pending_credit(db), "chat.postMessage",
            CHANNEL, "orders"),
    Message("credit card updated", _credit_decided, "chat.update", CHANNEL_ID, "orders"),
    Message("requester told", _credit_decided, "chat.postMessage", CAROL_DM, "orders",
            after_another=True),
    Message("alarm posted", lambda db, w, n: _file(db, "LinkDown"), "chat.postMessage", None,
            "alarms"),
    Message("alarm updated", _alarm_acknowledged, "chat.update", None, "alarms"),
    Message("storm summary posted", _storm, "chat.postMessage", None, "alarms"),
]  # fmt: skip

#: (status, error): Slack failed to take the message; asking again later may work.
FAILED = [(500, "fatal"), (503, "service_unavailable"), (429, "ratelimited"),
          (200, "internal_error"), (200, "token_revoked")]  # fmt: skip
#: Slack refused it for good.
REFUSED = [(200, "not_in_channel"), (200, "channel_not_found")]


def _settings() -> Any:
    shipped = lab_settings()
    alerts = shipped.alerts.model_copy(update={"storm_per_minute": 1})
    return shipped.model_copy(update={"alerts": alerts})


def _delivered(slack: FakeSlack, m: Message) -> list[Any]:
    return [
        c
        for c in slack.calls_to(m.method)
        if c.error is None and (m.channel is None or c.params.get("channel") == m.channel)
    ]


def _sent(slack: FakeSlack, m: Message) -> int:
    if m.name == "storm summary posted":  # the storm's card, not the alarms' own
        return sum("storm" in c.params.get("text", "").lower() for c in _delivered(slack, m))
    return len(_delivered(slack, m))


@pytest.mark.parametrize("m", MESSAGES, ids=lambda m: m.name)
@pytest.mark.parametrize("answer", FAILED, ids=lambda a: f"{a[0]}-{a[1]}")
def test_a_message_slack_failed_to_take_is_sent_once_at_a_later_pass(
    billed: Database, m: Message, answer: tuple[int, str]
) -> None:
    with FakeSlack() as slack, worker(billed, slack.api_url, _settings()) as w:
        notifier = AlarmNotifier(w.sb, w.outbound)
        run = w.run_once if m.loop == "orders" else notifier.run_once
        m.prepare(billed, w, notifier)
        before = _sent(slack, m)
        slack.fail_next(m.method, status=answer[0], error=answer[1])
        if m.after_another:
            assert run() is not None  # its own failure: skipped, the pass goes on
        else:
            with pytest.raises(SlackApiError):
                run()  # the pass ends; the loop backs off (tests/scenario/test_degrade_quietly)
        assert _sent(slack, m) == before
        # serve restarts (or another replica takes over): what is owed is in the database.
        if m.loop == "orders":
            run = OrderWorker(w.sb, w.outbound).run_once
        else:
            run = AlarmNotifier(w.sb, w.outbound).run_once
        assert run() is not None
        assert _sent(slack, m) == before + 1
        assert run() is not None
        assert _sent(slack, m) == before + 1  # once, not again


@pytest.mark.parametrize("m", MESSAGES, ids=lambda m: m.name)
@pytest.mark.parametrize("answer", REFUSED, ids=lambda a: a[1])
def test_a_message_slack_refused_is_one_warning_and_never_asked_again(
    billed: Database, m: Message, answer: tuple[int, str], caplog: pytest.LogCaptureFixture
) -> None:
    with FakeSlack() as slack, worker(billed, slack.api_url, _settings()) as w:
        slack.expect_rejections()
        notifier = AlarmNotifier(w.sb, w.outbound)
        run = w.run_once if m.loop == "orders" else notifier.run_once
        m.prepare(billed, w, notifier)
        before, asked = _sent(slack, m), len(slack.calls_to(m.method))
        slack.fail_next(m.method, status=answer[0], error=answer[1])
        caplog.clear()
        with caplog.at_level(logging.WARNING):
            assert run() is not None
        (warning,) = [r for r in caplog.records if r.levelno >= logging.WARNING]
        assert warning.getMessage().endswith(f": {answer[1]}") and warning.exc_info is None
        assert run() is not None and run() is not None
        assert _sent(slack, m) == before  # never delivered, and
        refused = [c for c in slack.calls_to(m.method)[asked:] if c.error == answer[1]]
        assert len(refused) == 1  # never asked again


def test_a_message_slack_keeps_failing_does_not_hold_up_the_rest(
    billed: Database, caplog: pytest.LogCaptureFixture
) -> None:
    """The first alarm's message fails three times: the first pass ends (Slack may be
    failing); then it goes after the others, which are sent; it is warned about once, and
    a pass with nothing else due ends again; it stays due until Slack takes it. (The order
    worker shares `bot.outbound.Sends`; its requester told after a card's update is in the
    sweep above.)"""
    with FakeSlack() as slack, worker(billed, slack.api_url) as w:
        _file(billed, "LinkDown", "FanFailure")
        run = AlarmNotifier(w.sb, w.outbound).run_once
        slack.fail_next(
            "chat.postMessage", status=500, error="internal_error", times=3, text="LinkDown"
        )
        with pytest.raises(SlackApiError):
            run()  # nothing got through yet: the pass ends
        caplog.clear()
        with caplog.at_level(logging.WARNING):
            assert run() is not None  # FanFailure first, then LinkDown fails again
        with pytest.raises(SlackApiError):
            run()  # only LinkDown is due, and fails a third time: the loop backs off
        delivered = [c for c in slack.calls_to("chat.postMessage") if c.error is None]
        assert ["FanFailure" in c.params["text"] for c in delivered] == [True]
        (warning,) = [r for r in caplog.records if r.levelno >= logging.WARNING]
        assert warning.getMessage() == (
            "alarm-notifier: alarm A-1 not sent, Slack failed to take it (internal_error) "
            "while it took others; tried again at the next pass"
        )
        assert run() is not None  # Slack takes it now
        delivered = [c for c in slack.calls_to("chat.postMessage") if c.error is None]
        assert ["LinkDown" in c.params["text"] for c in delivered] == [False, True]
        assert run() is not None
        assert len([c for c in slack.calls_to("chat.postMessage") if c.error is None]) == 2
