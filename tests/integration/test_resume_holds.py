"""A suspended line remembers why: resuming it is for whoever may lift that reason.

A line the fraud desk suspended is resumed by a fraud analyst or a manager; a line on an
account suspended for debt stays suspended until the account has left dunning (paid),
unless a manager overrides; a line the customer asked to suspend is resumed by whoever
may order resumptions. Each suspension reason x each role, through the router.
"""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from bot.access import Access
from bot.router import Router
from domain.billing.services import DUNNING_ACTOR, DunningMove, apply_dunning
from domain.customers.choices import DunningState, SubscriptionState
from domain.customers.models import BillingAccount, Subscription
from domain.db import Database
from domain.fraud.choices import CaseState
from domain.fraud.models import FraudCase
from domain.orders.choices import OrderAction
from domain.orders.models import ProductOrder
from domain.orders.queries import DEBT_ACTOR
from tests.world import NOW, lab_router

LINE = "919876543210"
ACCOUNT = "BA100000001"


def _move(db: Database, before: DunningState, after: DunningState) -> None:
    """The account moves in dunning as the nightly run moves it (orders included)."""
    with db.transaction() as s:
        apply_dunning(s, DunningMove(ACCOUNT, 1, 31, before, after), NOW)


def _suspend(db: Database, router: Router, access: Access, reason: str) -> None:
    if reason == "customer":
        done = router.handle(access.user("carol"), f"/order suspend {LINE} note=travelling")
        assert done.ok, done.text
    elif reason == "fraud":
        with db.transaction() as s:
            s.add(FraudCase(subscription_id=1, score=0.97, model_version="t1", reasons=["x"]))
        done = router.handle(access.user("erin"), "/fraud confirm F-1")
        assert done.ok, done.text
    else:
        _move(db, DunningState.CURRENT, DunningState.SUSPENDED)
    assert _state(db) == SubscriptionState.SUSPENDED


def _state(db: Database) -> SubscriptionState:
    with db.read() as s:
        return s.get_one(Subscription, 1).state


def _resumes(db: Database) -> int:
    with db.read() as s:
        return len(
            s.scalars(
                sa.select(ProductOrder.id).where(ProductOrder.action == OrderAction.RESUME)
            ).all()
        )


#: reason -> user -> what /order resume answers: "ok", or the refusal's line and hint.
EXPECTED: dict[str, dict[str, tuple[str, str] | str]] = {
    "customer": {
        "carol": "ok",
        "dave": "ok",
        "root": "ok",
    },
    "fraud": {
        "carol": (
            f"{LINE} is suspended for fraud (F-1, confirmed by erin); only managers may "
            "resume it (you have care_agent)",
            "ask a manager; /fraud explain F-1 shows why it was confirmed",
        ),
        "dave": "ok",
        "root": "ok",
    },
    "debt": {
        "carol": (
            f"{LINE} is suspended for debt: account {ACCOUNT} is in dunning (suspended); "
            "it is resumed when the account is paid, or by managers (you have care_agent)",
            f"/bill {ACCOUNT}",
        ),
        "dave": "ok",
        "root": "ok",
    },
}
#: Roles that may not order a resumption at all are refused by the command's row.
NOT_THEIRS = {
    "alice": "/order resume needs the care_agent or manager role; you have engineer",
    "erin": "/order resume needs the care_agent or manager role; you have fraud_analyst",
}


@pytest.mark.parametrize("user", ["alice", "carol", "dave", "erin", "root"])
@pytest.mark.parametrize("reason", ["customer", "fraud", "debt"])
def test_resuming_a_suspended_line_is_for_who_may_lift_its_reason(
    world: Database, reason: str, user: str
) -> None:
    router, access = lab_router(world)
    _suspend(world, router, access, reason)
    before = _resumes(world)
    got = router.handle(access.user(user), f"/order resume {LINE}")
    want = EXPECTED[reason].get(user) or (NOT_THEIRS[user], "")
    if want == "ok":
        assert got.ok, got.text
        assert got.text.endswith(f"{LINE} is active again"), got.text
        assert _state(world) == SubscriptionState.ACTIVE
        return
    assert not got.ok
    line, hint = want
    assert got.text == line
    if hint:
        assert got.hint == hint
    assert _state(world) == SubscriptionState.SUSPENDED
    assert _resumes(world) == before  # refused: no order was made


