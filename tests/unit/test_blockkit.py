"""Replies as Block Kit, inside Slack's limits."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.render.blockkit import MAX_BLOCKS, MAX_TEXT, REST_FILE, table_text, to_message
from bot.slack.listeners.views import form_view
from bot.slack.manifest import manifest
from domain.csvfiles import spreadsheet_safe
from skills.registry import Registry
from skills.reply import Button, Confirm, Field, Form, Input, Reply, Section, Table
from tests.fakes.slack_api import block_kit_errors, view_errors


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


def test_what_does_not_fit_is_attached_and_the_message_says_so() -> None:
    reply = Reply(
        text="60 devices",
        sections=tuple(Section(text=f"device r{i}") for i in range(60)),
        buttons=(
            Button("Approve", "/order approve O-7", style="primary"),
            Button("Say", "/ops say " + "y" * 2100),  # longer than a button can carry
        ),
    )
    message = to_message(reply)
    assert len(message.blocks) == MAX_BLOCKS
    assert block_kit_errors(message.blocks) == []
    # The buttons stay (they are what the reader acts on); sections give way.
    assert message.blocks[-1]["elements"][0]["value"] == "/order approve O-7"
    note = message.blocks[-2]["text"]["text"]
    assert note == (
        "… 13 more sections did not fit in one Slack message; 1 action to type instead "
        f"of click. In full: {REST_FILE}"
    )
    (rest,) = message.files
    assert rest.filename == REST_FILE
    text = rest.content.decode()
    assert "device r47" in text and "device r59" in text and "device r46" not in text
    assert "Say: /ops say yyy" in text


def test_a_command_is_never_cut_to_fit_a_button() -> None:
    long_form = Form("Reject O-7", tuple(Input(f"n{i}", "why? " * 120) for i in range(4)))
    message = to_message(
        Reply(text="O-7", buttons=(Button("Reject", "/order reject O-7", form=long_form),))
    )
    assert not [b for b in message.blocks if b["type"] == "actions"]
    assert "/order reject O-7 n0=... n1=... n2=... n3=..." in message.files[0].content.decode()


def test_a_form_opens_a_modal_slack_accepts_whatever_its_title() -> None:
    form = Form("", (Input("note", ""),), submit="Reject this order now please")
    (button,) = to_message(Reply(text="O-7", buttons=(Button("Reject", "/r", form=form),))).blocks[
        -1
    ]["elements"]
    view = form_view(json.loads(button["value"]), channel="C1", message={})
    assert view_errors(view) == []
    assert view["title"]["text"] == "Reject"  # the button's label when the form has none
    assert view["submit"]["text"] == "Reject this order now p…"
    assert view["blocks"][0]["label"]["text"] == "note"


def test_a_long_text_is_split_over_sections_not_cut() -> None:
    text = "".join(f"line {i} & more\n" for i in range(400))  # 6,000+ characters escaped
    blocks = to_message(Reply(text="long", sections=(Section(text=text),))).blocks[1:]
    assert len(blocks) >= 3 and all(len(b["text"]["text"]) <= MAX_TEXT for b in blocks)
    assert "".join(b["text"]["text"] for b in blocks) == text.replace("&", "&amp;")


# -- every Reply, within every limit: a sweep over what skills could return -------------------

_chars = st.characters(codec="utf-8")  # no lone surrogates: Slack takes UTF-8
#: Text as skills produce it: short, with characters that grow when escaped (& < >), or long.
_text = st.one_of(
    st.text(_chars, max_size=20),
    st.text(st.sampled_from("ab &<>*\n`"), min_size=1, max_size=60),
    st.builds(
        lambda c, n: c * n, st.sampled_from(["x", "&", "<>", "a\n", " "]), st.integers(0, 4000)
    ),
)
_short = st.text(_chars, max_size=12)
_word = st.from_regex(r"[a-z][a-z0-9_]{0,12}", fullmatch=True)
_command = st.one_of(
    st.from_regex(r"/order approve O-[0-9]{1,6}", fullmatch=True),
    st.builds(lambda n: "/ops say " + "x" * n, st.integers(0, 2200)),
)
#: A few rows of anything, or many rows of one shape (cheap to shrink).
_few_rows = st.integers(1, 3).flatmap(
    lambda w: st.lists(st.tuples(*[_short] * w), max_size=4).map(lambda rows: (w, rows))
)
_many_rows = st.builds(
    lambda w, n, k: (w, [tuple(f"r{i}" + "x" * k for _ in range(w)) for i in range(n)]),
    st.integers(1, 3),
    st.integers(0, 600),
    st.sampled_from([0, 10, 60, 1500, 3100]),
)
_tables = st.builds(
    lambda shape, title: Table(tuple(f"c{j}" for j in range(shape[0])), tuple(shape[1]), title),
    st.one_of(_few_rows, _many_rows),
    st.one_of(st.just(""), _text),
)
_forms = st.builds(
    Form,
    title=_text,
    inputs=st.lists(
        st.builds(Input, name=_word, label=_text, multiline=st.booleans(), initial=_short),
        max_size=4,
        unique_by=lambda i: i.name,
    ).map(tuple),
    submit=st.one_of(st.just("Submit"), _text),
)
_buttons = st.builds(
    Button,
    label=_text,
    command=_command,
    style=st.sampled_from(["primary", "danger", "default"]),
    confirm=st.one_of(st.none(), st.builds(Confirm, _text, _text, _short, _short)),
    form=st.one_of(st.none(), _forms),
)
_sections = st.builds(
    Section, text=_text, fields=st.lists(st.builds(Field, _short, _text), max_size=24).map(tuple)
)


#: Many of something: the same item repeated (cheap), or a few different ones.
def _some(items: st.SearchStrategy[Any], most: int) -> st.SearchStrategy[tuple[Any, ...]]:
    repeated = st.builds(lambda item, n: (item,) * n, items, st.integers(0, most))
    return st.one_of(st.lists(items, max_size=4).map(tuple), repeated)


_replies = st.builds(
    Reply,
    text=_text,
    sections=_some(_sections, 70),
    tables=_some(_tables, 12),
    buttons=_some(_buttons, 130),
    ok=st.booleans(),
    hint=st.one_of(st.just(""), _text),
)


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _shown(blocks: list[dict[str, Any]]) -> str:
    """Every text a reader sees in the blocks, in order."""
    out: list[str] = []
    for block in blocks:
        if "text" in block:
            out.append(block["text"]["text"])
        out.extend(f["text"] for f in block.get("fields", []))
        out.extend(e["text"] for e in block.get("elements", []) if e.get("type") == "mrkdwn")
    return "".join(out)


def _csv_rows(content: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(content.decode(), newline="")))


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_replies)
def test_every_reply_renders_within_slacks_limits_and_says_what_it_left_out(reply: Reply) -> None:
    message = to_message(reply)
    assert block_kit_errors(message.blocks) == []
    # A form button opens a modal Slack must accept too, remembering where it came from.
    posted = {"ts": "1700000000.000100", "blocks": message.blocks}
    values = []
    for block in message.blocks:
        for element in block.get("elements", []):
            values.append(element.get("value", ""))
            if element.get("action_id", "").startswith("sb:form:"):
                view = form_view(json.loads(element["value"]), channel="C1", message=posted)
                assert view_errors(view) == []
    # Nothing is dropped: what is not in the blocks in full is in an attached file, and
    # the message says so.
    shown = _shown(message.blocks)
    attached = "\n".join(f.content.decode() for f in message.files)
    for added in message.files[len(reply.files) :]:
        assert added.filename in shown  # every file it attached, the message names
    for button in reply.buttons:
        clickable = [v for v in values if v == button.command or v.startswith("{")]
        assert any(
            v == button.command or json.loads(v)["command"] == button.command for v in clickable
        ) or (button.command in attached)
    for section in reply.sections:
        assert _escape(section.text) in shown or section.text in attached
        for f in section.fields:
            in_full = f"*{_escape(f.label)}*\n{_escape(f.value)}"
            assert in_full in shown or f"{f.label}: {f.value}" in attached
    for table in reply.tables:
        # As a file, a cell a spreadsheet would run as a formula is kept as text ('=...).
        whole = [[spreadsheet_safe(c) for c in r] for r in (table.columns, *table.rows)]
        as_csv = any(
            _csv_rows(f.content) == whole for f in message.files if f.filename.endswith(".csv")
        )
        inline = all(_escape(line) in shown for line in table_text(table).split("\n"))
        assert as_csv or inline
