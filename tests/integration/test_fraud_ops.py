"""Fraud in operation on seeded data: the scoring job opens cases and posts them with
buttons; analysts confirm (the line is suspended through an order) or dismiss; the
decisions become labels that training from the database reads."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa

from bot.bootstrap import Switchboard, bootstrap
from bot.cli import main
from bot.jobs import score_fraud
from bot.outbound import Outbound
from bot.slack.edge import web_client
from domain.config import PROJECT_ROOT, Settings, load_settings
from domain.customers.models import Subscription
from domain.db import Database
from domain.demo.seed import seed
from domain.fraud.models import FraudCase, FraudLabel
from domain.orders.models import ProductOrder
from tests import fraud_lines
from tests.fakes.slack_api import FakeSlack
from tests.fraud_lines import copy_models
from tests.world import AS_OF, SMALL, make_router

cli_model_dir = fraud_lines.cli_model_dir

NOW = datetime(AS_OF.year, AS_OF.month, AS_OF.day, tzinfo=UTC)


@pytest.fixture(scope="module")
def desk(
    tmp_path_factory: pytest.TempPathFactory, cli_model_dir: Path
) -> Iterator[tuple[Switchboard, FakeSlack, Path]]:
    d = tmp_path_factory.mktemp("frauddesk")
    db = Database(f"sqlite:///{d / 'desk.db'}")
    seed(db, SMALL, seed=5, as_of=AS_OF)
    db.dispose()
    config = d / "config.yaml"
    config.write_text(
        (PROJECT_ROOT / "config.yaml")
        .read_text()
        .replace("model_dir: var/models/fraud", f"model_dir: {d / 'models'}")
    )
    copy_models(cli_model_dir, d)  # what `fraud train --lines 3000` writes
    with FakeSlack() as slack:
        settings: Settings = load_settings(
            config,
            env={
                "SLACK_BOT_TOKEN": "xoxb-t",
                "SLACK_API_URL": slack.api_url,
                "SWITCHBOARD_DATABASE_URL": f"sqlite:///{d / 'desk.db'}",
            },
        )
        sb = bootstrap(settings)
        yield sb, slack, config
        sb.close()


def test_scoring_opens_cases_posts_them_and_analysts_decide(
    desk: tuple[Switchboard, FakeSlack, Path],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    sb, slack, config = desk
    outbound = Outbound(web_client(sb.settings.slack), per_channel_s=0.01)
    made = len(score_fraud(sb, outbound, NOW).opened)
    assert made >= 2
    with sb.db.read() as s:
        cases = s.scalars(sa.select(FraudCase).order_by(FraudCase.score.desc())).all()
        truth = set(s.scalars(sa.select(FraudLabel.subscription_id).where(FraudLabel.is_fraud)))
    hits = [c for c in cases if c.subscription_id in truth]
    assert len(hits) / len(cases) >= 0.8  # flags are mostly the seeded fraud
    assert all(c.reasons and c.model_version for c in cases)
    posts = slack.calls_to("chat.postMessage")
    assert len(posts) == made and {p.params["channel"] for p in posts} == {"#fraud-alerts"}
    labels = [
        e["text"]["text"]
        for b in posts[0].params["blocks"]
        if b["type"] == "actions"
        for e in b["elements"]
    ]
    assert labels == ["Confirm & suspend", "Dismiss", "Open case"]

    # Scoring again finds the same lines: nothing new while their cases are open.
    assert score_fraud(sb, outbound, NOW).opened == ()

    erin = sb.access.user("erin")
    first, second = hits[0], hits[1]
    confirmed = sb.router.handle(erin, f"/fraud confirm {first.ref}")
    assert confirmed.ok, confirmed.text
    dismissed = sb.router.handle(erin, f'/fraud dismiss {second.ref} note="known call centre"')
    assert dismissed.text == f"{second.ref} dismissed by erin"
    refused = sb.router.handle(sb.access.user("carol"), f"/fraud confirm {cases[-1].ref}")
    assert refused.text == "/fraud confirm needs the fraud_analyst role; you have care_agent"
    with sb.db.read() as s:
        line = s.get(Subscription, first.subscription_id)
        assert line is not None and line.state == "suspended"
        order = s.scalars(
            sa.select(ProductOrder).where(ProductOrder.subscription_id == first.subscription_id)
        ).one()
        assert (order.action, order.state, order.requested_by) == ("suspend", "completed", "erin")
        decided = s.scalars(
            sa.select(FraudLabel).where(FraudLabel.source == "analyst").order_by(FraudLabel.id)
        ).all()
        assert [(x.subscription_id, x.is_fraud) for x in decided] == [
            (first.subscription_id, True),
            (second.subscription_id, False),
        ]
    outbound.stop()

    # Training from the database learns from the analysts' word too (on top of the
    # generated set, as small as the session's model: the decisions are what is tested).
    monkeypatch.setenv("SWITCHBOARD_DATABASE_URL", sb.db.url)
    capsys.readouterr()
    assert main(["--config", str(config), "fraud", "train", "--from-db", "--lines", "2400"]) == 0
    assert "learning from 1 confirmed and 1 dismissed cases" in capsys.readouterr().out


def test_check_scores_one_line_now(desk: tuple[Switchboard, FakeSlack, Path]) -> None:
    sb, _, _ = desk
    with sb.db.read() as s:
        fraud = s.scalars(
            sa.select(Subscription.msisdn)
            .join(FraudLabel, FraudLabel.subscription_id == Subscription.id)
            .where(FraudLabel.is_fraud, FraudLabel.source == "seed", Subscription.state == "active")
        ).first()
    assert fraud is not None

    router = make_router(sb.db, sb.settings, clock=lambda: NOW)  # the data's today
    erin = sb.access.user("erin")
    checked = router.handle(erin, f"/fraud check {fraud}")
    assert checked.ok and checked.ephemeral and checked.text.startswith(f"{fraud}: score ")
    missing = router.handle(erin, "/fraud check 9999999999")
    assert not missing.ok and missing.text == "no subscription with number 919999999999"
