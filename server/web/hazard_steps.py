"""The office's steps on a hazard (隐患闭环) as forms on its page: order, the enterprise's
report, re-inspection, supervision, reclassification, lifting a stop, sign-off.

Routes of ``manager.bp``. A form becomes the API's transition body, is loaded by the API's
schema and applied by the same service, so a page step is recorded, numbered and audited as a
program's or a phone's is. Evidence files are stored as the API's attachments first.
"""

from __future__ import annotations

import hashlib
import io
import uuid
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo

import marshmallow as ma
from flask import g, redirect, request, url_for
from flask.typing import ResponseReturnValue

from server.domain import hazards as lifecycle
from server.domain.errors import NotFound, ValidationFailed
from server.schemas.hazards import TransitionSchema
from server.services import attachments
from server.services.hazards.steps import take_step
from server.web.manager import bp as manager_bp

# Steps taken at the gate (fixing on the spot, a stop order with its on-site decision) stay
# on the phones; these are the office's.
OFFICE_STEPS = (
    lifecycle.ORDER,
    lifecycle.REPORT_DONE,
    lifecycle.REINSPECT,
    lifecycle.SUPERVISE,
    lifecycle.RECLASSIFY,
    lifecycle.LIFT_STOP,
    lifecycle.SIGN_OFF,
)
_TEXTS = (
    "note",
    "description",
    "responsible_person",
    "measures",
    "emergency_arrangements",
    "review_opinion",
    "reason",
    "scope",
)


def _yuan_to_fen(text: str) -> int | str:
    try:
        return int((Decimal(text.strip()) * 100).to_integral_exact())
    except (InvalidOperation, ValueError):
        return text  # the schema says what is wrong with it


def _local_moment(text: str) -> str:
    """``2024-05-20T10:30`` typed in the agency's zone → RFC 3339 with its offset."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return text
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=ZoneInfo(g.timezone))
    return moment.isoformat()


def _evidence() -> list[str]:
    """Store each uploaded file as an attachment of the agency; their sha256 digests."""
    digests = []
    for upload in request.files.getlist("evidence"):
        if not upload.filename:
            continue
        body = upload.read()
        digest = hashlib.sha256(body).hexdigest()
        attachments.put_attachment(
            g.principal,
            digest,
            io.BytesIO(body),
            content_type=upload.mimetype or "application/octet-stream",
            content_length=len(body),
            content_range=None,
        )
        digests.append(digest)
    return digests


def step_from_form(action: str, form: Any) -> dict[str, Any]:
    """The step's form as the API's transition body (not yet validated)."""
    body: dict[str, Any] = {"action": action}
    for name in _TEXTS:
        value = form.get(name, "").strip()
        if value:
            body[name] = value
    for name in ("deadline", "until", "level", "outcome"):
        if form.get(name):
            body[name] = form[name]
    if form.get("period_days", "").strip():
        text = form["period_days"].strip()
        body["period_days"] = int(text) if text.isdigit() else text
    if form.get("funds_yuan", "").strip():
        body["funds_fen"] = _yuan_to_fen(form["funds_yuan"])
    if form.get("reported_at"):
        body["reported_at"] = _local_moment(form["reported_at"])
    if action == lifecycle.LIFT_STOP:
        body["review_passed"] = form.get("review_passed") == "1"
    return body


@manager_bp.post("/hazards/<uuid:hazard_id>/steps/<action>")
def hazard_step(hazard_id: uuid.UUID, action: str) -> ResponseReturnValue:
    """Take one office step; the page shows the hazard again with the step in its history."""
    if action not in OFFICE_STEPS:
        raise NotFound("no such step")
    body = step_from_form(action, request.form)
    try:
        data = TransitionSchema().load(body)
    except ma.ValidationError as exc:
        raise ValidationFailed("invalid step", fields=exc.messages) from None  # type: ignore[arg-type]
    evidence = _evidence()
    if evidence:
        data["evidence_attachments"] = evidence
    data.pop("action")
    take_step(g.principal, hazard_id, action, data)
    return redirect(url_for("manager.hazard", hazard_id=hazard_id) + "#history")
