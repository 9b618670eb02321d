"""The national working-day calendar's override table: one for the whole deployment."""

from __future__ import annotations

import uuid
from datetime import date, datetime

import sqlalchemy as sa
import sqlalchemy.orm as so

from server.extensions import Model
from server.models.types import UTCDateTime, utcnow


class CalendarDay(Model):
    """A date whose kind is set by hand: a year the library does not know, or a correction.

    Holidays and make-up working days (调休) are fixed by the State Council for the whole
    country, so the table is shared by every agency.
    """

    __tablename__ = "calendar_days"

    day: so.Mapped[date] = so.mapped_column(sa.Date, primary_key=True)
    is_working_day: so.Mapped[bool] = so.mapped_column(sa.Boolean)
    note: so.Mapped[str] = so.mapped_column(sa.String(200), default="")
    updated_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    updated_by: so.Mapped[uuid.UUID | None] = so.mapped_column(sa.Uuid, sa.ForeignKey("users.id"))


class CalendarYear(Model):
    """A year whose every holiday and make-up day is in ``calendar_days``: its remaining
    Monday–Friday days are then known, not guessed."""

    __tablename__ = "calendar_years"

    year: so.Mapped[int] = so.mapped_column(sa.Integer, primary_key=True, autoincrement=False)
    note: so.Mapped[str] = so.mapped_column(sa.String(200), default="")
    updated_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
