"""The fake Slack Web API refuses what real Slack refuses, with Slack's own answers."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from tests.fakes.slack_api import FakeSlack, block_kit_errors, view_errors


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    with FakeSlack() as fake:
        fake.expect_rejections()  # these tests send what Slack refuses on purpose
        yield fake


def call(slack: FakeSlack, method: str, body: dict[str, Any]) -> dict[str, Any]:
    """POST one Web API call as JSON with a bot token; Slack's JSON answer."""
    request = urllib.request.Request(
        slack.api_url + method,
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json", "Authorization": "Bearer xoxb-test"},
    )
    with urllib.request.urlopen(request, timeout=5) as answer:
        assert answer.status == 200  # Slack answers refusals with 200 and ok: false
        return dict(json.loads(answer.read()))


def section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def button(label: str = "Approve", value: str = "/order approve O-1", n: int = 0) -> dict[str, Any]:
    return {
        "type": "button",
        "action_id": f"sb:{n}",
        "text": {"type": "plain_text", "text": label},
        "value": value,
    }


def mrkdwn(text: str) -> dict[str, str]:
    return {"type": "mrkdwn", "text": text}


#: (what is at Slack's limit, the same one past it): the first is taken, the second refused.
LIMITS: dict[str, tuple[list[dict[str, Any]], list[dict[str, Any]]]] = {
    "50 blocks a message": ([section("x")] * 50, [section("x")] * 51),
    "3,000 characters a section text": ([section("x" * 3000)], [section("x" * 3001)]),
    "10 fields a section": (
        [{"type": "section", "fields": [mrkdwn("f")] * 10}],
        [{"type": "section", "fields": [mrkdwn("f")] * 11}],
    ),
    "2,000 characters a field": (
        [{"type": "section", "fields": [mrkdwn("f" * 2000)]}],
        [{"type": "section", "fields": [mrkdwn("f" * 2001)]}],
    ),
    "150 characters a header": (
        [{"type": "header", "text": {"type": "plain_text", "text": "h" * 150}}],
        [{"type": "header", "text": {"type": "plain_text", "text": "h" * 151}}],
    ),
    "75 characters a button label": (
        [{"type": "actions", "elements": [button("b" * 75)]}],
        [{"type": "actions", "elements": [button("b" * 76)]}],
    ),
    "2,000 characters a button value": (
        [{"type": "actions", "elements": [button(value="v" * 2000)]}],
        [{"type": "actions", "elements": [button(value="v" * 2001)]}],
    ),
    "25 elements an actions block": (
        [{"type": "actions", "elements": [button(n=i) for i in range(25)]}],
        [{"type": "actions", "elements": [button(n=i) for i in range(26)]}],
    ),
    "10 elements a context block": (
        [{"type": "context", "elements": [mrkdwn("c")] * 10}],
        [{"type": "context", "elements": [mrkdwn("c")] * 11}],
    ),
    "known block types": ([{"type": "divider"}], [{"type": "carousel"}]),
    "text of at least one character": ([section("x")], [section("")]),
    "action ids unique in a block": (
        [{"type": "actions", "elements": [button(n=0), button(n=1)]}],
        [{"type": "actions", "elements": [button(n=0), button(n=0)]}],
    ),
    "no input blocks in messages": (
        [section("x")],
        [
            {
                "type": "input",
                "label": {"type": "plain_text", "text": "Why?"},
                "element": {"type": "plain_text_input", "action_id": "value"},
            }
        ],
    ),
}


@pytest.mark.parametrize("limit", LIMITS)
def test_each_block_kit_limit_takes_the_limit_and_refuses_one_past_it(
    slack: FakeSlack, limit: str
) -> None:
    at_limit, past_limit = LIMITS[limit]
    taken = call(slack, "chat.postMessage", {"channel": "C1", "text": "t", "blocks": at_limit})
    assert taken["ok"] is True, taken
    refused = call(slack, "chat.postMessage", {"channel": "C1", "text": "t", "blocks": past_limit})
    assert refused["ok"] is False
    assert refused["error"] == "invalid_blocks"
    assert refused["errors"] and all("[json-pointer:/blocks" in e for e in refused["errors"])
    assert refused["response_metadata"]["messages"][0].startswith("[ERROR] ")
    assert [c.error for c in slack.calls_to("chat.postMessage")] == [None, "invalid_blocks"]


