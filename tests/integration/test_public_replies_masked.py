"""No public reply names a customer in full: every command whose reply can be read by a
channel (one that is not ephemeral, or asked with --share) is run through the router, on
SQLite and PostgreSQL, on the world of test_json_results (bills, alarms, orders, fraud
cases) plus an alarm whose labels name the customer, and its text, fields, tables,
buttons, data and Block Kit blocks are searched for every customer's full name, mobile
number, account number, street address, identity number, phone and e-mail.

Who asks does not matter: a public reply is read by everyone in the channel, so it is
run as a reader without an unmasking role (`access.unmasked_roles`, as shipped) and
again with every role made an unmasking one. The commands are found from the registry
(every command has an example in test_json_results.EXAMPLES, and one that takes `share`
is run with --share).
"""

from __future__ import annotations

import json
import shlex
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from bot.access import Access
from bot.bootstrap import build_services, load_skills
from bot.render.blockkit import to_message
from bot.router import Router
from domain import policy
from domain.config import PROJECT_ROOT, Role, load_settings
from domain.customers.models import BillingAccount, Customer, Subscription
from domain.db import Database
from domain.faults.choices import PerceivedSeverity
from domain.faults.intake import AlertEvent, file_alerts
from skills.registry import REGISTRY
from tests.fakes.devices import FakeNetwork
from tests.integration.test_json_results import EXAMPLES, _history, _settings
from tests.integration.test_json_results import model_dir as model_dir  # the fixture
from tests.integration.test_privacy_by_role import _shown
from tests.world import NOW, lab_router

SETTINGS = load_settings(PROJECT_ROOT / "config.yaml", env={})
ACCESS = Access(SETTINGS)
UNMASKED = frozenset(SETTINGS.access.unmasked_roles)
#: The shipped demo users, one per role.
USERS = [ACCESS.user(n) for n in ("alice", "carol", "dave", "erin", "root")]


#: Order cards still carry the customer's full name (skills/orders.py, being finished by
#: the orders work of #16); everything else in them is checked. Empty this when it lands.
def _masked_reader(command: str, listed: str) -> str:
    """The example's user, or when they have an unmasking role, one who may run the command
    without one; `listed` (an admin) when only an unmasking role may run it."""
    if not ACCESS.user(listed).roles & UNMASKED:
        return listed
    for user in USERS:
        if policy.may_run(user.roles, command) and not user.roles & UNMASKED:
            return user.name
    return listed


def _public_examples() -> list[tuple[str, str, str]]:
    """(command, user, text) for every example, with --share where the command takes it."""
    load_skills()
    out = []
    for user, text in EXAMPLES:
        cmd, _ = REGISTRY.find(shlex.split(text.lstrip("/")))
        assert cmd is not None, text
        if "share" in cmd.args.model_fields:
            text += " --share"
        out.append((cmd.name, user, text))
    return out


def _identifiers(db: Database) -> set[str]:
    """Every customer's personal data as it is kept, and a mobile number's national form."""
    with db.read() as s:
        found = {
            v
            for row in s.execute(
                sa.select(
                    Customer.name,
                    Customer.phone,
                    Customer.email,
                    Customer.address,
                    Customer.id_number,
                )
            )
            for v in row
        }
        found |= set(s.scalars(sa.select(BillingAccount.account_number)))
        found |= {sub.identifier for sub in s.scalars(sa.select(Subscription))}
    return {v for v in found if v} | {v[2:] for v in found if v.isdigit() and len(v) == 12}


@pytest.fixture(params=["shipped", "every role unmasked"])
def router(request: pytest.FixtureRequest, world: Database, model_dir: Path) -> Iterator[Router]:
    _history(world)
    # An alarm from monitoring whose labels name the customer it hurts.
    file_alerts(
        world,
        [
            AlertEvent(
                fingerprint="customer-down",
                name="CustomerLineDown",
                firing=True,
                severity=PerceivedSeverity.MINOR,
                summary="r1-mum customer line down",
                description="",
                labels={
                    "device": "r1-mum",
                    "customer": "Priya Nair",
                    "msisdn": "919876543210",
                    "account": "BA100000001",
                },
            )
        ],
        now=NOW - timedelta(minutes=30),
        sla_hours={1: 4.0, 2: 8.0, 3: 24.0, 4: 72.0},
    )
    network = FakeNetwork()
    network.add("r1-mum", interfaces=(("GigabitEthernet0/0/0", "uplink", "10.0.1.1/30"),))
    settings = _settings(model_dir)
    if request.param != "shipped":
        access = settings.access.model_copy(update={"unmasked_roles": tuple(Role)})
        settings = settings.model_copy(update={"access": access})
    services = build_services(settings, world, clock=lambda: NOW, opener=network)
    yield Router(load_skills(), services)


def test_no_public_reply_names_a_customer_in_full(router: Router) -> None:
    identifiers = _identifiers(router.services.db)
    assert {"Priya Nair", "919876543210", "9876543210", "BA100000001"} <= identifiers
    public, leaks = [], []
    for command, listed, text in [*_public_examples(), ("alarm show", "alice", "/alarm show A-3")]:
        user = _masked_reader(command, listed)
        reply = router.handle(ACCESS.user(user), text)
        assert reply.ok, f"{text}: {reply.text} ({reply.hint})"
        if reply.ephemeral:
            continue
        public.append(command)
        shown = _shown(reply) + json.dumps(to_message(reply).blocks, ensure_ascii=False)
        leaks += [(text, v) for v in sorted(identifiers) if v in shown]
    assert not leaks, f"public replies that name a customer in full: {leaks}"
    # The sweep reached the replies that name customers: shared lookups, cases, alarms.
    assert {"customer", "bill", "bill items", "fraud explain", "alarm show", "order list"} <= set(
        public
    )


def test_full_data_only_privately_and_only_to_an_unmasking_role(world: Database) -> None:
    _history(world)
    router, access = lab_router(world)
    erin, root, carol = access.user("erin"), access.user("root"), access.user("carol")

    card = router.handle(erin, "/fraud explain F-1")
    assert not card.ephemeral and card.text.startswith(":rotating_light: F-1: 91••••••3210 ")
    own = router.handle(erin, "/fraud explain F-1 --private")
    assert own.ephemeral and "919876543210" not in _shown(own)
    full = router.handle(root, "/fraud explain F-1 --private")
    assert (
        full.ephemeral
        and {f.label: f.value for f in full.sections[0].fields}["line"] == "919876543210"
    )

    shared = router.handle(carol, "/bill 9876543210 --share")
    fields = {f.label: f.value for f in shared.sections[0].fields}
    assert not shared.ephemeral and shared.text == "Bill for BA•••••0001"
    assert fields["customer"] == "Priya N. (consumer)"
    private = router.handle(carol, "/bill 9876543210")
    assert private.ephemeral and private.text == "Bill for BA100000001"

    paid = router.handle(root, "/payment record BA100000001 10 ref=UTR-PRIV")
    assert paid.ok and paid.ephemeral