def test_a_manager_resuming_over_dunning_says_so_on_the_order(world: Database) -> None:
    router, access = lab_router(world)
    _suspend(world, router, access, "debt")
    got = router.handle(access.user("dave"), f"/order resume {LINE}")
    assert got.ok, got.text
    shown = router.handle(access.user("dave"), f"/order show {got.meta['order']}")
    policy = next(f.value for s in shown.sections for f in s.fields if f.label == "policy")
    assert policy == (
        f"approved by policy: dave may resume a line while account {ACCOUNT} is in dunning "
        "(suspended)"
    )


def test_a_line_the_customer_suspended_waits_while_its_account_is_in_dunning(
    world: Database,
) -> None:
    """The account's debt holds every line on it, whatever stopped the line first; once
    paid (the account current again), the care agent resumes it."""
    router, access = lab_router(world)
    _suspend(world, router, access, "customer")
    _move(world, DunningState.CURRENT, DunningState.SUSPENDED)
    carol = access.user("carol")
    refused = router.handle(carol, f"/order resume {LINE}")
    assert not refused.ok
    assert refused.text == (
        f"{LINE} is suspended at the customer's request, and account {ACCOUNT} is in "
        "dunning (suspended); it is resumed when the account is paid, or by managers "
        "(you have care_agent)"
    )
    assert refused.hint == f"/bill {ACCOUNT}"
    _move(world, DunningState.SUSPENDED, DunningState.CURRENT)  # paid
    assert _state(world) == SubscriptionState.SUSPENDED  # dunning resumes only its own
    with world.read() as s:
        assert s.get_one(BillingAccount, 1).dunning_state == DunningState.CURRENT
    done = router.handle(carol, f"/order resume {LINE}")
    assert done.ok, done.text
    assert _state(world) == SubscriptionState.ACTIVE


def test_a_paid_account_resumes_its_debt_suspensions_but_not_a_fraud_suspension(
    world: Database,
) -> None:
    router, access = lab_router(world)
    _suspend(world, router, access, "fraud")
    _move(world, DunningState.CURRENT, DunningState.SUSPENDED)
    _move(world, DunningState.SUSPENDED, DunningState.CURRENT)
    assert _state(world) == SubscriptionState.SUSPENDED
    refused = router.handle(access.user("carol"), f"/order resume {LINE}")
    assert not refused.ok and "suspended for fraud (F-1" in refused.text


def test_the_order_desk_and_dunning_name_debt_suspensions_alike() -> None:
    assert DEBT_ACTOR == DUNNING_ACTOR


# -- confirming fraud on a line already suspended ---------------------------------------------


def _open_case(db: Database) -> None:
    """A case the model opened while the line was active (F-1), not yet decided."""
    with db.transaction() as s:
        s.add(FraudCase(subscription_id=1, score=0.97, model_version="t1", reasons=["x"]))


def _suspends(db: Database) -> int:
    with db.read() as s:
        return len(
            s.scalars(
                sa.select(ProductOrder.id).where(ProductOrder.action == OrderAction.SUSPEND)
            ).all()
        )


