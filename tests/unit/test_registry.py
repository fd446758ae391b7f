"""The skill registry: metadata only, typed arguments, usage lines."""

from __future__ import annotations

from pathlib import Path

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

        @command("nohelp test")
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


def test_a_chat_process_loads_only_the_skill_it_runs(tmp_path: Path) -> None:
    """After one full load wrote the command index, `switchboard chat` finds, checks and
    lists every command from the index and imports only the skill it runs."""
    import subprocess
    import sys

    from bot.bootstrap import _read_index, load_skills

    load_skills()
    assert _read_index() is not None
    probe = (
        "import sys\n"
        "from bot.cli import main\n"
        "code = main(['chat', '--as', 'alice', '/ops whoami'])\n"
        "print(sorted(m for m in sys.modules if m.startswith('skills.')))\n"
        "sys.exit(code)\n"
    )
    env = {"SWITCHBOARD_DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}", "PATH": "/usr/bin"}
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, env=env, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert "You are Alice Iyer" in done.stdout
    loaded = done.stdout.strip().splitlines()[-1]
    assert "'skills.ops'" in loaded and "'skills.billing'" not in loaded, loaded


def test_an_index_that_grants_more_than_the_code_does_changes_nothing() -> None:
    """The index is a cache: a command's roles are checked again from its code."""
    from bot.access import Access
    from bot.bootstrap import build_services, load_skills
    from bot.router import Router
    from domain.config import PROJECT_ROOT, load_settings
    from domain.db import Database
    from skills.registry import Registry

    entries = load_skills().index()
    for e in entries:
        if e["path"] == ["payment", "record"]:
            e["roles"] = ["care_agent"]  # the code says admin only
    forged = Registry()
    forged.add_indexed(entries)
    assert not forged.commands[("payment", "record")].loaded
    settings = load_settings(PROJECT_ROOT / "config.yaml", env={})
    db = Database("sqlite://")
    try:
        router = Router(forged, build_services(settings, db))
        carol = Access(settings).user("carol")
        reply = router.handle(carol, "/payment record BA100000001 10 ref=X")
    finally:
        db.dispose()
    assert not reply.ok and "needs the admin role" in reply.text


def test_every_help_is_a_whole_first_paragraph() -> None:
    """`/customer`'s help read "...orders (private by default;": the first line of a
    paragraph that goes on. The help is the whole first paragraph of the docstring."""
    from bot.bootstrap import load_skills
    from bot.slack.manifest import manifest

    for cmd in load_skills():
        assert cmd.help.count("(") == cmd.help.count(")"), (cmd.name, cmd.help)
        assert "\n" not in cmd.help and not cmd.help.endswith((";", ",", " the")), cmd.help
    for entry in manifest(load_skills(), url=None, socket_mode=False)["features"]["slash_commands"]:
        text = entry["description"]
        assert len(text) <= 100 and (text.endswith("…") or text.count("(") == text.count(")"))
