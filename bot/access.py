"""Access control: who holds which roles, declared in config and enforced in one place."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from domain import policy
from domain.config import Role, Settings
from domain.errors import DomainError


@dataclass(frozen=True)
class Caller:
    """Who is asking: the configured name when known, else the Slack user id."""

    name: str
    roles: frozenset[Role]
    slack_id: str | None = None

    @property
    def role_names(self) -> list[str]:
        return sorted(r.value for r in self.roles)


class UnknownUser(DomainError):
    pass


class Access:
    """Maps users and Slack user groups to roles; deny by default."""

    def __init__(self, settings: Settings) -> None:
        self._users = settings.users
        self._by_slack = {u.slack_id: name for name, u in settings.users.items() if u.slack_id}
        self._groups = settings.access.groups

    def user(self, name: str) -> Caller:
        """A configured user by name (console, `chat --as`)."""
        settings = self._users.get(name)
        if settings is None:
            known = ", ".join(sorted(self._users)) or "(none configured)"
            raise UnknownUser(f"no user {name!r} in the config", hint=f"users: {known}")
        return Caller(name=name, roles=frozenset(settings.roles), slack_id=settings.slack_id)

    def slack_user(self, user_id: str, group_ids: Iterable[str] = ()) -> Caller:
        """A Slack user: roles from their config entry and from their user groups."""
        roles: set[Role] = set()
        name = self._by_slack.get(user_id)
        if name is not None:
            roles.update(self._users[name].roles)
        for group in group_ids:
            roles.update(self._groups.get(group, ()))
        return Caller(name=name or user_id, roles=frozenset(roles), slack_id=user_id)

    @property
    def mapped_groups(self) -> list[str]:
        return sorted(self._groups)


def refusal(command: str, caller: Caller, needed: frozenset[Role]) -> str:
    """Why the caller may not run the command: the roles its row in the policy table names."""
    have = ", ".join(caller.role_names) or "no role"
    if needed >= policy.STAFF:
        return f"/{command} needs a role; you have {have}"
    want = " or ".join(sorted(r.value for r in needed)) or "admin"
    return f"/{command} needs the {want} role; you have {have}"
