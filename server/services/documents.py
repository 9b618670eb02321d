"""Enforcement documents (执法文书): read them back and render the copy handed over on site."""

from __future__ import annotations

import io
import logging
import uuid
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from PIL import Image, UnidentifiedImageError

from server.domain.dates import chinese_date
from server.extensions import db
from server.models import Agency, Document, Enterprise, Hazard, Inspection, User
from server.render.documents import (
    LAYOUTS,
    CheckedItem,
    DocumentData,
    HazardEntry,
    Inspector,
    SignatureLine,
    render_document,
)
from server.services import attachments
from server.services.lookup import get_or_not_found

log = logging.getLogger(__name__)

MEASURE_TEXT = {
    "immediate_fix": "责令立即排除事故隐患",
    "withdraw_workers": "责令从危险区域内撤出作业人员",
    "stop_production": "责令暂时停产停业",
    "stop_use": "责令暂时停止使用相关设施、设备",
}
# Signatures drawn on the device sign the inspection record (现场检查记录) they were taken
# for; the other documents are signed for on paper when they are handed over.
SIGNED_ON_DEVICE = frozenset({"inspection_record"})
SIGNATURE_ROLE = "现场电子签名"
SIGNATURE_MAX_BYTES = 5 * 1024 * 1024
SIGNATURE_MAX_PIXELS = (900, 360)
OUTCOME_TEXT = {
    "pass": "经复查，上述事故隐患已整改完毕，符合要求。",
    "fail": "经复查，上述事故隐患未按要求整改完毕，责令继续整改。",
}


def get_document(document_id: uuid.UUID) -> Document:
    return get_or_not_found(Document, document_id, "no such document")


def _order_number(document: Document) -> str:
    """For a re-inspection opinion: the number of the order it re-inspects."""
    orders = db.session.scalars(
        sa.select(Document)
        .where(
            Document.type == "rectification_order", Document.enterprise_id == document.enterprise_id
        )
        .order_by(Document.issued_at.desc())
    )
    wanted = set(document.hazard_ids)
    for order in orders:
        if wanted & set(order.hazard_ids):
            return order.number
    return ""


def _chinese_date_text(text: str) -> str:
    """A ``YYYY-MM-DD`` date of a document's body as printed (anything else as it is)."""
    try:
        return chinese_date(date.fromisoformat(text))
    except (TypeError, ValueError):
        return text


def _hazard_deadline(hazard: Any) -> str:
    """A hazard's deadline as printed; one fixed on the spot says so instead."""
    if hazard.fixed_on_spot:
        return "当场整改"
    return chinese_date(hazard.deadline) if hazard.deadline else ""


def _signature_png(agency_id: uuid.UUID, sha256: str) -> bytes | None:
    """A stored signature image as a small PNG, or None when it is missing or no image."""
    content = attachments.stored_content(agency_id, sha256, SIGNATURE_MAX_BYTES)
    if content is None:
        log.warning("signature %s is not stored; the document prints without it", sha256)
        return None
    try:
        with Image.open(io.BytesIO(content)) as image:
            image.thumbnail(SIGNATURE_MAX_PIXELS)
            picture = image.convert("RGBA" if "A" in image.getbands() else "RGB")
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError):
        log.warning("signature %s is not an image; the document prints without it", sha256)
        return None
    out = io.BytesIO()
    picture.save(out, format="PNG")
    return out.getvalue()


def _signatures(
    document: Document, inspection: Inspection, signed_on: str
) -> tuple[SignatureLine, ...]:
    """The type's signature lines, then the signatures drawn on the device, if it has any."""
    if document.type not in SIGNED_ON_DEVICE or not inspection.signature_attachments:
        return ()
    images = [_signature_png(document.agency_id, sha) for sha in inspection.signature_attachments]
    images = [png for png in images if png is not None]
    if not images:
        return ()
    lines = [SignatureLine(role) for role in LAYOUTS[document.type].signers]
    for index, png in enumerate(images, 1):
        role = SIGNATURE_ROLE if len(images) == 1 else f"{SIGNATURE_ROLE}（{index}）"
        lines.append(SignatureLine(role, image_png=png, signed_on=signed_on))
    return tuple(lines)


def document_data(document: Document) -> DocumentData:
    """Everything the printed document shows, formatted in the agency's zone."""
    agency = db.session.get_one(Agency, document.agency_id)
    zone = ZoneInfo(agency.timezone)
    inspection = db.session.get_one(Inspection, document.inspection_id)
    enterprise = db.session.get_one(Enterprise, document.enterprise_id)
    team_ids = [uuid.UUID(i) for i in inspection.inspector_ids]
    users = {u.id: u for u in db.session.scalars(sa.select(User).where(User.id.in_(team_ids)))}
    hazards = {
        str(h.id): h
        for h in db.session.scalars(
            sa.select(Hazard).where(Hazard.id.in_([uuid.UUID(i) for i in document.hazard_ids]))
        )
    }
    body: dict[str, Any] = document.body or {}
    representative = inspection.representative or {}
    started = inspection.started_at.astimezone(zone)
    ended = inspection.ended_at.astimezone(zone) if inspection.ended_at else None
    until = f" 至 {ended:%H:%M}" if ended else ""
    time = f"{chinese_date(started.date())} {started:%H:%M}{until}"
    signed_on = chinese_date((ended or started).date())
    stop_until = body.get("stop_until")
    outcome = OUTCOME_TEXT.get(body.get("outcome", ""), "")
    if body.get("outcome") == "fail" and body.get("deadline"):
        outcome += f"\n请于{_chinese_date_text(body['deadline'])}前整改完毕。"
    return DocumentData(
        doc_type=document.type,
        agency_name=agency.name,
        number=document.number,
        enterprise_name=enterprise.name,
        enterprise_uscc=enterprise.uscc,
        enterprise_address=enterprise.address,
        representative=enterprise.legal_representative or "",
        onsite_representative=" ".join(
            p for p in (representative.get("name", ""), representative.get("title", "")) if p
        ),
        time=time,
        place=inspection.place,
        issued_on=chinese_date(document.issued_at.astimezone(zone).date()),
        inspectors=tuple(
            Inspector(users[i].display_name, users[i].cert_no or "") for i in team_ids if i in users
        ),
        items=tuple(
            CheckedItem(item["item"], item["result"], item.get("note", ""))
            for item in inspection.items
        ),
        findings=body.get("content") or inspection.findings,
        hazards=tuple(
            HazardEntry(h.description, h.level, h.legal_basis, _hazard_deadline(h))
            for h in (hazards[i] for i in document.hazard_ids if i in hazards)
        ),
        deadline=_chinese_date_text(body.get("deadline", "")),
        measures=tuple(MEASURE_TEXT.get(m, m) for m in body.get("measures", [])),
        stop_until=chinese_date(date.fromisoformat(stop_until)) if stop_until else "",
        order_number=_order_number(document) if document.type == "reinspection_opinion" else "",
        outcome=outcome,
        signatures=_signatures(document, inspection, signed_on),
    )


def document_pdf(document_id: uuid.UUID, font: Any = None) -> tuple[Document, bytes]:
    """The PDF of one document of the caller's agency."""
    document = get_document(document_id)
    return document, render_document(document_data(document), font=font)
