"""Records made on inspectors' devices: scans, inspections, hazards, reports, documents."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so

from server.domain.enterprises import INDUSTRIES
from server.extensions import Model
from server.models.types import AgencyScoped, TimestampMixin, UTCDateTime


class SyncedRecord(AgencyScoped, TimestampMixin):
    """A record a device may create or edit: client UUID, server version, per-field versions."""

    id: so.Mapped[uuid.UUID] = so.mapped_column(sa.Uuid, primary_key=True)
    version: so.Mapped[int] = so.mapped_column(sa.Integer, default=1)
    # {field: version at which it last changed}: what makes field-level merges possible.
    field_versions: so.Mapped[dict[str, int]] = so.mapped_column(sa.JSON, default=dict)
    created_by: so.Mapped[uuid.UUID] = so.mapped_column(sa.Uuid, sa.ForeignKey("users.id"))
    created_on_device: so.Mapped[uuid.UUID | None] = so.mapped_column(
        sa.Uuid, sa.ForeignKey("devices.id")
    )


class Scan(SyncedRecord, Model):
    """An inspector scanned an enterprise's gate code (扫码入企)."""

    __entity__ = "scan"

    __tablename__ = "scans"

    enterprise_id: so.Mapped[uuid.UUID] = so.mapped_column(
        sa.Uuid, sa.ForeignKey("enterprises.id"), index=True
    )
    code_version: so.Mapped[int] = so.mapped_column(sa.Integer)
    scanned_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime)
    received_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime)
    latitude: so.Mapped[float | None] = so.mapped_column(sa.Float)
    longitude: so.Mapped[float | None] = so.mapped_column(sa.Float)
    accuracy_m: so.Mapped[float | None] = so.mapped_column(sa.Float)
    inspector_ids: so.Mapped[list[str]] = so.mapped_column(sa.JSON, default=list)
    warnings: so.Mapped[list[dict[str, Any]]] = so.mapped_column(sa.JSON, default=list)


class Inspection(SyncedRecord, Model):
    """现场检查记录: one visit to one enterprise by two or more inspectors."""

    __entity__ = "inspection"

    __tablename__ = "inspections"
    __table_args__ = (
        sa.Index("ix_inspections_enterprise_started", "enterprise_id", "started_at"),
        # The annual report and plan completion count a year's inspections per enterprise and
        # kind from this index alone.
        sa.Index(
            "ix_inspections_agency_started_kind",
            "agency_id",
            "started_at",
            "kind",
            "enterprise_id",
        ),
    )

    enterprise_id: so.Mapped[uuid.UUID] = so.mapped_column(sa.Uuid, sa.ForeignKey("enterprises.id"))
    scan_id: so.Mapped[uuid.UUID | None] = so.mapped_column(sa.Uuid, sa.ForeignKey("scans.id"))
    task_id: so.Mapped[uuid.UUID | None] = so.mapped_column(sa.Uuid)
    kind: so.Mapped[str] = so.mapped_column(sa.String(20))
    started_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime)
    ended_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)
    place: so.Mapped[str] = so.mapped_column(sa.String(300), default="")
    # The team; hazard counts per finder follow it (the old value is loaded before a change).
    inspector_ids: so.Mapped[list[str]] = so.mapped_column(
        sa.JSON, default=list, active_history=True
    )
    items: so.Mapped[list[dict[str, Any]]] = so.mapped_column(sa.JSON, default=list)
    findings: so.Mapped[str] = so.mapped_column(sa.Text, default="")
    representative: so.Mapped[dict[str, Any] | None] = so.mapped_column(sa.JSON)
    signature_attachments: so.Mapped[list[str]] = so.mapped_column(sa.JSON, default=list)

    # Declared so one flush inserts a batch's scans, inspections, hazards and documents in
    # foreign-key order; never loaded.
    scan: so.Mapped[Scan | None] = so.relationship(lazy="raise")


