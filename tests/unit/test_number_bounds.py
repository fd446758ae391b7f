"""Numbers people type are numbers the database holds: one place for command arguments
(`skills.registry.Args`), one for references (`domain.db.parse_ref`)."""

from __future__ import annotations

import pytest

from domain.config import Role
from domain.db import INT_MAX, INT_MIN, parse_ref
from domain.errors import NotFound
from skills.context import Context
from skills.registry import Args, ArgumentError, Command, positional
from skills.reply import Reply


class DiffArgs(Args):
    device: str = positional(metavar="device")
    backup: int | None = positional(None, metavar="backup-id")
    page: int = 1
    pages: list[int] = []


def diff(ctx: Context, args: DiffArgs) -> Reply:
    """Compare."""
    return Reply(text="compared")


CMD = Command(("config", "diff"), diff, frozenset({Role.ENGINEER}), DiffArgs, "Compare.")


@pytest.mark.parametrize("n", [INT_MIN, -1, 0, 1, INT_MAX])
def test_every_integer_the_database_holds_is_taken(n: int) -> None:
    assert CMD.parse(["r1-mum", str(n), f"page={n}"]) == DiffArgs(device="r1-mum", backup=n, page=n)


@pytest.mark.parametrize(
    ("words", "message"),
    [
        (["r1-mum", str(INT_MAX + 1)], f"backup-id: {INT_MAX + 1} is too large; at most {INT_MAX}"),
        (
            ["r1-mum", f"page={INT_MIN - 1}"],
            f"page: {INT_MIN - 1} is too small; at least {INT_MIN}",
        ),
        (["r1-mum", f"page={10**30}"], f"page: a 31-digit number is too large; at most {INT_MAX}"),
    ],
)
def test_a_larger_one_is_refused_in_one_line_with_the_usage(words: list[str], message: str) -> None:
    with pytest.raises(ArgumentError) as err:
        CMD.parse(words)
    assert str(err.value) == message
    assert err.value.usage == "/config diff <device> [<backup-id>] [page=PAGE] [pages=PAGES]"


def test_so_is_one_in_a_list_and_a_model_built_directly() -> None:
    with pytest.raises(ValueError, match="is too large"):
        DiffArgs(device="r1-mum", pages=[1, 2**64])
    with pytest.raises(ValueError, match="is too small"):
        DiffArgs(device="r1-mum", backup=-(2**70))
    assert DiffArgs(device="r1-mum", pages=[1, 2]).pages == [1, 2]


@pytest.mark.parametrize(
    ("typed", "number"),
    [
        ("CR-12", 12),
        ("cr12", 12),
        ("12", 12),
        (" CR-007 ", 7),
        ("CR-0", 0),
        (f"{INT_MAX}", INT_MAX),
    ],
)
def test_a_reference_is_its_number(typed: str, number: int) -> None:
    assert parse_ref("CR", typed, "change") == number


@pytest.mark.parametrize(
    ("prefix", "typed", "message", "hint"),
    [
        (
            "CR",
            f"CR-{INT_MAX + 1}",
            f"no change CR-{INT_MAX + 1}",
            "check the number; `/config history <device>` shows a device's changes",
        ),
        ("T", "T-" + "9" * 30, "no ticket T-" + "9" * 30, "check the number; `/ticket list`"),
        ("O", "0" * 50 + "9" * 25, "no order O-" + "9" * 25, "check the number; `/order list`"),
        ("F", "9" * 60, "no fraud case F-" + "9" * 39 + "…", "check the number; `/fraud cases`"),
        ("A", "A-" + "1" * 20, "no alarm A-" + "1" * 20, "check the number; `/alarm list`"),
    ],
)
def test_a_reference_no_database_holds_names_nothing(
    prefix: str, typed: str, message: str, hint: str
) -> None:
    noun = {"CR": "change", "T": "ticket", "O": "order", "F": "fraud case", "A": "alarm"}[prefix]
    with pytest.raises(NotFound) as err:
        parse_ref(prefix, typed, noun)
    assert str(err.value) == message
    assert err.value.hint.startswith(hint)


@pytest.mark.parametrize("typed", ["CR--1", "-1", "CR-1.5", "CR-١٢", "CR-" + "x" * 3000])
def test_what_is_no_reference_is_said_in_one_short_line(typed: str) -> None:
    with pytest.raises(NotFound, match="is not a change reference") as err:
        parse_ref("CR", typed, "change")
    assert len(str(err.value)) < 80
    assert err.value.hint == "use the form CR-12"
