"""The audit trail (全程留痕): read-only; entries are only ever appended by the services.

Append-only is enforced twice: here, for every ORM session (a flush that would change or
delete an entry, or an ORM UPDATE/DELETE statement naming the table, raises), and by triggers
in the database (migration 0010) for everything else.
"""

from __future__ import annotations

import uuid
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so

from server.domain import permissions
from server.domain.permissions import Principal
from server.models import AuditEntry
from server.services.paging import Page, paginate


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
    return paginate(stmt, AuditEntry.id.desc(), page=page, per_page=per_page)


class AuditTrailIsAppendOnly(RuntimeError):
    """Code tried to change or delete an audit entry: a bug, never a user's error."""


def _refuse_changed_entries(session: so.Session, flush_context: Any, instances: Any) -> None:
    for obj in session.deleted:
        if isinstance(obj, AuditEntry):
            raise AuditTrailIsAppendOnly(f"audit entry {obj.id} would be deleted")
    for obj in session.dirty:
        if isinstance(obj, AuditEntry) and session.is_modified(obj):
            raise AuditTrailIsAppendOnly(f"audit entry {obj.id} would be changed")


def _refuse_bulk_statements(state: so.ORMExecuteState) -> None:
    if (state.is_update or state.is_delete) and any(
        mapper.class_ is AuditEntry for mapper in state.all_mappers
    ):
        raise AuditTrailIsAppendOnly("an UPDATE or DELETE of audit entries")


def install() -> None:
    """Attach the append-only guard to every ORM session."""
    if not sa.event.contains(so.Session, "before_flush", _refuse_changed_entries):
        sa.event.listen(so.Session, "before_flush", _refuse_changed_entries)
        sa.event.listen(so.Session, "do_orm_execute", _refuse_bulk_statements)
