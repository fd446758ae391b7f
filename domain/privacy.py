"""Personal data and secrets found in any text, and masked one way everywhere.

`find(text)` finds, in text typed by a person or sent by a system:

- Aadhaar numbers: 12 digits, the first 2-9, a valid Verhoeff check digit; written
  whole or in 4-4-4 groups with spaces or dashes (`2345 6789 0124`);
- PAN: five letters (the fourth says who holds it: P, C, H, F, A, T, B, L, J, G), four
  digits, a letter (`ABCPE1234F`), in either case;
- payment card numbers: 13-19 digits passing the Luhn check, spaces or dashes allowed;
- Indian mobile numbers as domain/lookup.py reads them (`9876543210`, `+91 98765 43210`,
  `098765-43210`, `919876543210`), the national number starting 6-9;
- e-mail addresses;
- secrets: a value whose name says so, `password=x`, `password: x`, `secret=x`,
  `token=x`, `community=x` (domain/secrets.py's names, misspelt ones too), one inside
  a configuration line (`snmp-server community X RO`), and Slack tokens (`xoxb-...`).

`mask_text(text)` is the text with each of them masked in one style: numbers keep at
most their last four digits (`••••••••0124`, a mobile number `91••••••3210` as care
views show it), a PAN its last four characters, an e-mail its first letter and domain,
a secret nothing (`********`). Storage (ticket titles and notes, dispute reasons,
order and fraud notes, alarms from webhooks), display and the audit all call it; the
audit keeps mobile numbers (`keep=AUDIT_KEEPS`): care work is audited by the number
it concerns. Ordinary numbers are left alone: amounts, dates, invoice and account
numbers, IP addresses, hostnames.

`mask_phone`, `mask_identity`, `mask_email`, `mask_name`, `mask_reference`, `mask_line`
mask one value whose kind is known (a customer's record), in the same style; `Audience`
says who reads a reply, and so which of them apply (domain/customers/queries.py).
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterator
from dataclasses import dataclass
from enum import StrEnum

from domain.errors import DomainError, NotFound
from domain.lookup import COUNTRY_CODE, NATIONAL_DIGITS, SubjectKind, classify, normalise_msisdn
from domain.secrets import MASK, is_secret_name, mask_config

#: What stands for a hidden character of a number or a name.
DOT = "•"


class Kind(StrEnum):
    """What a finding is."""

    AADHAAR = "aadhaar"
    PAN = "pan"
    CARD = "card"
    MOBILE = "mobile"
    EMAIL = "email"
    SECRET = "secret"


class Audience(StrEnum):
    """Who reads a reply, which decides how much of a customer it shows."""

    #: One reader whose roles may see personal data in full (`access.unmasked_roles`),
    #: privately (an ephemeral reply).
    FULL = "full"
    #: One reader without such a role, privately: the name, account and lines they work
    #: with; identity number, phone and e-mail with their last four digits, the city.
    PRIVATE = "private"
    #: Everyone in a channel (a reply that is not ephemeral, a posted message): as
    #: PRIVATE, and the name as its first word and initial (Priya N.), account numbers
    #: and lines with their last four digits, free text scanned.
    CHANNEL = "channel"


#: A device's hostname as the inventory keeps it (lower case); customers' names are not.
_HOSTNAME = re.compile(r"[a-z0-9][a-z0-9._-]*")

#: What the audit keeps in clear: the number care work was about (`/bill 919876543210`).
AUDIT_KEEPS = frozenset({Kind.MOBILE})


@dataclass(frozen=True)
class Finding:
    kind: Kind
    start: int
    end: int
    #: What the text shows instead.
    masked: str


# -- checks ------------------------------------------------------------------------------------

_VERHOEFF_D = (
    (0, 1, 2, 3, 4, 5, 6, 7, 8, 9),
    (1, 2, 3, 4, 0, 6, 7, 8, 9, 5),
    (2, 3, 4, 0, 1, 7, 8, 9, 5, 6),
    (3, 4, 0, 1, 2, 8, 9, 5, 6, 7),
    (4, 0, 1, 2, 3, 9, 5, 6, 7, 8),
    (5, 9, 8, 7, 6, 0, 4, 3, 2, 1),
    (6, 5, 9, 8, 7, 1, 0, 4, 3, 2),
    (7, 6, 5, 9, 8, 2, 1, 0, 4, 3),
    (8, 7, 6, 5, 9, 3, 2, 1, 0, 4),
    (9, 8, 7, 6, 5, 4, 3, 2, 1, 0),
)
_VERHOEFF_P = (
    (0, 1, 2, 3, 4, 5, 6, 7, 8, 9),
    (1, 5, 7, 6, 2, 8, 3, 0, 9, 4),
    (5, 8, 0, 3, 7, 9, 6, 1, 4, 2),
    (8, 9, 1, 6, 0, 4, 3, 5, 2, 7),
    (9, 4, 5, 3, 1, 2, 6, 8, 7, 0),
    (4, 2, 8, 6, 5, 7, 3, 9, 0, 1),
    (2, 7, 9, 3, 8, 0, 6, 4, 1, 5),
    (7, 0, 4, 6, 9, 1, 3, 2, 5, 8),
)
_VERHOEFF_INV = (0, 4, 3, 2, 1, 5, 6, 7, 8, 9)


def verhoeff_ok(digits: str) -> bool:
    """Whether the last digit is the Verhoeff check digit of the others (Aadhaar's)."""
    c = 0
    for i, ch in enumerate(reversed(digits)):
        c = _VERHOEFF_D[c][_VERHOEFF_P[i % 8][int(ch)]]
    return c == 0


def verhoeff_digit(digits: str) -> str:
    """The check digit that makes `digits` + it Verhoeff-valid."""
    c = 0
    for i, ch in enumerate(reversed(digits)):
        c = _VERHOEFF_D[c][_VERHOEFF_P[(i + 1) % 8][int(ch)]]
    return str(_VERHOEFF_INV[c])


def luhn_ok(digits: str) -> bool:
    """Whether the digits pass the Luhn check (payment cards, IMEIs)."""
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def is_aadhaar(digits: str) -> bool:
    return len(digits) == 12 and digits[0] in "23456789" and verhoeff_ok(digits)


def is_card(digits: str) -> bool:
    return 13 <= len(digits) <= 19 and luhn_ok(digits)


def mobile_msisdn(written: str) -> str | None:
    """The MSISDN an Indian mobile number written this way is (domain/lookup.py's rule,
    the national number starting 6-9 as Indian mobile numbers do), or None."""
    try:
        msisdn = normalise_msisdn(written)
    except NotFound:
        return None
    home = len(msisdn) == NATIONAL_DIGITS + 2 and msisdn.startswith(COUNTRY_CODE)
    return msisdn if home and msisdn[2] in "6789" else None


# -- one value of a known kind ------------------------------------------------------------


def mask_identity(number: str) -> str:
    """An identity number (Aadhaar, PAN, GSTIN, card) with all but its last four hidden."""
    return DOT * max(0, len(number) - 4) + number[-4:]


def mask_phone(msisdn: str) -> str:
    """A phone number with the middle hidden: 91••••••3210."""
    return msisdn if len(msisdn) < 8 else msisdn[:2] + DOT * (len(msisdn) - 6) + msisdn[-4:]


def mask_email(email: str) -> str:
    """An e-mail address with only its first letter and its domain: p•••@example.in."""
    local, at, domain = email.partition("@")
    return local[:1] + DOT * 3 + at + domain if at else mask_identity(email)


def mask_name(name: str) -> str:
    """A person's name as a channel may read it: the first name and an initial (Priya N.)."""
    words = name.split()
    if len(words) <= 1:
        return name[:1] + DOT * 3 if name else name
    return f"{words[0]} {words[1][:1]}."


def mask_line(identifier: str) -> str:
    """A line as a channel may read it: a mobile number as `mask_phone`, a circuit id as
    `mask_reference`."""
    return mask_phone(identifier) if identifier.isdigit() else mask_reference(identifier)


def mask_subject(label: str) -> str:
    """What a ticket or order is about, as domain/lookup.py labels it (a hostname, a mobile
    number, a circuit id, an account number or a customer's name), as a channel may read
    it: a device as it is, a line or account with its last four digits, a name as its
    first word and initial."""
    try:
        typed = classify(label)
    except DomainError:
        return mask_text(label)
    if typed.kind == SubjectKind.MOBILE:
        return mask_phone(typed.key)
    if typed.kind in (SubjectKind.CIRCUIT, SubjectKind.ACCOUNT):
        return mask_reference(label)
    if typed.kind != SubjectKind.NAME or _HOSTNAME.fullmatch(label):
        return label  # an invoice number, a customer id or a device: nobody's personal data
    return mask_name(label)


def mask_reference(reference: str) -> str:
    """An account number or circuit id with all but the last four characters hidden,
    its letters and separators kept (BA•••••0001, MUM/FTTH/•••0002)."""
    tail = len(reference) - 4
    return "".join(c if i >= tail or not c.isdigit() else DOT for i, c in enumerate(reference))


#: Words in an alert label's name that say its value is a person or their line.
_PERSONAL_LABELS = frozenset(
    {"customer", "subscriber", "name", "owner", "contact", "person", "user", "msisdn", "account"}
)


def mask_label(name: str, value: str) -> str:
    """An alert label's value as a channel may read it: a mobile number, account or circuit
    with its last four digits wherever it is; under a label that names a person
    (customer, subscriber, contact, ...) a name as its first word and initial; anything
    else (a device, an interface, a severity) as it is."""
    if set(re.split(r"[^a-z]+", name.lower())) & _PERSONAL_LABELS:
        return mask_subject(value)
    try:
        typed = classify(value)
    except DomainError:
        return value
    if typed.kind == SubjectKind.MOBILE:
        return mask_phone(typed.key)
    if typed.kind in (SubjectKind.CIRCUIT, SubjectKind.ACCOUNT):
        return mask_reference(value)
    return value


# -- finding in free text ------------------------------------------------------------------

#: `name=value` or `name: value`; the value is one word, or quoted.
_NAMED = re.compile(
    r"(?<![\w-])(?P<name>[A-Za-z][\w-]*)(?P<sep>[ \t]*[=:][ \t]*)"
    r"(?P<v>\"[^\"]*\"|'[^']*'|(?:\"[^\"]*\"|'[^']*'|[^\s\"'])+)"
)
#: Words that are a secret's name after `=` but, after `:`, usually start a sentence.
_COLON_TOO_COMMON = frozenset({"key", "enable", "keys"})
_SLACK_TOKEN = re.compile(r"\bxox[abposr]-[A-Za-z0-9-]+|\bxapp-[A-Za-z0-9-]+")
_EMAIL = re.compile(
    r"(?<![\w.+-])[A-Za-z0-9][A-Za-z0-9._%+-]*@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}"
)
_PAN = re.compile(r"(?i)(?<![A-Za-z0-9])[A-Z]{3}[ABCFGHJLPT][A-Z][0-9]{4}[A-Z](?![A-Za-z0-9])")
#: Digits in groups joined by one space or dash, not part of a word, a decimal, an
#: address or a reference (`INV-202610-0000123`, `10.0.0.1`, `r1-mum`, `T-12`).
_DIGIT_RUN = re.compile(
    r"(?<![\w./@])(?<!\w-)(?:\+|(?<![\d+]))[0-9]+(?:[ -][0-9]+)*(?![\w@])(?!\.\d)(?!-\w)"
)
_GROUP = re.compile(r"[0-9]+")
#: Groups a number may span; a run of more groups is read window by window.
_MAX_DIGITS = 19


def _digit_window(digits: str, written: str, sizes: list[int]) -> tuple[Kind, str] | None:
    """What a stretch of digits (groups of `sizes` digits) is, and how it is shown masked.

    Aadhaar is written whole or 4-4-4; a number written with + or a trunk 0, or grouped
    otherwise (91 98765 43210), is a phone's.
    """
    if is_card(digits):
        return Kind.CARD, mask_identity(digits)
    if sizes in ([12], [4, 4, 4]) and not written.startswith("+") and is_aadhaar(digits):
        return Kind.AADHAAR, mask_identity(digits)
    msisdn = mobile_msisdn(written)
    if msisdn is not None:
        return Kind.MOBILE, mask_phone(msisdn)
    return None


def _digit_findings(text: str) -> Iterator[Finding]:
    for run in _DIGIT_RUN.finditer(text):
        groups = [(m.start() + run.start(), m.end() + run.start()) for m in _GROUP.finditer(run[0])]
        plus = run[0].startswith("+")
        i = 0
        while i < len(groups):
            found = None
            # The longest stretch of whole groups from here that is something.
            length = 0
            ends = []
            for j in range(i, len(groups)):
                length += groups[j][1] - groups[j][0]
                if length > _MAX_DIGITS + 2:  # +2: a 0091 prefix
                    break
                ends.append(j)
            for j in reversed(ends):
                start = groups[i][0] - (1 if plus and i == 0 else 0)
                written = text[start : groups[j][1]]
                digits = "".join(text[a:b] for a, b in groups[i : j + 1])
                sizes = [b - a for a, b in groups[i : j + 1]]
                what = _digit_window(digits, written, sizes)
                if what is not None:
                    found = Finding(what[0], start, groups[j][1], what[1])
                    break
            if found is not None:
                yield found
                i = j + 1
            else:
                i += 1


def _named_findings(text: str, at: int = 0) -> Iterator[Finding]:
    for m in _NAMED.finditer(text):
        name = m["name"]
        colon = ":" in m["sep"]
        if is_secret_name(name) and not (colon and name.lower() in _COLON_TOO_COMMON):
            yield Finding(Kind.SECRET, at + m.start("v"), at + m.end("v"), MASK)
        else:
            # A value that is no secret may hold one: note="app password=x".
            yield from _named_findings(m["v"], at + m.start("v"))


def find(text: str) -> list[Finding]:
    """Every identifier and secret in the text, first to last, none overlapping."""
    found: list[Finding] = []

    def free(a: int, b: int) -> bool:
        return all(b <= f.start or a >= f.end for f in found)

    for f in _named_findings(text):
        found.append(f)
    for m in _SLACK_TOKEN.finditer(text):
        if free(m.start(), m.end()):
            found.append(Finding(Kind.SECRET, m.start(), m.end(), MASK))
    for m in _EMAIL.finditer(text):
        if free(m.start(), m.end()):
            found.append(Finding(Kind.EMAIL, m.start(), m.end(), mask_email(m[0])))
    for m in _PAN.finditer(text):
        if free(m.start(), m.end()):
            found.append(Finding(Kind.PAN, m.start(), m.end(), mask_identity(m[0].upper())))
    for f in _digit_findings(text):
        if free(f.start, f.end):
            found.append(f)
    return sorted(found, key=lambda f: f.start)


#: How each kind of finding is named in a sentence.
SAID = {
    Kind.AADHAAR: "an Aadhaar number",
    Kind.PAN: "a PAN",
    Kind.CARD: "a card number",
    Kind.MOBILE: "a mobile number",
    Kind.EMAIL: "an e-mail address",
    Kind.SECRET: "a secret",
}


def refuse_identifiers(what: str, text: str, kinds: Collection[Kind], *, why: str) -> None:
    """For text that cannot be masked because it is used as typed (a device's
    configuration): DomainError naming the first identifier of `kinds` in it, masked."""
    for f in find(text):
        if f.kind in kinds:
            raise DomainError(
                f"{what} carries {SAID[f.kind]} ({f.masked}); {why}",
                hint="leave it out: a customer's details belong on their ticket, "
                "a secret in the setting made for it",
            )


def mask_text(text: str, *, keep: Collection[Kind] = ()) -> str:
    """The text with every identifier and secret in it masked (those of a kind in `keep`
    left as they are), and secrets inside configuration lines masked too."""
    out: list[str] = []
    at = 0
    for f in find(text):
        if f.kind in keep:
            continue
        out += [text[at : f.start], f.masked]
        at = f.end
    out.append(text[at:])
    return mask_config("".join(out))
