"""Inventory entities: Region > Site > Device > Interface."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from domain.db import Base, UtcDateTime, enum_column, utcnow
from domain.inventory.choices import (
    DeviceRole,
    DeviceStatus,
    InterfaceKind,
    OperStatus,
    Platform,
    SiteKind,
)


class Region(Base):
    """A telecom circle or operating region (Mumbai, Karnataka, ...)."""

    __tablename__ = "regions"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(16), unique=True)
    name: Mapped[str] = mapped_column(sa.String(80))

    sites: Mapped[list[Site]] = relationship(back_populates="region")


class Site(Base):
    """A place that holds equipment: exchange, tower, PoP or data centre."""

    __tablename__ = "sites"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(32), unique=True)
    name: Mapped[str] = mapped_column(sa.String(120))
    kind: Mapped[SiteKind] = mapped_column(enum_column(SiteKind))
    region_id: Mapped[int] = mapped_column(sa.ForeignKey("regions.id"), index=True)
    city: Mapped[str] = mapped_column(sa.String(80))
    latitude: Mapped[float | None]
    longitude: Mapped[float | None]

    region: Mapped[Region] = relationship(back_populates="sites")
    devices: Mapped[list[Device]] = relationship(back_populates="site")


class Device(Base):
    """A managed network element."""

    __tablename__ = "devices"

    id: Mapped[int] = mapped_column(primary_key=True)
    hostname: Mapped[str] = mapped_column(sa.String(63), unique=True)
    site_id: Mapped[int] = mapped_column(sa.ForeignKey("sites.id"), index=True)
    role: Mapped[DeviceRole] = mapped_column(enum_column(DeviceRole), index=True)
    platform: Mapped[Platform] = mapped_column(enum_column(Platform))
    vendor: Mapped[str] = mapped_column(sa.String(40))
    model: Mapped[str] = mapped_column(sa.String(60))
    os_version: Mapped[str] = mapped_column(sa.String(60))
    serial: Mapped[str] = mapped_column(sa.String(40), unique=True)
    mgmt_host: Mapped[str] = mapped_column(sa.String(64), index=True)
    mgmt_port: Mapped[int] = mapped_column(default=22)
    status: Mapped[DeviceStatus] = mapped_column(
        enum_column(DeviceStatus), default=DeviceStatus.ACTIVE, index=True
    )
    #: Reserved for the simulated device lab (reachable over SSH on loopback).
    lab: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)

    site: Mapped[Site] = relationship(back_populates="devices")
    interfaces: Mapped[list[Interface]] = relationship(
        back_populates="device", order_by="Interface.id"
    )

    @property
    def napalm_driver(self) -> str | None:
        return self.platform.info.napalm_driver

    @property
    def netmiko_device_type(self) -> str:
        return self.platform.info.netmiko_device_type


class Interface(Base):
    """A port or logical interface on a device."""

    __tablename__ = "interfaces"
    __table_args__ = (sa.UniqueConstraint("device_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    device_id: Mapped[int] = mapped_column(sa.ForeignKey("devices.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(sa.String(64))
    kind: Mapped[InterfaceKind] = mapped_column(enum_column(InterfaceKind))
    speed_mbps: Mapped[int | None]
    mtu: Mapped[int] = mapped_column(default=1500)
    description: Mapped[str] = mapped_column(sa.String(240), default="")
    enabled: Mapped[bool] = mapped_column(default=True)
    oper_status: Mapped[OperStatus] = mapped_column(enum_column(OperStatus), default=OperStatus.UP)
    ip_address: Mapped[str | None] = mapped_column(sa.String(64))

    device: Mapped[Device] = relationship(back_populates="interfaces")
