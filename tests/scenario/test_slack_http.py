"""Slack over HTTP end to end: signed requests into `serve`, answers into a fake Slack."""

from __future__ import annotations

import time
import urllib.request

import pytest
import sqlalchemy as sa

from bot import metrics
from bot.slack import edge
from domain.audit.models import AuditEvent
from domain.orders.choices import OrderState
from domain.orders.services import create_order, get_order, move_order
from tests.scenario.conftest import USERS, Served, sign
from tests.world import populate_world


def pending_order(served: Served, requester: str = "carol") -> str:
    db = served.sb.db
    if not served.sb.db.engine.connect().execute(sa.text("SELECT 1 FROM customers")).first():
        populate_world(db)
    with db.transaction() as s:
        ref = create_order(s, customer_id=1, offering_id=1, requested_by=requester).ref
        move_order(s, ref, OrderState.PENDING)
    return ref


def test_a_command_is_acked_at_once_and_answered_privately(served: Served) -> None:
    answer, response_url = served.command("erin", "/ops whoami")
    assert answer.status == 200 and answer.body == b""
    (posted,) = served.slack.wait_for("response_url")
    assert posted.params["_url"].endswith(response_url.rsplit("/", 2)[-1])
    assert posted.params["response_type"] == "ephemeral"
    assert posted.params["text"] == "You are Erin Bose"
    assert "fraud_analyst" in str(posted.params["blocks"])


def test_a_public_reply_is_posted_to_the_channel_with_buttons(served: Served) -> None:
    ref = pending_order(served)
    served.command("dave", f"/order show {ref}", channel="C0ORDERS")
    (post,) = served.slack.wait_for("chat.postMessage")
    assert post.params["channel"] == "C0ORDERS"
    assert post.headers["authorization"] == "Bearer xoxb-test-token"
    actions = next(b for b in post.params["blocks"] if b["type"] == "actions")["elements"]
    assert [(a["text"]["text"], a.get("style")) for a in actions] == [
        ("Approve", "primary"),
        ("Reject", "danger"),
    ]
    assert actions[0]["value"] == f"/order approve {ref}"


def test_a_forged_signature_gets_401_and_reaches_nothing(served: Served) -> None:
    body = b"command=%2Fops&text=whoami&user_id=U0DEMOROOT&channel_id=C1&response_url=x"
    headers = sign(body, secret="not-the-secret")
    answer = served.post(body, "application/x-www-form-urlencoded", headers, signed=False)
    assert answer.status == 401
    stale = served.post(
        body,
        "application/x-www-form-urlencoded",
        sign(body, timestamp=int(time.time()) - 600),
        signed=False,
    )
    assert stale.status == 401
    unsigned = served.post(body, "application/x-www-form-urlencoded", signed=False)
    assert unsigned.status == 401
    time.sleep(0.3)
    assert served.slack.calls == []


def test_a_redelivery_is_handled_once(served: Served) -> None:
    first, _ = served.command("root", "/ops whoami", trigger_id="trig.same")
    again, _ = served.command("root", "/ops whoami", trigger_id="trig.same")
    retried, _ = served.command(
        "root",
        "/ops whoami",
        trigger_id="trig.other",
        headers={"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"},
    )
    assert (first.status, again.status, retried.status) == (200, 200, 200)
    served.slack.wait_for("response_url")
    time.sleep(0.5)
    assert len(served.slack.calls_to("response_url")) == 1


def test_a_double_click_on_approve_gives_one_decision(served: Served) -> None:
    ref = pending_order(served)
    served.command("dave", f"/order show {ref}")
    (post,) = served.slack.wait_for("chat.postMessage")
    message = {"ts": "1700000001.000100", "blocks": post.params["blocks"]}
    approve = next(b for b in post.params["blocks"] if b["type"] == "actions")["elements"][0]
    served.click("dave", approve, message)
    served.click("dave", approve, message)
    (update,) = served.slack.wait_for("chat.update")
    refusal = served.slack.wait_for("response_url")[-1]
    time.sleep(0.3)
    assert len(served.slack.calls_to("chat.update")) == 1
    assert update.params["text"] == f"{ref} approved by dave; completed: 917000000001 is active"
    assert not any(b["type"] == "actions" for b in update.params["blocks"])
    # The second click may land while the first is still activating the line.
    assert refusal.params["text"].startswith(f"order {ref} was already decided by dave (")
    with served.sb.db.read() as s:
        assert get_order(s, ref).state == OrderState.COMPLETED


