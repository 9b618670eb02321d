"""Penalty cases (立案), their legal reviews, decisions and exemptions; complaints (投诉举报)."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so

from server.extensions import Model
from server.models.types import AgencyScoped, IdMixin, TimestampMixin, UTCDateTime


class PenaltyCase(IdMixin, TimestampMixin, AgencyScoped, Model):
    """One case against an enterprise: from inspections, hazards, a complaint or an accident."""

    __tablename__ = "penalty_cases"
    __table_args__ = (
        sa.Index("ix_penalty_cases_agency_opened", "agency_id", "opened_on"),
        sa.Index("ix_penalty_cases_agency_transferred", "agency_id", "transferred_on"),
    )

    enterprise_id: so.Mapped[uuid.UUID] = so.mapped_column(sa.Uuid, sa.ForeignKey("enterprises.id"))
    opened_on: so.Mapped[date] = so.mapped_column(sa.Date)
    source: so.Mapped[str] = so.mapped_column(sa.String(20))
    accident: so.Mapped[bool] = so.mapped_column(sa.Boolean, default=False)
    summary: so.Mapped[str] = so.mapped_column(sa.Text, default="")
    inspection_ids: so.Mapped[list[str]] = so.mapped_column(sa.JSON, default=list)
    hazard_ids: so.Mapped[list[str]] = so.mapped_column(sa.JSON, default=list)
    complaint_id: so.Mapped[uuid.UUID | None] = so.mapped_column(
        sa.Uuid, sa.ForeignKey("complaints.id")
    )
    status: so.Mapped[str] = so.mapped_column(sa.String(20), default="open")
    closed_on: so.Mapped[date | None] = so.mapped_column(sa.Date)
    # 移送司法: the case was sent to the public security organs / procuratorate.
    transferred_on: so.Mapped[date | None] = so.mapped_column(sa.Date)
    transferred_to: so.Mapped[str] = so.mapped_column(sa.String(200), default="")
    transfer_reason: so.Mapped[str] = so.mapped_column(sa.Text, default="")
    opened_by: so.Mapped[uuid.UUID] = so.mapped_column(sa.Uuid, sa.ForeignKey("users.id"))


class LegalReview(IdMixin, TimestampMixin, AgencyScoped, Model):
    """法制审核 of a case before its decision; a returned review sends the draft back."""

    __tablename__ = "legal_reviews"
    __table_args__ = (sa.Index("ix_legal_reviews_agency_reviewed", "agency_id", "reviewed_on"),)

    case_id: so.Mapped[uuid.UUID] = so.mapped_column(
        sa.Uuid, sa.ForeignKey("penalty_cases.id"), index=True
    )
    reviewed_on: so.Mapped[date] = so.mapped_column(sa.Date)
    opinion: so.Mapped[str] = so.mapped_column(sa.String(20))
    note: so.Mapped[str] = so.mapped_column(sa.Text, default="")
    reviewer_id: so.Mapped[uuid.UUID] = so.mapped_column(sa.Uuid, sa.ForeignKey("users.id"))


class PenaltyDecision(IdMixin, TimestampMixin, AgencyScoped, Model):
    """行政处罚决定书: numbered per agency and year, published within 7 working days."""

    __tablename__ = "penalty_decisions"
    __table_args__ = (
        sa.UniqueConstraint("agency_id", "year", "serial"),
        sa.Index("ix_penalty_decisions_agency_decided", "agency_id", "decided_on"),
    )

    case_id: so.Mapped[uuid.UUID] = so.mapped_column(
        sa.Uuid, sa.ForeignKey("penalty_cases.id"), unique=True
    )
    enterprise_id: so.Mapped[uuid.UUID] = so.mapped_column(sa.Uuid, sa.ForeignKey("enterprises.id"))
    decided_on: so.Mapped[date] = so.mapped_column(sa.Date)
    year: so.Mapped[int] = so.mapped_column(sa.Integer)
    serial: so.Mapped[int] = so.mapped_column(sa.Integer)
    number: so.Mapped[str] = so.mapped_column(sa.String(80))
    entity_fine_fen: so.Mapped[int] = so.mapped_column(sa.BigInteger, default=0)
    individual_fine_fen: so.Mapped[int] = so.mapped_column(sa.BigInteger, default=0)
    # 没收违法所得/非法财物: money confiscated from the entity; part of 罚没金额.
    confiscated_fen: so.Mapped[int] = so.mapped_column(sa.BigInteger, default=0)
    # [{"name", "title", "fine_fen"}]
    individuals: so.Mapped[list[dict[str, Any]]] = so.mapped_column(sa.JSON, default=list)
    other_penalties: so.Mapped[list[str]] = so.mapped_column(sa.JSON, default=list)
    accident: so.Mapped[bool] = so.mapped_column(sa.Boolean, default=False)
    # 从轻处罚: the discretion benchmark's lighter end was applied.
    lenient: so.Mapped[bool] = so.mapped_column(sa.Boolean, default=False)
    major: so.Mapped[bool] = so.mapped_column(sa.Boolean, default=False)
    facts: so.Mapped[str] = so.mapped_column(sa.Text, default="")
    basis: so.Mapped[str] = so.mapped_column(sa.Text, default="")
    publication_deadline: so.Mapped[date] = so.mapped_column(sa.Date)
    # The publication date shown on the public page (default today); may be typed in.
    published_on: so.Mapped[date | None] = so.mapped_column(sa.Date)
    # The server's own record of the publication, and whether that was after the deadline:
    # what the report and the watch list judge lateness by.
    published_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)
    published_late: so.Mapped[bool | None] = so.mapped_column(sa.Boolean)
    # Set by the daily check the first day the decision is found unpublished past its deadline.
    late_flagged_on: so.Mapped[date | None] = so.mapped_column(sa.Date)
    revoked_on: so.Mapped[date | None] = so.mapped_column(sa.Date)
    revoke_reason: so.Mapped[str] = so.mapped_column(sa.Text, default="")
    withdrawal_deadline: so.Mapped[date | None] = so.mapped_column(sa.Date)
    withdrawn_on: so.Mapped[date | None] = so.mapped_column(sa.Date)
    issued_by: so.Mapped[uuid.UUID] = so.mapped_column(sa.Uuid, sa.ForeignKey("users.id"))


class Exemption(IdMixin, TimestampMixin, AgencyScoped, Model):
    """不予行政处罚 under the minor/first-violation list: recorded and counted, nothing imposed."""

    __tablename__ = "penalty_exemptions"
    __table_args__ = (sa.Index("ix_penalty_exemptions_agency_decided", "agency_id", "decided_on"),)

    case_id: so.Mapped[uuid.UUID] = so.mapped_column(
        sa.Uuid, sa.ForeignKey("penalty_cases.id"), unique=True
    )
    enterprise_id: so.Mapped[uuid.UUID] = so.mapped_column(sa.Uuid, sa.ForeignKey("enterprises.id"))
    decided_on: so.Mapped[date] = so.mapped_column(sa.Date)
    party: so.Mapped[str] = so.mapped_column(sa.String(20))  # entity | individual
    party_name: so.Mapped[str] = so.mapped_column(sa.String(200), default="")
    list_item: so.Mapped[str] = so.mapped_column(sa.Text)
    amount_not_imposed_fen: so.Mapped[int] = so.mapped_column(sa.BigInteger, default=0)
    note: so.Mapped[str] = so.mapped_column(sa.Text, default="")
    decided_by: so.Mapped[uuid.UUID] = so.mapped_column(sa.Uuid, sa.ForeignKey("users.id"))


class Complaint(IdMixin, TimestampMixin, AgencyScoped, Model):
    """投诉举报: a complaint or tip-off received, and when and how it was handled."""

    __tablename__ = "complaints"
    __table_args__ = (sa.Index("ix_complaints_agency_handled", "agency_id", "handled_on"),)

    received_on: so.Mapped[date] = so.mapped_column(sa.Date)
    channel: so.Mapped[str] = so.mapped_column(sa.String(20))
    summary: so.Mapped[str] = so.mapped_column(sa.Text)
    enterprise_id: so.Mapped[uuid.UUID | None] = so.mapped_column(
        sa.Uuid, sa.ForeignKey("enterprises.id")
    )
    handled_on: so.Mapped[date | None] = so.mapped_column(sa.Date)
    outcome: so.Mapped[str] = so.mapped_column(sa.Text, default="")
    recorded_by: so.Mapped[uuid.UUID] = so.mapped_column(sa.Uuid, sa.ForeignKey("users.id"))
