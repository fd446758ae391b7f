"""One grammar for what people type to name things: subjects and device selectors.

Subjects are what a ticket, an order, a bill, a customer card or a fraud check is about.
`classify` reads the text without the database:

    +91 98765 43210, 098765-43210, 9876543210, 919876543210   a mobile number
    BA100000001                                                an account number
    INV-202610-0000123                                         an invoice number
    MUM/FTTH/0000002, TN/FTTH/O000081                          a circuit id
    C-12                                                       a customer id
    anything else                                              a device (where the caller
                                                               takes devices: a hostname,
                                                               address or serial, or a
                                                               selector naming one), or
                                                               part of a customer's name

and `resolve_subject` finds the one thing it names, as a `Subject` with its ids. Each
caller says which kinds it takes. The text may be several words as typed (a number
written `+91 98765 43210` unquoted is three words): every command passes them all. A
miss is NotFound with a hint ("did you mean ..." for a near name or hostname); several
customers matching a name are listed with their city and account so the person can
pick one.

Device selectors are what a change, a search or a device command targets: different keys
AND together (`site:MUM-AND1 role:core`), the same key ORs (`site:A site:B`), a bare word
is an exact hostname unless written as a glob (`r1-*`, `*-mum`, `r?-ka`), and `lab` is the
lab devices. `parse_selector` checks what needs no database (keys, roles, platforms,
statuses); domain/inventory/queries.py checks sites, vendors and hostnames against the
inventory and runs the selector, and reads "exactly one device" (`one_device`). In a
search, a word that is exactly a hostname is that hostname; other plain words are
search words.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol

import sqlalchemy as sa
from sqlalchemy.orm import Session

from domain.billing.models import Invoice
from domain.customers.models import BillingAccount, Customer, Subscription
from domain.errors import DomainError, NotFound
from domain.inventory.choices import DeviceRole, DeviceStatus, Platform
from domain.inventory.services import near_hostnames

#: Longest stretch of what someone typed that an error message repeats back.
SHOWN = 60


def shown(text: str) -> str:
    """What someone typed, cut short enough to repeat in a one-line error."""
    text = " ".join(text.split())
    return text if len(text) <= SHOWN else text[: SHOWN - 1] + "…"


def escape_like(text: str) -> str:
    """Text for a LIKE pattern with `escape="\\"`: its % and _ match only themselves."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


# -- mobile numbers: the one rule -------------------------------------------------------------

COUNTRY_CODE = "91"
NATIONAL_DIGITS = 10
#: Digits, spaces, hyphens, brackets and at most one leading + (maybe in a bracket, as in
#: "(+91) 98765 43210"): how people write phone numbers.
_NUMBERISH = re.compile(r"[\s(]*\+?[0-9\s()\-]*[0-9][0-9\s()\-]*")
_SEPARATORS = re.compile(r"[\s()\-]")
_DIGITS = re.compile(r"[0-9]+")
MOBILE_HINT = "write it as 10 digits (9876543210) or with the country code (+91 98765 43210)"


def looks_like_number(text: str) -> bool:
    """Whether the text is written the way people write phone numbers."""
    return bool(_NUMBERISH.fullmatch(text.strip()))


def normalise_msisdn(text: str) -> str:
    """The MSISDN a person means, country code first: every way below is 919876543210.

    +91 98765 43210, +91-98765-43210, (+91) 98765 43210, +91 (0) 98765 43210,
    0091 98765 43210, 91 98765 43210, 098765 43210, 09876543210, 98765-43210, 9876543210.
    A number written with + or 00 is international: 91 and 10 digits, or another country's
    8-15 digits kept as written; one without is Indian: 10 digits, a trunk 0 and 10
    digits, or 91 and 10 digits.
    """
    compact = _SEPARATORS.sub("", text.strip())
    international = compact.startswith(("+", "00"))
    digits = compact[1:] if compact.startswith("+") else compact[2:] if international else compact
    if _DIGITS.fullmatch(digits):
        if international:
            if len(digits) == 13 and digits.startswith(COUNTRY_CODE + "0"):
                digits = COUNTRY_CODE + digits[3:]  # +91 (0) 98765 43210
            home = digits.startswith(COUNTRY_CODE)
            if (len(digits) == NATIONAL_DIGITS + 2) if home else (8 <= len(digits) <= 15):
                return digits
        else:
            if len(digits) == NATIONAL_DIGITS + 1 and digits.startswith("0"):
                digits = digits[1:]
            if len(digits) == NATIONAL_DIGITS:
                return COUNTRY_CODE + digits
            if len(digits) == NATIONAL_DIGITS + 2 and digits.startswith(COUNTRY_CODE):
                return digits
    raise NotFound(f"{shown(text)!r} is not a mobile number", hint=MOBILE_HINT)


