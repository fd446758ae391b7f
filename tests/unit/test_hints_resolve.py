"""Every `/command` the code can say names a command that exists.

A hint that sends someone to `/config approve CR-17` or `/change list` sends them to an
"unknown command". This reads every string constant and f-string of the shipped code
(with `ast`), finds each command it names and resolves it against the real registry,
every skill loaded. tests/integration/test_hints_resolve.py does the same with what the
router actually answers.

What counts as naming a command (`mentions`), precisely:
- a `/` at the start of the text, after white space, or after an opening quote,
  parenthesis, backtick (one that opens a code span), `*` (Slack bold) or `]` (the end
  of Rich markup, `[bold]/ops help`); so `1/2`, `MUM/FTTH/0000002`, `http://host/x`,
  `~/x`, `./x`, `` `+`/`-` `` and Rich's closing markup `[/red]` are not;
- then a word starting with a letter, not followed by `/` or by `.` and a letter or
  digit: `/tmp/x`, `/dev/shm` and `/x.py` are paths, not commands;
- then up to three more words, separated by white space (an f-string's `{...}` ends
  them: what it holds is only known when it runs).

It resolves (`resolves`) when the router would run it (`Registry.find` finds a command
among its words), or it is one slash command name alone (`/config`, as Slack registers
it). A family followed by a word that is none of its subcommands (`/config approve`,
`/config needs ...`) does not resolve. A word that is an HTTP route `serve` declares
(`Route("/metrics", ...)` in bot/) and no slash command is an endpoint, not a command.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pytest

from bot.bootstrap import load_skills
from skills.registry import Registry

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = ("bot", "skills", "domain", "automation", "models")

#: Stands for what an f-string fills in when it runs: it ends a command's words.
FILLED = "\x00"

_START = re.compile(r"(?:^|(?<=[\s(`'\"*\]]))/([A-Za-z][\w-]*)(?![\w/-]|\.\w)")
_NEXT = re.compile(r"\s+([A-Za-z][\w-]*)")


@dataclass(frozen=True)
class Mention:
    """A command as written in text: its words, without the slash."""

    words: tuple[str, ...]

    def __str__(self) -> str:
        return "/" + " ".join(self.words)


def mentions(text: str) -> Iterator[Mention]:
    """Every command the text names (see the module's docstring for the rule)."""
    for start in _START.finditer(text):
        before = text[: start.start()]
        if before.endswith("`") and before.count("`") % 2 == 0:
            continue  # after the backtick that closes a code span (`+`/`-`/space)
        words = [start.group(1)]
        at = start.end()
        while len(words) < 4 and (more := _NEXT.match(text, at)):
            words.append(more.group(1))
            at = more.end()
        yield Mention(tuple(words))


@cache
def registry() -> Registry:
    return load_skills()


@cache
def http_routes() -> frozenset[str]:
    """The first word of every path `Route("/...")` declares in bot/."""
    found = set()
    for path in (ROOT / "bot").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if (
                isinstance(node, ast.Call)
                and getattr(node.func, "id", getattr(node.func, "attr", "")) == "Route"
                and node.args
                and isinstance(node.args[0], ast.Constant)
                and isinstance(node.args[0].value, str)
            ):
                found.add(node.args[0].value.strip("/").split("/")[0].lower())
    return frozenset(found)


def resolves(mention: Mention, reg: Registry | None = None) -> bool:
    """Whether a mention names a command (or a slash command alone, or an HTTP route)."""
    reg = reg or registry()
    families = {slash.lstrip("/") for slash in reg.slash_commands()}
    first = mention.words[0].lower()
    if first not in families and first in http_routes():
        return True
    command, _ = reg.find(list(mention.words))
    return command is not None or (len(mention.words) == 1 and first in families)


def unresolved(text: str, reg: Registry | None = None) -> list[str]:
    """The commands text names that do not exist, as written."""
    return [str(m) for m in mentions(text) if not resolves(m, reg)]


# -- the rule ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ("ask a colleague to run /config approve CR-17", ["/config approve CR-17"]),
        ("check the number; `/change list` shows recent ones", ["/change list"]),
        ("try /ops help", ["/ops help"]),
        ("`/config` needs a subcommand", ["/config"]),
        ("(/config show CR-1)", ["/config show CR-1"]),
        ("[bold]/ops help[/bold] lists them", ["/ops help"]),
        ("*/order approve O-1*", ["/order approve O-1"]),
        ("so `/alarm\n    list`, agree", ["/alarm list"]),
        ("/bill 9876543210", ["/bill"]),
        (f"/config show {FILLED} to follow it", ["/config show"]),
        ("see /config.", ["/config"]),
        # Not commands: paths, URLs, fractions, circuit ids, Rich markup, filled-in parts.
        ("written to /tmp/x and /dev/shm/y", []),
        ("the file /etc/switchboard.yaml", []),
        ("https://slack.com/api/chat.postMessage", []),
        ("http://127.0.0.1:3000/slack/events", []),
        ("1/2 of the devices, and/or more", []),
        ("MUM/FTTH/0000002 and TN/FTTH/O000081", []),
        ("[red]failed[/red] [/]", []),
        ("~/notes and ./var/x", []),
        ("a diff of it (`+`/`-`/space)", []),
        (f"{FILLED}/slack/events", []),
        (f"/{FILLED} failed unexpectedly", []),
    ],
)
def test_what_counts_as_naming_a_command(text: str, named: list[str]) -> None:
    assert [str(m) for m in mentions(text)] == named


