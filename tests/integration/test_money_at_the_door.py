"""Money validated at the door: every input that takes an amount or a date, in chat and in
payment files, refuses nonsense in one line with a hint and stores nothing of it.

Which chat inputs take money is read from the commands themselves (a field named amount
or credit, or date), so a new one joins the sweep or fails it.
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest
import sqlalchemy as sa

from bot.bootstrap import load_skills
from bot.cli import main
from domain.billing.models import Adjustment, CreditRequest, Payment
from domain.billing.services import PAYMENT_COLUMNS, import_payments
from domain.config import BillingSettings
from domain.db import Database
from skills.reply import Reply
from tests.integration.test_care import invoice
from tests.world import NOW, lab_router

BAD_AMOUNTS = ("1e9", "1e30", "9" * 40, "-5", "0", "1.234", "abc")
BAD_DATES = ("0001-01-01", "9999-12-31", "2026-02-30", "abc")
MONEY_FIELDS = {"amount", "credit"}
DATE_FIELDS = {"date"}

#: (user, command with {v} where the amount goes), one per chat input that takes an amount.
CHAT_AMOUNTS = {
    ("payment record", "amount"): ("root", "/payment record BA100000001 {v} ref=SWEEP-A"),
    ("dispute resolve", "credit"): ("dave", '/dispute resolve {ticket} "sweep" credit={v}'),
}
CHAT_DATES = {
    ("payment record", "date"): ("root", "/payment record BA100000001 10 ref=SWEEP-D date={v}"),
}


def test_the_sweep_covers_every_input_that_takes_money_or_a_date() -> None:
    found = {
        (c.name, name)
        for c in load_skills()
        for name in c.args.model_fields
        if name in MONEY_FIELDS | DATE_FIELDS
    }
    assert found == set(CHAT_AMOUNTS) | set(CHAT_DATES)
    assert {"amount", "received_at"} <= set(PAYMENT_COLUMNS)


@pytest.fixture
def invoiced(world: Database) -> Database:
    with world.transaction() as s:
        invoice(s, 1, date(2026, 10, 1), recurring=39900)
    return world


def stored(db: Database) -> tuple[int, int, int]:
    with db.read() as s:
        return tuple(  # type: ignore[return-value]
            int(s.scalar(sa.select(sa.func.count()).select_from(t)) or 0)
            for t in (Payment, Adjustment, CreditRequest)
        )


def one_line(reply: Reply, typed: str) -> None:
    said = f"{typed!r}: {reply.text!r} / {reply.hint!r}"
    assert not reply.ok, said
    assert "\n" not in reply.text and len(reply.text) < 200, said
    assert reply.hint.strip(), said
    assert "unexpectedly" not in reply.text + reply.hint, said


def test_chat_refuses_every_bad_amount_and_date_in_one_line(invoiced: Database) -> None:
    router, access = lab_router(invoiced)
    opened = router.handle(access.user("carol"), '/dispute open INV-202610-0000001 "sweep"')
    ticket = re.match(r"T-\d+", opened.text)
    assert ticket, opened.text
    for (user, template), bad in [(t, v) for t in CHAT_AMOUNTS.values() for v in BAD_AMOUNTS] + [
        (t, v) for t in CHAT_DATES.values() for v in BAD_DATES
    ]:
        typed = template.format(v=bad, ticket=ticket.group(0))
        one_line(router.handle(access.user(user), typed), typed)
    assert stored(invoiced) == (0, 0, 0)
    # The same inputs with sane values go through: the sweep refuses nonsense, not money.
    paid = router.handle(
        access.user("root"), "/payment record BA100000001 10.50 ref=GOOD date=2026-11-19"
    )
    assert paid.ok, (paid.text, paid.hint)
    credit = router.handle(
        access.user("dave"), f'/dispute resolve {ticket.group(0)} "sweep" credit=12.50'
    )
    assert credit.ok, (credit.text, credit.hint)
    assert stored(invoiced) == (1, 1, 0)


def test_what_each_refusal_says(invoiced: Database) -> None:
    router, access = lab_router(invoiced)
    root = access.user("root")
    said = {
        bad: router.handle(root, f"/payment record BA100000001 {bad} ref=X").text
        for bad in BAD_AMOUNTS
    }
    assert said == {
        "1e9": "'1e9' is not an amount",
        "1e30": "'1e30' is not an amount",
        "9" * 40: "'99999999999999999999999…' is more than ₹10,000,000.00, the largest "
        "amount taken",
        "-5": "'-5' is below zero; an amount is more than zero",
        "0": "'0' is zero; an amount is more than zero",
        "1.234": "'1.234' has more than 2 decimals",
        "abc": "'abc' is not an amount",
    }
    dates = {
        bad: router.handle(root, f"/payment record BA100000001 10 ref=X date={bad}").text
        for bad in BAD_DATES
    }
    assert dates["0001-01-01"] == "0001-01-01 is before 2000-01-01, the earliest date taken"
    assert dates["9999-12-31"].startswith("9999-12-31 has not come yet (today is ")
    assert dates["abc"] == "'abc' is not a date"


def _file(rows: list[str]) -> str:
    return "\n".join([",".join(PAYMENT_COLUMNS), *rows]) + "\n"


GOOD_ROW = "UTR-OK,BA100000001,470.82,2026-11-02T10:00:00Z,upi"


@pytest.mark.parametrize(
    ("column", "bad"),
    [("amount", v) for v in BAD_AMOUNTS]
    + [("received_at", v) for v in (*BAD_DATES, "0001-01-01T00:00:00Z", "9999-12-31T23:59:59")],
)
def test_a_payment_file_with_one_bad_cell_is_refused_whole_naming_its_row(
    invoiced: Database, column: str, bad: str
) -> None:
    cells = {
        "reference": "UTR-BAD",
        "account": "BA100000001",
        "amount": "10",
        "received_at": "2026-11-02",
        "method": "upi",
    }
    cells[column] = bad
    text = _file([GOOD_ROW, ",".join(cells[c] for c in PAYMENT_COLUMNS)])
    r = import_payments(invoiced, text, BillingSettings(), now=NOW)
    assert (r.recorded, r.total_minor) == (0, 0)
    (line,) = r.refused
    assert line.startswith(f"row 3: {column} "), line
    assert "\n" not in line and len(line) < 200, line
    assert stored(invoiced) == (0, 0, 0)  # not even the good row 2


def test_the_cli_refuses_a_bad_file_and_records_a_good_one(
    invoiced: Database, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text(_file([GOOD_ROW, "UTR-2,BA100000001,1e9,2026-11-02,upi"]), encoding="utf-8")
    assert main(["billing", "payments", str(bad), "--database", invoiced.url]) == 1
    out, err = capsys.readouterr()
    assert err.splitlines() == [
        f"error: {bad} refused, nothing of it was recorded: 1 row(s) have a problem (the "
        "header is row 1)",
        "  row 3: amount '1e9' is not an amount",
        "hint: fix those rows and import the whole file again",
    ]
    assert stored(invoiced) == (0, 0, 0)
    good = tmp_path / "good.csv"
    good.write_text(_file([GOOD_ROW]), encoding="utf-8")
    assert main(["billing", "payments", str(good), "--database", invoiced.url]) == 0
    out, err = capsys.readouterr()
    assert out.strip() == "1 payment(s) recorded, ₹470.82; 0 already recorded"
    assert stored(invoiced) == (1, 0, 0)


def test_a_back_dated_payment_does_not_clear_what_is_overdue_today(invoiced: Database) -> None:
    """October's invoice (due 16 Nov) is overdue on 20 Nov; a payment dated 10 Nov that does
    not cover it leaves the account in dunning (it was judged on the payment's date)."""
    from domain.billing.services import record_payment
    from domain.customers.choices import DunningState, PaymentMethod
    from domain.customers.models import BillingAccount

    with invoiced.transaction() as s:
        account = s.get_one(BillingAccount, 1)
        account.dunning_state = DunningState.REMINDED
        r = record_payment(
            s,
            account,
            10000,
            reference="UTR-BACK",
            method=PaymentMethod.UPI,
            received_at=NOW.replace(day=10),
            now=NOW,
        )
        assert not r.cleared_dunning and account.dunning_state == DunningState.REMINDED


def test_an_account_in_credit_is_not_dunned(invoiced: Database) -> None:
    from domain.billing.services import dunning_moves
    from domain.config import DunningStep
    from domain.customers.choices import DunningState
    from domain.customers.models import BillingAccount

    steps = (DunningStep(after_days=1, action="reminder"),)
    with invoiced.read() as s:
        (move,) = dunning_moves(s, steps, NOW.date())  # overdue and owing: reminded
        assert move.after == DunningState.REMINDED
    with invoiced.transaction() as s:  # money kept on the account covers more than is due
        s.get_one(BillingAccount, 1).balance_minor = -100
    with invoiced.read() as s:
        assert dunning_moves(s, steps, NOW.date()) == []
