"""The recusal registry: inspectors kept away from enterprises they are tied to."""

from __future__ import annotations

import uuid
from typing import Any

import sqlalchemy as sa

from server.domain import permissions
from server.domain.errors import Conflict, ValidationFailed
from server.domain.permissions import Principal
from server.extensions import db
from server.models import (
    Enterprise,
    Recusal,
    User,
)
from server.services.lookup import scalar_or_not_found


def list_recusals(
    principal: Principal,
    *,
    inspector_id: uuid.UUID | None = None,
    enterprise_id: uuid.UUID | None = None,
) -> list[Recusal]:
    permissions.require_role(principal, permissions.MANAGE_RECUSALS, "reading recusals")
    stmt = sa.select(Recusal).where(Recusal.agency_id == principal.agency_id)
    if inspector_id is not None:
        stmt = stmt.where(Recusal.inspector_id == inspector_id)
    if enterprise_id is not None:
        stmt = stmt.where(Recusal.enterprise_id == enterprise_id)
    return list(db.session.scalars(stmt.order_by(Recusal.created_at, Recusal.id)))


def create_recusal(principal: Principal, data: dict[str, Any]) -> Recusal:
    """Register that an inspector must never be drawn for an enterprise."""
    permissions.require_role(principal, permissions.MANAGE_RECUSALS, "registering a recusal")
    inspector = db.session.scalar(
        sa.select(User).where(
            User.id == data["inspector_id"], User.agency_id == principal.agency_id
        )
    )
    if inspector is None:
        raise ValidationFailed(
            "no such user in your agency",
            code="unknown_inspector",
            fields={"inspector_id": ["not a user of your agency"]},
        )
    enterprise = db.session.scalar(
        sa.select(Enterprise).where(
            Enterprise.id == data["enterprise_id"], Enterprise.agency_id == principal.agency_id
        )
    )
    if enterprise is None:
        raise ValidationFailed(
            "no such enterprise in your agency's directory",
            code="unknown_enterprise",
            fields={"enterprise_id": ["not in the directory"]},
        )
    duplicate = Conflict(
        "this inspector is already recused from this enterprise",
        code="duplicate_recusal",
    )
    exists = db.session.scalar(
        sa.select(Recusal.id).where(
            Recusal.inspector_id == inspector.id, Recusal.enterprise_id == enterprise.id
        )
    )
    if exists is not None:
        raise duplicate
    recusal = Recusal(
        agency_id=principal.agency_id,
        inspector_id=inspector.id,
        enterprise_id=enterprise.id,
        source=data["source"],
        reason=data["reason"].strip(),
        created_by=principal.user_id,
    )
    db.session.add(recusal)
    try:
        db.session.commit()
    except sa.exc.IntegrityError:
        db.session.rollback()
        raise duplicate from None
    return recusal


def delete_recusal(principal: Principal, recusal_id: uuid.UUID) -> None:
    permissions.require_role(principal, permissions.MANAGE_RECUSALS, "removing a recusal")
    recusal = scalar_or_not_found(
        sa.select(Recusal).where(
            Recusal.id == recusal_id, Recusal.agency_id == principal.agency_id
        ),
        "no such recusal",
    )
    db.session.delete(recusal)
    db.session.commit()
