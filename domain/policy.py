"""Who may do what: the one policy table.

Every command, every digest section and every kind of ticket names the roles that may
use it here and nowhere else. The registry takes a command's roles from `COMMANDS`
(a command missing from the table cannot be registered), so help, the App Home, the
router's refusal and the README's table (`switchboard config roles`, kept equal to
README.md by a test) are all read from it. An admin may do everything.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from domain.config import Role
from domain.faults.choices import TicketKind

ENGINEER = Role.ENGINEER
CARE = Role.CARE_AGENT
MANAGER = Role.MANAGER
ANALYST = Role.FRAUD_ANALYST
ADMIN = Role.ADMIN

EVERYONE = frozenset(Role)
#: Everyone who works in chat; an admin is allowed everything anyway.
STAFF = frozenset({ENGINEER, CARE, MANAGER, ANALYST})


def _roles(*roles: Role) -> frozenset[Role]:
    return frozenset(roles)


#: command path -> the roles that may run it.
COMMANDS: Mapping[str, frozenset[Role]] = {
    # Faults: alarms and the network
    "alarm ack": _roles(ENGINEER),
    "alarm list": _roles(ENGINEER, MANAGER),
    "alarm show": _roles(ENGINEER, MANAGER),
    "network health": _roles(ENGINEER, MANAGER),
    # Inventory and devices
    "inventory facts": _roles(ENGINEER, MANAGER),
    # Care agents place fixed-line orders: they find sites and free ports with these.
    "inventory interfaces": _roles(ENGINEER, MANAGER, CARE),
    "inventory search": _roles(ENGINEER, MANAGER),
    "inventory show": _roles(ENGINEER, MANAGER),
    "inventory site": _roles(ENGINEER, MANAGER, CARE),
    "device run": _roles(ENGINEER),
    # Configuration changes
    "config apply": _roles(ENGINEER),
    "config backup": _roles(ENGINEER),
    "config cancel": _roles(ENGINEER),
    "config diff": _roles(ENGINEER),
    "config history": _roles(ENGINEER),
    "config plan": _roles(ENGINEER),
    "config rollback": _roles(ENGINEER),
    "config show": _roles(ENGINEER),
    # Tickets: which kinds of ticket each role may move is in TICKET_KINDS
    "ticket assign": _roles(ENGINEER, CARE),
    "ticket close": _roles(ENGINEER, CARE),
    "ticket list": _roles(ENGINEER, CARE, MANAGER),
    "ticket note": _roles(ENGINEER, CARE),
    "ticket open": _roles(ENGINEER, CARE),
    "ticket resolve": _roles(ENGINEER, CARE),
    "ticket show": _roles(ENGINEER, CARE, MANAGER),
    "ticket status": _roles(ENGINEER, CARE),
    # Customers and bills
    "customer": _roles(CARE, MANAGER, ANALYST, ENGINEER),
    "bill": _roles(CARE, MANAGER),
    "bill explain": _roles(CARE, MANAGER),
    "bill items": _roles(CARE, MANAGER),
    "dispute open": _roles(CARE, MANAGER),
    "dispute resolve": _roles(CARE, MANAGER),
    "payment record": _roles(ADMIN),
    # A credit that waits for a second person (domain/approvals.py): never its asker
    "credit approve": _roles(MANAGER),
    "credit reject": _roles(MANAGER),
    "credit list": _roles(CARE, MANAGER),
    # Orders
    "order new": _roles(CARE, MANAGER),
    "order suspend": _roles(CARE, MANAGER),
    "order resume": _roles(CARE, MANAGER),
    "order cease": _roles(CARE, MANAGER),
    "order approve": _roles(MANAGER),
    "order reject": _roles(MANAGER),
    "order cancel": _roles(CARE, ENGINEER, MANAGER),
    "order list": _roles(CARE, ENGINEER, MANAGER),
    "order show": _roles(CARE, ENGINEER, MANAGER),
    # Money
    "revenue": _roles(MANAGER),
    "revenue assurance": _roles(MANAGER),
    # Fraud
    "fraud cases": _roles(ANALYST, MANAGER),
    "fraud check": _roles(ANALYST, MANAGER),
    "fraud explain": _roles(ANALYST, MANAGER),
    "fraud confirm": _roles(ANALYST),
    "fraud dismiss": _roles(ANALYST),
    # Digests: which sections a reader sees is in DIGEST_SECTIONS
    "digest list": STAFF,
    "digest preview": STAFF,
    "digest subscribe": STAFF,
    "digest unsubscribe": STAFF,
    # The bot itself
    "audit recent": _roles(ADMIN),
    "ops help": EVERYONE,
    "ops whoami": EVERYONE,
}

#: How each command is held to its audit event when the trail cannot be written (README:
#: Audit trail). Every command of COMMANDS is in exactly one of these three (a test
#: checks, so a new row must be placed); the router treats one in none as a read.
#: Commands that change something: a "requested" event is stored before they run, or
#: they do not run; their outcome event, if it then cannot be stored, waits in the
#: audit journal (they cannot be undone, and running them again would do them twice).
CHANGES: frozenset[str] = frozenset(
    {
        # Faults and tickets
        "alarm ack",
        "ticket assign",
        "ticket close",
        "ticket note",
        "ticket open",
        "ticket resolve",
        "ticket status",
        # Devices: a plan and a backup are stored; apply, rollback and cancel move a change
        "config apply",
        "config backup",
        "config cancel",
        "config plan",
        "config rollback",
        # Money and customers' lines
        "dispute open",
        "dispute resolve",
        "payment record",
        "credit approve",
        "credit reject",
        "order new",
        "order suspend",
        "order resume",
        "order cease",
        "order approve",
        "order reject",
        "order cancel",
        "fraud confirm",
        "fraud dismiss",
        # The caller's own subscriptions
        "digest subscribe",
        "digest unsubscribe",
    }
)
#: Commands that only read customers', the network's or the business's data: they run,
#: and their answer is shown only once their event is stored.
READS: frozenset[str] = frozenset(
    {
        "alarm list",
        "alarm show",
        "network health",
        "inventory facts",
        "inventory interfaces",
        "inventory search",
        "inventory show",
        "inventory site",
        "device run",
        "config diff",
        "config history",
        "config show",
        "ticket list",
        "ticket show",
        "customer",
        "bill",
        "bill explain",
        "bill items",
        "credit list",
        "order list",
        "order show",
        "revenue",
        "revenue assurance",
        "fraud cases",
        "fraud check",
        "fraud explain",
        "digest list",
        "digest preview",
        "audit recent",
    }
)
#: Commands that show only the bot itself and the caller's own roles: their event waits
#: in the audit journal when it cannot be stored, and the answer is shown.
ABOUT_THE_BOT: frozenset[str] = frozenset({"ops help", "ops whoami"})

#: What some commands do beyond their own row, and who may do it: the command's roles
#: run it, these roles may also do this part of it.
ACTIONS: Mapping[str, frozenset[Role]] = {
    # Anyone who may cancel orders cancels their own; these cancel anyone's.
    "order cancel, an order someone else requested": _roles(MANAGER),
    # A line stopped for fraud or debt is resumed (or ceased) by who may lift that
    # reason; a debt hold otherwise ends when the account leaves dunning (paid). Fraud
    # analysts confirm and dismiss cases; lifting a confirmed case is a manager's call.
    "order resume / order cease, a line suspended for fraud": _roles(MANAGER),
    "order resume / order cease, a line on an account in dunning": _roles(MANAGER),
    # A rollback that would undo a later change is refused unless forced.
    "config rollback --force, over a later change": frozenset(),
}

#: digest section -> the roles that may read it: the same as the command that shows
#: the same figures, so a digest never shows what its reader could not ask for.
DIGEST_SECTIONS: Mapping[str, frozenset[Role]] = {
    "network": COMMANDS["network health"],
    "tickets": COMMANDS["ticket list"],
    "orders": COMMANDS["order list"],
    "revenue": COMMANDS["revenue"],
    "fraud": COMMANDS["fraud cases"],
    "changes": COMMANDS["config history"],
}

#: ticket kind -> the roles that work it (note, assign, move, resolve, close): care
#: agents work customers' and billing tickets, engineers the network's.
TICKET_KINDS: Mapping[TicketKind, frozenset[Role]] = {
    TicketKind.INCIDENT: _roles(ENGINEER),
    TicketKind.PROVISIONING: _roles(ENGINEER),
    TicketKind.SERVICE_REQUEST: _roles(CARE, ENGINEER),
    # Managers settle disputes too (/dispute resolve), and decide the credits they ask.
    TicketKind.BILLING_DISPUTE: _roles(CARE, MANAGER),
    TicketKind.FRAUD: _roles(CARE),
}


#: README.md carries `table_markdown()` between these markers; a test keeps them equal.
START = "<!-- roles:start (generated by `switchboard config roles`) -->"
END = "<!-- roles:end -->"


class NotInPolicy(LookupError):
    """A command the policy table does not name: it cannot be registered."""


def command_roles(path: str) -> frozenset[Role]:
    """The roles that may run the command `path` ("order approve")."""
    try:
        return COMMANDS[path]
    except KeyError:
        raise NotInPolicy(
            f"/{path} is not in the policy table; add it to COMMANDS in domain/policy.py"
        ) from None


def allowed(roles: Iterable[Role], needed: frozenset[Role]) -> bool:
    """An admin may do everything; anyone else needs one of the roles."""
    held = frozenset(roles)
    return ADMIN in held or bool(held & needed)


def may_run(roles: Iterable[Role], path: str) -> bool:
    return allowed(roles, command_roles(path))


def may(roles: Iterable[Role], action: str) -> bool:
    """Whether `roles` may do an action of ACTIONS (a KeyError names a missing one)."""
    return allowed(roles, ACTIONS[action])


def may_read_section(roles: Iterable[Role], section: str) -> bool:
    return allowed(roles, DIGEST_SECTIONS[section])


def may_work_ticket(roles: Iterable[Role], kind: TicketKind) -> bool:
    return allowed(roles, TICKET_KINDS[kind])


#: What a ticket of each kind is called when someone is told who works it.
TICKET_KIND_NAMES: Mapping[TicketKind, str] = {
    TicketKind.INCIDENT: "network incident",
    TicketKind.PROVISIONING: "provisioning ticket",
    TicketKind.SERVICE_REQUEST: "customer service request",
    TicketKind.BILLING_DISPUTE: "billing dispute",
    TicketKind.FRAUD: "fraud ticket",
}


def joined(words: Sequence[str]) -> str:
    """Words as a sentence lists them: "a, b and c"."""
    return " and ".join([", ".join(words[:-1]), words[-1]] if len(words) > 2 else words)


def people(roles: Iterable[Role]) -> str:
    """The roles as the people who hold them: "managers and fraud analysts"."""
    held = [r for r in Role if r in frozenset(roles) and r != ADMIN] or [ADMIN]
    return joined([r.value.replace("_", " ") + "s" for r in held])


def readable(roles: Iterable[Role], sections: Iterable[str]) -> tuple[str, ...]:
    """The sections (in their order) that someone with `roles` may read."""
    held = frozenset(roles)
    return tuple(s for s in sections if may_read_section(held, s))


def readable_by_all(audience: Iterable[Role], sections: Iterable[str]) -> tuple[str, ...]:
    """The sections every one of `audience` may read: what a channel of them is shown."""
    roles = frozenset(audience)
    return tuple(s for s in sections if roles and all(may_read_section({r}, s) for r in roles))


def full_readers(sections: Iterable[str]) -> frozenset[Role]:
    """The roles (an admin aside) that may read every one of the sections."""
    wanted = tuple(sections)
    return frozenset(
        r for r in Role if r != ADMIN and all(may_read_section({r}, s) for s in wanted)
    )


def left_out(sections: Iterable[str]) -> str:
    """Who the sections are for: "the revenue section is for managers; the fraud section
    is for managers and fraud analysts"."""
    by_roles: dict[frozenset[Role], list[str]] = {}
    for s in sections:
        by_roles.setdefault(DIGEST_SECTIONS[s], []).append(s)
    return "; ".join(
        f"the {joined(names)} section{'s are' if len(names) > 1 else ' is'} for {people(roles)}"
        for roles, names in by_roles.items()
    )