def test_roles_are_checked_again_on_click(served: Served) -> None:
    ref = pending_order(served)
    button = {"action_id": "sb:0", "value": f"/order approve {ref}"}
    served.click("carol", button, {"ts": "1700000009.000100", "blocks": []})
    (refusal,) = served.slack.wait_for("response_url")
    assert refusal.params["text"] == "/order approve needs the manager role; you have care_agent"
    assert refusal.params["response_type"] == "ephemeral"
    assert served.slack.calls_to("chat.update") == []
    with served.sb.db.read() as s:
        assert get_order(s, ref).state == OrderState.PENDING
        event = s.scalars(sa.select(AuditEvent).order_by(AuditEvent.id.desc())).first()
    assert event is not None
    assert (event.actor, event.via, event.outcome) == ("carol", "slack:click", "refused")


def test_reject_asks_why_in_a_modal_and_the_submission_decides(served: Served) -> None:
    ref = pending_order(served)
    served.command("dave", f"/order show {ref}")
    (post,) = served.slack.wait_for("chat.postMessage")
    reject = next(b for b in post.params["blocks"] if b["type"] == "actions")["elements"][1]
    assert reject["action_id"].startswith("sb:form:")
    served.click(
        "dave",
        reject,
        {"ts": "1700000002.000100", "blocks": post.params["blocks"]},
        channel="C0ORDERS",
    )
    (opened,) = served.slack.wait_for("views.open")
    view = opened.params["view"]
    assert view["callback_id"] == "sb:form" and view["blocks"][0]["block_id"] == "note"
    answer = served.interactive(
        {
            "type": "view_submission",
            "user": {"id": USERS["dave"]},
            "trigger_id": "trig.v1",
            "view": {
                **view,
                "id": "V0VIEW1",
                "hash": "h1",
                "state": {
                    "values": {
                        "note": {
                            "value": {"type": "plain_text_input", "value": "over credit limit"}
                        }
                    }
                },
            },
        }
    )
    assert answer.status == 200
    (update,) = served.slack.wait_for("chat.update")
    assert update.params["channel"] == "C0ORDERS" and update.params["ts"] == "1700000002.000100"
    with served.sb.db.read() as s:
        order = get_order(s, ref)
        assert (order.state, order.decision_note) == (OrderState.REJECTED, "over credit limit")


def test_help_is_filtered_by_role_and_bad_text_gets_the_usage_line(served: Served) -> None:
    served.command("alice", "/ops help")
    served.command("dave", "/order approve")
    calls = served.slack.wait_for("response_url", 2)
    by_text = {c.params["text"]: c for c in calls}
    help_text = str(next(c for t, c in by_text.items() if "commands you may run" in t).params)
    assert "/order show" in help_text and "/order approve" not in help_text
    usage = by_text["missing <order>"]
    assert "usage: /order approve &lt;order&gt; [note=NOTE]" in str(usage.params["blocks"])


def test_someone_not_in_the_config_has_no_role(served: Served) -> None:
    served.command("U0STRANGER", "/order list")
    (answer,) = served.slack.wait_for("response_url")
    assert (
        answer.params["text"] == "/order list needs the care_agent or engineer or manager "
        "role; you have no role"
    )


def test_app_home_shows_the_callers_roles(served: Served) -> None:
    assert (
        served.event({"type": "app_home_opened", "user": USERS["dave"], "tab": "home"}).status
        == 200
    )
    (published,) = served.slack.wait_for("views.publish")
    assert published.params["user_id"] == USERS["dave"]
    view = str(published.params["view"])
    assert "Roles: manager" in view and "/order list pending" in view


def test_an_event_redelivered_is_handled_once(served: Served) -> None:
    event = {"type": "app_home_opened", "user": USERS["erin"], "tab": "home"}
    served.event(event, event_id="Ev0SAME")
    served.event(event, event_id="Ev0SAME")
    served.slack.wait_for("views.publish")
    time.sleep(0.4)
    assert len(served.slack.calls_to("views.publish")) == 1


