"""Settings: config.yaml loaded once into one frozen pydantic model.

`${VAR}` and `${VAR:-default}` in string values are filled from the environment.
Unknown keys are errors. Every problem is reported as one line naming the file,
the key path and what is wrong, so `switchboard config check` can print them all.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from datetime import date, time
from enum import StrEnum
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from domain.show_commands import check_entry

CONFIG_ENV = "SWITCHBOARD_CONFIG"
PROJECT_ROOT = Path(__file__).resolve().parent.parent


class ConfigError(Exception):
    """The config file cannot be used; `problems` holds one line per problem."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__(problems[0] if len(problems) == 1 else f"{len(problems)} problems")
        self.problems = problems

    hint = "fix the lines above, then run `switchboard config check`"


class Role(StrEnum):
    ENGINEER = "engineer"
    CARE_AGENT = "care_agent"
    MANAGER = "manager"
    FRAUD_ANALYST = "fraud_analyst"
    ADMIN = "admin"


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _blank_to_none(value: Any) -> Any:
    return None if isinstance(value, str) and not value.strip() else value


class DatabaseSettings(Section):
    #: SQLAlchemy URL: sqlite:///path/file.db (embedded) or postgresql+psycopg://user:pw@host/db.
    url: str = "sqlite:///var/switchboard.db"
    #: Connections kept open per process (PostgreSQL).
    pool_size: int = Field(default=10, ge=1, le=200)
    #: Log every SQL statement (debugging only).
    echo: bool = False

    @field_validator("url")
    @classmethod
    def _usable_url(cls, url: str) -> str:
        from domain.db import check_database_url  # sqlalchemy loads only when a file is read

        try:
            check_database_url(url)
        except ValueError as exc:
            # Its own kind, so the message never repeats the URL (it may hold a password).
            raise PydanticCustomError("database_url", str(exc)) from None
        return url


class SlackSettings(Section):
    #: The bot's OAuth token (xoxb-...); from SLACK_BOT_TOKEN.
    bot_token: SecretStr | None = None
    #: Verifies that requests come from Slack; from SLACK_SIGNING_SECRET.
    signing_secret: SecretStr | None = None
    #: An app-level token (xapp-...) switches to Socket Mode; from SLACK_APP_TOKEN.
    app_token: SecretStr | None = None
    #: Base URL of the Slack Web API (tests point it at a local fake).
    api_url: str = "https://slack.com/api/"
    #: Slash commands are registered with this prefix (/inventory, /ticket, ...).
    command_prefix: str = "/"

    _blank = field_validator("bot_token", "signing_secret", "app_token", mode="before")(
        _blank_to_none
    )

    @property
    def socket_mode(self) -> bool:
        return self.app_token is not None


class ServerSettings(Section):
    #: Address `serve` listens on.
    host: str = "127.0.0.1"
    #: Port of `serve` (Slack, alert and order webhooks, /healthz, /metrics).
    port: int = Field(default=3000, ge=1, le=65535)
    #: Skills run in a bounded pool of this many threads.
    workers: int = Field(default=4, ge=1, le=256)
    #: Processes serving HTTP, each with its own workers (1: one process, in-line).
    processes: int = Field(default=1, ge=1, le=64)
    #: Commands accepted and waiting for a worker; beyond this Slack users hear "busy".
    queue_limit: int = Field(default=1000, ge=1)
    #: On stop, how long running commands get to finish.
    shutdown_grace_s: float = Field(default=20.0, ge=0)
    #: Largest body /slack/events reads (bytes); larger is a 413 before it is read.
    #: Slack's biggest payloads (a modal's 100 blocks, a message's 50) are a few hundred KB.
    slack_max_body_bytes: int = Field(default=1_048_576, ge=65_536, le=10_485_760)
    #: Addresses or networks (a load balancer, a reverse proxy) whose X-Forwarded-For is
    #: believed; from anyone else the header is ignored, so a sender cannot pick its own
    #: alert rate-limit bucket. None by default: the peer's address is the sender.
    trusted_proxies: tuple[str, ...] = ()

    @field_validator("trusted_proxies")
    @classmethod
    def _addresses(cls, proxies: tuple[str, ...]) -> tuple[str, ...]:
        import ipaddress

        for proxy in proxies:
            try:
                ipaddress.ip_network(proxy, strict=False)
            except ValueError:
                raise ValueError(
                    f"{proxy!r} is not an IP address or network, e.g. 10.0.0.5 or 10.0.0.0/24"
                ) from None
        return proxies