def test_slack_says_where_and_what_as_it_does() -> None:
    errors = block_kit_errors([section("ok"), section("x" * 3001)])
    assert errors == ["must be less than 3001 characters [json-pointer:/blocks/1/text/text]"]


@pytest.mark.parametrize(
    ("method", "extra"),
    [("chat.update", {"ts": "1700000001.000100"}), ("chat.postEphemeral", {"user": "U1"})],
)
def test_updates_and_ephemeral_messages_are_held_to_the_same_limits(
    slack: FakeSlack, method: str, extra: dict[str, str]
) -> None:
    body = {"channel": "C1", "text": "t", **extra}
    assert call(slack, method, {**body, "blocks": [section("x")]})["ok"] is True
    refused = call(slack, method, {**body, "blocks": [section("x" * 3001)]})
    assert (refused["ok"], refused["error"]) == (False, "invalid_blocks")


def modal(**fields: Any) -> dict[str, Any]:
    def plain(text: str) -> dict[str, str]:
        return {"type": "plain_text", "text": text}

    view: dict[str, Any] = {
        "type": "modal",
        "title": plain("Reject O-7"),
        "submit": plain("Submit"),
        "close": plain("Cancel"),
        "blocks": [section("x")],
    }
    for key, value in fields.items():
        view[key] = plain(value) if key in ("title", "submit", "close") else value
    return view


VIEW_LIMITS: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {
    "modal title 24": (modal(title="t" * 24), modal(title="t" * 25)),
    "modal submit 24": (modal(submit="s" * 24), modal(submit="s" * 25)),
    "modal close 24": (modal(close="c" * 24), modal(close="c" * 25)),
    "private_metadata 3,000": (
        modal(private_metadata="m" * 3000),
        modal(private_metadata="m" * 3001),
    ),
    "100 blocks a modal": (modal(blocks=[section("x")] * 100), modal(blocks=[section("x")] * 101)),
    "section text in a modal": (modal(blocks=[section("x" * 3000)]), modal(blocks=[section("")])),
}


@pytest.mark.parametrize("limit", VIEW_LIMITS)
def test_views_are_refused_as_invalid_arguments_with_slacks_messages(
    slack: FakeSlack, limit: str
) -> None:
    at_limit, past_limit = VIEW_LIMITS[limit]
    assert call(slack, "views.open", {"trigger_id": "t1", "view": at_limit})["ok"] is True
    refused = call(slack, "views.open", {"trigger_id": "t1", "view": past_limit})
    assert (refused["ok"], refused["error"]) == (False, "invalid_arguments")
    messages = refused["response_metadata"]["messages"]
    assert messages[0] == "[ERROR] failed to match all allowed schemas [json-pointer:/view]"
    assert len(messages) >= 2 and all("[json-pointer:/view" in m for m in messages)


def test_app_home_takes_100_blocks_and_views_update_is_checked_too(slack: FakeSlack) -> None:
    home = {"type": "home", "blocks": [section("x")] * 100}
    assert call(slack, "views.publish", {"user_id": "U1", "view": home})["ok"] is True
    too_many = {"type": "home", "blocks": [section("x")] * 101}
    assert call(slack, "views.publish", {"user_id": "U1", "view": too_many})["error"] == (
        "invalid_arguments"
    )
    long_title = modal(title="a title longer than slack allows")
    refused = call(slack, "views.update", {"view_id": "V1", "view": long_title})
    assert refused["error"] == "invalid_arguments"
    assert view_errors(modal()) == []
    # 51 blocks are too many for a message but fine in a modal.
    assert view_errors(modal(blocks=[section("x")] * 51)) == []


def test_a_modal_with_inputs_needs_a_submit_button() -> None:
    view = modal(
        blocks=[
            {
                "type": "input",
                "block_id": "note",
                "label": {"type": "plain_text", "text": "Why?"},
                "element": {"type": "plain_text_input", "action_id": "value"},
            }
        ]
    )
    assert view_errors(view) == []
    del view["submit"]
    assert view_errors(view) == [
        "must provide submit when the view has input blocks [json-pointer:/view/submit]"
    ]


def post_response_url(slack: FakeSlack, body: dict[str, Any]) -> tuple[int, str]:
    request = urllib.request.Request(
        slack.response_url("cmd1"),
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=5) as answer:
            return answer.status, answer.read().decode()
    except urllib.error.HTTPError as refused:
        return refused.code, refused.read().decode()


