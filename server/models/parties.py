"""The other two parties of scan-code entry: enterprise accounts and supervisors, and what the
enterprise says of a visit (evaluations, complaints)."""

from __future__ import annotations

import uuid
from datetime import date, datetime

import sqlalchemy as sa
import sqlalchemy.orm as so

from server.extensions import Model
from server.models.types import AgencyScoped, IdMixin, TimestampMixin, UTCDateTime


class EnterpriseAccount(IdMixin, TimestampMixin, Model):
    """One per USCC across the deployment: it sees its enterprise in every agency that
    registered that USCC. Not agency-scoped, and never read through an agency's session."""

    __tablename__ = "enterprise_accounts"

    uscc: so.Mapped[str] = so.mapped_column(sa.String(18), unique=True)
    # None until activated with a code.
    password_hash: so.Mapped[str | None] = so.mapped_column(sa.String(255))
    # sha256 of the one-time activation code; the code itself is shown once and never stored.
    activation_code_hash: so.Mapped[str | None] = so.mapped_column(sa.String(64))
    activation_expires_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)
    activation_issued_by: so.Mapped[uuid.UUID | None] = so.mapped_column(
        sa.Uuid, sa.ForeignKey("users.id")
    )
    activated_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)
    failed_attempts: so.Mapped[int] = so.mapped_column(sa.Integer, default=0)
    locked_until: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)
    last_login_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)
    # Bumped at every password change: older sessions end.
    session_epoch: so.Mapped[int] = so.mapped_column(sa.Integer, default=0)


class Supervisor(IdMixin, TimestampMixin, Model):
    """执法监督机构: reads every agency's entries, answers and closes complaints."""

    __tablename__ = "supervisors"

    username: so.Mapped[str] = so.mapped_column(sa.String(64), unique=True)
    password_hash: so.Mapped[str] = so.mapped_column(sa.String(255))
    full_name: so.Mapped[str] = so.mapped_column(sa.String(100), default="")
    office: so.Mapped[str] = so.mapped_column(sa.String(200), default="")
    active: so.Mapped[bool] = so.mapped_column(sa.Boolean, default=True)
    failed_attempts: so.Mapped[int] = so.mapped_column(sa.Integer, default=0)
    locked_until: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)


class VisitEvaluation(IdMixin, AgencyScoped, Model):
    """评价: an enterprise's rating of one visit. Only the supervisor reads these rows; the
    inspecting agency gets aggregates over enough of them (services/supervision.py)."""

    __tablename__ = "visit_evaluations"
    __table_args__ = (sa.UniqueConstraint("inspection_id", "account_id"),)

    inspection_id: so.Mapped[uuid.UUID] = so.mapped_column(
        sa.Uuid, sa.ForeignKey("inspections.id"), index=True
    )
    account_id: so.Mapped[uuid.UUID] = so.mapped_column(
        sa.Uuid, sa.ForeignKey("enterprise_accounts.id")
    )
    rating: so.Mapped[int] = so.mapped_column(sa.Integer)
    comment: so.Mapped[str] = so.mapped_column(sa.Text, default="")
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime)


class VisitComplaint(IdMixin, AgencyScoped, Model):
    """投诉: an enterprise's complaint about one visit, tracked to an answer."""

    __tablename__ = "visit_complaints"
    __table_args__ = (sa.Index("ix_visit_complaints_status_due", "status", "answer_due"),)

    inspection_id: so.Mapped[uuid.UUID] = so.mapped_column(
        sa.Uuid, sa.ForeignKey("inspections.id"), index=True
    )
    account_id: so.Mapped[uuid.UUID] = so.mapped_column(
        sa.Uuid, sa.ForeignKey("enterprise_accounts.id"), index=True
    )
    text: so.Mapped[str] = so.mapped_column(sa.Text)
    # sha256 of photos stored as the agency's attachments.
    photo_attachments: so.Mapped[list[str]] = so.mapped_column(sa.JSON, default=list)
    status: so.Mapped[str] = so.mapped_column(sa.String(12))  # parties.COMPLAINT_STATUSES
    answer_due: so.Mapped[date] = so.mapped_column(sa.Date)
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime)
    closed_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)

    messages: so.Mapped[list[ComplaintMessage]] = so.relationship(
        order_by="ComplaintMessage.at", viewonly=True
    )


class ComplaintMessage(IdMixin, Model):
    """An answer by the supervisor or a reply by the agency to a complaint."""

    __tablename__ = "complaint_messages"

    complaint_id: so.Mapped[uuid.UUID] = so.mapped_column(
        sa.Uuid, sa.ForeignKey("visit_complaints.id"), index=True
    )
    author: so.Mapped[str] = so.mapped_column(sa.String(12))  # parties.BY_*
    supervisor_id: so.Mapped[uuid.UUID | None] = so.mapped_column(
        sa.Uuid, sa.ForeignKey("supervisors.id")
    )
    user_id: so.Mapped[uuid.UUID | None] = so.mapped_column(sa.Uuid, sa.ForeignKey("users.id"))
    text: so.Mapped[str] = so.mapped_column(sa.Text)
    at: so.Mapped[datetime] = so.mapped_column(UTCDateTime)
