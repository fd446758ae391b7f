"""Money as people read it: integer minor units to "₹1,234.50", and back."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from domain.config import BillingSettings
from domain.errors import DomainError

_SYMBOLS = {"INR": "₹", "USD": "$", "EUR": "€", "GBP": "£"}


def money(minor: int, billing: BillingSettings | None = None, *, whole: bool = False) -> str:
    """An amount in the currency's minor unit, for people; `whole` drops the fraction."""
    billing = billing or BillingSettings()
    digits = 0 if whole else billing.minor_digits
    major = Decimal(minor).scaleb(-billing.minor_digits)
    symbol = _SYMBOLS.get(billing.currency, billing.currency + " ")
    sign = "-" if minor < 0 else ""
    return f"{sign}{symbol}{abs(major):,.{digits}f}"


def parse_money(text: str, billing: BillingSettings | None = None) -> int:
    """ "1499", "1,499.50" or "₹1499.5" in minor units; a clear error otherwise."""
    billing = billing or BillingSettings()
    cleaned = text.strip().lstrip("₹$€£").replace(",", "").replace("_", "")
    try:
        value = Decimal(cleaned)
    except InvalidOperation:
        raise DomainError(f"{text!r} is not an amount", hint="write it like 1499.50") from None
    if not value.is_finite() or value.as_tuple().exponent < -billing.minor_digits:  # type: ignore[operator]
        raise DomainError(
            f"{text!r} has more than {billing.minor_digits} decimals",
            hint="write it like 1499.50",
        )
    return int(value.scaleb(billing.minor_digits))
