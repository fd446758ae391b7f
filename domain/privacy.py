"""Personal data and secrets found in any text, and masked one way everywhere.

`find(text)` finds, in text typed by a person or sent by a system:

- Aadhaar numbers: 12 digits, the first 2-9, a valid Verhoeff check digit;
- payment card numbers: 13-19 digits passing the Luhn check, starting as cards do;
  both written whole or in groups of three digits or more (`2345 67890124`), joined by
  any mix of spaces, dots and dashes (`4111.1111.1111.1111`, `2345 - 6789.0124`);
- PAN: five letters (the fourth says who holds it: P, C, H, F, A, T, B, L, J, G), four
  digits, a letter (`ABCPE1234F`), in either case, or in capitals with spaces inside
  (`ABCPE 1234 F`);
- Indian mobile numbers as domain/lookup.py reads them (`9876543210`, `+91 98765 43210`,
  `098765-43210`, `919876543210`), the national number starting 6-9;
- e-mail addresses;
- secrets: a value whose name says so (domain/secrets.py's names, misspelt ones too, and
  `pwd`, `pw`), written `password=x`, `password: x`, `"password": "x"` (JSON),
  `password is x` (not `password is expired`), a URL's `user:x@`, one inside a
  configuration line (`snmp-server community X RO`), and Slack tokens (`xoxb-...`).

Ordinary numbers are left alone: amounts, dates, times, invoice and account numbers,
IP and MAC addresses (`10.0.0.1`, `0011.2233.4455`: no number is read through one),
hostnames, VLANs, interfaces (`Gi0/0/1.100`), counts.

`mask_text(text)` is the text with each of them masked in one style: numbers keep at
most their last four digits (`••••••••0124`, a mobile number `91••••••3210` as care
views show it), a PAN its last four characters, an e-mail its first letter and domain,
a secret nothing (`********`). Storage (ticket titles and notes, dispute reasons,
order and fraud notes, alarms from webhooks), display and the audit all call it; the
audit keeps mobile numbers (`keep=AUDIT_KEEPS`): care work is audited by the number
it concerns. `mask_names(text, names)` is free text a channel reads with the names of
the customers it is about masked as `mask_name` masks them.

`mask_phone`, `mask_identity`, `mask_email`, `mask_name`, `mask_reference`, `mask_line`
mask one value whose kind is known (a customer's record), in the same style; `Audience`
says who reads a reply, and so which of them apply (domain/customers/queries.py).
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Collection, Iterable, Iterator
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


def mask_names(text: str, names: Iterable[str]) -> str:
    """Free text as a channel may read it about these people: each one's name, wherever it
    is typed and in any case, as `mask_name` shows it (Priya N.), and any later word of
    it typed alone (her surname) as its initial (N.)."""
    for name in names:
        words = name.split()
        if not words:
            continue
        whole = r"\s+".join(map(re.escape, words))
        text = re.sub(rf"(?i)(?<!\w){whole}(?!\w)", mask_name(name), text)
        for word in words[1:]:
            if len(word) >= 3:
                text = re.sub(rf"(?i)(?<!\w){re.escape(word)}(?!\w)", f"{word[0]}.", text)
    return text


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

#: Names a secret goes by in free text beyond domain/secrets.py's words (`pwd=letmein`).
_SECRET_SHORTHANDS = frozenset({"pwd", "pw", "passcode"})
#: `name=value`, `name: value`, JSON's `"name": "value"`; the value is one word, or quoted.
_NAMED = re.compile(
    r"(?<![\w-])(?P<q>[\"']?)(?P<name>[A-Za-z][\w-]*)(?P=q)(?P<sep>[ \t]*[=:][ \t]*)"
    r"(?P<v>\"[^\"]*\"|'[^']*'|(?:\"[^\"]*\"|'[^']*'|[^\s\"'])+)"
)
#: `name is value` in a sentence (`my password is hunter2`, `the pwd was x1`).
_SAID = re.compile(
    r"(?i)(?<![\w-])(?P<name>[a-z][\w-]*)[ \t]+(?P<verb>is|was)[ \t]+"
    r"(?P<v>\"[^\"]*\"|'[^']*'|[^\s\"']+)"
)
#: What follows `password is` in a sentence about a password rather than one.
_NOT_A_VALUE = frozenset(
    re.findall(
        r"\S+",
        """a an the not no now still too also being getting wrong incorrect correct right
        expired invalid valid missing empty blank set unset reset changed required needed
        locked blocked same different ok fine weak strong shared sent known unknown lost
        forgotten unchanged updated working mandatory optional case-sensitive in on at for
        with of to from by""",
    )
)
#: A URL's `user:password@` (`https://admin:adm1n@10.0.0.1/`).
_URL_LOGIN = re.compile(r"(?i)\b[a-z][a-z0-9+.-]*://[^\s:/@]+:(?P<v>[^\s/@]+)@")
#: Words that are a secret's name after `=` but, after `:` or in a sentence, usually are not.
_COLON_TOO_COMMON = frozenset({"key", "enable", "keys"})
_SLACK_TOKEN = re.compile(r"\bxox[abposr]-[A-Za-z0-9-]+|\bxapp-[A-Za-z0-9-]+")
_EMAIL = re.compile(
    r"(?<![\w.+-])[A-Za-z0-9][A-Za-z0-9._%+-]*@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}"
)
#: A PAN, in either case; written with spaces inside (`ABCPE 1234 F`) in capitals only.
_PAN = re.compile(
    r"(?<![A-Za-z0-9])(?:(?i:[A-Z]{3}[ABCFGHJLPT][A-Z][0-9]{4}[A-Z])"
    r"|[A-Z]{3}[ABCFGHJLPT][A-Z] ?[0-9]{4} ?[A-Z])(?![A-Za-z0-9])"
)
#: Digits in groups joined by spaces, dots or dashes (any mix, up to three between two
#: groups), not part of a word, an address or a reference (`INV-202610-0000123`,
#: `r1-mum`, `Gi0/0/1.100`, `T-12`, `12:30`).
_DIGIT_RUN = re.compile(
    r"(?<![\w./@:])(?<!\w-)(?:\+|(?<![\d+]))[0-9]+(?:[ .-]{1,3}[0-9]+)*(?![\w@])(?!-\w)"
)
_GROUP = re.compile(r"[0-9]+")
#: A MAC address in Cisco's dotted form or in six dashed pairs, hex letters and all
#: (`0100.0221.000a`, `00-1a-2b-3c-4d-5e`): its decimal groups are no number's.
_HEX_MAC = re.compile(
    r"(?<![\w.])(?:[0-9A-Fa-f]{4}\.){2}[0-9A-Fa-f]{4}(?![\w.])"
    r"|(?<![\w-])(?:[0-9A-Fa-f]{2}-){5}[0-9A-Fa-f]{2}(?![\w-])"
)
#: Where card numbers start (Mastercard's 2221-2720; 3: Amex, Diners, JCB; 4: Visa; 5 and
#: 6: Mastercard, Maestro, Discover, RuPay; RuPay's 81, 82): a count or a timestamp
#: (`20261001123045`) mostly does not.
_CARD_IIN = re.compile(r"2(?:22[1-9]|2[3-9][0-9]|[3-6][0-9]{2}|7[01][0-9]|720)|[3-6]|8[12]")
#: Digits a number may span.
_MAX_DIGITS = 19


def _is_secret_name(name: str) -> bool:
    words = re.split(r"[^a-z0-9]+", name.lower())
    return is_secret_name(name) or not _SECRET_SHORTHANDS.isdisjoint(words)


def _addresses(text: str, groups: list[tuple[int, int]]) -> set[int]:
    """Which groups of a run are an IPv4 address, a MAC address written in digits or a
    date or an amount (`10.0.0.1`, `2233.4455.6677`, `22-33-44-55-66-77`, `2026-10-01`,
    `1234.50`): no number runs through them."""
    seps = [text[a:b] for (_, a), (b, _) in itertools.pairwise(groups)]
    sizes = [b - a for a, b in groups]
    taken: set[int] = set()
    for k in range(len(groups)):
        octets = range(k, k + 4)
        if (
            k + 3 < len(groups)
            and all(seps[i] == "." for i in octets[:-1])
            and all(sizes[i] <= 3 and int(text[slice(*groups[i])]) <= 255 for i in octets)
        ):
            taken.update(octets)
        dotted = range(k, k + 3)  # Cisco's 0011.2233.4455, not a longer dotted number
        if (
            k + 2 < len(groups)
            and all(sizes[i] == 4 for i in dotted)
            and seps[k : k + 2] == [".", "."]
            and (k == 0 or seps[k - 1] != ".")
            and (k + 3 == len(groups) or seps[k + 2] != ".")
        ):
            taken.update(dotted)
        pairs = range(k, k + 6)
        if (
            k + 5 < len(groups)
            and all(sizes[i] == 2 for i in pairs)
            and len(set(seps[k : k + 5])) == 1
            and seps[k] in ("-", ".")
        ):
            taken.update(pairs)
        day = range(k, k + 3)  # 2026-10-01, 01.10.2026
        if k + 2 < len(groups) and seps[k] == seps[k + 1] and seps[k] in ("-", "."):
            y, m, d = (int(text[slice(*groups[i])]) for i in day)
            if [sizes[i] for i in day] == [2, 2, 4]:
                y, d = d, y
            if [sizes[i] for i in day] in ([4, 2, 2], [2, 2, 4]) and 1 <= m <= 12 and d <= 31:
                taken.update(day)
        # An amount's decimals (1234.50): the fraction ends the number, not a group of it
        # (but 4111 1111 1111.1 is a number written in fours).
        if (
            k
            and seps[k - 1] == "."
            and sizes[k] <= 2
            and (k + 1 == len(groups) or seps[k] != ".")
            and not (k >= 3 and set(sizes[:k]) == {4})
        ):
            taken.update((k - 1, k))
    return taken


def _digit_window(digits: str, written: str, sizes: list[int]) -> tuple[Kind, str] | None:
    """What a stretch of digits (groups of `sizes` digits) is, and how it is shown masked.

    A card or an Aadhaar number is written whole, in groups of three digits or more, or
    in fours (the last may be shorter: 4111 1111 1111 1), joined by any mix of spaces,
    dots and dashes; a number written with + or a trunk 0, or with 91 apart (91 98765 43210), is
    a phone's.
    """
    grouped = min(sizes) >= 3 or set(sizes[:-1]) == {4}
    if grouped and is_card(digits) and _CARD_IIN.match(digits):
        return Kind.CARD, mask_identity(digits)
    if grouped and not written.startswith("+") and is_aadhaar(digits):
        return Kind.AADHAAR, mask_identity(digits)
    msisdn = None if "." in written else mobile_msisdn(written)
    if msisdn is not None:
        return Kind.MOBILE, mask_phone(msisdn)
    return None


def _digit_findings(text: str) -> Iterator[Finding]:
    macs = [m.span() for m in _HEX_MAC.finditer(text)]
    for run in _DIGIT_RUN.finditer(text):
        groups = [(m.start() + run.start(), m.end() + run.start()) for m in _GROUP.finditer(run[0])]
        plus = run[0].startswith("+")
        addresses = _addresses(text, groups) | {
            k for k, (a, b) in enumerate(groups) if any(a < y and x < b for x, y in macs)
        }
        i = 0
        while i < len(groups):
            found = None
            # The longest stretch of whole groups from here that is something.
            length = 0
            ends = []
            for j in range(i, len(groups)):
                length += groups[j][1] - groups[j][0]
                if j in addresses or length > _MAX_DIGITS + 2:  # +2: a 0091 prefix
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


def _value(kind_start: int, value: str) -> tuple[int, int]:
    """Where a secret's value is, inside its quotes if it has them (they stay)."""
    quoted = len(value) >= 2 and value[0] in "\"'" and value[-1] == value[0]
    return (
        (kind_start + 1, kind_start + len(value) - 1)
        if quoted
        else (
            kind_start,
            kind_start + len(value),
        )
    )


