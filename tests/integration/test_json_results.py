"""Every command's reply carries its typed result: what `switchboard chat --json` prints.

One example per registered command, run through the router as a user whose role may
run it, on the `world` with a bill history, alarms, pending orders and fraud cases;
devices are in memory (tests/fakes/devices.py), so the SSH commands run too. A new
command without an example here fails the sweep.

For each reply: it succeeds, its JSON serialises, `data` is there, and `data` holds
numbers, states and times rather than display text: no amount written with its
currency sign ("₹1,234.50" is the text's business; data says
{"amount": 1234.5, "currency": "INR"}) and no database row written as Python's repr.
"""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest

from bot.access import Access
from bot.bootstrap import build_services, load_skills
from bot.router import Router
from domain.config import PROJECT_ROOT, Settings, load_settings
from domain.customers.choices import SubscriptionState
from domain.customers.models import Subscription
from domain.db import Database
from domain.faults.choices import PerceivedSeverity
from domain.faults.intake import AlertEvent, file_alerts
from domain.fraud.services import Flag, open_cases_within_budget
from domain.orders.choices import OrderState
from domain.orders.services import create_order, move_order
from models.fraud.artifact import save_model, train
from models.fraud.synthetic import synthetic_usage
from skills.registry import REGISTRY
from skills.reply import jsonable
from tests.fakes.devices import FakeNetwork
from tests.fraud_lines import copy_models, trained_once
from tests.integration.test_care import invoice, usage
from tests.world import NOW, reset_sequences

#: One or more examples per command, run in this order on one world: (user, text).
#: Refs follow from the setup: the DeviceDown alarm opens T-1, the setup's orders are
#: O-1 to O-3, its fraud cases F-1 and F-2.
EXAMPLES: list[tuple[str, str]] = [
    ("carol", "/ops help"),
    ("erin", "/ops whoami"),
    ("alice", "/inventory show r1-mum"),
    ("dave", "/inventory search r1"),
    ("alice", "/inventory site MUM-AND1"),
    ("alice", "/inventory interfaces r1-mum"),
    ("alice", "/inventory facts r1-mum"),
    ("alice", '/device run r1-mum "show version"'),
    ("dave", "/network health"),
    ("alice", "/alarm list"),
    ("dave", "/alarm show A-1"),
    ("alice", "/alarm ack A-1"),
    ("alice", '/ticket open r1-mum "Link flapping on uplink" sev=2'),
    ("carol", "/ticket show T-2"),
    ("dave", "/ticket list"),
    ("alice", "/ticket assign T-2 me"),
    ("alice", '/ticket note T-2 "optics replaced"'),
    ("alice", "/ticket status T-2 inProgress"),
    ("alice", '/ticket resolve T-2 "SFP swapped"'),
    ("alice", "/ticket close T-2"),
    ("carol", "/customer 9876543210"),
    ("carol", "/bill 9876543210"),
    ("carol", "/bill items INV-202610-0000002"),
    ("carol", "/bill explain INV-202610-0000002"),
    ("root", "/payment record BA100000001 470.82 ref=UTR55"),
    ("carol", '/dispute open INV-202610-0000002 "calls to Dubai not mine"'),
    ("dave", '/dispute resolve T-3 "refunded the Dubai calls" credit=100'),
    # carol opened these herself: their credits wait for a manager (CRD-1, CRD-2)
    ("carol", '/dispute open INV-202609-0000001 "roaming pack never used"'),
    ("carol", '/dispute resolve T-4 "pack refunded" credit=50'),
    ("carol", '/dispute open INV-202610-0000002 "billed twice"'),
    ("carol", '/dispute resolve T-5 "checked with the customer" credit=20'),
    ("carol", "/credit list"),
    ("dave", "/credit approve CRD-1"),
    ("dave", '/credit reject CRD-2 "the charges are right"'),
    ("dave", "/revenue 2026-10"),
    ("dave", "/revenue assurance 2026-10"),
    ("carol", "/order new BA100000001 POST-399"),
    ("dave", "/order show O-4"),
    ("carol", "/order list"),
    ("dave", "/order approve O-1"),
    ("dave", '/order reject O-2 note="out of stock"'),
    ("carol", "/order cancel O-3"),
    ("carol", '/order suspend 917000000001 note="customer abroad"'),
    ("carol", "/order resume 917000000001"),
    ("carol", "/order cease 917000000001"),
    ("erin", "/fraud check 9876543210"),
    ("dave", "/fraud cases"),
    ("erin", "/fraud explain F-1"),
    ("erin", "/fraud confirm F-1"),
    ("erin", '/fraud dismiss F-2 note="a holiday abroad"'),
    ("alice", "/config plan ntp r1-mum servers=10.0.0.5"),
    ("alice", "/config show CR-1"),
    ("alice", "/config apply CR-1"),
    ("alice", "/config rollback CR-1"),
    ("alice", "/config plan ntp r1-mum servers=10.0.0.6"),
    ("alice", "/config cancel CR-2"),
    ("alice", "/config backup r1-mum"),
    ("alice", "/config history r1-mum"),
    ("alice", "/config diff r1-mum"),
    ("dave", "/digest list"),
    ("dave", "/digest preview manager-daily"),
    ("dave", "/digest subscribe manager-daily"),
    ("dave", "/digest unsubscribe manager-daily"),
    ("root", "/audit recent"),
]