def test_a_response_url_refuses_with_http_400_and_the_code_as_plain_text(
    slack: FakeSlack,
) -> None:
    assert post_response_url(slack, {"text": "t", "blocks": [section("x")]}) == (200, "ok")
    assert post_response_url(slack, {"text": "t", "blocks": [section("x")] * 51}) == (
        400,
        "invalid_blocks",
    )
    assert post_response_url(slack, {"response_type": "ephemeral"}) == (400, "no_text")
    assert post_response_url(slack, {"delete_original": True}) == (200, "ok")
    assert [c.error for c in slack.calls_to("response_url")] == [
        None,
        "invalid_blocks",
        "no_text",
        None,
    ]


def test_an_unknown_method_is_refused(slack: FakeSlack) -> None:
    answer = call(slack, "chat.postMesage", {"channel": "C1", "text": "typo"})
    assert answer == {"ok": False, "error": "unknown_method", "req_method": "chat.postMesage"}


MISSING = [
    ("chat.postMessage", {"text": "no channel"}, "channel_not_found"),
    ("chat.postMessage", {"channel": "C1"}, "no_text"),
    ("chat.postMessage", {"channel": "C1", "text": "", "blocks": []}, "no_text"),
    ("chat.update", {"channel": "C1", "text": "no ts"}, "invalid_arguments"),
    ("chat.update", {"ts": "1.2", "text": "no channel"}, "channel_not_found"),
    ("chat.postEphemeral", {"channel": "C1", "text": "to nobody"}, "invalid_arguments"),
    ("views.open", {"view": modal()}, "invalid_arguments"),
    ("views.open", {"trigger_id": "t1"}, "invalid_arguments"),
    ("views.update", {"view": modal()}, "invalid_arguments"),
    ("views.publish", {"view": {"type": "home", "blocks": []}}, "invalid_arguments"),
    ("files.completeUploadExternal", {"channel_id": "C1"}, "invalid_arguments"),
    ("files.completeUploadExternal", {"files": [{"title": "no id"}]}, "invalid_arguments"),
    ("files.getUploadURLExternal", {"filename": "a.csv"}, "invalid_arguments"),
    ("conversations.open", {}, "users_list_not_supplied"),
]


@pytest.mark.parametrize(("method", "body", "error"), MISSING)
def test_a_missing_argument_is_refused(
    slack: FakeSlack, method: str, body: dict[str, Any], error: str
) -> None:
    answer = call(slack, method, body)
    assert (answer["ok"], answer["error"]) == (False, error)
    if error == "invalid_arguments":
        assert answer["response_metadata"]["messages"][0].startswith("[ERROR] ")


def test_the_real_client_gets_slacks_refusal_and_a_valid_message_goes_through(
    slack: FakeSlack,
) -> None:
    client = WebClient(token="xoxb-test", base_url=slack.api_url)
    posted = client.chat_postMessage(
        channel="#ops",
        text="Order O-7",
        blocks=[
            {"type": "header", "text": {"type": "plain_text", "text": "Order O-7"}},
            section("*Order O-7: add POST-399*"),
            {"type": "section", "fields": [mrkdwn("*Plan*\nPOST-399"), mrkdwn("*State*\npending")]},
            {"type": "context", "elements": [mrkdwn("typed twin: `/order approve O-7`")]},
            {"type": "divider"},
            {"type": "actions", "elements": [button(n=0), button("Reject", "/order reject", 1)]},
        ],
    )
    assert posted["ok"] and posted["channel"].startswith("C0")
    with pytest.raises(SlackApiError) as refused:
        client.chat_postMessage(channel="C1", text="t", blocks=[section("x")] * 51)
    assert refused.value.response["error"] == "invalid_blocks"
    assert refused.value.response["errors"] == [
        "no more than 50 items allowed [json-pointer:/blocks]"
    ]


def test_a_test_whose_code_sent_what_slack_refuses_fails_when_the_fake_closes() -> None:
    closing = pytest.raises(
        AssertionError, match=r"chat.postMessage: invalid_blocks \(must be less"
    )
    with closing, FakeSlack() as fake:
        call(fake, "chat.postMessage", {"channel": "C1", "blocks": [section("x" * 3001)]})
    # Failures the test injects itself (429s, 500s) are not the code's fault.
    with FakeSlack() as fake:
        fake.fail_next("chat.postMessage", status=429)
        with pytest.raises(urllib.error.HTTPError):
            call(fake, "chat.postMessage", {"channel": "C1", "text": "t"})
        assert call(fake, "chat.postMessage", {"channel": "C1", "text": "t"})["ok"]
        assert fake.refused() == []