class UserSettings(Section):
    #: The person's Slack member id (U...).
    slack_id: str | None = None
    #: What they may do; deny by default.
    roles: tuple[Role, ...] = ()
    #: How replies name them.
    display_name: str | None = None


class AccessSettings(Section):
    #: Slack user-group ids (S...) mapped to the roles their members hold.
    groups: dict[str, tuple[Role, ...]] = {}
    #: Roles that see customers' identity numbers, addresses and phone numbers in full;
    #: everyone else sees the last four digits and the city.
    unmasked_roles: tuple[Role, ...] = (Role.ADMIN,)


class ChannelSettings(Section):
    #: Where critical alarms are posted.
    alarms_critical: str = "#noc-critical"
    #: Where major alarms are posted.
    alarms_major: str = "#noc-alarms"
    #: Where minor, warning and other alarms are posted.
    alarms_minor: str = "#noc-alarms"
    #: Tickets past their SLA.
    tickets: str = "#noc-tickets"
    #: Changes cut off by a restart.
    changes: str = "#net-changes"
    #: Orders awaiting approval, with Approve / Reject.
    orders: str = "#orders"
    #: Credits awaiting a manager, with Approve / Reject; unset: the orders channel.
    approvals: str | None = None
    #: New fraud cases, with Confirm & suspend / Dismiss.
    fraud: str = "#fraud-alerts"
    #: Daily dunning report.
    billing: str = "#care-billing"
    #: Default channel for digests.
    digests: str = "#ops-digest"

    _blank = field_validator("approvals", mode="before")(_blank_to_none)

    @property
    def credits(self) -> str:
        """Where credits awaiting a manager go: `approvals`, or the orders channel (where
        managers already decide) when a config written before it does not set it."""
        return self.approvals or self.orders


class LabSettings(Section):
    #: The lab binds this loopback address only.
    host: Literal["127.0.0.1", "localhost", "::1"] = "127.0.0.1"
    #: The lab's devices listen on base_port, base_port+1, ...
    base_port: int = Field(default=6000, ge=1024, le=65000)


class DeviceSettings(Section):
    #: Login for device SSH; from SWITCHBOARD_DEVICE_USER.
    username: str = "admin"
    #: Password for device SSH; from SWITCHBOARD_DEVICE_PASSWORD.
    password: SecretStr | None = None
    #: Enable secret for IOS-style devices, if they need one.
    enable_secret: SecretStr | None = None
    #: How long to wait for a device to answer SSH.
    connect_timeout_s: float = Field(default=10.0, gt=0)
    #: How long one command may take on a device.
    command_timeout_s: float = Field(default=30.0, gt=0)
    #: Read-only commands `/device run` may send, each with the arguments it takes:
    #: keywords, values (`<interface>`, `<address>`, `<prefix>`, `<mask>`, `<number>`,
    #: `<word>`), `[optional|choice]` and `{one|other}`. Any may end in one
    #: `| include|exclude|begin|section <regex>`; see domain/show_commands.py.
    show_allowlist: tuple[str, ...] = (
        "show version",
        "show clock",
        "show inventory",
        "show logging",
        "show interfaces [<interface>|status|description]",
        "show ip interface [brief|<interface>]",
        "show running-config [interface <interface>]",
        "show ip route [vrf <word>] [<address> [<mask>]|<prefix>]",
        "show ip arp",
        "show ntp associations",
        "show lldp neighbors [detail]",
        "show cdp neighbors [detail]",
    )
    #: The simulated device lab.
    lab: LabSettings = LabSettings()

    _blank = field_validator("password", "enable_secret", mode="before")(_blank_to_none)

    @field_validator("show_allowlist")
    @classmethod
    def _show_grammar(cls, entries: tuple[str, ...]) -> tuple[str, ...]:
        if not entries:
            raise ValueError("list at least one read-only command, e.g. show version")
        for entry in entries:
            check_entry(entry)  # ValueError: one line naming the entry and its fault
        return entries


Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]


