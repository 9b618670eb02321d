"""One hazard: read it with its history and photos; the inspectors and later evidence."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from server.domain import hazards as lifecycle
from server.domain.hazards import ACTION_LABELS, STATUS_LABELS
from server.domain.permissions import Principal
from server.extensions import db
from server.models import (
    AuditEntry,
    Device,
    Document,
    Enterprise,
    Hazard,
    HazardEscalation,
    Rectification,
    User,
)
from server.services import hazard_state
from server.services.calendar import working_calendar
from server.services.hazards.common import agency_of, local_today, policy_of, require_read
from server.services.lookup import scalar_or_not_found


def get_hazard(principal: Principal, hazard_id: uuid.UUID) -> Hazard:
    """One hazard of the caller's agency (another agency's is simply not found)."""
    require_read(principal)
    return scalar_or_not_found(
        sa.select(Hazard).where(Hazard.id == hazard_id, Hazard.agency_id == principal.agency_id),
        "no such hazard",
    )


def _event_from_audit(entry: AuditEntry, hazard: Hazard) -> dict[str, Any]:
    changes = entry.changes or {}
    event = (changes.get("event") or [None, None])[1]
    if entry.action == "create":
        return {
            "action": lifecycle.FIND,
            "at": hazard.found_at,
            "from_status": None,
            "to_status": lifecycle.FOUND,
            "evidence": list(hazard.photo_attachments or []),
            "documents": [],
            "note": None,
            "details": {"level": (changes.get("level") or [None, hazard.level])[1]},
        }
    if event:
        return {
            "action": event["action"],
            "at": datetime.fromisoformat(event["at"]),
            "from_status": event.get("from_status"),
            "to_status": event.get("to_status"),
            "evidence": list(event.get("evidence") or []),
            "documents": list(event.get("documents") or []),
            "note": event.get("note"),
            "details": dict(event.get("details") or {}),
        }
    return {
        "action": entry.action,
        "at": entry.at,
        "from_status": None,
        "to_status": None,
        "evidence": [],
        "documents": [],
        "note": None,
        "details": {"changes": changes},
    }


def hazard_detail(
    principal: Principal, hazard_id: uuid.UUID, *, now: datetime | None = None
) -> dict[str, Any]:
    """The hazard, where it stands, what the caller may do next and every step so far."""
    hazard = get_hazard(principal, hazard_id)
    agency = agency_of(principal)
    today = local_today(agency, now)
    policy = policy_of(agency)
    state = hazard_state.state_from_json(hazard.lifecycle)
    enterprise = db.session.get(Enterprise, hazard.enterprise_id)
    entries = db.session.scalars(
        sa.select(AuditEntry)
        .where(
            AuditEntry.agency_id == agency.id,
            AuditEntry.entity == "hazard",
            AuditEntry.record_id == hazard.id,
        )
        .order_by(AuditEntry.id)
    ).all()
    events = [(entry, _event_from_audit(entry, hazard)) for entry in entries]
    user_ids = {e.user_id for e, _ in events if e.user_id}
    device_ids = {e.device_id for e, _ in events if e.device_id}
    doc_ids = set()
    for _, ev in events:
        for d in ev["documents"]:
            try:
                doc_ids.add(uuid.UUID(str(d)))
            except ValueError:
                continue
    users = (
        {u.id: u for u in db.session.scalars(sa.select(User).where(User.id.in_(user_ids)))}
        if user_ids
        else {}
    )
    devices = (
        {d.id: d for d in db.session.scalars(sa.select(Device).where(Device.id.in_(device_ids)))}
        if device_ids
        else {}
    )
    docs = (
        {
            str(d.id): d
            for d in db.session.scalars(
                sa.select(Document).where(Document.id.in_(doc_ids), Document.agency_id == agency.id)
            )
        }
        if doc_ids
        else {}
    )
    history = []
    for entry, ev in events:
        user = users.get(entry.user_id) if entry.user_id else None
        device = devices.get(entry.device_id) if entry.device_id else None
        history.append(
            {
                **ev,
                "label": ACTION_LABELS.get(ev["action"], ev["action"]),
                "recorded_at": entry.at,
                "version": entry.version,
                "by": {
                    "id": entry.user_id,
                    "name": user.display_name if user else None,
                    "role": user.role if user else None,
                },
                "device": {"id": device.id, "name": device.name} if device else None,
                "op_id": entry.op_id,
                "documents": [
                    {
                        "id": d,
                        "number": docs[d].number if d in docs else None,
                        "type": docs[d].type if d in docs else None,
                    }
                    for d in ev["documents"]
                ],
            }
        )
    reports = db.session.scalars(
        sa.select(Rectification)
        .where(Rectification.hazard_id == hazard.id, Rectification.agency_id == agency.id)
        .order_by(Rectification.reported_at)
    ).all()
    escalations = db.session.scalars(
        sa.select(HazardEscalation)
        .where(HazardEscalation.hazard_id == hazard.id)
        .order_by(HazardEscalation.raised_on, HazardEscalation.level)
    ).all()
    assessment = lifecycle.assess(state, today, policy, working_calendar(agency))
    return {
        "hazard": hazard,
        "enterprise": enterprise,
        "state": state,
        "lifecycle": hazard.lifecycle,
        "status_label": STATUS_LABELS.get(hazard.status, hazard.status),
        "level_label": lifecycle.LEVEL_LABELS.get(hazard.level, hazard.level),
        "assessment": assessment,
        "allowed_actions": lifecycle.allowed_actions(state, principal.role),
        "history": history,
        "rectifications": reports,
        "escalations": escalations,
        "photos": _photos(hazard, history, reports),
    }


def _photos(
    hazard: Hazard, history: list[dict[str, Any]], reports: Sequence[Any]
) -> list[str]:
    seen: dict[str, None] = dict.fromkeys(hazard.photo_attachments or [])
    for ev in history:
        seen.update(dict.fromkeys(ev["evidence"]))
    for report in reports:
        seen.update(dict.fromkeys(report.evidence_attachments or []))
    return list(seen)


def inspectors(principal: Principal) -> list[User]:
    """The agency's enforcement officers, for a filter by inspector (who finds hazards)."""
    require_read(principal)
    return list(
        db.session.scalars(
            sa.select(User)
            .where(
                User.agency_id == principal.agency_id,
                User.role.in_(sorted(lifecycle.FIND_ROLES)),
            )
            .order_by(User.unit, User.full_name, User.username)
        )
    )


