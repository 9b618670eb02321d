"""What the daily overdue job leaves behind: one escalation per hazard, kind and order round."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so

from server.extensions import Model
from server.models.types import AgencyScoped, IdMixin, UTCDateTime


class HazardEscalation(IdMixin, AgencyScoped, Model):
    """An overdue hazard, a missed re-inspection or a penalty case, raised to the managers.

    Unique per (hazard, kind, round): ``round`` is the hazard's order count, so running the
    job again the same day (or the next) adds nothing, while a hazard ordered again after a
    failed re-inspection can escalate afresh.
    """

    __tablename__ = "hazard_escalations"
    __table_args__ = (
        sa.UniqueConstraint("hazard_id", "kind", "round"),
        sa.Index("ix_hazard_escalations_agency_raised", "agency_id", "raised_on"),
        sa.Index("ix_hazard_escalations_unnotified", "agency_id", "notified_at"),
    )

    hazard_id: so.Mapped[uuid.UUID] = so.mapped_column(sa.Uuid, sa.ForeignKey("hazards.id"))
    enterprise_id: so.Mapped[uuid.UUID] = so.mapped_column(sa.Uuid, sa.ForeignKey("enterprises.id"))
    # overdue | long_overdue | penalty_case | reinspection_overdue | plan_overdue | stop_expired
    kind: so.Mapped[str] = so.mapped_column(sa.String(30))
    round: so.Mapped[int] = so.mapped_column(sa.Integer)
    # 1 overdue, 2 long overdue, 3 penalty case (server.domain.hazards.ESCALATION_*).
    level: so.Mapped[int] = so.mapped_column(sa.SmallInteger)
    raised_on: so.Mapped[date] = so.mapped_column(sa.Date)
    deadline: so.Mapped[date | None] = so.mapped_column(sa.Date)
    days_overdue: so.Mapped[int] = so.mapped_column(sa.Integer, default=0)
    details: so.Mapped[dict[str, Any]] = so.mapped_column(sa.JSON, default=dict)
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime)
    # Set once the webhook accepted it; the job retries the rest on its next run.
    notified_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)
