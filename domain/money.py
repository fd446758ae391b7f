"""Money as people read it: integer minor units to "₹1,234.50", and back.

`parse_money` is the one door amounts come in by (chat, payment files): it refuses
rather than guesses. The dates money carries are read and checked here too.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from decimal import Decimal
from zoneinfo import ZoneInfo

from domain.config import BillingSettings
from domain.errors import DomainError

_SYMBOLS = {"INR": "₹", "USD": "$", "EUR": "€", "GBP": "£"}

#: Metadata of a result's field that holds words for people with amounts written out in
#: them ("consumer order under ₹1,000.00"): typed results for scripts (`switchboard chat
#: --json`) leave such a field out, as they carry no money as text.
SPELLED_OUT = {"spelled_out": True}


def money(minor: int, billing: BillingSettings | None = None, *, whole: bool = False) -> str:
    """An amount in the currency's minor unit, for people; `whole` drops the fraction."""
    billing = billing or BillingSettings()
    digits = 0 if whole else billing.minor_digits
    major = Decimal(minor).scaleb(-billing.minor_digits)
    symbol = _SYMBOLS.get(billing.currency, billing.currency + " ")
    sign = "-" if minor < 0 else ""
    return f"{sign}{symbol}{abs(major):,.{digits}f}"


@dataclass(frozen=True)
class Amount:
    """An amount with its currency, as results carry it (`str()` is how people read it)."""

    minor: int
    currency: str = "INR"
    minor_digits: int = 2

    @classmethod
    def of(cls, minor: int, billing: BillingSettings | None = None) -> Amount:
        billing = billing or BillingSettings()
        return cls(int(minor), billing.currency, billing.minor_digits)

    @property
    def major(self) -> Decimal:
        return Decimal(self.minor).scaleb(-self.minor_digits)

    def to_json(self) -> dict[str, object]:
        """A number and its currency: {"amount": 1234.5, "currency": "INR"}."""
        return {"amount": float(self.major), "currency": self.currency}

    def __str__(self) -> str:
        return money(
            self.minor, BillingSettings(currency=self.currency, minor_digits=self.minor_digits)
        )


#: What an amount may look like once its currency is off: digits, grouped by commas
#: only where groups really end (1,499 and 12,345,678, or the Indian 1,49,950 and
#: 1,00,000), then a point and the decimals. No sign, no exponent (1e9), no underscore,
#: no comma as a decimal point (1499,50): anything else is refused, never guessed.
_AMOUNT = re.compile(r"(?P<whole>[0-9]+(?:[,_][0-9]+)*)(?:\.(?P<fraction>[0-9]+))?")
_GROUPED = re.compile(r"[0-9]{1,3}(?:,[0-9]{3})+|[0-9]{1,2}(?:,[0-9]{2})*,[0-9]{3}")
#: How people write the currency of an amount, besides its ISO code and symbol.
_CURRENCY_NAMES = {"INR": ("rs.", "rs")}
#: Other currencies' codes and signs, recognised so that they are refused by name.
_FOREIGN = re.compile(
    r"^(?:(?P<code>usd|eur|gbp|aed|sgd|jpy|aud|cad|chf|cny|sar|npr|lkr|bdt|pkr|inr)\s*"
    r"|(?P<sign>[$€£¥]))|(?:\s*(?P<tail>usd|eur|gbp|aed|sgd|jpy|aud|cad|chf|cny|sar|npr"
    r"|lkr|bdt|pkr|inr))$",
    re.IGNORECASE,
)
_SIGN_CODES = {"$": "USD", "€": "EUR", "£": "GBP", "¥": "JPY", "₹": "INR"}
#: The earliest date money may carry; anything before is a typing mistake.
EARLIEST_DAY = date(2000, 1, 1)


def shown(text: str, width: int = 24) -> str:
    """Text as typed, cut so that a refusal stays one short line."""
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


def max_amount_minor(billing: BillingSettings) -> int:
    """`billing.max_amount` in the minor unit."""
    return int(Decimal(str(billing.max_amount)).scaleb(billing.minor_digits))