#: An amount written for people: a currency sign next to a number.
MONEY_TEXT = re.compile(r"[₹$€£]\s?-?\d")


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small fraud model, so /fraud check scores for real (trained once a run; each
    module's copy is its own)."""

    def train_into(d: Path) -> None:
        frame, labels = synthetic_usage(300, seed=11, fraud_share=0.08, records_per_subscriber=50)
        save_model(train(frame, labels, threshold=0.7, source="test"), d)

    trained = trained_once(tmp_path_factory, "fraud-model-300-seed-11", train_into)
    return copy_models(trained, tmp_path_factory.mktemp("fraud-model"))


def _settings(model_dir: Path) -> Settings:
    settings = load_settings(PROJECT_ROOT / "config.yaml", env={})
    fraud = settings.fraud.model_copy(update={"model_dir": str(model_dir)})
    return settings.model_copy(update={"fraud": fraud})


def _alert(name: str, severity: PerceivedSeverity) -> AlertEvent:
    return AlertEvent(
        fingerprint=name,
        name=name,
        firing=True,
        severity=severity,
        summary=f"r1-mum {name}",
        description="",
        labels={"device": "r1-mum"},
    )


def _history(db: Database) -> None:
    """Bills, alarms (a root cause with a symptom), pending orders and fraud cases."""
    with db.transaction() as s:
        invoice(s, 1, date(2026, 9, 1), recurring=39900)
        october = invoice(s, 2, date(2026, 10, 1), recurring=39900, usage=12000)
        usage(s, october, NOW.replace(month=10, day=5), 12000)
        usage(s, None, NOW - timedelta(days=1), 1500)  # this week's, for /fraud check
        s.add(
            Subscription(
                id=2,
                customer_id=1,
                billing_account_id=1,
                offering_id=1,
                msisdn="919876543211",
                state=SubscriptionState.ACTIVE,
                activated_at=NOW - timedelta(days=40),
            )
        )
    reset_sequences(db)
    sla = {1: 4.0, 2: 8.0, 3: 24.0, 4: 72.0}
    for name, severity in (
        ("DeviceDown", PerceivedSeverity.CRITICAL),
        ("LinkDown", PerceivedSeverity.MAJOR),
    ):
        file_alerts(db, [_alert(name, severity)], now=NOW - timedelta(hours=1), sla_hours=sla)
    with db.transaction() as s:
        for _ in range(3):
            order = create_order(
                s, customer_id=1, offering_id=1, requested_by="carol", monthly_minor=39900
            )
            move_order(s, order.ref, OrderState.PENDING, now=NOW)
        open_cases_within_budget(
            s,
            [
                Flag("919876543210", 0.93, "sim_box", ("IMEI shared with 14 lines",)),
                Flag("919876543211", 0.74, None, ("calls abroad at night",)),
            ],
            model_version="test",
            quiet_days=7,
            now=NOW,
        )


@pytest.fixture
def router(world: Database, model_dir: Path) -> Iterator[Router]:
    _history(world)
    network = FakeNetwork()
    network.add("r1-mum", interfaces=(("GigabitEthernet0/0/0", "uplink", "10.0.1.1/30"),))
    services = build_services(_settings(model_dir), world, clock=lambda: NOW, opener=network)
    yield Router(load_skills(), services)


def _command(text: str) -> str:
    cmd, _ = REGISTRY.find(shlex.split(text.lstrip("/")))
    assert cmd is not None, f"{text}: no such command"
    return cmd.name


def test_every_command_has_an_example() -> None:
    load_skills()
    covered = {_command(text) for _, text in EXAMPLES}
    missing = sorted(c.name for c in REGISTRY if c.name not in covered)
    assert missing == [], "add an example for each to EXAMPLES"


def test_every_reply_carries_its_typed_result(router: Router) -> None:
    access = Access(load_settings(PROJECT_ROOT / "config.yaml", env={}))
    for user, text in EXAMPLES:
        caller = access.user(user)
        cmd, _ = REGISTRY.find(shlex.split(text.lstrip("/")))
        assert cmd is not None and cmd.allows(caller.roles), f"{user} may not run {text}"
        reply = router.handle(caller, text)
        assert reply.ok, f"{text}: {reply.text} ({reply.hint})"
        printed = json.dumps(reply.to_json(), ensure_ascii=False)
        assert json.loads(printed)["data"] is not None, f"{text}: no data"
        data = json.dumps(jsonable(reply.data), ensure_ascii=False)
        assert not MONEY_TEXT.search(data), f"{text}: money as text in data: {data[:300]}"
        assert " object at 0x" not in data, f"{text}: an object without its fields: {data[:300]}"