# -- subjects -----------------------------------------------------------------------------------


class SubjectKind(StrEnum):
    """What a piece of typed text names; the value is how an error message says it."""

    MOBILE = "mobile number"
    CIRCUIT = "circuit id"
    ACCOUNT = "account number"
    INVOICE = "invoice number"
    CUSTOMER = "customer id"
    NAME = "customer name"
    DEVICE = "device"


#: What each kind looks like, in the order hints list them.
EXAMPLES: dict[SubjectKind, str] = {
    SubjectKind.ACCOUNT: "an account number (BA100000001)",
    SubjectKind.MOBILE: "a mobile number (9876543210)",
    SubjectKind.CIRCUIT: "a circuit id (MUM/FTTH/0000002)",
    SubjectKind.INVOICE: "an invoice number (INV-202610-0000123)",
    SubjectKind.CUSTOMER: "a customer id (C-12)",
    SubjectKind.DEVICE: "a device (r1-mum)",
    SubjectKind.NAME: "part of the customer's name",
}

#: What care lookups take (/bill, /customer): any way of naming a customer-side thing.
CARE = frozenset(
    {
        SubjectKind.MOBILE,
        SubjectKind.CIRCUIT,
        SubjectKind.ACCOUNT,
        SubjectKind.INVOICE,
        SubjectKind.CUSTOMER,
        SubjectKind.NAME,
    }
)
#: What a ticket can be about: a device, a line, an account or a customer.
TICKET_SUBJECT = (CARE - {SubjectKind.INVOICE}) | {SubjectKind.DEVICE}
#: Whom an order is for. An order makes a billed line, so it takes an identifier, never a
#: name that could match someone else tomorrow.
ORDER_CUSTOMER = frozenset(
    {SubjectKind.ACCOUNT, SubjectKind.MOBILE, SubjectKind.CIRCUIT, SubjectKind.CUSTOMER}
)
#: A mobile line and nothing else (/fraud check scores a line's calls).
MOBILE_LINE = frozenset({SubjectKind.MOBILE})


def forms(accept: Collection[SubjectKind]) -> str:
    """'an account number (BA100000001), a mobile number (9876543210) or ...'."""
    said = [example for kind, example in EXAMPLES.items() if kind in accept]
    return said[0] if len(said) == 1 else ", ".join(said[:-1]) + " or " + said[-1]


@dataclass(frozen=True)
class Typed:
    """What text is by its form alone, and its key in the form the database keeps."""

    kind: SubjectKind
    key: str


_INVOICE = re.compile(r"(?i)INV-?(\d{6})-?(\d{1,12})")
_ACCOUNT = re.compile(r"(?i)BA[\s-]?(\d{1,18})")
_CUSTOMER_ID = re.compile(r"(?i)C-?(\d{1,12})")
#: A circuit: region, kind and number; a line an order made has O before its number
#: (TN/FTTH/O000081, see domain/orders/services.py).
_CIRCUIT = re.compile(r"[A-Za-z]{2,5}/[A-Za-z]+/[Oo]?\d{1,12}")


def classify(text: str) -> Typed:
    """The kind of thing text names by its form; a word stays NAME (a name or a hostname)."""
    words = " ".join(text.split())
    if not words:
        raise DomainError("say who or what", hint=f"use {forms(CARE | {SubjectKind.DEVICE})}")
    if not words.isprintable():
        raise NotFound(f"{shown(words)!r} has characters no name or number has")
    if m := _INVOICE.fullmatch(words):
        return Typed(SubjectKind.INVOICE, f"INV-{m.group(1)}-{int(m.group(2)):07d}")
    if re.fullmatch(r"(?i)INV-?\d+(-\d*)?", words):
        # An invoice number of the wrong shape is no customer's name.
        raise NotFound(
            f"{shown(words)!r} is not an invoice number",
            hint="invoice numbers look like INV-202610-0000123",
        )
    if m := _ACCOUNT.fullmatch(words):
        return Typed(SubjectKind.ACCOUNT, "BA" + m.group(1))
    if m := _CUSTOMER_ID.fullmatch(words):
        return Typed(SubjectKind.CUSTOMER, str(int(m.group(1))))
    if _CIRCUIT.fullmatch(words):
        return Typed(SubjectKind.CIRCUIT, words.upper())
    if looks_like_number(words):
        return Typed(SubjectKind.MOBILE, normalise_msisdn(words))
    return Typed(SubjectKind.NAME, words)