@pytest.mark.parametrize(
    ("first", "said"),
    [("customer", "suspended at the customer's request"), ("debt", "suspended for debt")],
)
def test_confirming_fraud_on_a_suspended_line_confirms_it_and_holds_the_line_for_fraud(
    world: Database, first: str, said: str
) -> None:
    router, access = lab_router(world)
    _open_case(world)
    _suspend(world, router, access, first)
    orders = _suspends(world)
    got = router.handle(access.user("erin"), "/fraud confirm F-1")
    assert got.ok, got.text
    assert got.text == (
        f"F-1 confirmed by erin; 91••••••3210 was already {said}; it stays suspended, now "
        "held for fraud (only managers may resume it)"
    )
    with world.read() as s:
        assert s.get_one(FraudCase, 1).state == CaseState.CONFIRMED
    assert _state(world) == SubscriptionState.SUSPENDED
    assert _suspends(world) == orders  # nothing to stop: no second suspension
    # From now on the line is held for fraud: a care agent is refused, naming the case.
    refused = router.handle(access.user("carol"), f"/order resume {LINE}")
    assert not refused.ok
    assert refused.text.startswith(f"{LINE} is suspended for fraud (F-1, confirmed by erin); ")
    assert refused.hint == "ask a manager; /fraud explain F-1 shows why it was confirmed"
    assert _state(world) == SubscriptionState.SUSPENDED
    done = router.handle(access.user("dave"), f"/order resume {LINE}")
    assert done.ok, done.text
    assert _state(world) == SubscriptionState.ACTIVE


def test_confirming_fraud_on_a_ceased_line_confirms_the_case_and_orders_nothing(
    world: Database,
) -> None:
    router, access = lab_router(world)
    _open_case(world)
    ceased = router.handle(access.user("carol"), f"/order cease {LINE}")
    assert ceased.ok, ceased.text
    got = router.handle(access.user("erin"), "/fraud confirm F-1")
    assert got.ok, got.text
    assert (
        got.text == "F-1 confirmed by erin; 91••••••3210 is terminated; there is nothing to suspend"
    )
    with world.read() as s:
        assert s.get_one(FraudCase, 1).state == CaseState.CONFIRMED
    assert _suspends(world) == 0


def test_a_resumed_line_is_no_longer_held_by_the_case_it_was_suspended_for(
    world: Database,
) -> None:
    """The hold is a case confirmed since the line was last resumed: once a manager resumes
    it, the customer's own suspension later is the customer's, which a care agent lifts."""
    router, access = lab_router(world)
    _suspend(world, router, access, "fraud")
    assert router.handle(access.user("dave"), f"/order resume {LINE}").ok
    _suspend(world, router, access, "customer")
    carol = access.user("carol")
    shown = router.handle(carol, f"/customer {LINE}")
    assert shown.tables[0].rows[0][2] == "suspended at the customer's request"
    done = router.handle(carol, f"/order resume {LINE}")
    assert done.ok, done.text


# -- ceasing a held line needs the roles that resume it ---------------------------------------

#: reason -> user -> what /order cease answers: "ok", or the refusal's line and hint.
CEASE: dict[str, dict[str, tuple[str, str] | str]] = {
    "customer": {"carol": "ok", "dave": "ok", "root": "ok"},
    "fraud": {
        "carol": (
            f"{LINE} is suspended for fraud (F-1, confirmed by erin); only managers may "
            "cease it (you have care_agent)",
            "ask a manager; /fraud explain F-1 shows why it was confirmed",
        ),
        "dave": "ok",
        "root": "ok",
    },
    "debt": {
        "carol": (
            f"{LINE} is suspended for debt: account {ACCOUNT} is in dunning (suspended); "
            "only managers may cease it before the account is paid (you have care_agent)",
            f"/bill {ACCOUNT}",
        ),
        "dave": "ok",
        "root": "ok",
    },
}
NOT_THEIRS_TO_CEASE = {
    "alice": "/order cease needs the care_agent or manager role; you have engineer",
    "erin": "/order cease needs the care_agent or manager role; you have fraud_analyst",
}


def _ceases(db: Database) -> int:
    with db.read() as s:
        return len(
            s.scalars(
                sa.select(ProductOrder.id).where(ProductOrder.action == OrderAction.TERMINATE)
            ).all()
        )


