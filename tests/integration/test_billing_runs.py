"""The billing use-cases every entry point shares: dunning on the operator's day, one
account's failure not stopping the others, and the billing lock around rating and bill
runs (also when `make demo` brings its data to life)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime

import pytest
import sqlalchemy as sa
from rich.console import Console

from bot.bootstrap import Switchboard, bootstrap
from bot.cli import main
from bot.cli.chat import _bring_to_life
from bot.jobs import run_dunning as dunning_job
from bot.outbound import Outbound
from domain.billing import runs
from domain.billing.choices import UsageState
from domain.billing.rating import Period
from domain.billing.runs import BILLING_LOCK, DUNNING_LOCK, business_day
from domain.config import PROJECT_ROOT, load_settings
from domain.customers.choices import DunningState, PaymentMethod
from domain.customers.models import BillingAccount
from domain.db import Database
from domain.errors import Conflict
from tests.fakes.slack_api import FakeSlack
from tests.integration.test_care import invoice, usage

#: 00:30 on 31 October in India, still 30 October in UTC. The September invoices fell
#: due on 16 October, so on the 31st they are 15 days overdue: a reminder is due.
EVENING_UTC = datetime(2026, 10, 30, 19, 0, tzinfo=UTC)


@pytest.fixture
def overdue(world: Database) -> Database:
    """Accounts 1 and 2 each owe a September invoice."""
    with world.transaction() as s:
        s.add(
            BillingAccount(
                id=2,
                account_number="BA100000002",
                customer_id=1,
                credit_limit_minor=500000,
                payment_method=PaymentMethod.UPI,
            )
        )
        s.flush()
        invoice(s, 1, date(2026, 9, 1), recurring=39900, account=1)
        invoice(s, 2, date(2026, 9, 1), recurring=39900, account=2)
    return world


@pytest.fixture
def wired(overdue: Database) -> Iterator[tuple[Switchboard, Outbound, FakeSlack]]:
    with FakeSlack() as slack:
        settings = load_settings(
            PROJECT_ROOT / "config.yaml",
            env={"SLACK_BOT_TOKEN": "xoxb-t", "SLACK_API_URL": slack.api_url},
        )
        sb = bootstrap(settings, database_url=overdue.url)
        yield sb, sb.outbound, slack
        sb.close()


def states(db: Database) -> list[DunningState]:
    with db.read() as s:
        return [s.get_one(BillingAccount, i).dunning_state for i in (1, 2)]


def test_the_operators_day_is_the_day_in_the_scheduler_time_zone() -> None:
    assert business_day(EVENING_UTC, "Asia/Kolkata") == date(2026, 10, 31)
    assert business_day(EVENING_UTC, "UTC") == date(2026, 10, 30)


def test_the_scheduled_job_judges_due_dates_by_the_operators_day(
    wired: tuple[Switchboard, Outbound, FakeSlack],
) -> None:
    sb, outbound, slack = wired
    assert dunning_job(sb, outbound, EVENING_UTC) == 2  # by UTC it would still be the 30th
    assert states(sb.db) == [DunningState.REMINDED, DunningState.REMINDED]
    (post,) = slack.calls_to("chat.postMessage")
    assert post.params["channel"] == sb.settings.channels.billing
    assert post.params["text"] == "Dunning on 31 Oct 2026: 2 account(s) moved"
    # The billing channel reads it: accounts show their last four digits, no more.
    with sb.db.read() as s:
        numbers = list(s.scalars(sa.select(BillingAccount.account_number)))
    body = str(post.params["blocks"])
    assert numbers and not [n for n in numbers if n in body], body
    assert all(n[-4:] in body for n in numbers), body


def test_one_accounts_failure_does_not_stop_the_others_and_is_reported(
    wired: tuple[Switchboard, Outbound, FakeSlack], monkeypatch: pytest.MonkeyPatch
) -> None:
    sb, outbound, slack = wired
    real = runs.apply_dunning

    def flaky(session, move, now):  # type: ignore[no-untyped-def]
        if move.account_id == 1:
            raise RuntimeError("the account row is locked")
        return real(session, move, now)

    monkeypatch.setattr(runs, "apply_dunning", flaky)
    assert dunning_job(sb, outbound, EVENING_UTC) == 1
    assert states(sb.db) == [DunningState.CURRENT, DunningState.REMINDED]
    (post,) = slack.calls_to("chat.postMessage")
    assert post.params["text"] == "Dunning on 31 Oct 2026: 1 account(s) moved, 1 failed"
    assert "could not move from current to reminded: the account row is locked" in str(
        post.params["blocks"]
    )


def test_the_command_line_uses_the_same_day_and_exits_1_when_an_account_fails(
    overdue: Database, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("SWITCHBOARD_DATABASE_URL", overdue.url)
    real = runs.apply_dunning

    def flaky(session, move, now):  # type: ignore[no-untyped-def]
        if move.account_id == 2:
            raise RuntimeError("the account row is locked")
        return real(session, move, now)

    monkeypatch.setattr(runs, "apply_dunning", flaky)
    assert main(["billing", "dunning", "--as-of", "2026-10-31"]) == 1
    out, err = capsys.readouterr()
    assert "1 account(s) moved on 2026-10-31 (Asia/Kolkata); 1 could not move" in out
    assert "error: " in err and "the account row is locked" in err
    assert states(overdue) == [DunningState.REMINDED, DunningState.CURRENT]
    monkeypatch.setattr(runs, "apply_dunning", real)
    assert main(["billing", "dunning", "--as-of", "2026-10-31"]) == 0  # the rest, next time
    assert states(overdue) == [DunningState.REMINDED, DunningState.REMINDED]


def test_dunning_runs_once_at_a_time(overdue: Database) -> None:
    with overdue.hold(DUNNING_LOCK) as held:
        assert held
        with pytest.raises(Conflict, match="dunning is already running"):
            runs.run_dunning(overdue, (), date(2026, 10, 31))


def test_rating_bill_runs_and_the_demo_take_the_billing_lock(
    overdue: Database,
) -> None:
    with overdue.transaction() as s:  # November's usage, not rated yet
        usage(s, None, datetime(2026, 11, 2, 9, tzinfo=UTC), 0, state=UsageState.RECEIVED)
    settings = load_settings(PROJECT_ROOT / "config.yaml")
    sb = bootstrap(settings, database_url=overdue.url)
    try:
        with overdue.hold(BILLING_LOCK) as held:
            assert held
            with pytest.raises(Conflict, match="another rating or bill run is going on"):
                runs.rate_period(overdue, Period(2026, 11))
            with pytest.raises(Conflict, match="another rating or bill run is going on"):
                runs.bill_period(overdue, Period(2026, 10), settings.billing)
            assert runs.periods_with_received_usage(overdue) == [Period(2026, 11)]
            with pytest.raises(Conflict, match="another rating or bill run is going on"):
                _bring_to_life(sb, Console(quiet=True))
        assert runs.rate_period(overdue, Period(2026, 11)).records == 1  # and, let go, it runs
    finally:
        sb.close()


def test_dunning_suspends_from_a_fresh_command_line_process(overdue: Database) -> None:
    """The CLI opens the database without the rest of Switchboard: a suspension, which
    goes through an order referring to change requests, must still find every table."""
    import os
    import subprocess
    import sys

    env = {**os.environ, "SWITCHBOARD_DATABASE_URL": overdue.url}
    done = subprocess.run(
        [sys.executable, "-m", "bot.cli", "billing", "dunning", "--as-of", "2026-11-20"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "2 account(s) moved on 2026-11-20" in done.stdout
    assert states(overdue) == [DunningState.SUSPENDED, DunningState.SUSPENDED]
    assert "Traceback" not in done.stderr


def test_a_database_knows_every_table_whatever_was_imported() -> None:
    import subprocess
    import sys

    probe = (
        "from domain.db import Database, Base\n"
        "from sqlalchemy.orm import configure_mappers\n"
        "Database('sqlite://')\n"
        "configure_mappers()\n"
        "print(sum(1 for t in Base.metadata.tables.values() for fk in t.foreign_keys"
        " if fk.column is not None))\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert int(done.stdout) > 30


def test_the_command_line_refuses_a_day_that_has_not_come(
    overdue: Database, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("SWITCHBOARD_DATABASE_URL", overdue.url)
    assert main(["billing", "dunning", "--as-of", "9999-12-31"]) == 1
    _, err = capsys.readouterr()
    assert err.startswith("error: 9999-12-31 has not come yet in Asia/Kolkata (today is ")
    assert states(overdue) == [DunningState.CURRENT, DunningState.CURRENT]