class ChangeWindow(Section):
    #: Weekdays the window is open (mon..sun).
    days: tuple[Weekday, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
    #: Opens at (HH:MM, local time).
    start: time
    #: Closes at (HH:MM, local time).
    end: time
    #: Time zone of start and end.
    timezone: str = "Asia/Kolkata"

    _tz = field_validator("timezone")(lambda v: _check_timezone(v))


class Freeze(Section):
    #: First day of the freeze.
    start: date
    #: Last day of the freeze.
    end: date
    #: Shown to whoever tries to change something.
    reason: str
    #: Whose days start and end are (a freeze starts at local midnight).
    timezone: str = "Asia/Kolkata"

    _tz = field_validator("timezone")(lambda v: _check_timezone(v))

    @model_validator(mode="after")
    def _ordered(self) -> Freeze:
        if self.end < self.start:
            raise ValueError(f"freeze ends ({self.end}) before it starts ({self.start})")
        return self


class AutomationSettings(Section):
    #: Devices worked on in parallel in one change.
    workers: int = Field(default=10, ge=1, le=200)
    #: A change on more devices is refused.
    max_devices_per_change: int = Field(default=50, ge=1)
    #: Devices pushed per batch after the canary.
    batch_size: int = Field(default=10, ge=1)
    #: Push to one device first and stop if it fails.
    canary: bool = True
    #: Changes touching devices with these roles need a second engineer's approval.
    second_approval_roles: tuple[str, ...] = ("core",)
    #: Platforms changed through NAPALM; the others through their CLI (Netmiko).
    napalm_platforms: tuple[str, ...] = ("cisco_xr", "cisco_nxos")
    #: Empty means changes may run at any time.
    change_windows: tuple[ChangeWindow, ...] = ()
    #: Days no change may run.
    freezes: tuple[Freeze, ...] = ()


class DunningStep(Section):
    #: Days the oldest unpaid invoice is overdue.
    after_days: int = Field(ge=1)
    #: What happens then.
    action: Literal["reminder", "final_notice", "suspend"]


class BillingSettings(Section):
    #: ISO 4217 code of every amount.
    currency: str = Field(default="INR", pattern=r"^[A-Z]{3}$")
    #: Digits after the decimal point; amounts are stored as integers in that minor unit.
    minor_digits: int = Field(default=2, ge=0, le=3)
    #: Tax on each invoice line (0.18 is 18%).
    tax_rate: float = Field(default=0.18, ge=0, le=1)
    #: Days from an invoice to its due date.
    payment_terms_days: int = Field(default=15, ge=0, le=90)
    #: Steps by days overdue, evaluated daily.
    dunning: tuple[DunningStep, ...] = (
        DunningStep(after_days=15, action="reminder"),
        DunningStep(after_days=30, action="suspend"),
    )
    #: Consumer orders below this amount (in major units) approve themselves.
    auto_approve_below: float = Field(default=1000.0, ge=0)
    #: A credit above this amount (in major units) waits for a manager other than the
    #: one who asked for it; so does any credit on a dispute its resolver opened.
    credit_approval_above: float = Field(default=5000.0, ge=0)
    #: The largest amount one payment or credit may be (in major units); larger ones
    #: are refused as typing mistakes.
    max_amount: float = Field(default=10_000_000.0, gt=0, le=1e12)
    #: The operator's time zone: its days and months are /revenue's today, month and
    #: YYYY-MM and the digests' money figures. Left out, the scheduler's (the zone due
    #: dates and dunning already count days in).
    timezone: str = "Asia/Kolkata"

    _tz = field_validator("timezone")(lambda v: _check_timezone(v))

    @field_validator("dunning")
    @classmethod
    def _ascending(cls, steps: tuple[DunningStep, ...]) -> tuple[DunningStep, ...]:
        days = [s.after_days for s in steps]
        if days != sorted(set(days)):
            raise ValueError("dunning steps must have strictly increasing after_days")
        return steps


class AccessVlans(Section):
    """The VLANs customer access ports are given, lowest free first."""

    #: Lowest customer VLAN.
    first: int = Field(default=2000, ge=1, le=4094)
    #: Highest customer VLAN.
    last: int = Field(default=2999, ge=1, le=4094)

    @model_validator(mode="after")
    def _ordered(self) -> AccessVlans:
        if self.last < self.first:
            raise ValueError(f"access_vlans: last ({self.last}) is below first ({self.first})")
        return self


class OrderSettings(Section):
    """Product orders: who approves what, and how lines are delivered.

    Consumer orders whose first bill (one-off fee plus one month) is below
    `billing.auto_approve_below` approve themselves unless a rule below asks for a manager.
    """

    #: Customer segments whose orders always need a manager.
    manager_segments: tuple[Literal["consumer", "enterprise"], ...] = ("enterprise",)
    #: A manager decides when the account's balance plus the order's first bill
    #: would pass the account's credit limit.
    credit_check: bool = True
    #: A manager decides for accounts whose dunning state is not `current`.
    overdue_needs_manager: bool = True
    #: New mobile numbers are the next free ones starting with these digits.
    msisdn_prefix: str = Field(default="917000", pattern=r"^91[0-9]{2,8}$")
    #: VLANs handed to customer access ports, lowest free first.
    access_vlans: AccessVlans = AccessVlans()
    #: Bearer token for `POST /orders`; without one every request is refused (401).
    api_token: SecretStr | None = None
    #: POST /orders bodies larger than this get 413.
    max_body_bytes: int = Field(default=65_536, ge=1024, le=10_485_760)
    #: How often serve's order worker provisions approved orders and brings order
    #: messages up to date (a new order wakes it at once).
    worker_interval_s: float = Field(default=5.0, gt=0, le=600)

    _blank = field_validator("api_token", mode="before")(_blank_to_none)


class FraudSettings(Section):
    #: Score (0..1) from which a line is flagged.
    threshold: float = Field(default=0.7, gt=0, lt=1)
    #: How often the scoring job runs.
    score_every_minutes: int = Field(default=15, ge=1)
    #: Days of usage a line is scored over.
    window_days: int = Field(default=7, ge=1, le=90)
    #: Where trained models and their model cards are kept.
    model_dir: str = "var/models/fraud"
    #: Alert budget: the share of the window's lines the fraud desk can work a day (0.01 =
    #: 1%). The scheduled run opens at most that many new cases, worst first, per local day
    #: of the window; a line held back gets a case on a later day only if it is still
    #: flagged and fits that day's budget. `fraud evaluate` applies the cap once, over
    #: the lines it evaluates (lines at or above `threshold`, worst first, up to that many).
    alert_budget: float = Field(default=0.01, gt=0, le=0.1)


class TicketSettings(Section):
    #: Hours to resolve a ticket, by severity 1 (worst) to 4.
    sla_hours: dict[int, float] = {1: 4.0, 2: 8.0, 3: 24.0, 4: 72.0}

    @field_validator("sla_hours")
    @classmethod
    def _all_severities(cls, hours: dict[int, float]) -> dict[int, float]:
        missing = {1, 2, 3, 4} - set(hours)
        if missing:
            raise ValueError(f"sla_hours needs severities 1-4; missing {sorted(missing)}")
        return hours


class AlertSettings(Section):
    #: Bearer token the alert webhooks need; from SWITCHBOARD_ALERTS_TOKEN.
    token: SecretStr | None = None
    #: Larger alert bodies get 413.
    max_body_bytes: int = Field(default=1_048_576, ge=1024)
    #: More new alarms than this in a minute are posted as one storm summary.
    storm_per_minute: int = Field(default=20, ge=1)
    #: A service-affecting alarm of these severities opens a ticket.
    open_ticket_severities: tuple[str, ...] = ("critical",)
    #: How often alarm messages in Slack are brought up to date (new alerts wake it at once).
    message_interval_s: float = Field(default=2.0, gt=0, le=300)
    #: Alert requests each sender (client address) may make a minute, on average; more
    #: get 429 with Retry-After. Alertmanager does not retry a 4xx at once: the group is
    #: sent again at its next group_interval.
    rate_limit_per_minute: int = Field(default=120, ge=1, le=1_000_000)
    #: Alert requests a sender may make at once before the per-minute rate applies.
    rate_limit_burst: int = Field(default=60, ge=1, le=1_000_000)

    _blank = field_validator("token", mode="before")(_blank_to_none)


class DigestSettings(Section):
    #: Used by /digest and the CLI.
    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]*$")
    #: When it goes out: minute hour day month weekday (0 or 7 is Sunday).
    cron: str
    #: Time zone of the cron line.
    timezone: str = "Asia/Kolkata"
    #: Channel it is posted to.
    channel: str | None = None
    #: Who reads that channel: it is shown only the sections every one of these roles may
    #: read (the policy table's digest sections). Left out, the roles that may read every
    #: section the digest names (manager-daily: managers); none, and the channel gets none.
    audience: tuple[Role, ...] = ()
    #: People it is sent to by direct message (besides subscribers).
    users: tuple[str, ...] = ()
    #: What it reports: network, tickets, orders, revenue, fraud, changes.
    sections: tuple[Literal["network", "tickets", "orders", "revenue", "fraud", "changes"], ...]

    _tz = field_validator("timezone")(lambda v: _check_timezone(v))

    @field_validator("cron")
    @classmethod
    def _five_fields(cls, cron: str) -> str:
        if len(cron.split()) != 5:
            raise ValueError(f"cron needs 5 fields (minute hour day month weekday), got {cron!r}")
        return cron


