"""The audit trail (全程留痕): read-only; entries are only ever appended by the services."""

from __future__ import annotations

import uuid

import sqlalchemy as sa

from server.domain import permissions
from server.domain.permissions import Principal
from server.extensions import db
from server.models import AuditEntry
from server.services.enterprises import Page


def audit_trail(
    principal: Principal,
    *,
    entity: str | None = None,
    record_id: uuid.UUID | None = None,
    page: int = 1,
    per_page: int = 100,
) -> Page:
    """Who changed what, from which device, when: newest first."""
    permissions.require_role(principal, permissions.READ_AUDIT, "reading the audit trail")
    stmt = sa.select(AuditEntry)
    if entity:
        stmt = stmt.where(AuditEntry.entity == entity)
    if record_id:
        stmt = stmt.where(AuditEntry.record_id == record_id)
    total = db.session.scalar(sa.select(sa.func.count()).select_from(stmt.subquery())) or 0
    rows = db.session.scalars(
        stmt.order_by(AuditEntry.id.desc()).limit(per_page).offset((page - 1) * per_page)
    )
    return Page(list(rows), page, per_page, total)
