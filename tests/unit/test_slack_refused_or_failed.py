"""Which Slack answers refuse a message for good and which are failures to take it: a
refusal is marked done with one warning, a failure stays due and is asked again later
(tests/integration/test_slack_failed_or_refused.py drives both through the loops)."""

from __future__ import annotations

import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web import SlackResponse

from bot.outbound import SLACK_REFUSED, refused_for_good


def _error(status: int, error: str) -> SlackApiError:
    response = SlackResponse(
        client=None,
        http_verb="POST",
        api_url="https://slack.com/api/chat.postMessage",
        req_args={},
        data={"ok": False, "error": error},
        headers={},
        status_code=status,
    )
    return SlackApiError("refused", response)


@pytest.mark.parametrize("error", sorted(SLACK_REFUSED))
def test_what_the_message_or_its_channel_is_refused_for_is_for_good(error: str) -> None:
    assert refused_for_good(_error(200, error))


@pytest.mark.parametrize(
    ("status", "error"),
    [
        (500, "fatal"),
        (503, "service_unavailable"),
        (429, "ratelimited"),
        (200, "fatal_error"),
        (200, "internal_error"),
        (200, "request_timeout"),
        # An operator puts these right in minutes; the messages must still go then.
        (200, "invalid_auth"),
        (200, "not_authed"),
        (200, "token_revoked"),
        (200, "account_inactive"),
        (200, "missing_scope"),
        (200, "team_added_to_org"),
        (200, "some_error_slack_adds_later"),
        (408, "request_timeout"),
        # A refusal's words with a failure's status is a failure.
        (500, "channel_not_found"),
    ],
)
def test_anything_else_is_a_failure_asked_again(status: int, error: str) -> None:
    assert not refused_for_good(_error(status, error))