class SchedulerSettings(Section):
    """Scheduled jobs; digests carry their own cron and time zone."""

    #: Run jobs at all (one replica of a cluster runs them).
    enabled: bool = True
    #: Time zone of dunning_cron and of the periodic jobs.
    timezone: str = "Asia/Kolkata"
    #: A run missed by less than this (a restart) still happens, once; older ones are skipped.
    misfire_grace_s: int = Field(default=3600, ge=1)
    #: When dunning states are evaluated (daily).
    dunning_cron: str = "0 6 * * *"
    #: How often tickets newly past their SLA are announced.
    sla_warning_minutes: int = Field(default=15, ge=1, le=1440)
    #: Processes that run the scheduled jobs, apart from the one that acks Slack.
    processes: int = Field(default=1, ge=1, le=16)

    _tz = field_validator("timezone")(lambda v: _check_timezone(v))

    @field_validator("dunning_cron")
    @classmethod
    def _five_fields(cls, cron: str) -> str:
        if len(cron.split()) != 5:
            raise ValueError(f"cron needs 5 fields (minute hour day month weekday), got {cron!r}")
        return cron


class AuditSettings(Section):
    """The audit trail's key and its anchor outside the database (README: Audit trail)."""

    #: Keys that seal audit events, one `<id> <hex key>` per line, newest last (mode
    #: 0600); made by `switchboard audit init`. SWITCHBOARD_AUDIT_KEY, when set, seals
    #: instead. Without either, one is created here on first use, with a warning.
    #: Keep it out of database backups.
    key_file: str = "var/audit.key"
    #: Append-only file the chain head is written to: time, last event, its seal, an HMAC.
    anchor_file: str = "var/audit-anchors.log"
    #: How often the scheduler anchors the chain head (only when it moved).
    anchor_every_minutes: int = Field(default=10, ge=1, le=1440)
    #: A channel each scheduled anchor is also posted to (empty: none).
    anchor_channel: str = ""


