"""The annual enforcement plan (年度执法计划): key enterprises, general inspections, yearly caps."""

from __future__ import annotations

import uuid

import sqlalchemy as sa
import sqlalchemy.orm as so

from server.extensions import Model
from server.models.types import AgencyScoped, IdMixin, TimestampMixin


class AnnualPlan(IdMixin, TimestampMixin, AgencyScoped, Model):
    __tablename__ = "annual_plans"
    __table_args__ = (sa.UniqueConstraint("agency_id", "year"),)

    year: so.Mapped[int] = so.mapped_column(sa.Integer)
    # 一般检查 (double random), planned as a number of inspections, not enterprises.
    planned_general: so.Mapped[int] = so.mapped_column(sa.Integer, default=0)
    # Yearly inspection caps of ordinary enterprises for this year, keyed like the agency's
    # visit policy (``credit:A``, ``risk:poor``; server/domain/visits.py), e.g.
    # {"credit:A": 1, "risk:poor": 4}. When a plan exists, these are the year's caps.
    yearly_caps: so.Mapped[dict[str, int]] = so.mapped_column(sa.JSON, default=dict)
    note: so.Mapped[str] = so.mapped_column(sa.Text, default="")


class AnnualPlanItem(AgencyScoped, Model):
    """One key enterprise of a plan and how many inspections it is planned to get."""

    __tablename__ = "annual_plan_items"

    plan_id: so.Mapped[uuid.UUID] = so.mapped_column(
        sa.Uuid, sa.ForeignKey("annual_plans.id", ondelete="CASCADE"), primary_key=True
    )
    enterprise_id: so.Mapped[uuid.UUID] = so.mapped_column(
        sa.Uuid, sa.ForeignKey("enterprises.id"), primary_key=True
    )
    planned: so.Mapped[int] = so.mapped_column(sa.Integer)
