"""Column types and mixins shared by every model."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import sqlalchemy as sa
import sqlalchemy.orm as so


class UTCDateTime(sa.types.TypeDecorator[datetime]):
    """Aware UTC datetimes on every backend (SQLite drops the offset otherwise)."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    @staticmethod
    def check_json_value(value: datetime | None) -> None:
        """The rule of ``process_bind_param`` for a value written inside a JSON document
        (``database.insert_rows``): aware, or refused; its offset travels with it."""
        if value is not None and value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")

    def process_result_value(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)


def new_id() -> uuid.UUID:
    return uuid.uuid4()


class IdMixin:
    id: so.Mapped[uuid.UUID] = so.mapped_column(sa.Uuid, primary_key=True, default=new_id)


class TimestampMixin:
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)
    updated_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class AgencyScoped:
    """Rows that belong to one agency; reads and writes are fenced by ``scoping.py``."""

    agency_id: so.Mapped[uuid.UUID] = so.mapped_column(
        sa.Uuid, sa.ForeignKey("agencies.id"), index=True
    )