class Settings(Section):
    database: DatabaseSettings = DatabaseSettings()
    slack: SlackSettings = SlackSettings()
    server: ServerSettings = ServerSettings()
    #: People by name (alice, ...), usable with --as.
    users: dict[str, UserSettings] = {}
    access: AccessSettings = AccessSettings()
    channels: ChannelSettings = ChannelSettings()
    devices: DeviceSettings = DeviceSettings()
    automation: AutomationSettings = AutomationSettings()
    billing: BillingSettings = BillingSettings()
    orders: OrderSettings = OrderSettings()
    fraud: FraudSettings = FraudSettings()
    scheduler: SchedulerSettings = SchedulerSettings()
    tickets: TicketSettings = TicketSettings()
    alerts: AlertSettings = AlertSettings()
    #: The audit trail: sealing key and anchor.
    audit: AuditSettings = AuditSettings()
    #: Scheduled digests.
    digests: tuple[DigestSettings, ...] = ()
    #: Where the settings were read from; relative paths are resolved against its folder.
    source: Path = Field(default=PROJECT_ROOT / "config.yaml", exclude=True)

    @model_validator(mode="after")
    def _one_operator_zone(self) -> Settings:
        """billing.timezone left out is the scheduler's: one calendar for the operator."""
        if "timezone" not in self.billing.model_fields_set:
            billing = self.billing.model_copy(update={"timezone": self.scheduler.timezone})
            object.__setattr__(self, "billing", billing)  # frozen: set once, while validating
        return self

    @model_validator(mode="after")
    def _unique_names(self) -> Settings:
        slack_ids = [u.slack_id for u in self.users.values() if u.slack_id]
        dupes = sorted({i for i in slack_ids if slack_ids.count(i) > 1})
        if dupes:
            raise ValueError(f"users: slack_id {dupes[0]} is given to more than one user")
        names = [d.name for d in self.digests]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"digests: name {dupes[0]!r} is used twice")
        return self

    @model_validator(mode="before")
    @classmethod
    def _resolve_paths(cls, data: Any) -> Any:
        """Paths in the file are resolved once, here, against the file's folder."""
        if not isinstance(data, dict):
            return data
        base = Path(data.get("source") or PROJECT_ROOT / "config.yaml").parent
        fraud = data.get("fraud") or {}
        if isinstance(fraud, FraudSettings):
            fraud = fraud.model_dump()
        if not isinstance(fraud, dict):
            return data  # the section's own validation names the problem
        fraud = dict(fraud)
        model_dir = fraud.get("model_dir", FraudSettings().model_dir)
        if isinstance(model_dir, str | Path) and not Path(model_dir).is_absolute():
            fraud["model_dir"] = str(base / model_dir)
            return {**data, "fraud": fraud}
        return data

    def resolve_path(self, path: str | Path) -> Path:
        """A path from the config, relative to the config file's folder."""
        p = Path(path)
        return p if p.is_absolute() else self.source.parent / p

    @property
    def database_url(self) -> str:
        """The database URL with a relative SQLite path made absolute."""
        return resolve_database_url(self.database.url, self.source.parent)


