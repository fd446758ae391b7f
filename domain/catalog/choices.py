"""Catalog choices (TMF620 product offerings and their tariffs)."""

from __future__ import annotations

from enum import StrEnum


class Segment(StrEnum):
    CONSUMER = "consumer"
    ENTERPRISE = "enterprise"


class ProductLine(StrEnum):
    MOBILE_POSTPAID = "mobile_postpaid"
    MOBILE_PREPAID = "mobile_prepaid"
    BROADBAND = "broadband"
    LEASED_LINE = "leased_line"

    @property
    def fixed(self) -> bool:
        """Fixed lines are identified by a circuit, mobile ones by an MSISDN."""
        return self in (ProductLine.BROADBAND, ProductLine.LEASED_LINE)


class Service(StrEnum):
    VOICE = "voice"
    SMS = "sms"
    DATA = "data"


class Zone(StrEnum):
    """Rating zones by destination."""

    NATIONAL = "national"
    INTL_A = "intl_a"  # Gulf and SAARC
    INTL_B = "intl_b"  # Europe, North America, East Asia
    INTL_C = "intl_c"  # rest of the world
    PREMIUM = "premium"  # satellite and high-cost ranges


#: Where each zone's calls and messages go, as invoices and explanations say it.
ZONE_PLACES = {
    Zone.NATIONAL: "India",
    Zone.INTL_A: "the Gulf and SAARC",
    Zone.INTL_B: "Europe, the Americas and East Asia",
    Zone.INTL_C: "the rest of the world",
    Zone.PREMIUM: "premium numbers",
}


class RatingUnit(StrEnum):
    SECOND = "second"
    MINUTE = "minute"
    MESSAGE = "message"
    MEGABYTE = "megabyte"
