"""Digests over signed Slack requests: a private preview with its chart sent to the
caller's direct messages, and subscriptions."""

from __future__ import annotations

from tests.scenario.conftest import Served
from tests.world import populate_world


def test_a_digest_preview_is_private_and_its_chart_goes_to_the_callers_dm(
    served: Served,
) -> None:
    populate_world(served.sb.db)
    preview = served.ask("dave", "/digest preview manager-daily")
    assert preview.method == "response_url" and preview.params["response_type"] == "ephemeral"
    assert preview.params["text"].startswith("Manager daily digest")
    (opened,) = served.slack.wait_for("conversations.open")
    assert opened.params["users"] == "U0DEMODAVE"
    (done,) = served.slack.wait_for("files.completeUploadExternal")
    assert done.params["channel_id"] == "DU0DEMODAVE"
    subscribed = served.ask("dave", "/digest subscribe manager-daily")
    assert subscribed.params["text"].startswith("You will get manager-daily by direct message")
    again = served.ask("dave", "/digest subscribe manager-daily")
    assert again.params["text"] == "You already get manager-daily"
    gone = served.ask("dave", "/digest unsubscribe manager-daily")
    assert gone.params["text"] == "You will no longer get manager-daily"
    unknown = served.ask("dave", "/digest preview weekly")
    assert unknown.params["text"] == "no digest 'weekly'"