def ticket_refusal(ref: str, kind: TicketKind, roles: Iterable[Role]) -> str:
    """Why someone may not work this ticket: its kind, who works it, what they hold."""
    have = ", ".join(sorted(r.value for r in roles)) or "no role"
    return (
        f"{ref} is a {TICKET_KIND_NAMES[kind]}: {people(TICKET_KINDS[kind])} work those "
        f"(you have {have})"
    )


def _names(roles: frozenset[Role]) -> str:
    if roles == EVERYONE:
        return "everyone"
    if roles == STAFF:
        return "every role"
    return ", ".join(sorted(r.value for r in roles))


def table_markdown() -> str:
    """The policy as the README shows it: commands, digest sections, ticket kinds."""
    lines = ["| Command | Roles |", "|---|---|"]
    lines += [f"| `/{path}` | {_names(roles)} |" for path, roles in sorted(COMMANDS.items())]
    lines += ["", "| Beyond a command's row | Roles |", "|---|---|"]
    lines += [f"| {what} | {_names(roles) or 'admin'} |" for what, roles in ACTIONS.items()]
    lines += ["", "| Digest section | Roles that see it |", "|---|---|"]
    lines += [f"| {name} | {_names(roles)} |" for name, roles in DIGEST_SECTIONS.items()]
    lines += ["", "| Ticket kind | Roles that work it |", "|---|---|"]
    lines += [f"| {kind.value} | {_names(roles)} |" for kind, roles in TICKET_KINDS.items()]
    lines += ["", "An admin may do everything."]
    return "\n".join(lines)