def _check_timezone(name: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f"unknown time zone {name!r} (use an IANA name such as Asia/Kolkata)"
        ) from None
    return name


def resolve_database_url(url: str, base: Path) -> str:
    """Make a relative SQLite path absolute against `base` (the config file's folder)."""
    prefix = "sqlite:///"
    if url.startswith(prefix) and not url.startswith(prefix + "/"):
        rest = url[len(prefix) :]
        if rest and rest != ":memory:" and not rest.startswith("file:"):
            return prefix + str(base / rest)
    return url


_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-(.*?))?\}")


def _interpolate(
    value: Any,
    path: str,
    env: Mapping[str, str],
    problems: list[str],
    origins: dict[str, str] | None = None,
) -> Any:
    """`value` with its variables filled; `origins` learns which key took which variable."""
    origins = {} if origins is None else origins
    if isinstance(value, dict):
        return {
            k: _interpolate(v, f"{path}.{k}" if path else str(k), env, problems, origins)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [
            _interpolate(v, f"{path}[{i}]", env, problems, origins) for i, v in enumerate(value)
        ]
    if not isinstance(value, str) or "${" not in value:
        return value

    def fill(match: re.Match[str]) -> str:
        name, default = match.group(1), match.group(2)
        if name in env and (env[name] != "" or default is None):
            origins[path] = name
            return env[name]
        if default is not None:
            return default
        problems.append(f"{path}: environment variable {name} is not set")
        return ""

    return _VAR.sub(fill, value)


def _location(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out or "(top level)"


def _describe(error: Any) -> str:
    kind, msg = error["type"], error["msg"]
    if kind == "extra_forbidden":
        return "unknown key"
    if kind == "missing":
        return "required key is missing"
    if kind == "database_url":
        return str(msg)
    msg = msg.removeprefix("Value error, ")
    given = error.get("input")
    if kind not in ("model_type", "dict_type") and isinstance(given, str | int | float | bool):
        return f"{msg} (got {given!r})"
    return msg


def parse_settings(data: Any, source: Path, env: Mapping[str, str] | None = None) -> Settings:
    """Validate already-parsed YAML data; raises ConfigError listing every problem."""
    env = os.environ if env is None else env
    name = str(source)
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError([f"{name}: the top level must be a mapping of sections"])
    problems: list[str] = []
    origins: dict[str, str] = {}
    filled = _interpolate(data, "", env, problems, origins)
    if problems:
        raise ConfigError([f"{name}: {p}" for p in problems])
    try:
        return Settings.model_validate({**filled, "source": source.resolve()})
    except ValidationError as exc:
        lines = []
        for err in exc.errors():
            # Section-level validators report a key path in their own message.
            loc = _location(tuple(p for p in err["loc"] if p != "source"))
            if loc in origins:  # the value came from the environment: name the variable too
                loc += f" (from {origins[loc]})"
            lines.append(f"{name}: {loc}: {_describe(err)}")
        raise ConfigError(lines) from None


def default_config_path(env: Mapping[str, str] | None = None) -> Path:
    """SWITCHBOARD_CONFIG, else ./config.yaml, else the one shipped with the project."""
    env = os.environ if env is None else env
    if env.get(CONFIG_ENV):
        return Path(env[CONFIG_ENV])
    here = Path.cwd() / "config.yaml"
    return here if here.exists() else PROJECT_ROOT / "config.yaml"


#: A config file is a few KB; anything this large is not one.
MAX_CONFIG_BYTES = 1_048_576


class YamlTooComplex(yaml.MarkedYAMLError):
    """The document passes a ConfigLoader budget (an alias bomb, or nesting too deep)."""


class ConfigLoader(yaml.SafeLoader):
    """yaml.SafeLoader with budgets, so a hostile file is refused in milliseconds.

    Aliases are counted as the document is composed, and so are the nodes they stand
    for: nine aliases of nine aliases of ... ("billion laughs") are few aliases but a
    billion nodes to validate. Nesting is bounded too (the composer recurses).
    """

    #: A hand-written config uses a few anchors, if any.
    max_aliases = 100
    #: Nodes the document would have with every alias written out.
    max_nodes = 100_000
    #: Sections are 3-4 levels deep (automation.change_windows[0].days[0]).
    max_depth = 20

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._aliases = 0
        self._nodes = 0
        self._depth = 0
        self._sizes: dict[str, int] = {}  # anchor -> nodes it expands to

    def _refuse(self, problem: str, event: yaml.Event) -> None:
        mark: Any = event.start_mark  # the C and Python marks carry the same fields
        raise YamlTooComplex(problem=problem, problem_mark=mark)

    def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node | None:
        event = self.peek_event()
        if isinstance(event, yaml.AliasEvent):
            self._aliases += 1
            if self._aliases > self.max_aliases:
                self._refuse(f"more than {self.max_aliases} aliases (*name)", event)
            self._nodes += self._sizes.get(str(event.anchor), 1)
            if self._nodes > self.max_nodes:
                self._refuse(
                    f"aliases expand it past {self.max_nodes:,} values (an alias bomb?)", event
                )
            return super().compose_node(parent, index)
        self._depth += 1
        if self._depth > self.max_depth:
            self._refuse(f"nested more than {self.max_depth} levels deep", event)
        before = self._nodes
        self._nodes += 1
        try:
            node = super().compose_node(parent, index)
        finally:
            self._depth -= 1
        anchor = getattr(event, "anchor", None)
        if anchor is not None:
            self._sizes[str(anchor)] = self._nodes - before
        return node


def load_yaml(text: str) -> Any:
    """One YAML document read with ConfigLoader: plain data, within its budgets."""
    loader = ConfigLoader(text)
    try:
        return loader.get_single_data()
    finally:
        loader.dispose()


def _read_text(source: Path) -> str:
    """The file as text; one line naming the file when it cannot be (size, encoding)."""
    try:
        with source.open("rb") as f:
            raw = f.read(MAX_CONFIG_BYTES + 1)
    except FileNotFoundError:
        raise ConfigError([f"{source}: no such config file"]) from None
    except OSError as exc:
        raise ConfigError([f"{source}: cannot read it ({exc.strerror})"]) from None
    if len(raw) > MAX_CONFIG_BYTES:
        raise ConfigError(
            [f"{source}: larger than {MAX_CONFIG_BYTES:,} bytes; that is not a config file"]
        )
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        raise ConfigError(
            [
                f"{source}:{line}: not UTF-8: byte 0x{raw[exc.start]:02x} at offset {exc.start}"
                "; save the file as UTF-8"
            ]
        ) from None


def load_settings(path: str | Path | None = None, env: Mapping[str, str] | None = None) -> Settings:
    """Read, interpolate and validate the config file."""
    source = Path(path) if path is not None else default_config_path(env)
    text = _read_text(source)
    try:
        data = load_yaml(text)
    except YamlTooComplex as exc:
        mark = exc.problem_mark
        where = f":{mark.line + 1}:{mark.column + 1}" if mark else ""
        raise ConfigError([f"{source}{where}: refused: {exc.problem}"]) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f":{mark.line + 1}:{mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ConfigError([f"{source}{where}: not valid YAML: {problem}"]) from None
    return parse_settings(data, source, env)
