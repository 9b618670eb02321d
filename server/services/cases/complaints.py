"""Complaints against an enterprise: record, handle, list."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa

from server.domain import permissions
from server.domain.errors import ValidationFailed
from server.domain.permissions import Principal
from server.extensions import db
from server.models import (
    Complaint,
    Enterprise,
)
from server.services.cases.context import agency_of, local_today, not_future
from server.services.lookup import get_or_not_found
from server.services.paging import Page, paginate


def record_complaint(principal: Principal, data: dict[str, Any], now: datetime) -> Complaint:
    """投诉举报 received (and, if already done, handled)."""
    permissions.require_role(principal, permissions.RECORD_COMPLAINTS, "recording a complaint")
    today = local_today(agency_of(principal), now)
    not_future(data["received_on"], today, "received_on")
    if data.get("enterprise_id") and db.session.get(Enterprise, data["enterprise_id"]) is None:
        raise ValidationFailed("no such enterprise", fields={"enterprise_id": "not found"})
    complaint = Complaint(
        agency_id=principal.agency_id,
        received_on=data["received_on"],
        channel=data["channel"],
        summary=data["summary"],
        enterprise_id=data.get("enterprise_id"),
        recorded_by=principal.user_id,
    )
    _handle(complaint, data, today)
    db.session.add(complaint)
    db.session.commit()
    return complaint


def _handle(complaint: Complaint, data: dict[str, Any], today: date) -> None:
    if data.get("handled_on") is not None:
        not_future(data["handled_on"], today, "handled_on")
        if data["handled_on"] < complaint.received_on:
            raise ValidationFailed(
                "handled before it was received",
                fields={"handled_on": f"on or after {complaint.received_on}"},
            )
        complaint.handled_on = data["handled_on"]
    if "outcome" in data:
        complaint.outcome = data["outcome"]


def handle_complaint(
    principal: Principal, complaint_id: uuid.UUID, data: dict[str, Any], now: datetime
) -> Complaint:
    permissions.require_role(principal, permissions.RECORD_COMPLAINTS, "handling a complaint")
    complaint = get_or_not_found(Complaint, complaint_id, "no such complaint in your agency")
    _handle(complaint, data, local_today(agency_of(principal), now))
    db.session.commit()
    return complaint


def list_complaints(
    principal: Principal, *, year: int | None = None, page: int = 1, per_page: int = 50
) -> Page:
    permissions.require_role(principal, permissions.RECORD_COMPLAINTS, "reading complaints")
    stmt = sa.select(Complaint)
    if year:
        stmt = stmt.where(
            Complaint.received_on >= date(year, 1, 1), Complaint.received_on < date(year + 1, 1, 1)
        )
    order = (Complaint.received_on.desc(), Complaint.id)
    return paginate(stmt, *order, page=page, per_page=per_page)
