"""The policy table is the only place roles are written, and the README shows it."""

from __future__ import annotations

import pytest

from bot.bootstrap import load_skills
from domain import policy
from domain.config import PROJECT_ROOT, Role
from domain.faults.choices import TicketKind


def test_every_registered_command_has_a_row_and_every_row_a_command() -> None:
    names = {c.name for c in load_skills()}
    assert names == set(policy.COMMANDS), (
        f"commands without a row: {sorted(names - set(policy.COMMANDS))}; "
        f"rows without a command: {sorted(set(policy.COMMANDS) - names)}"
    )


def test_a_command_takes_its_roles_from_the_table() -> None:
    for cmd in load_skills():
        assert cmd.roles == policy.COMMANDS[cmd.name], cmd.name


def test_a_command_missing_from_the_table_cannot_be_registered() -> None:
    from skills.context import Context
    from skills.registry import Args, command
    from skills.reply import Reply

    with pytest.raises(policy.NotInPolicy, match="not in the policy table"):

        @command("no such thing")
        def nothing(ctx: Context, args: Args) -> Reply:
            """Does nothing."""
            return Reply(text="")


def test_every_digest_section_and_ticket_kind_has_a_row() -> None:
    from typing import get_args

    from domain.config import DigestSettings

    sections = get_args(get_args(DigestSettings.model_fields["sections"].annotation)[0])
    assert set(sections) == set(policy.DIGEST_SECTIONS)
    assert set(TicketKind) == set(policy.TICKET_KINDS)


def test_an_admin_may_do_everything_and_nobody_else_without_a_role() -> None:
    for path in policy.COMMANDS:
        assert policy.may_run({Role.ADMIN}, path)
        assert not policy.may_run(set(), path) or policy.COMMANDS[path] == policy.EVERYONE


def test_the_readme_table_is_the_generated_one() -> None:
    readme = (PROJECT_ROOT / "README.md").read_text()
    shown = readme.split(policy.START, 1)[1].split(policy.END, 1)[0].strip()
    assert shown == policy.table_markdown().strip(), "run: switchboard config roles, and paste it"


def test_no_role_is_named_outside_the_policy_table() -> None:
    """Who may do what is decided in domain/policy.py only: no skill, listener or job
    compares roles of its own (`Role.MANAGER in ctx.roles`)."""
    import re

    named = re.compile(r"\bRole\.[A-Z_]+\b")
    found = [
        f"{path.relative_to(PROJECT_ROOT)}:{n}: {line.strip()}"
        for folder in ("skills", "bot", "automation")
        for path in sorted((PROJECT_ROOT / folder).rglob("*.py"))
        for n, line in enumerate(path.read_text().splitlines(), 1)
        if named.search(line)
    ]
    assert not found, "\n".join(found)


def test_every_action_beyond_a_command_names_a_command() -> None:
    for action in policy.ACTIONS:
        for named in action.split(",")[0].split(" / "):
            assert named.split(" --")[0] in policy.COMMANDS, action
