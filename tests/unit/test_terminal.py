"""The terminal rendering of a Reply: emoji instead of Slack shortcodes, full-width
tables for pipes, and `--json` carrying the typed result beside the text."""

from __future__ import annotations

import io
import json
from dataclasses import dataclass
from datetime import UTC, date, datetime
from enum import StrEnum

import pytest

from bot.render.terminal import console_for, emoji, render
from domain.money import Amount
from skills.reply import Field, Reply, Section, Table


def test_every_shortcode_our_messages_use_is_rendered_or_dropped() -> None:
    # Every shortcode the skills and the bot write in a message head.
    for code in (
        "red_circle",
        "large_orange_circle",
        "large_yellow_circle",
        "white_circle",
        "white_check_mark",
        "hourglass",
        "alarm_clock",
        "rotating_light",
        "warning",
    ):
        shown = emoji(f":{code}: A-12 critical")
        assert ":" not in shown.split(" A-12")[0], code
        assert shown.endswith("A-12 critical") and shown != "A-12 critical", code
    assert emoji(":not_an_emoji: text") == "text"
    assert emoji("at 10:30:45 on 2001:db8::1") == "at 10:30:45 on 2001:db8::1"
    assert emoji("```interface :cool: 2001:db8:abc::```") == "```interface :cool: 2001:db8:abc::```"


def test_a_pipe_gets_every_cell_in_full_on_one_line() -> None:
    long = "description " + "x" * 300
    reply = Reply(
        text=":white_check_mark: done",
        sections=(Section(fields=(Field("note", long),)),),
        tables=(Table(("device", "description"), (("r1-mum", long), ("r2-del", "short"))),),
    )
    buffer = io.StringIO()
    render(reply, console_for(buffer))
    text = buffer.getvalue()
    assert "…" not in text and ":white_check_mark:" not in text
    assert text.splitlines()[0] == "✅ done"
    (row,) = [line for line in text.splitlines() if "r1-mum" in line]
    assert long in row


class State(StrEnum):
    SENT = "sent"


@dataclass(frozen=True)
class Invoice:
    number: str
    total: Amount
    due: date
    issued_at: datetime
    state: State


def test_json_carries_the_typed_result_beside_the_text() -> None:
    reply = Reply(
        text="INV-202610-0000001: ₹471.82",
        data=Invoice(
            "INV-202610-0000001",
            Amount(47182, "INR", 2),
            date(2026, 11, 16),
            datetime(2026, 11, 1, 0, 30, tzinfo=UTC),
            State.SENT,
        ),
    )
    out = json.loads(json.dumps(reply.to_json()))
    assert out["text"] == "INV-202610-0000001: ₹471.82"
    assert out["data"] == {
        "number": "INV-202610-0000001",
        "total": {"amount": 471.82, "currency": "INR"},
        "due": "2026-11-16",
        "issued_at": "2026-11-01T00:30:00+00:00",
        "state": "sent",
    }
    assert str(Amount(47182)) == "₹471.82"


@pytest.mark.parametrize(
    ("mrkdwn", "shown"),
    [
        ("*Open tickets* for you", "Open tickets for you"),
        ("```snmp-server community ******** RO```", "snmp-server community ******** RO"),
        (
            "```S*    0.0.0.0/0 [1/0] via 10.0.0.1\n*09:00:01.123 UTC```",
            "S*    0.0.0.0/0 [1/0] via 10.0.0.1\n*09:00:01.123 UTC",
        ),
        ("community ******** kept, *bold* dropped", "community ******** kept, bold dropped"),
    ],
)
def test_the_terminal_drops_slack_marks_but_never_a_mask_or_device_output(
    mrkdwn: str, shown: str
) -> None:
    from bot.render.terminal import plain

    assert plain(mrkdwn) == shown