@dataclass(frozen=True)
class Subject:
    """The one thing typed text names, with the ids of everything it belongs to."""

    kind: SubjectKind
    #: How it is shown: the MSISDN, circuit, account or invoice number, name or hostname.
    label: str
    customer_id: int | None = None
    account_id: int | None = None
    subscription_id: int | None = None
    invoice_id: int | None = None
    device_id: int | None = None


class Ambiguous(DomainError):
    """Several things match; the message lists them so the person can pick one."""


def resolve_subject(session: Session, text: str, accept: Collection[SubjectKind]) -> Subject:
    """What the text names, among the kinds the caller takes; NotFound with a hint if nothing."""
    try:
        typed = classify(text)
    except NotFound:
        # '21020016887185' is no mobile number, but may be a device's serial.
        if SubjectKind.DEVICE in accept and (device := _device(session, text)) is not None:
            return device
        raise
    if typed.kind == SubjectKind.NAME:
        if SubjectKind.DEVICE in accept and (device := _device(session, text)) is not None:
            return device
        if SubjectKind.NAME in accept:
            return _by_name(session, typed.key, accept)
        if set(accept) == {SubjectKind.MOBILE}:
            raise NotFound(f"{shown(text)!r} is not a mobile number", hint=MOBILE_HINT)
        if len(accept) == 1:
            (only,) = accept
            article = "an" if only.value[0] in "aeiou" else "a"
            raise NotFound(
                f"{shown(text)!r} is not {article} {only.value}", hint=f"use {forms(accept)}"
            )
        raise NotFound(f"{shown(text)!r} does not name a customer", hint=f"use {forms(accept)}")
    if typed.kind not in accept:
        article = "an" if typed.kind.value[0] in "aeiou" else "a"
        raise NotFound(
            f"{shown(text)!r} is {article} {typed.kind.value}, which is not taken here",
            hint=f"use {forms(accept)}",
        )
    return _BY_KEY[typed.kind](session, typed.key, accept)


def _device(session: Session, text: str) -> Subject | None:
    """The one device text names, as /device run reads it (a hostname, address or serial,
    or a selector that matches exactly one device); None for plain words naming none."""
    from domain.inventory.queries import one_device_or_none  # it reads selectors from here

    device = one_device_or_none(session, text.split())
    if device is None:
        return None
    return Subject(SubjectKind.DEVICE, device.hostname, device_id=device.id)


def _line(sub: Subscription) -> Subject:
    return Subject(
        SubjectKind.MOBILE if sub.msisdn else SubjectKind.CIRCUIT,
        sub.identifier,
        customer_id=sub.customer_id,
        account_id=sub.billing_account_id,
        subscription_id=sub.id,
    )


def _by_msisdn(session: Session, msisdn: str, accept: Collection[SubjectKind]) -> Subject:
    sub = session.scalars(sa.select(Subscription).where(Subscription.msisdn == msisdn)).first()
    if sub is None:
        raise NotFound(
            f"no subscription with number {msisdn}",
            hint="check the number, or search by the customer's name"
            if SubjectKind.NAME in accept
            else "check the number",
        )
    return _line(sub)


def _by_circuit(session: Session, circuit: str, accept: Collection[SubjectKind]) -> Subject:
    sub = session.scalars(sa.select(Subscription).where(Subscription.circuit_id == circuit)).first()
    if sub is None:
        raise NotFound(f"no circuit {circuit}", hint="circuit ids look like MUM/FTTH/0000002")
    return _line(sub)