def later_evidence(principal: Principal, hazard_ids: list[uuid.UUID]) -> dict[uuid.UUID, list[str]]:
    """Photos of what was done about each hazard after it was found, oldest first.

    The enterprise's rectification reports and the evidence of every later step (fixed on the
    spot, re-inspected); the finding photos are left out, a page shows them beside these.
    """
    require_read(principal)
    if not hazard_ids:
        return {}
    found: dict[uuid.UUID, dict[str, None]] = {h: {} for h in hazard_ids}
    for hazard_id, changes in db.session.execute(
        sa.select(AuditEntry.record_id, AuditEntry.changes)
        .where(
            AuditEntry.agency_id == principal.agency_id,
            AuditEntry.entity == "hazard",
            AuditEntry.record_id.in_(hazard_ids),
            AuditEntry.action != "create",
        )
        .order_by(AuditEntry.id)
    ):
        event = ((changes or {}).get("event") or [None, None])[1] or {}
        found[hazard_id].update(dict.fromkeys(event.get("evidence") or []))
    for hazard_id, shas in db.session.execute(
        sa.select(Rectification.hazard_id, Rectification.evidence_attachments)
        .where(
            Rectification.agency_id == principal.agency_id,
            Rectification.hazard_id.in_(hazard_ids),
        )
        .order_by(Rectification.reported_at)
    ):
        found[hazard_id].update(dict.fromkeys(shas or []))
    return {h: list(shas) for h, shas in found.items()}
