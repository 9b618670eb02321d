"""A step on a hazard taken from the office, with the document it cites or issues."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, NoReturn

import sqlalchemy as sa

from server.database import for_update
from server.domain import hazards as lifecycle
from server.domain import numbering
from server.domain.errors import ValidationFailed
from server.domain.permissions import Principal
from server.extensions import db
from server.models import (
    Agency,
    AuditEntry,
    Document,
    Hazard,
    Rectification,
)
from server.models.types import utcnow
from server.services import attachments
from server.services import numbering as numbering_service
from server.services.hazards.common import agency_of, local_today, policy_of, require_read
from server.services.lookup import scalar_or_not_found

# The document an office step may cite, by action and field. Other citations (a supervision
# notice, a review for lifting a stop) are papers of types not modelled here: they need only be
# a document of the hazard's enterprise.
_CITED_TYPES = {
    (lifecycle.ORDER, "document_id"): "rectification_order",
    (lifecycle.REINSPECT, "opinion_document_id"): "reinspection_opinion",
    (lifecycle.STOP_PRODUCTION, "document_id"): "onsite_measures",
}
# The steps whose document the office issues itself when none is cited.
_ISSUED_BY_OFFICE = {
    lifecycle.ORDER: ("document_id", "rectification_order"),
    lifecycle.REINSPECT: ("opinion_document_id", "reinspection_opinion"),
}


def _cited_documents(hazard: Hazard) -> set[str]:
    """Ids of the documents already recorded in this hazard's history."""
    cited: set[str] = set()
    for changes in db.session.scalars(
        sa.select(AuditEntry.changes).where(
            AuditEntry.agency_id == hazard.agency_id,
            AuditEntry.entity == "hazard",
            AuditEntry.record_id == hazard.id,
        )
    ):
        event = ((changes or {}).get("event") or [None, None])[1] or {}
        cited.update(str(d) for d in event.get("documents") or [])
    return cited


def _check_documents(hazard: Hazard, action: str, payload: dict[str, Any]) -> None:
    """A cited document is of the hazard's enterprise, of the step's type, names the hazard
    and was not used for a step of this hazard before (one paper, one step)."""
    cited: set[str] | None = None
    for name in ("document_id", "opinion_document_id"):
        value = payload.get(name)
        if value is None:
            continue

        def refuse(why: str, code: str = "unknown_document", field: str = name) -> NoReturn:
            raise ValidationFailed(f"{field}: {why}", code=code, fields={field: [why]})

        try:
            doc_id = uuid.UUID(str(value))
        except ValueError:
            refuse("names no document")
        document = db.session.scalar(
            sa.select(Document).where(Document.id == doc_id, Document.agency_id == hazard.agency_id)
        )
        if document is None:
            refuse("not a document of your agency")
        if document.enterprise_id != hazard.enterprise_id:
            refuse("a document of another enterprise", "document_mismatch")
        wanted = _CITED_TYPES.get((action, name))
        if wanted is not None:
            if document.type != wanted:
                label = numbering.DOCUMENT_TYPES[wanted].title
                refuse(f"must be a {wanted} ({label})", "wrong_document_type")
            if str(hazard.id) not in (document.hazard_ids or []):
                refuse("does not name this hazard", "document_mismatch")
            cited = _cited_documents(hazard) if cited is None else cited
            if str(doc_id) in cited:
                refuse(
                    "already recorded for this hazard; an order or opinion issued on a device "
                    "takes its step when it is synced",
                    "document_already_used",
                )
        payload[name] = str(doc_id)


def _issue_document(
    ctx: Any,
    agency: Agency,
    hazard: Hazard,
    document_id: uuid.UUID,
    doc_type: str,
    body: dict[str, Any],
) -> Document:
    """A numbered document the office issues for one hazard (an order or an opinion)."""
    from server.services.sync.records import create

    year = local_today(agency, ctx.now).year
    numbering.format_number(agency.abbr, doc_type, year, 1)  # refuses a bad abbreviation
    serial = numbering_service.next_serial(agency.id, doc_type, year)
    values = {
        "type": doc_type,
        "inspection_id": hazard.inspection_id,
        "enterprise_id": hazard.enterprise_id,
        "hazard_ids": [str(hazard.id)],
        "issued_at": ctx.now,
        "provisional_number": "",
        "body": body,
    }
    document = Document(
        id=document_id,
        year=year,
        serial=serial,
        number=numbering.format_number(agency.abbr, doc_type, year, serial),
        **values,
    )
    create(ctx, "document", document, values)
    return document


def _document_body(
    action: str, payload: dict[str, Any], state: lifecycle.HazardState, policy: Any
) -> dict[str, Any]:
    body: dict[str, Any] = {"content": payload.get("note") or ""}
    if action == lifecycle.REINSPECT:
        body["outcome"] = payload["outcome"]
        if payload["outcome"] != "fail":
            return body
    assert state.deadline is not None
    body["deadline"] = state.deadline.isoformat()
    if payload.get("period_days") is not None:
        body["period_days"] = payload["period_days"]
        body["deadline_unit"] = policy.deadline_unit
    return body


def take_step(
    principal: Principal,
    hazard_id: uuid.UUID,
    action: str,
    payload: dict[str, Any],
    *,
    now: datetime | None = None,
) -> Hazard:
    """Apply one lifecycle step sent from the office; recorded like a device's step."""
    from server.services.sync import handlers
    from server.services.sync.outcomes import OpContext
    from server.services.sync.records import create

    require_read(principal)
    now = now or utcnow()
    stmt = sa.select(Hazard).where(Hazard.id == hazard_id, Hazard.agency_id == principal.agency_id)
    # Two offices acting on one hazard at once: the second sees the first's result.
    stmt = for_update(stmt)
    hazard = scalar_or_not_found(stmt, "no such hazard")
    agency = agency_of(principal)
    payload = {k: v for k, v in payload.items() if v is not None}
    _check_documents(hazard, action, payload)
    issued: tuple[uuid.UUID, str] | None = None
    if action in _ISSUED_BY_OFFICE:
        name, doc_type = _ISSUED_BY_OFFICE[action]
        if name not in payload:
            # An order or re-inspection from the office is on paper too: the server issues
            # its numbered document, after the step's checks, so a refusal leaves no gap.
            issued = (uuid.uuid4(), doc_type)
            payload[name] = str(issued[0])
    evidence = payload.get("evidence_attachments") or []
    missing = attachments.missing_attachments(agency.id, evidence)
    if missing:
        raise ValidationFailed(
            "upload these attachments first: " + ", ".join(missing),
            code="attachment_missing",
            fields={"evidence_attachments": ["not uploaded"]},
            details={"missing": missing},
        )
    ctx = OpContext.for_agency(
        principal,
        agency,
        op_id=None,
        now=now,
    )
    planned = handlers.plan_step(ctx, hazard, action, payload, at=now)
    if issued is not None:
        body = _document_body(action, payload, planned[0], policy_of(agency))
        _issue_document(ctx, agency, hazard, issued[0], issued[1], body)
    handlers.commit_step(ctx, hazard, action, planned)
    if action == lifecycle.REPORT_DONE:
        # The enterprise's report, taken down at the office, is a record like a device's.
        values = {
            "hazard_id": hazard.id,
            "reported_at": planned[0].reported_at,
            "description": payload.get("description") or "",
            "evidence_attachments": list(evidence),
        }
        report = Rectification(id=uuid.uuid4(), enterprise_id=hazard.enterprise_id, **values)
        create(ctx, "rectification", report, values)
    db.session.commit()
    return hazard
