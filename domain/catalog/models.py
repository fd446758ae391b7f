"""Catalog entities: ProductOffering with its Tariffs, and Destinations (rating zones)."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from domain.catalog.choices import ProductLine, RatingUnit, Segment, Service, Zone
from domain.db import Base, enum_column


class ProductOffering(Base):
    """A plan a customer can subscribe to. Amounts are in the currency's minor unit."""

    __tablename__ = "product_offerings"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(32), unique=True)
    name: Mapped[str] = mapped_column(sa.String(120))
    segment: Mapped[Segment] = mapped_column(enum_column(Segment))
    product_line: Mapped[ProductLine] = mapped_column(enum_column(ProductLine))
    monthly_fee_minor: Mapped[int] = mapped_column(sa.BigInteger)
    one_off_fee_minor: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    #: Included each bill cycle; usage beyond them is rated by the tariffs.
    allowance_voice_min: Mapped[int] = mapped_column(default=0)
    allowance_sms: Mapped[int] = mapped_column(default=0)
    allowance_data_mb: Mapped[int] = mapped_column(default=0)
    roaming_surcharge_pct: Mapped[int] = mapped_column(default=0)
    active: Mapped[bool] = mapped_column(default=True)

    tariffs: Mapped[list[Tariff]] = relationship(back_populates="offering", order_by="Tariff.id")


class Tariff(Base):
    """The price of one unit of a service to one zone under an offering."""

    __tablename__ = "tariffs"
    __table_args__ = (sa.UniqueConstraint("offering_id", "service", "zone"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    offering_id: Mapped[int] = mapped_column(sa.ForeignKey("product_offerings.id"))
    service: Mapped[Service] = mapped_column(enum_column(Service))
    zone: Mapped[Zone] = mapped_column(enum_column(Zone))
    unit: Mapped[RatingUnit] = mapped_column(enum_column(RatingUnit))
    #: Price of one unit, in the minor unit (paise for INR).
    rate_minor: Mapped[int] = mapped_column(sa.BigInteger)

    offering: Mapped[ProductOffering] = relationship(back_populates="tariffs")


class Destination(Base):
    """A dialling prefix and the country and rating zone it belongs to."""

    __tablename__ = "destinations"

    id: Mapped[int] = mapped_column(primary_key=True)
    prefix: Mapped[str] = mapped_column(sa.String(16), unique=True)
    country: Mapped[str] = mapped_column(sa.String(2))
    country_name: Mapped[str] = mapped_column(sa.String(80))
    zone: Mapped[Zone] = mapped_column(enum_column(Zone))
    #: Ranges known for international revenue share fraud.
    high_cost: Mapped[bool] = mapped_column(default=False)