@pytest.mark.parametrize("user", ["alice", "carol", "dave", "erin", "root"])
@pytest.mark.parametrize("reason", ["customer", "fraud", "debt"])
def test_ceasing_a_suspended_line_is_for_who_may_lift_its_reason(
    world: Database, reason: str, user: str
) -> None:
    router, access = lab_router(world)
    _suspend(world, router, access, reason)
    got = router.handle(access.user(user), f"/order cease {LINE}")
    want = CEASE[reason].get(user) or (NOT_THEIRS_TO_CEASE[user], "")
    if want == "ok":
        assert got.ok, got.text
        assert got.meta["state"] == "completed", got.text
        assert _state(world) == SubscriptionState.TERMINATED
        return
    assert not got.ok
    line, hint = want
    assert got.text == line
    if hint:
        assert got.hint == hint
    assert _state(world) == SubscriptionState.SUSPENDED
    assert _ceases(world) == 0  # refused: no order was made


def test_a_manager_ceasing_a_line_held_for_fraud_says_so_on_the_order(world: Database) -> None:
    router, access = lab_router(world)
    _suspend(world, router, access, "fraud")
    got = router.handle(access.user("dave"), f"/order cease {LINE}")
    assert got.ok, got.text
    shown = router.handle(access.user("dave"), f"/order show {got.meta['order']}")
    policy = next(f.value for s in shown.sections for f in s.fields if f.label == "policy")
    assert policy == "approved by policy: dave may cease a line suspended for fraud (F-1)"


# -- /customer says why a line is suspended ---------------------------------------------------

#: how the line was stopped -> its state as /customer shows it privately, and shared.
WHY: dict[str, tuple[str, str]] = {
    "customer": ("suspended at the customer's request", "suspended at the customer's request"),
    "fraud": ("suspended for fraud (case F-1)", "suspended for fraud (case F-1)"),
    "debt": (
        f"suspended for debt on account {ACCOUNT}",
        "suspended for debt on account BA•••••0001",
    ),
    "customer, then debt": (
        f"suspended at the customer's request, and account {ACCOUNT} is in dunning (suspended)",
        "suspended at the customer's request, and account BA•••••0001 is in dunning (suspended)",
    ),
    "debt, then fraud": (
        f"suspended for fraud (case F-1), and account {ACCOUNT} is in dunning (suspended)",
        "suspended for fraud (case F-1), and account BA•••••0001 is in dunning (suspended)",
    ),
}


@pytest.mark.parametrize("how", list(WHY))
def test_customer_says_why_a_line_is_suspended(world: Database, how: str) -> None:
    router, access = lab_router(world)
    if how == "customer, then debt":
        _suspend(world, router, access, "customer")
        _move(world, DunningState.CURRENT, DunningState.SUSPENDED)
    elif how == "debt, then fraud":
        _open_case(world)
        _suspend(world, router, access, "debt")
        assert router.handle(access.user("erin"), "/fraud confirm F-1").ok
    else:
        _suspend(world, router, access, how)
    private, shared = WHY[how]
    carol = access.user("carol")
    shown = router.handle(carol, f"/customer {LINE}")
    assert shown.ok, shown.text
    assert shown.tables[0].columns[2] == "state"
    assert shown.tables[0].rows[0][2] == private
    assert shown.data.lines[0].suspended == private.removeprefix("suspended ")
    posted = router.handle(carol, f"/customer {LINE} --share")
    assert posted.ok, posted.text
    assert posted.tables[0].rows[0][2] == shared
    assert ACCOUNT not in str(posted.data)


def test_customer_shows_an_active_line_as_active(world: Database) -> None:
    router, access = lab_router(world)
    shown = router.handle(access.user("carol"), f"/customer {LINE}")
    assert shown.tables[0].rows[0][2] == "active"
    assert shown.data.lines[0].suspended is None


def test_paying_the_debt_does_not_resume_a_line_confirmed_as_fraud_since(
    world: Database,
) -> None:
    """Suspended for debt, then confirmed as fraud: the account paid, dunning resumed it."""
    router, access = lab_router(world)
    _open_case(world)
    _suspend(world, router, access, "debt")
    assert router.handle(access.user("erin"), "/fraud confirm F-1").ok
    before = _resumes(world)
    _move(world, DunningState.SUSPENDED, DunningState.CURRENT)  # paid
    assert _state(world) == SubscriptionState.SUSPENDED
    assert _resumes(world) == before