def test_a_long_table_goes_out_as_a_file_in_three_steps(served: Served) -> None:
    for n in range(210):  # wide rows: more than a few blocks can hold
        served.sb.router.handle(served.sb.access.user("alice"), f"/ops help topic{n:03d}{'x' * 60}")
    served.command("root", "/audit recent limit=200")
    (complete,) = served.slack.wait_for("files.completeUploadExternal")
    get_url = served.slack.calls_to("files.getUploadURLExternal")
    uploads = served.slack.calls_to("upload")
    assert len(get_url) == 1 and len(uploads) == 1
    assert complete.params["channel_id"] == f"D{USERS['root']}"
    content = served.slack.uploads[uploads[0].params["file_id"]].decode()
    assert content.splitlines()[0] == "at (UTC),who,command,outcome,as typed"
    assert len(content.splitlines()) == 201


def test_healthz_and_metrics(served: Served) -> None:
    with urllib.request.urlopen(served.url + "/healthz", timeout=5) as resp:
        assert resp.status == 200 and b'"database":"ok"' in resp.read()
    labels = {"command": "ops whoami", "outcome": "ok"}
    before = metrics.REGISTRY.get_sample_value("switchboard_commands_total", labels) or 0
    served.command("erin", "/ops whoami")
    served.slack.wait_for("response_url")
    with urllib.request.urlopen(served.url + "/metrics", timeout=5) as resp:
        text = resp.read().decode()
    assert f'switchboard_commands_total{{command="ops whoami",outcome="ok"}} {before + 1}' in text
    assert "\nswitchboard_queue_depth " in text
    assert 'switchboard_command_seconds_count{command="ops whoami"}' in text


def test_a_429_is_retried_after_retry_after_and_delivered_once(served: Served) -> None:
    ref = pending_order(served)
    served.slack.fail_next("chat.postMessage", status=429, retry_after=1)
    started = time.monotonic()
    served.command("dave", f"/order show {ref}")
    attempts = served.slack.wait_for("chat.postMessage", 2)
    assert attempts[1].at - attempts[0].at >= 0.9  # waited as Slack asked
    time.sleep(0.3)
    assert len(served.slack.calls_to("chat.postMessage")) == 2  # one refused, one delivered
    assert time.monotonic() - started < 10


def test_a_500_is_retried_and_the_answer_delivered_once(served: Served) -> None:
    served.slack.fail_next("chat.postMessage", status=500, times=2)
    ref = pending_order(served)
    served.command("dave", f"/order show {ref}")
    attempts = served.slack.wait_for("chat.postMessage", 3, timeout=20)
    time.sleep(0.5)
    assert len(attempts) == len(served.slack.calls_to("chat.postMessage")) == 3
    assert attempts[-1].params["text"] == attempts[0].params["text"]


def test_progress_posts_once_then_updates_in_place(served: Served) -> None:
    report = served.service.edge.progress("C0CHANGES")
    report("1/3 devices done")
    report("3/3 devices done")
    (post,) = served.slack.calls_to("chat.postMessage")
    (update,) = served.slack.calls_to("chat.update")
    assert post.params["text"] == ":hourglass: 1/3 devices done"
    assert (update.params["ts"], update.params["text"]) == (
        "1700000001.000100",
        ":hourglass: 3/3 devices done",
    )


def test_roles_can_come_from_a_slack_user_group(served_groups: Served) -> None:
    served_groups.slack.usergroups["S0NOC"] = ["U0NEWHIRE"]
    served_groups.command("U0NEWHIRE", "/ops whoami")
    (answer,) = served_groups.slack.wait_for("response_url")
    assert "engineer" in str(answer.params["blocks"])
    (lookup,) = served_groups.slack.calls_to("usergroups.users.list")
    assert lookup.params["usergroup"] == "S0NOC"


def test_a_user_group_slack_failed_to_read_is_asked_again_soon(
    served_groups: Served, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Slack failing to list a group gives nobody its roles, and is asked again after
    GROUP_RETRY_S (0 here), not after the membership's whole TTL."""
    monkeypatch.setattr(edge, "GROUP_RETRY_S", 0.0)
    served_groups.slack.usergroups["S0NOC"] = ["U0NEWHIRE"]
    served_groups.slack.fail_next("usergroups.users.list", status=500, times=3)  # > retries
    served_groups.command("U0NEWHIRE", "/ops whoami")
    (first,) = served_groups.slack.wait_for("response_url")
    assert "engineer" not in str(first.params["blocks"])  # unread: no group roles
    served_groups.command("U0NEWHIRE", "/ops whoami")
    second = served_groups.slack.wait_for("response_url", 2)[1]
    assert "engineer" in str(second.params["blocks"])
    assert len(served_groups.slack.calls_to("usergroups.users.list")) == 4  # 3 failed + 1