def parse_money(text: str, billing: BillingSettings | None = None) -> int:
    """ "1499", "1,499.50" or "₹1499.5" in minor units; a one-line refusal otherwise.

    The one door for amounts: positive, decimal, at most the currency's minor digits,
    at most `billing.max_amount`.
    """
    billing = billing or BillingSettings()
    digits = billing.minor_digits
    like = "1499.50" if digits else "1499"
    typed = shown(text.strip())
    cleaned = _without_currency(text, billing, typed, like)
    if cleaned.startswith("-") and _AMOUNT.fullmatch(cleaned[1:]):
        raise DomainError(
            f"{typed!r} is below zero; an amount is more than zero", hint=f"write it like {like}"
        )
    parts = _AMOUNT.fullmatch(cleaned)
    if not parts:
        raise DomainError(
            f"{typed!r} is not an amount",
            hint=f"write it like {like}: digits, and a point before at most {digits} decimals",
        )
    whole = parts["whole"]
    if not whole.isdigit() and not _GROUPED.fullmatch(whole):
        raise DomainError(
            f"{typed!r} is not an amount: digits are grouped only by commas, in thousands "
            "(1,499) or lakhs (1,49,950)",
            hint=f"write it like {like} or 1,{like[1:]}; decimals follow a point",
        )
    value = Decimal(cleaned.replace(",", ""))
    if -value.as_tuple().exponent > digits:  # type: ignore[operator]
        raise DomainError(
            f"{typed!r} has more than {digits} decimals",
            hint=f"write it like {like}",
        )
    minor = int(value.scaleb(digits))
    if minor <= 0:
        raise DomainError(
            f"{typed!r} is zero; an amount is more than zero", hint=f"write it like {like}"
        )
    ceiling = max_amount_minor(billing)
    if minor > ceiling:
        raise DomainError(
            f"{typed!r} is more than {money(ceiling, billing)}, the largest amount taken",
            hint="check the amount; billing.max_amount in config.yaml sets the limit",
        )
    return minor


def _without_currency(text: str, billing: BillingSettings, typed: str, like: str) -> str:
    """The amount with the account's currency (its sign, code or name, before or after it)
    taken off; an amount in another currency is refused, naming it."""
    own = billing.currency
    t = text.strip()
    symbol = _SYMBOLS.get(own)
    if symbol and t.startswith(symbol):
        return t[len(symbol) :].strip()
    low = t.lower()
    for word in sorted((own.lower(), *_CURRENCY_NAMES.get(own, ())), key=len, reverse=True):
        if low.startswith(word):
            return t[len(word) :].strip()
        if low.endswith(word) and low[: -len(word)].strip()[-1:].isdigit():
            return t[: -len(word)].strip()
    foreign = _FOREIGN.search(t)
    if foreign:
        code = (foreign["code"] or foreign["tail"] or _SIGN_CODES[foreign["sign"]]).upper()
        raise DomainError(
            f"{typed!r} is in {code}; amounts here are in {own}",
            hint=f"write the amount in {own}, like {symbol or own + ' '}{like}",
        )
    return t


def parse_day(text: str) -> date:
    """A date written YYYY-MM-DD; a one-line refusal otherwise."""
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise DomainError(
            f"{shown(text)!r} is not a date", hint="write it like 2026-11-20"
        ) from None


def parse_moment(text: str) -> datetime:
    """An ISO 8601 date or time ("2026-11-02", "2026-11-02T10:00:00Z"), in UTC when no
    offset is written; a one-line refusal otherwise."""
    try:
        when = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise DomainError(
            f"{shown(text)!r} is not a date", hint="write it like 2026-11-02T10:00:00Z"
        ) from None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def operator_day(now: datetime, timezone: str) -> date:
    """The operator's calendar day at `now` (`billing.timezone`): money's "today"."""
    return now.astimezone(ZoneInfo(timezone)).date()


def _local(when: datetime, timezone: str) -> datetime:
    try:
        return when.astimezone(ZoneInfo(timezone))
    except OverflowError:  # year 1 or 9999 written with an offset: as typed will do
        return when


def check_money_date(when: datetime, now: datetime, timezone: str = "UTC") -> None:
    """Money is dated from `EARLIEST_DAY` up to now, never later; the refusal counts days
    in the operator's zone (`timezone`). A one-line refusal otherwise."""
    local = _local(when, timezone)
    _check_day(local.date(), now, timezone)
    if when > now:
        _not_yet(f"{local:%Y-%m-%d %H:%M} ({timezone})", now, timezone)


def _check_day(day: date, now: datetime, timezone: str) -> None:
    if day < EARLIEST_DAY:
        raise DomainError(
            f"{day.isoformat()} is before {EARLIEST_DAY.isoformat()}, the earliest date taken",
            hint="check the year",
        )
    if day > operator_day(now, timezone):
        _not_yet(day.isoformat(), now, timezone)


def _not_yet(said: str, now: datetime, timezone: str) -> None:
    local = _local(now, timezone)
    raise DomainError(
        f"{said} has not come yet (today is {local:%Y-%m-%d}, {local:%H:%M} in {timezone})",
        hint="date money on the day it was received",
    )


def parse_received(text: str, now: datetime, timezone: str) -> datetime:
    """When money was received, typed as a day (2026-11-20) or an ISO 8601 time, in chat
    and in payment files alike; a one-line refusal otherwise.

    A day is the operator's (`timezone`): today is stored as `now`, an earlier day at
    noon there, so no payment is ever stored in the future of when it was recorded.
    """
    typed = text.strip()
    if not _DAY_ONLY.fullmatch(typed):
        when = parse_moment(typed)
        check_money_date(when, now, timezone)
        return when
    day = parse_day(typed)
    _check_day(day, now, timezone)
    if day == operator_day(now, timezone):
        return now
    return datetime.combine(day, time(12), ZoneInfo(timezone)).astimezone(UTC)


_DAY_ONLY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