class Hazard(SyncedRecord, Model):
    """隐患 found on an inspection, tracked until verified closed."""

    __entity__ = "hazard"

    __tablename__ = "hazards"
    # Server-side copies that devices are not sent (see sync/records.py ``serialize``).
    __not_synced__ = frozenset({"industry"})
    __table_args__ = (
        # Closed, and when: the rectified-by-a-day count subtracts the few closed after it.
        sa.Index("ix_hazards_agency_status_closed", "agency_id", "status", "closed_at", "found_at"),
        sa.Index("ix_hazards_enterprise", "enterprise_id"),
        # The manager's lists and counts (scripts/bench_hazards.py): open and overdue by
        # status and deadline, a period's statistics, closures per month, one enterprise's
        # history. Trailing columns let counts run on the index alone, without the wide rows.
        sa.Index(
            "ix_hazards_agency_status_deadline",
            "agency_id",
            "status",
            "deadline",
            "industry",
            "level",
            "found_at",
            "id",
        ),
        # (found_at, id) first: the lists' and the export's default order read it in order,
        # newest first; the rest serves the counts of the days at a period's edges.
        sa.Index(
            "ix_hazards_agency_found",
            "agency_id",
            "found_at",
            "id",
            "status",
            "level",
            "industry",
            "supervised",
            "inspection_id",
        ),
        sa.Index("ix_hazards_agency_closed", "agency_id", "closed_at", "found_at"),
        sa.Index("ix_hazards_enterprise_found", "enterprise_id", "found_at"),
    )

    # What the monthly counts (models/hazard_counts.py) key on: the old value of each is loaded
    # before a change, so the counts can move the hazard from its old key to its new one.
    inspection_id: so.Mapped[uuid.UUID] = so.mapped_column(
        sa.Uuid, sa.ForeignKey("inspections.id"), index=True, active_history=True
    )
    enterprise_id: so.Mapped[uuid.UUID] = so.mapped_column(sa.Uuid, sa.ForeignKey("enterprises.id"))
    # A copy of the enterprise's industry, kept in step when the enterprise's changes
    # (services/hazard_counts.py): statistics follow an enterprise's current industry, and
    # counts by industry read the hazards (or their index) alone.
    industry: so.Mapped[str] = so.mapped_column(
        sa.Enum(*INDUSTRIES, name="industry", native_enum=False), active_history=True
    )
    level: so.Mapped[str] = so.mapped_column(sa.String(10), active_history=True)
    description: so.Mapped[str] = so.mapped_column(sa.Text)
    location: so.Mapped[str] = so.mapped_column(sa.String(300), default="")
    legal_basis: so.Mapped[str] = so.mapped_column(sa.Text, default="")
    photo_attachments: so.Mapped[list[str]] = so.mapped_column(sa.JSON, default=list)
    fixed_on_spot: so.Mapped[bool] = so.mapped_column(sa.Boolean, default=False)
    # The deadline the inspector proposed on site; the order document sets the real one.
    proposed_deadline: so.Mapped[date | None] = so.mapped_column(sa.Date)
    found_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, active_history=True)
    # Server-owned, moved only by server/domain/hazards.py: the whole HazardState, and the
    # parts of it that lists filter on.
    lifecycle: so.Mapped[dict[str, Any]] = so.mapped_column(sa.JSON)
    status: so.Mapped[str] = so.mapped_column(sa.String(30), active_history=True)
    deadline: so.Mapped[date | None] = so.mapped_column(sa.Date)
    supervised: so.Mapped[bool] = so.mapped_column(sa.Boolean, default=False, active_history=True)
    closed_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)

    inspection: so.Mapped[Inspection] = so.relationship(lazy="raise")


class Rectification(SyncedRecord, Model):
    """The enterprise's report that a hazard is fixed, with evidence (整改报告)."""

    __entity__ = "rectification"

    __tablename__ = "rectifications"

    hazard_id: so.Mapped[uuid.UUID] = so.mapped_column(
        sa.Uuid, sa.ForeignKey("hazards.id"), index=True
    )
    enterprise_id: so.Mapped[uuid.UUID] = so.mapped_column(sa.Uuid, sa.ForeignKey("enterprises.id"))
    reported_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime)
    description: so.Mapped[str] = so.mapped_column(sa.Text, default="")
    evidence_attachments: so.Mapped[list[str]] = so.mapped_column(sa.JSON, default=list)

    hazard: so.Mapped[Hazard] = so.relationship(lazy="raise")


class Document(SyncedRecord, Model):
    """执法文书: issued on site, numbered by the server."""

    __entity__ = "document"

    __tablename__ = "documents"
    __table_args__ = (
        sa.UniqueConstraint("agency_id", "type", "year", "serial"),
        sa.Index("ix_documents_inspection", "inspection_id"),
        # The annual report counts a year's documents per type.
        sa.Index("ix_documents_agency_type_issued", "agency_id", "type", "issued_at"),
    )

    type: so.Mapped[str] = so.mapped_column(sa.String(30))
    inspection_id: so.Mapped[uuid.UUID] = so.mapped_column(sa.Uuid, sa.ForeignKey("inspections.id"))
    enterprise_id: so.Mapped[uuid.UUID] = so.mapped_column(sa.Uuid, sa.ForeignKey("enterprises.id"))
    hazard_ids: so.Mapped[list[str]] = so.mapped_column(sa.JSON, default=list)
    issued_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime)
    provisional_number: so.Mapped[str] = so.mapped_column(sa.String(60), default="")
    # Server-owned: （南开）应急责改〔2024〕15号
    year: so.Mapped[int] = so.mapped_column(sa.Integer)
    serial: so.Mapped[int] = so.mapped_column(sa.Integer)
    number: so.Mapped[str] = so.mapped_column(sa.String(80))
    # The type's own fields (measures, deadline, opinion, ...).
    body: so.Mapped[dict[str, Any]] = so.mapped_column(sa.JSON, default=dict)

    inspection: so.Mapped[Inspection] = so.relationship(lazy="raise")


class DocumentCounter(Model):
    """The last serial issued per agency, document type and year; locked while numbering."""

    __tablename__ = "document_counters"

    agency_id: so.Mapped[uuid.UUID] = so.mapped_column(
        sa.Uuid, sa.ForeignKey("agencies.id"), primary_key=True
    )
    type: so.Mapped[str] = so.mapped_column(sa.String(30), primary_key=True)
    year: so.Mapped[int] = so.mapped_column(sa.Integer, primary_key=True)
    last_serial: so.Mapped[int] = so.mapped_column(sa.Integer, default=0)


class RecordMember(Model):
    """Which users a scan, inspection or task belongs to: decides what reaches their pulls."""

    __tablename__ = "record_members"
    __table_args__ = (sa.Index("ix_record_members_user", "user_id", "entity"),)

    entity: so.Mapped[str] = so.mapped_column(sa.String(20), primary_key=True)
    record_id: so.Mapped[uuid.UUID] = so.mapped_column(sa.Uuid, primary_key=True)
    user_id: so.Mapped[uuid.UUID] = so.mapped_column(
        sa.Uuid, sa.ForeignKey("users.id"), primary_key=True
    )
