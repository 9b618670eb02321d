"""Penalty cases (行政处罚案件) for the office: the list, one case, its legal review, the
decision with its publication deadline, publication, and the decision's PDF.

Routes of ``manager.bp``: they share its sign-in, CSRF check, headers, error pages and layout.
Forms are loaded by the API's schemas and applied by ``services/cases``, whose role checks
decide who may review (法规科, managers) and decide; the page shows each form to those roles.
"""

from __future__ import annotations

import uuid
from decimal import Decimal, InvalidOperation
from typing import Any

import marshmallow as ma
from flask import Response, g, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from server.domain import penalties as rules
from server.domain import permissions
from server.domain.errors import ValidationFailed
from server.models.types import utcnow
from server.schemas.cases import DecisionInputSchema, ReviewInputSchema
from server.services.cases.printed import decision_pdf as case_decision_pdf
from server.services.cases.proceedings import issue_decision, record_review
from server.services.cases.publication import publish
from server.services.cases.views import get_case, list_cases
from server.web.manager import _page_links, _page_number
from server.web.manager import bp as manager_bp

OPINION_LABELS = {rules.APPROVED: "同意", rules.RETURNED: "退回"}
PUBLICATION_LABELS = {
    rules.PENDING: "待公示",
    rules.PUBLISHED: "已公示",
    rules.WITHDRAWN: "已撤回",
    rules.REVOKED: "已撤销",
}


def _fen(text: str) -> int | str:
    """Yuan as typed (``12500.50``) → fen; anything else goes on for the schema to refuse."""
    text = (text or "").strip()
    if not text:
        return 0
    try:
        return int((Decimal(text) * 100).to_integral_exact())
    except (InvalidOperation, ValueError):
        return text


def _load(schema: ma.Schema, body: dict[str, Any]) -> dict[str, Any]:
    try:
        return schema.load(body)
    except ma.ValidationError as exc:
        raise ValidationFailed("invalid form", fields=exc.messages) from None  # type: ignore[arg-type]


@manager_bp.get("/cases")
def case_list() -> ResponseReturnValue:
    """The agency's cases, newest first, with each decision's publication state."""
    status = request.args.get("status")
    status = status if status in rules.CASE_STATUSES else None
    page = list_cases(g.principal, utcnow(), status=status, page=_page_number(), per_page=30)
    return render_template(
        "manager/cases.html",
        page=page,
        links=_page_links(page),
        status=status,
        CASE_STATUS_LABELS=rules.CASE_STATUS_LABELS,
        PUBLICATION_LABELS=PUBLICATION_LABELS,
    )


@manager_bp.get("/cases/<uuid:case_id>")
def case(case_id: uuid.UUID) -> ResponseReturnValue:
    """One case: facts, legal reviews, the decision and its publication deadline."""
    view = get_case(g.principal, case_id, utcnow())
    role = g.principal.role
    return render_template(
        "manager/case.html",
        c=view,
        may_review=role in permissions.LEGAL_REVIEW and view.status == rules.OPEN,
        may_decide=role in permissions.DECIDE_CASES and view.status == rules.OPEN,
        may_publish=role in permissions.PUBLISH_DECISIONS,
        CASE_STATUS_LABELS=rules.CASE_STATUS_LABELS,
        SOURCE_LABELS=rules.SOURCE_LABELS,
        OPINION_LABELS=OPINION_LABELS,
        PUBLICATION_LABELS=PUBLICATION_LABELS,
        OTHER_PENALTY_TEXT=rules.OTHER_PENALTY_TEXT,
        other_penalties=rules.OTHER_PENALTIES,
    )


@manager_bp.post("/cases/<uuid:case_id>/legal-review")
def review_case(case_id: uuid.UUID) -> ResponseReturnValue:
    """Record the legal review (法制审核): approved or returned, with the note."""
    form = request.form
    data = _load(
        ReviewInputSchema(),
        {
            "reviewed_on": form.get("reviewed_on", ""),
            "opinion": form.get("opinion", ""),
            "note": form.get("note", "").strip(),
        },
    )
    record_review(g.principal, case_id, data, utcnow())
    return redirect(url_for("manager.case", case_id=case_id))


@manager_bp.post("/cases/<uuid:case_id>/decision")
def decide_case(case_id: uuid.UUID) -> ResponseReturnValue:
    """Issue the 行政处罚决定书: numbered, with its 7-working-day publication deadline."""
    form = request.form
    body: dict[str, Any] = {
        "decided_on": form.get("decided_on", ""),
        "entity_fine_fen": _fen(form.get("entity_fine_yuan", "")),
        "confiscated_fen": _fen(form.get("confiscated_yuan", "")),
        "other_penalties": form.getlist("other_penalties"),
        "lenient": form.get("lenient") == "1",
        "facts": form.get("facts", "").strip(),
        "basis": form.get("basis", "").strip(),
    }
    person = form.get("individual_name", "").strip()
    if person:
        body["individuals"] = [
            {
                "name": person,
                "title": form.get("individual_title", "").strip(),
                "fine_fen": _fen(form.get("individual_fine_yuan", "")),
            }
        ]
    issue_decision(g.principal, case_id, _load(DecisionInputSchema(), body), utcnow())
    return redirect(url_for("manager.case", case_id=case_id))


@manager_bp.post("/cases/<uuid:case_id>/publish")
def publish_case_decision(case_id: uuid.UUID) -> ResponseReturnValue:
    """Publish the case's decision today (公示)."""
    view = get_case(g.principal, case_id, utcnow())
    if view.decision is None:
        raise ValidationFailed("this case has no decision to publish", code="no_decision")
    publish(g.principal, view.decision.id, {}, utcnow())
    return redirect(url_for("manager.case", case_id=case_id))


@manager_bp.get("/penalty-decisions/<uuid:decision_id>.pdf")
def decision_pdf(decision_id: uuid.UUID) -> ResponseReturnValue:
    """The printable 行政处罚决定书."""
    from flask import current_app

    from server.render.fonts import cjk_font

    decision, pdf = case_decision_pdf(
        g.principal, decision_id, font=cjk_font(current_app.config.get("PDF_FONT_PATH"))
    )
    return Response(
        pdf,
        mimetype="application/pdf",
        headers={
            "Content-Disposition": f'inline; filename="decision-{decision.id}.pdf"',
            "Content-Security-Policy": "frame-ancestors 'none'",
        },
    )