def _named_findings(text: str, at: int = 0) -> Iterator[Finding]:
    for m in _NAMED.finditer(text):
        name = m["name"]
        colon = ":" in m["sep"]
        if _is_secret_name(name) and not (colon and name.lower() in _COLON_TOO_COMMON):
            start, end = _value(at + m.start("v"), m["v"])
            yield Finding(Kind.SECRET, start, end, MASK)
        else:
            # A value that is no secret may hold one: note="app password=x".
            yield from _named_findings(m["v"], at + m.start("v"))


def _said(text: str) -> Iterator[re.Match[str]]:
    """`password is x` in the text, its name a secret's (the value may be none: `is expired`)."""
    for m in _SAID.finditer(text):
        if _is_secret_name(m["name"]) and m["name"].lower() not in _COLON_TOO_COMMON:
            yield m


def _said_findings(text: str) -> Iterator[Finding]:
    for m in _said(text):
        if m["v"].rstrip(".,;:!?)").lower() not in _NOT_A_VALUE:
            start, end = _value(m.start("v"), m["v"])
            yield Finding(Kind.SECRET, start, end, MASK)


def find(text: str) -> list[Finding]:
    """Every identifier and secret in the text, first to last, none overlapping."""
    found: list[Finding] = []

    def add(f: Finding) -> None:
        if all(f.end <= g.start or f.start >= g.end for g in found):
            found.append(f)

    for m in _URL_LOGIN.finditer(text):
        add(Finding(Kind.SECRET, m.start("v"), m.end("v"), MASK))
    for f in itertools.chain(_named_findings(text), _said_findings(text)):
        add(f)
    for m in _SLACK_TOKEN.finditer(text):
        add(Finding(Kind.SECRET, m.start(), m.end(), MASK))
    for m in _EMAIL.finditer(text):
        add(Finding(Kind.EMAIL, m.start(), m.end(), mask_email(m[0])))
    for m in _PAN.finditer(text):
        add(Finding(Kind.PAN, m.start(), m.end(), mask_identity(m[0].replace(" ", "").upper())))
    for f in _digit_findings(text):
        add(f)
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
    cuts: list[tuple[int, int, str | None]] = [
        (f.start, f.end, f.masked) for f in find(text) if f.kind not in keep
    ]
    # The `is ` of `password is x` stays as typed: domain/secrets.py would read `password
    # is` as IOS's `password x` and mask the `is`.
    for m in _said(text):
        if all(m.end("verb") <= a or m.start("verb") >= b for a, b, _ in cuts):
            cuts.append((m.start("verb"), m.start("v"), None))
    done: list[str] = []  # text no configuration pattern reads again
    out: list[str] = []
    at = 0
    for start, end, masked in sorted(cuts):
        if masked is not None:
            out += [text[at:start], masked]
        else:
            done += [mask_config("".join([*out, text[at:start]])), text[start:end]]
            out = []
        at = end
    out.append(text[at:])
    return "".join(done) + mask_config("".join(out))