@pytest.mark.parametrize(
    ("text", "broken"),
    [
        ("ask a colleague to run /config approve CR-17", ["/config approve CR-17"]),
        ("check the number; /change list shows recent ones", ["/change list shows recent"]),
        ("/config needs a subcommand", ["/config needs a subcommand"]),
        ("use /ticket T-12", ["/ticket T-12"]),
        ("/fraud list", ["/fraud list"]),
        # Commands, families and commands that take words of their own.
        ("/ops help lists what you can run", []),
        ("did you mean /ticket show? /ops help lists what you can run", []),
        ("`/config` needs a subcommand; `/config history <device>` lists changes", []),
        ("look the customer up with /customer and /bill", []),
        ("/revenue assurance 2026-10 and /revenue month", []),
        ("/ops help order approve.", []),
        # HTTP routes serve declares are endpoints, not commands.
        ("/healthz and /metrics on http://127.0.0.1:3000", []),
        ("POST /orders and POST /alerts", []),
    ],
)
def test_what_resolves(text: str, broken: list[str]) -> None:
    assert unresolved(text) == broken


def test_http_routes_are_read_from_the_server_and_no_slash_command_shadows_one() -> None:
    assert {"healthz", "metrics", "alerts", "orders", "slack"} <= http_routes()
    slash = {s.lstrip("/") for s in registry().slash_commands()}
    assert not slash & http_routes()


# -- every string the shipped code holds -----------------------------------------------------


def strings(source: str) -> Iterator[tuple[int, str]]:
    """Each string constant and f-string (filled-in parts as FILLED), with its line."""
    tree = ast.parse(source)
    inside_fstring = {
        id(value)
        for node in ast.walk(tree)
        if isinstance(node, ast.JoinedStr)
        for value in node.values
    }
    for node in ast.walk(tree):
        if isinstance(node, ast.JoinedStr):
            yield (
                node.lineno,
                "".join(v.value if isinstance(v, ast.Constant) else FILLED for v in node.values),
            )
        elif (
            isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and id(node) not in inside_fstring
        ):
            yield node.lineno, node.value


def shipped_files() -> list[str]:
    return sorted(str(p.relative_to(ROOT)) for top in SHIPPED for p in (ROOT / top).rglob("*.py"))


#: Files whose broken hints belong to another part of the work; strict, so the fix
#: flips them.
OWNED_ELSEWHERE: dict[str, str] = {}


def _case(path: str) -> object:
    reason = OWNED_ELSEWHERE.get(path)
    marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
    return pytest.param(path, id=path, marks=marks)


@pytest.mark.parametrize("path", [_case(p) for p in shipped_files()])
def test_every_command_the_code_names_exists(path: str) -> None:
    broken = [
        f"{path}:{line}: {name}"
        for line, text in strings((ROOT / path).read_text())
        for name in unresolved(text)
    ]
    assert not broken, "\n".join(broken)


def test_the_sweep_reads_what_it_should() -> None:
    """The sweep sees f-strings, docstrings and every shipped package."""
    files = shipped_files()
    assert {f.split("/")[0] for f in files} == set(SHIPPED)
    found = dict(strings('"""Run /ops help."""\nx = f"run /config show {ref} now"\n'))
    assert found == {1: "Run /ops help.", 2: f"run /config show {FILLED} now"}
    assert unresolved(f"run /config approve {FILLED}") == ["/config approve"]
