"""Agencies, users, devices and their access tokens."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so

from server.domain.permissions import ROLES
from server.extensions import Model
from server.models.types import AgencyScoped, IdMixin, TimestampMixin, UTCDateTime


class Agency(IdMixin, TimestampMixin, Model):
    __tablename__ = "agencies"

    code: so.Mapped[str] = so.mapped_column(sa.String(32), unique=True)
    name: so.Mapped[str] = so.mapped_column(sa.String(200))
    # Printed in document numbers: （南开）应急责改〔2024〕15号
    abbr: so.Mapped[str] = so.mapped_column(sa.String(20))
    # Local days and months of the statistics are in this zone (hazard counts are recounted
    # when it changes).
    timezone: so.Mapped[str] = so.mapped_column(
        sa.String(64), default="Asia/Shanghai", active_history=True
    )
    # Agency policy: yearly caps, repeat-visit window, hazard deadlines (see domain modules).
    settings: so.Mapped[dict[str, Any]] = so.mapped_column(sa.JSON, default=dict)


class User(IdMixin, TimestampMixin, AgencyScoped, Model):
    __tablename__ = "users"

    username: so.Mapped[str] = so.mapped_column(sa.String(64), unique=True)
    password_hash: so.Mapped[str] = so.mapped_column(sa.String(255))
    role: so.Mapped[str] = so.mapped_column(sa.Enum(*ROLES, name="user_role", native_enum=False))
    full_name: so.Mapped[str] = so.mapped_column(sa.String(100), default="")
    # The unit (科室, 执法大队) the user works in; hazard statistics count per unit (the
    # monthly counts follow a change: the old value is loaded before it).
    unit: so.Mapped[str] = so.mapped_column(
        sa.String(100), default="", server_default="", active_history=True
    )
    # 执法证 number; inspectors without one may not be put on an inspection team.
    cert_no: so.Mapped[str | None] = so.mapped_column(sa.String(40))
    cert_valid_until: so.Mapped[date | None] = so.mapped_column(sa.Date)
    active: so.Mapped[bool] = so.mapped_column(sa.Boolean, default=True)

    agency: so.Mapped[Agency] = so.relationship(lazy="joined")

    @property
    def display_name(self) -> str:
        """The name pages and documents print: the full name, else the username."""
        return self.full_name or self.username


class Device(IdMixin, AgencyScoped, Model):
    __tablename__ = "devices"
    __table_args__ = (sa.UniqueConstraint("agency_id", "device_key"),)

    # The identifier the phone reports for itself; unique within an agency only.
    device_key: so.Mapped[str] = so.mapped_column(sa.String(100))
    name: so.Mapped[str] = so.mapped_column(sa.String(200), default="")
    last_user_id: so.Mapped[uuid.UUID | None] = so.mapped_column(sa.Uuid, sa.ForeignKey("users.id"))
    first_seen_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime)
    last_seen_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime)
    revoked_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)
    revoked_by: so.Mapped[uuid.UUID | None] = so.mapped_column(sa.Uuid, sa.ForeignKey("users.id"))
    # Read only where a device is shown (not at every request's token check).
    events: so.Mapped[list[DeviceEvent]] = so.relationship(order_by="DeviceEvent.at", viewonly=True)


class DeviceEvent(IdMixin, AgencyScoped, Model):
    """A device revoked or reinstated, by whom and when; the device row holds only its state
    now, these rows every change of it."""

    __tablename__ = "device_events"

    device_id: so.Mapped[uuid.UUID] = so.mapped_column(
        sa.Uuid, sa.ForeignKey("devices.id"), index=True
    )
    action: so.Mapped[str] = so.mapped_column(sa.String(12))  # permissions.DEVICE_ACTIONS
    at: so.Mapped[datetime] = so.mapped_column(UTCDateTime)
    user_id: so.Mapped[uuid.UUID] = so.mapped_column(sa.Uuid, sa.ForeignKey("users.id"))


class ApiToken(IdMixin, AgencyScoped, Model):
    __tablename__ = "api_tokens"

    # sha256 of the bearer token; the token itself is never stored.
    token_hash: so.Mapped[str] = so.mapped_column(sa.String(64), unique=True)
    user_id: so.Mapped[uuid.UUID] = so.mapped_column(sa.Uuid, sa.ForeignKey("users.id"), index=True)
    device_id: so.Mapped[uuid.UUID] = so.mapped_column(
        sa.Uuid, sa.ForeignKey("devices.id"), index=True
    )
    issued_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime)
    expires_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime)
    revoked_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)

    user: so.Mapped[User] = so.relationship(lazy="joined")
    device: so.Mapped[Device] = so.relationship(lazy="joined")
