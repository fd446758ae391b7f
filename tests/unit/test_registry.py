"""The skill registry: metadata only, typed arguments, usage lines."""

from __future__ import annotations

import pytest

from domain.config import Role
from skills.context import Context
from skills.registry import (
    Args,
    ArgumentError,
    Command,
    DuplicateCommand,
    Registry,
    command,
    positional,
)
from skills.reply import Reply


class PlanArgs(Args):
    template: str = positional(metavar="template")
    targets: list[str] = positional(metavar="target")
    sev: int = 3
    dry_run: bool = False


def plan(ctx: Context, args: PlanArgs) -> Reply:
    """Plan a change."""
    return Reply(text="planned")


CMD = Command(("config", "plan"), plan, frozenset({Role.ENGINEER}), PlanArgs, "Plan a change.")


def test_positionals_key_values_and_flags_fill_the_model() -> None:
    args = CMD.parse(["ntp", "r1-mum", "site:MUM", "sev=2", "--dry-run"])
    assert args == PlanArgs(template="ntp", targets=["r1-mum", "site:MUM"], sev=2, dry_run=True)


def test_usage_line_is_generated_from_the_model() -> None:
    assert CMD.usage == "/config plan <template> <target>... [sev=SEV] [--dry-run]"


@pytest.mark.parametrize(
    ("words", "message"),
    [
        ([], "missing <template>"),
        (["ntp"], "missing <target>"),
        (["ntp", "r1", "sev=high"], "sev: Input should be a valid integer"),
        (["ntp", "r1", "--force"], "unknown option --force"),
    ],
)
def test_bad_arguments_name_the_problem_and_carry_the_usage(words: list[str], message: str) -> None:
    with pytest.raises(ArgumentError) as exc:
        CMD.parse(words)
    assert str(exc.value).startswith(message)
    assert exc.value.usage == CMD.usage


def test_a_key_value_for_a_missing_field_is_refused_when_no_word_can_take_it() -> None:
    class One(Args):
        name: str = positional()

    cmd = Command(("x",), plan, frozenset(), One, "x")
    with pytest.raises(ArgumentError, match="unknown argument colour="):
        cmd.parse(["a", "colour=red"])
    # ...but a positional value may itself contain "=" when a slot is free for it.
    assert cmd.parse(["a=b"]) == One(name="a=b")


def test_a_single_positional_may_be_named_as_a_forms_answers_are() -> None:
    class Open(Args):
        about: str = positional(metavar="device")
        title: str = positional(metavar="title")
        sev: int = 3

    cmd = Command(("ticket", "open"), plan, frozenset(), Open, "x")
    assert cmd.parse(["r1-mum", "title=Gi0/1 down", "sev=2"]) == Open(
        about="r1-mum", title="Gi0/1 down", sev=2
    )
    assert cmd.parse(["title=a=b", "r1"]) == Open(about="r1", title="a=b")
    # A list positional is never named: its words stay words.
    assert CMD.parse(["ntp", "targets=x"]).targets == ["targets=x"]


def test_registering_a_name_twice_fails() -> None:
    registry = Registry()
    registry.add(CMD)
    with pytest.raises(DuplicateCommand, match="/config plan is registered twice"):
        registry.add(CMD)


def test_decorator_needs_a_help_line() -> None:
    with pytest.raises(ValueError, match="first line is the help"):

        @command("nohelp test", roles=[Role.ADMIN])
        def nohelp(ctx: Context, args: Args) -> Reply:
            return Reply(text="")


def test_admins_may_run_everything_others_need_a_listed_role() -> None:
    assert CMD.allows(frozenset({Role.ENGINEER}))
    assert CMD.allows(frozenset({Role.ADMIN}))
    assert not CMD.allows(frozenset({Role.CARE_AGENT}))
    assert not CMD.allows(frozenset())


def test_find_prefers_the_longest_path() -> None:
    registry = Registry()
    registry.add(CMD)
    found, used = registry.find(["Config", "plan", "ntp"])
    assert found is CMD and used == 2
    assert registry.find(["config"]) == (None, 0)