def _by_account(session: Session, number: str, accept: Collection[SubjectKind]) -> Subject:
    row = session.execute(
        sa.select(BillingAccount.id, BillingAccount.customer_id).where(
            BillingAccount.account_number == number
        )
    ).first()
    if row is None:
        raise NotFound(f"no billing account {number}", hint="account numbers look like BA100000123")
    return Subject(SubjectKind.ACCOUNT, number, customer_id=row[1], account_id=row[0])


def _by_invoice(session: Session, number: str, accept: Collection[SubjectKind]) -> Subject:
    row = session.execute(
        sa.select(Invoice.id, BillingAccount.id, BillingAccount.customer_id)
        .join(BillingAccount, BillingAccount.id == Invoice.billing_account_id)
        .where(Invoice.number == number)
    ).first()
    if row is None:
        raise NotFound(f"no invoice {number}", hint="invoice numbers look like INV-202610-0000123")
    return Subject(
        SubjectKind.INVOICE, number, customer_id=row[2], account_id=row[1], invoice_id=row[0]
    )


def _by_customer_id(session: Session, key: str, accept: Collection[SubjectKind]) -> Subject:
    customer = session.get(Customer, int(key))
    if customer is None:
        raise NotFound(f"no customer C-{key}", hint="look the customer up with /customer")
    return Subject(SubjectKind.CUSTOMER, customer.name, customer_id=customer.id)


_BY_KEY = {
    SubjectKind.MOBILE: _by_msisdn,
    SubjectKind.CIRCUIT: _by_circuit,
    SubjectKind.ACCOUNT: _by_account,
    SubjectKind.INVOICE: _by_invoice,
    SubjectKind.CUSTOMER: _by_customer_id,
}

#: How many customers a name search lists before asking for more of the name.
NAME_MATCHES = 6
#: How many of the customers an ambiguous name matches are listed to choose from.
SHOWN_MATCHES = 5


def _name_matches(session: Session, name: str) -> sa.ColumnElement[bool]:
    """Customers with exactly this name (in any case) if there are any, else those whose
    name contains it."""
    name = " ".join(name.split())
    if len(name) < 3:
        raise DomainError(
            f"{name!r} is too short to search customers by",
            hint="give at least 3 letters of the name, a mobile number or an account number",
        )
    exact = sa.func.lower(Customer.name) == name.lower()
    if session.scalar(sa.select(Customer.id).where(exact).limit(1)) is not None:
        return exact
    return Customer.name.ilike(f"%{escape_like(name)}%", escape="\\")


def customers_named(
    session: Session, name: str, limit: int = NAME_MATCHES
) -> tuple[list[Customer], int]:
    """The first `limit` customers a name matches (exactly, else by containing it), and
    how many it matches in all."""
    where = _name_matches(session, name)
    found = list(
        session.scalars(
            sa.select(Customer).where(where).order_by(Customer.name, Customer.id).limit(limit)
        )
    )
    total = (
        len(found)
        if len(found) < limit
        else session.scalar(sa.select(sa.func.count()).select_from(Customer).where(where)) or 0
    )
    return found, total


def near_names(session: Session, name: str, n: int = 3) -> list[str]:
    """Customer names close to a name that matched none: 'Pirya Nair' finds 'Priya Nair'.

    The pool is names with a word starting like one of the typed words, so a typo after
    the third letter of any word is forgiven without reading every customer.
    """
    words = [w for w in name.lower().split() if len(w) >= 3][:4]
    if not words:
        return []
    starts = []
    for w in words:
        stem = escape_like(w[:3])
        starts += [
            Customer.name.ilike(f"{stem}%", escape="\\"),
            Customer.name.ilike(f"% {stem}%", escape="\\"),
        ]
    pool = session.scalars(
        sa.select(Customer.name).where(sa.or_(*starts)).distinct().limit(5000)
    ).all()
    # Compare with the whole name and with each run of as many words as were typed, so
    # 'Priay' is close to 'Priya Nair' through 'Priya'.
    spans: dict[str, str] = {}
    for full in pool:
        parts = full.lower().split()
        spans.setdefault(full.lower(), full)
        for i in range(len(parts) - len(words) + 1):
            spans.setdefault(" ".join(parts[i : i + len(words)]), full)
    close = difflib.get_close_matches(" ".join(name.lower().split()), spans, n=n * 3, cutoff=0.75)
    return list(dict.fromkeys(spans[c] for c in close))[:n]


