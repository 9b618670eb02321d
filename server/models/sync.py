"""The sync machinery: the op ledger, the change feed and its clock, and the audit trail."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so

from server.extensions import Model
from server.models.types import AgencyScoped, UTCDateTime

# Change rows meant for every user allowed to see the record (rather than one user).
EVERYONE = uuid.UUID(int=0)


class SyncOp(AgencyScoped, Model):
    """Every op a device pushed, keyed by its op_id: what makes re-sending a batch safe."""

    __tablename__ = "sync_ops"
    __table_args__ = (
        sa.Index("ix_sync_ops_waiting", "agency_id", "waiting_for_entity", "waiting_for_id"),
    )

    op_id: so.Mapped[uuid.UUID] = so.mapped_column(sa.Uuid, primary_key=True)
    device_id: so.Mapped[uuid.UUID] = so.mapped_column(sa.Uuid, sa.ForeignKey("devices.id"))
    user_id: so.Mapped[uuid.UUID] = so.mapped_column(sa.Uuid, sa.ForeignKey("users.id"))
    entity: so.Mapped[str] = so.mapped_column(sa.String(20))
    record_id: so.Mapped[uuid.UUID | None] = so.mapped_column(sa.Uuid)
    payload_hash: so.Mapped[str] = so.mapped_column(sa.String(64))
    payload: so.Mapped[dict[str, Any]] = so.mapped_column(sa.JSON)
    status: so.Mapped[str] = so.mapped_column(sa.String(12))
    result: so.Mapped[dict[str, Any]] = so.mapped_column(sa.JSON)
    waiting_for_entity: so.Mapped[str | None] = so.mapped_column(sa.String(20))
    waiting_for_id: so.Mapped[uuid.UUID | None] = so.mapped_column(sa.Uuid)
    received_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime)
    settled_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)


class SyncClock(Model):
    """Per-agency position of the change feed. Advanced last in a transaction, under a row
    lock, so feed positions become visible in commit order and a pull never skips one."""

    __tablename__ = "sync_clocks"

    agency_id: so.Mapped[uuid.UUID] = so.mapped_column(
        sa.Uuid, sa.ForeignKey("agencies.id"), primary_key=True
    )
    seq: so.Mapped[int] = so.mapped_column(sa.BigInteger, default=0)


class Change(AgencyScoped, Model):
    """The latest change of each record (and per-user tombstones), ordered by ``seq``."""

    __tablename__ = "changes"
    __table_args__ = (
        sa.UniqueConstraint("agency_id", "entity", "record_id", "audience"),
        sa.Index("ix_changes_agency_seq", "agency_id", "seq"),
    )

    id: so.Mapped[int] = so.mapped_column(
        sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    seq: so.Mapped[int] = so.mapped_column(sa.BigInteger)
    entity: so.Mapped[str] = so.mapped_column(sa.String(20))
    record_id: so.Mapped[uuid.UUID] = so.mapped_column(sa.Uuid)
    version: so.Mapped[int] = so.mapped_column(sa.Integer)
    deleted: so.Mapped[bool] = so.mapped_column(sa.Boolean, default=False)
    audience: so.Mapped[uuid.UUID] = so.mapped_column(sa.Uuid, default=EVERYONE)


class AuditEntry(AgencyScoped, Model):
    """Append-only: who changed which record, from which device, when, and what changed."""

    __tablename__ = "audit_entries"
    __table_args__ = (sa.Index("ix_audit_record", "entity", "record_id"),)

    id: so.Mapped[int] = so.mapped_column(
        sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    at: so.Mapped[datetime] = so.mapped_column(UTCDateTime)
    user_id: so.Mapped[uuid.UUID | None] = so.mapped_column(sa.Uuid, sa.ForeignKey("users.id"))
    device_id: so.Mapped[uuid.UUID | None] = so.mapped_column(sa.Uuid)
    op_id: so.Mapped[uuid.UUID | None] = so.mapped_column(sa.Uuid)
    entity: so.Mapped[str] = so.mapped_column(sa.String(20))
    record_id: so.Mapped[uuid.UUID] = so.mapped_column(sa.Uuid)
    action: so.Mapped[str] = so.mapped_column(sa.String(30))
    version: so.Mapped[int] = so.mapped_column(sa.Integer)
    # {field: [old, new]}
    changes: so.Mapped[dict[str, Any]] = so.mapped_column(sa.JSON, default=dict)
