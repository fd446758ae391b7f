"""Replies as Block Kit, inside Slack's limits."""

from __future__ import annotations

import json

from bot.render.blockkit import MAX_BLOCKS, MAX_TEXT, to_message
from bot.slack.manifest import manifest
from skills.registry import Registry
from skills.reply import Button, Confirm, Field, Form, Input, Reply, Section, Table


def test_sections_fields_buttons_and_confirm() -> None:
    reply = Reply(
        text="Order O-7: add POST-399",
        sections=(Section(fields=tuple(Field(f"k{i}", f"v{i}") for i in range(12))),),
        buttons=(
            Button(
                "Approve",
                "/order approve O-7",
                style="primary",
                confirm=Confirm("Sure?", "Approve O-7?"),
            ),
            Button(
                "Reject",
                "/order reject O-7",
                style="danger",
                form=Form("Reject O-7", (Input("note", "Why?", multiline=True),)),
            ),
        ),
    )
    blocks = to_message(reply).blocks
    assert blocks[0]["text"]["text"] == "*Order O-7: add POST-399*"
    fields = [b for b in blocks if "fields" in b]
    assert [len(b["fields"]) for b in fields] == [10, 2]  # Slack allows 10 a section
    approve, reject = blocks[-1]["elements"]
    assert (approve["action_id"], approve["value"], approve["style"]) == (
        "sb:0",
        "/order approve O-7",
        "primary",
    )
    assert approve["confirm"]["title"]["text"] == "Sure?"
    assert reject["action_id"] == "sb:form:1"
    assert json.loads(reject["value"])["inputs"][0]["name"] == "note"


def test_user_text_cannot_inject_mentions_or_links() -> None:
    blocks = to_message(Reply(text="<!channel> <http://evil|click> & more")).blocks
    assert blocks[0]["text"]["text"] == "*&lt;!channel&gt; &lt;http://evil|click&gt; &amp; more*"


def test_a_long_table_is_split_over_blocks_and_a_very_long_one_becomes_a_csv_file() -> None:
    rows = tuple((f"r{i}", "x" * 40) for i in range(200))
    split = to_message(Reply(text="big", tables=(Table(("name", "value"), rows),)))
    tables = [b["text"]["text"] for b in split.blocks[1:]]
    assert split.files == [] and 2 <= len(tables) <= 6
    assert all(t.startswith("```name") and len(t) <= 3000 for t in tables)  # header each time
    assert sum(t.count("\nr") for t in tables) == 200  # every row once, none cut
    huge = tuple((f"r{i}", "x" * 40) for i in range(2000))
    message = to_message(Reply(text="huge", tables=(Table(("name", "value"), huge),)))
    assert len(message.files) == 1
    assert message.files[0].content.decode().splitlines()[0] == "name,value"
    assert "2,000 rows: attached as table-1.csv" in message.blocks[-1]["text"]["text"]
    small = to_message(Reply(text="small", tables=(Table(("a",), (("1",),)),)))
    assert small.files == [] and small.blocks[-1]["text"]["text"].startswith("```a")


def test_never_more_than_50_blocks_or_3000_characters_a_section() -> None:
    reply = Reply(text="x" * 5000, sections=tuple(Section(text=f"s{i}") for i in range(80)))
    blocks = to_message(reply).blocks
    assert len(blocks) == MAX_BLOCKS
    assert all(len(b.get("text", {}).get("text", "")) <= MAX_TEXT for b in blocks)
    assert blocks[-1]["text"]["text"].startswith("… ")


def test_manifest_lists_one_slash_command_per_group() -> None:
    from bot.bootstrap import load_skills

    registry: Registry = load_skills()
    data = manifest(registry, url="https://sb.example.net/", socket_mode=False)
    commands = {c["command"]: c for c in data["features"]["slash_commands"]}
    assert {"/ops", "/order", "/audit"} <= set(commands)
    assert commands["/order"]["url"] == "https://sb.example.net/slack/events"
    assert data["settings"]["interactivity"]["request_url"] == "https://sb.example.net/slack/events"
    assert "commands" in data["oauth_config"]["scopes"]["bot"]
    socket = manifest(registry, url=None, socket_mode=True)
    assert socket["settings"]["socket_mode_enabled"] is True
    assert "url" not in socket["features"]["slash_commands"][0]