def _either(names: Sequence[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " or " + names[-1]


def _by_name(session: Session, name: str, accept: Collection[SubjectKind]) -> Subject:
    found, total = customers_named(session, name, limit=SHOWN_MATCHES)
    if total == 1:
        return Subject(SubjectKind.NAME, found[0].name, customer_id=found[0].id)
    if found:
        listed = ", ".join(
            f"{c.name} ({c.city}, {c.accounts[0].account_number if c.accounts else 'no account'})"
            for c in found
        )
        cut = f", showing {len(found)} of {total:,}" if total > len(found) else ""
        raise Ambiguous(
            f"{shown(name)!r} matches {total:,} customers{cut}: {listed}",
            hint="use the full name, a mobile number or an account number",
        )
    close = near_names(session, name)
    if SubjectKind.DEVICE in accept:
        close = near_hostnames(session, name) + close
        message = f"no device, number or customer {shown(name)!r}"
    else:
        message = f"no customer matches {shown(name)!r}"
    hint = f"did you mean {_either(close[:3])}?" if close else f"use {forms(accept)}"
    raise NotFound(message, hint=hint)


# -- device selectors -----------------------------------------------------------------------------


class SelectorKey(StrEnum):
    SITE = "site"
    ROLE = "role"
    PLATFORM = "platform"
    STATUS = "status"
    VENDOR = "vendor"


LAB = "lab"
SELECTOR_HINT = (
    "hostnames, globs (r1-*), site:CODE, role:ROLE, platform:NAME, status:STATE, vendor:NAME or lab"
)
_CHOICES: dict[SelectorKey, type[StrEnum]] = {
    SelectorKey.ROLE: DeviceRole,
    SelectorKey.PLATFORM: Platform,
    SelectorKey.STATUS: DeviceStatus,
}
_PLURAL = {
    SelectorKey.ROLE: "roles",
    SelectorKey.PLATFORM: "platforms",
    SelectorKey.STATUS: "states",
}


class DeviceLike(Protocol):
    """What a selector looks at on a device."""

    @property
    def hostname(self) -> str: ...
    @property
    def role(self) -> DeviceRole: ...
    @property
    def platform(self) -> Platform: ...
    @property
    def status(self) -> DeviceStatus: ...
    @property
    def vendor(self) -> str: ...
    @property
    def lab(self) -> bool: ...


@dataclass(frozen=True)
class DeviceSelector:
    """Which devices: every non-empty key must hold, and within a key any value will do.

    Hostnames and globs are one key (the hostname), so `r1-mum r2-*` is either.
    `words` are free search words, which only /inventory search takes.
    """

    hostnames: frozenset[str] = frozenset()
    globs: frozenset[str] = frozenset()
    lab: bool = False
    sites: frozenset[str] = frozenset()
    roles: frozenset[DeviceRole] = frozenset()
    platforms: frozenset[Platform] = frozenset()
    statuses: frozenset[DeviceStatus] = frozenset()
    vendors: frozenset[str] = frozenset()
    words: tuple[str, ...] = ()
    #: The words as typed, normalised, in their order: how messages repeat the selector.
    terms: tuple[str, ...] = field(default=(), compare=False)

    def __str__(self) -> str:
        return " ".join(self.terms)

    @property
    def empty(self) -> bool:
        """Names no device at all (and so, for a change, every device: refused)."""
        return not (
            self.hostnames
            or self.globs
            or self.lab
            or self.sites
            or self.roles
            or self.platforms
            or self.statuses
            or self.vendors
            or self.words
        )

    def matches(self, device: DeviceLike, site: str) -> bool:
        """The selector's meaning, on one device at `site`; the SQL in
        domain/inventory/queries.py says the same, and a test holds them to it."""
        named = self.hostnames or self.globs
        return (
            (
                not named
                or device.hostname in self.hostnames
                or any(glob_regex(g).fullmatch(device.hostname) for g in self.globs)
            )
            and (not self.lab or device.lab)
            and (not self.sites or site in self.sites)
            and (not self.roles or device.role in self.roles)
            and (not self.platforms or device.platform in self.platforms)
            and (not self.statuses or device.status in self.statuses)
            and (not self.vendors or device.vendor.lower() in self.vendors)
        )


def is_glob(word: str) -> bool:
    return "*" in word or "?" in word


def glob_regex(glob: str) -> re.Pattern[str]:
    """A hostname glob as a regular expression: `*` any run, `?` one character."""
    return re.compile(
        "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in glob)
    )


def glob_like(glob: str) -> str:
    """A hostname glob as a LIKE pattern (escape character backslash)."""
    return "".join("%" if c == "*" else "_" if c == "?" else escape_like(c) for c in glob)


def _did_you_mean(word: str, choices: Iterable[str]) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f"did you mean {close[0]}? " if close else ""


def selector_words(words: Sequence[str], *, search: bool = False) -> list[str]:
    """Words as typed, a quoted selector ('site:X role:core') split into its words.

    In a search, a quoted phrase of plain words ('andheri exchange') stays one search
    phrase; one holding a `key:value` or a glob is a selector like any other.
    """
    out: list[str] = []
    for word in words:
        pieces = word.split()
        if len(pieces) > 1 and (not search or any(":" in p or is_glob(p) for p in pieces)):
            out += pieces
        else:
            out.append(word)
    return out


def parse_selector(words: Sequence[str], *, search: bool = False) -> DeviceSelector:
    """A selector from typed words; one-line errors with the valid values as hints.

    With `search`, plain words are search words (hostname, site name, model, serial)
    instead of exact hostnames, and an empty selector is every device.
    """
    hostnames: set[str] = set()
    globs: set[str] = set()
    free: list[str] = []
    lab = False
    values: dict[SelectorKey, set[str]] = {k: set() for k in SelectorKey}
    terms: list[str] = []
    for raw in selector_words(words, search=search):
        word = raw.strip()
        if not word:
            continue
        spaced = any(c.isspace() for c in word)
        if not word.isprintable():
            raise DomainError(f"{shown(word)!r} is not a hostname or selector", hint=SELECTOR_HINT)
        key, sep, value = word.partition(":")
        if sep and not spaced:
            term = _key_value(key.lower(), value)
            values[SelectorKey(term.partition(":")[0])].add(term.partition(":")[2])
        elif word.lower() == LAB:
            lab, term = True, LAB
        elif is_glob(word) and not spaced:
            term = word.lower()
            globs.add(term)
        elif search:
            term = word.lower()
            if term not in free:
                free.append(term)
        else:
            term = word.lower()
            hostnames.add(term)
        if term not in terms:
            terms.append(term)
    selector = DeviceSelector(
        hostnames=frozenset(hostnames),
        globs=frozenset(globs),
        lab=lab,
        sites=frozenset(values[SelectorKey.SITE]),
        roles=frozenset(DeviceRole(v) for v in values[SelectorKey.ROLE]),
        platforms=frozenset(Platform(v) for v in values[SelectorKey.PLATFORM]),
        statuses=frozenset(DeviceStatus(v) for v in values[SelectorKey.STATUS]),
        vendors=frozenset(values[SelectorKey.VENDOR]),
        words=tuple(free),
        terms=tuple(terms),
    )
    if selector.empty and not search:
        raise DomainError("name the devices", hint=SELECTOR_HINT)
    return selector


def _key_value(key: str, value: str) -> str:
    """`key:value` checked and normalised (site codes upper case, the rest lower)."""
    try:
        known = SelectorKey(key)
    except ValueError:
        guess = _did_you_mean(key, [k.value for k in SelectorKey])
        raise DomainError(
            f"unknown selector {shown(key)}:",
            hint=f"{guess.replace('?', ':?')}selectors: {SELECTOR_HINT}",
        ) from None
    if not value:
        choices = _CHOICES.get(known)
        hint = (
            f"{_PLURAL[known]}: {', '.join(c.value for c in choices)}"
            if choices
            else "site codes look like MUM-AND1"
            if known == SelectorKey.SITE
            else "e.g. vendor:cisco"
        )
        raise DomainError(f"{known}: needs a value", hint=hint)
    if known == SelectorKey.SITE:
        return f"{known}:{value.upper()}"
    value = value.lower()
    choices = _CHOICES.get(known)
    if choices is not None and value not in {c.value for c in choices}:
        names = [c.value for c in choices]
        raise DomainError(
            f"no {known} {shown(value)!r}",
            hint=f"{_did_you_mean(value, names)}{_PLURAL[known]}: {', '.join(names)}",
        )
    return f"{known}:{value}"
