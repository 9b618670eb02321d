"""Double-random draws (双随机): plans, recusals, seed commitments, draws and their tasks."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so

from server.domain.workdays import DayKind
from server.extensions import Model
from server.models.types import AgencyScoped, IdMixin, TimestampMixin, UTCDateTime

RECUSAL_SOURCES = ("conflict", "enterprise_request")
TASK_STATUSES = ("open", "done", "cancelled")


class DrawPlan(IdMixin, TimestampMixin, AgencyScoped, Model):
    """What to draw from, how many, who inspects, and when (a cron line and its period)."""

    __tablename__ = "draw_plans"

    name: so.Mapped[str] = so.mapped_column(sa.String(200))
    # Internal; never published.
    notes: so.Mapped[str] = so.mapped_column(sa.Text, default="")
    # Pool filter; an empty list means "any". Key enterprises are never in the pool.
    industries: so.Mapped[list[str]] = so.mapped_column(sa.JSON, default=list)
    risk_grades: so.Mapped[list[str]] = so.mapped_column(sa.JSON, default=list)
    credit_ratings: so.Mapped[list[str]] = so.mapped_column(sa.JSON, default=list)
    exclude_seriously_dishonest: so.Mapped[bool] = so.mapped_column(sa.Boolean, default=False)
    exclude_inspected_within_days: so.Mapped[int | None] = so.mapped_column(sa.Integer)
    respect_yearly_caps: so.Mapped[bool] = so.mapped_column(sa.Boolean, default=True)
    # Sampling: strata by "risk" and/or "credit", rates per stratum key as exact decimals.
    strata_by: so.Mapped[list[str]] = so.mapped_column(sa.JSON, default=list)
    rates: so.Mapped[dict[str, str]] = so.mapped_column(sa.JSON, default=dict)
    default_rate: so.Mapped[str] = so.mapped_column(sa.String(20), default="0")
    min_targets: so.Mapped[int | None] = so.mapped_column(sa.Integer)
    max_targets: so.Mapped[int | None] = so.mapped_column(sa.Integer)
    # Teams: explicit user ids, or null for every active inspector of the agency.
    inspector_ids: so.Mapped[list[str] | None] = so.mapped_column(sa.JSON)
    team_size: so.Mapped[int] = so.mapped_column(sa.Integer, default=2)
    # Joint checks (联合抽查): [{"id","name","department","certificate_no",
    # "certificate_valid_until"}], and how many join each team.
    outside_inspectors: so.Mapped[list[dict[str, Any]]] = so.mapped_column(sa.JSON, default=list)
    outside_per_team: so.Mapped[int] = so.mapped_column(sa.Integer, default=0)
    due_days: so.Mapped[int] = so.mapped_column(sa.Integer, default=20)
    due_day_kind: so.Mapped[DayKind] = so.mapped_column(sa.String(10), default="working")
    # Schedule: a crontab line in the agency's zone (null: run by hand only), and the period
    # that allows one draw ("month", "quarter", "year").
    cron: so.Mapped[str | None] = so.mapped_column(sa.String(100))
    period: so.Mapped[str] = so.mapped_column(sa.String(10), default="quarter")
    active: so.Mapped[bool] = so.mapped_column(sa.Boolean, default=True)
    # 检查预告: drawn enterprises see their task on their own pages before the visit. Not a
    # draw parameter (it changes nothing of who is drawn), so set apart from the plan's config.
    advance_notice: so.Mapped[bool] = so.mapped_column(
        sa.Boolean, default=False, server_default=sa.false()
    )
    # Fire times before this moment are not "missed" (set when the schedule starts or changes).
    schedule_from: so.Mapped[datetime] = so.mapped_column(UTCDateTime)
    # The last fire time the scheduler dealt with, and what went wrong with it if anything.
    last_fire_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)
    last_error: so.Mapped[str | None] = so.mapped_column(sa.Text)
    created_by: so.Mapped[uuid.UUID] = so.mapped_column(sa.Uuid, sa.ForeignKey("users.id"))
    version: so.Mapped[int] = so.mapped_column(sa.Integer, default=1)


class Recusal(IdMixin, TimestampMixin, AgencyScoped, Model):
    """回避: this inspector is never drawn for this enterprise. The reason is never published."""

    __tablename__ = "recusals"
    __table_args__ = (sa.UniqueConstraint("inspector_id", "enterprise_id"),)

    inspector_id: so.Mapped[uuid.UUID] = so.mapped_column(sa.Uuid, sa.ForeignKey("users.id"))
    enterprise_id: so.Mapped[uuid.UUID] = so.mapped_column(
        sa.Uuid, sa.ForeignKey("enterprises.id"), index=True
    )
    source: so.Mapped[str] = so.mapped_column(
        sa.Enum(*RECUSAL_SOURCES, name="recusal_source", native_enum=False)
    )
    reason: so.Mapped[str] = so.mapped_column(sa.Text, default="")
    created_by: so.Mapped[uuid.UUID] = so.mapped_column(sa.Uuid, sa.ForeignKey("users.id"))


class DrawSeed(IdMixin, AgencyScoped, Model):
    """A seed fixed before a scheduled draw; only its SHA-256 is shown until the draw runs."""

    __tablename__ = "draw_seeds"
    __table_args__ = (sa.UniqueConstraint("plan_id", "period_key"),)

    plan_id: so.Mapped[uuid.UUID] = so.mapped_column(sa.Uuid, sa.ForeignKey("draw_plans.id"))
    period_key: so.Mapped[str] = so.mapped_column(sa.String(10))
    seed: so.Mapped[str] = so.mapped_column(sa.String(128))
    commitment: so.Mapped[str] = so.mapped_column(sa.String(64))
    committed_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime)
    # When the scheduler expects to draw with it (the next cron fire time), and the period
    # it was published for: a draw that catches up after downtime uses the earliest unused
    # commitment and moves it to its own period_key, so the two may differ.
    planned_for: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)
    planned_period_key: so.Mapped[str | None] = so.mapped_column(sa.String(10))
    used_by_draw_id: so.Mapped[uuid.UUID | None] = so.mapped_column(sa.Uuid)
    # Set when the scheduler has passed this commitment's fire time for a later period
    # without using it: it is no longer shown as upcoming and never used.
    lapsed_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)
    # Secret (hex), fixed with the seed: the key of the draw's pseudonyms. Never published.
    pseudonym_key: so.Mapped[str | None] = so.mapped_column(sa.String(64))


class Draw(IdMixin, AgencyScoped, Model):
    """One draw of a plan for a period; attempt 2, 3, ... are redraws with a public reason."""

    __tablename__ = "draws"
    # Two schedulers (or two leads) running the same plan at once make one draw: the second
    # insert of attempt 1 fails on this constraint.
    __table_args__ = (
        sa.UniqueConstraint("plan_id", "period_key", "attempt"),
        sa.Index("ix_draws_drawn_at", "drawn_at"),
    )

    plan_id: so.Mapped[uuid.UUID] = so.mapped_column(sa.Uuid, sa.ForeignKey("draw_plans.id"))
    plan_name: so.Mapped[str] = so.mapped_column(sa.String(200))
    period_key: so.Mapped[str] = so.mapped_column(sa.String(10))
    attempt: so.Mapped[int] = so.mapped_column(sa.Integer)
    redraw_reason: so.Mapped[str | None] = so.mapped_column(sa.Text)
    trigger: so.Mapped[str] = so.mapped_column(sa.String(10))
    operator_id: so.Mapped[uuid.UUID | None] = so.mapped_column(sa.Uuid, sa.ForeignKey("users.id"))
    drawn_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime)
    draw_date: so.Mapped[date] = so.mapped_column(sa.Date)
    seed: so.Mapped[str] = so.mapped_column(sa.String(128))
    seed_commitment: so.Mapped[str] = so.mapped_column(sa.String(64))
    # When the commitment was published: before the draw for a scheduled one, else null.
    committed_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)
    fingerprint: so.Mapped[str] = so.mapped_column(sa.String(64))
    algorithm: so.Mapped[str] = so.mapped_column(sa.String(40))
    # The plan's settings as they were when it ran (filters included).
    parameters: so.Mapped[dict[str, Any]] = so.mapped_column(sa.JSON)
    # The public document, byte for byte as run_draw produced it (canonical JSON).
    document: so.Mapped[str] = so.mapped_column(sa.Text)
    # sr-draw/2 names everyone in the document by pseudonyms under this secret key (hex);
    # ``identities`` maps the drawn enterprises' and team members' pseudonyms to their ids.
    # Both null for sr-draw/1 draws, whose document holds the ids themselves.
    pseudonym_key: so.Mapped[str | None] = so.mapped_column(sa.String(64))
    identities: so.Mapped[dict[str, str] | None] = so.mapped_column(sa.JSON)
    pool_size: so.Mapped[int] = so.mapped_column(sa.Integer)
    drawn_count: so.Mapped[int] = so.mapped_column(sa.Integer)


class Task(IdMixin, TimestampMixin, AgencyScoped, Model):
    """One drawn enterprise for its team; travels to the team's phones through pull."""

    __entity__ = "task"

    __tablename__ = "tasks"
    __table_args__ = (
        sa.Index("ix_tasks_enterprise_status", "enterprise_id", "status"),
        sa.Index("ix_tasks_draw", "draw_id"),
    )

    draw_id: so.Mapped[uuid.UUID] = so.mapped_column(sa.Uuid, sa.ForeignKey("draws.id"))
    plan_id: so.Mapped[uuid.UUID] = so.mapped_column(sa.Uuid, sa.ForeignKey("draw_plans.id"))
    period_key: so.Mapped[str] = so.mapped_column(sa.String(10))
    title: so.Mapped[str] = so.mapped_column(sa.String(300))
    kind: so.Mapped[str] = so.mapped_column(sa.String(10))
    enterprise_id: so.Mapped[uuid.UUID] = so.mapped_column(sa.Uuid, sa.ForeignKey("enterprises.id"))
    inspector_ids: so.Mapped[list[str]] = so.mapped_column(sa.JSON, default=list)
    # [{"id","name","department","certificate_no"}] of a joint check.
    outside_inspectors: so.Mapped[list[dict[str, Any]]] = so.mapped_column(sa.JSON, default=list)
    due_date: so.Mapped[date] = so.mapped_column(sa.Date)
    status: so.Mapped[str] = so.mapped_column(
        sa.Enum(*TASK_STATUSES, name="task_status", native_enum=False), default="open"
    )
    # No foreign key, like Inspection.task_id: the completing inspection and this row are
    # written in the same flush, in an order the unit of work does not promise.
    inspection_id: so.Mapped[uuid.UUID | None] = so.mapped_column(sa.Uuid)
    completed_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)
    version: so.Mapped[int] = so.mapped_column(sa.Integer, default=1)
