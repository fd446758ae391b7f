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
