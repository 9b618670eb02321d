"""Hazards counted per local month, kept in step with every change by services/hazard_counts.py.

The statistics (services/hazards/aggregates.py ``aggregates``, ``open_vs_closed``) read whole
months from here instead of counting a million hazards each time; days at the edges of a period
are still counted from the hazards themselves. ``month`` is the first day of the month, in the
agency's zone, in which the hazards were found.
"""

from __future__ import annotations

import uuid
from datetime import date

import sqlalchemy as sa
import sqlalchemy.orm as so

from server.domain.enterprises import INDUSTRIES
from server.extensions import Model


class HazardCount(Model):
    """Hazards found in a month, by their enterprise's industry, level, status, supervision."""

    __tablename__ = "hazard_counts"

    agency_id: so.Mapped[uuid.UUID] = so.mapped_column(
        sa.Uuid, sa.ForeignKey("agencies.id"), primary_key=True
    )
    month: so.Mapped[date] = so.mapped_column(sa.Date, primary_key=True)
    industry: so.Mapped[str] = so.mapped_column(
        sa.Enum(*INDUSTRIES, name="industry", native_enum=False), primary_key=True
    )
    level: so.Mapped[str] = so.mapped_column(sa.String(10), primary_key=True)
    status: so.Mapped[str] = so.mapped_column(sa.String(30), primary_key=True)
    supervised: so.Mapped[bool] = so.mapped_column(sa.Boolean, primary_key=True)
    n: so.Mapped[int] = so.mapped_column(sa.Integer, default=0)


class HazardFinderCount(Model):
    """Hazards found in a month by inspections each user was on, by their enterprise's industry
    and level; ``n_open`` of them not closed yet."""

    __tablename__ = "hazard_finder_counts"

    agency_id: so.Mapped[uuid.UUID] = so.mapped_column(
        sa.Uuid, sa.ForeignKey("agencies.id"), primary_key=True
    )
    month: so.Mapped[date] = so.mapped_column(sa.Date, primary_key=True)
    industry: so.Mapped[str] = so.mapped_column(
        sa.Enum(*INDUSTRIES, name="industry", native_enum=False), primary_key=True
    )
    level: so.Mapped[str] = so.mapped_column(sa.String(10), primary_key=True)
    user_id: so.Mapped[uuid.UUID] = so.mapped_column(
        sa.Uuid, sa.ForeignKey("users.id"), primary_key=True
    )
    n: so.Mapped[int] = so.mapped_column(sa.Integer, default=0)
    n_open: so.Mapped[int] = so.mapped_column(sa.Integer, default=0)


class HazardUnitCount(Model):
    """Hazards found in a month by teams with a member of each unit (科室/大队), by industry and
    level: once per hazard however many of the unit's members were on the team."""

    __tablename__ = "hazard_unit_counts"

    agency_id: so.Mapped[uuid.UUID] = so.mapped_column(
        sa.Uuid, sa.ForeignKey("agencies.id"), primary_key=True
    )
    month: so.Mapped[date] = so.mapped_column(sa.Date, primary_key=True)
    industry: so.Mapped[str] = so.mapped_column(
        sa.Enum(*INDUSTRIES, name="industry", native_enum=False), primary_key=True
    )
    level: so.Mapped[str] = so.mapped_column(sa.String(10), primary_key=True)
    unit: so.Mapped[str] = so.mapped_column(sa.String(100), primary_key=True)
    n: so.Mapped[int] = so.mapped_column(sa.Integer, default=0)
    n_open: so.Mapped[int] = so.mapped_column(sa.Integer, default=0)
