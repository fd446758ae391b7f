"""Money as people read it: integer minor units to "₹1,234.50", and back."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

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
