"""What enterprises said of the agency's visits, as its leads and managers see it: the average
rating (over enough ratings, never who rated), complaints to reply to, and activation codes
for enterprise accounts.

Routes of ``manager.bp``: they share its sign-in, CSRF check, headers, error pages and layout.
"""

from __future__ import annotations

import uuid

from flask import g, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from server.domain import parties
from server.models.types import utcnow
from server.services import enterprise_portal, supervision
from server.web.manager import bp as manager_bp


def _page(issued: enterprise_portal.IssuedCode | None = None, error: str | None = None):
    return render_template(
        "manager/visit_feedback.html",
        summary=supervision.rating_summary(g.principal),
        minimum=parties.MIN_RATINGS_FOR_AGGREGATE,
        complaints=supervision.agency_complaints(g.principal),
        statuses=parties.COMPLAINT_STATUS_LABELS,
        issued=issued,
        error=error,
    )


@manager_bp.get("/feedback")
def visit_feedback() -> ResponseReturnValue:
    """Ratings (aggregate only), complaints about the agency's visits, activation codes."""
    return _page()


@manager_bp.post("/feedback/activation-code")
def issue_activation_code() -> ResponseReturnValue:
    """Issue an enterprise's one-time activation code; shown on this page once."""
    issued = enterprise_portal.issue_activation_code_by_uscc(
        g.principal, request.form.get("uscc", ""), utcnow()
    )
    return _page(issued=issued)


@manager_bp.post("/feedback/complaints/<uuid:complaint_id>/reply")
def reply_to_complaint(complaint_id: uuid.UUID) -> ResponseReturnValue:
    """Reply to a complaint about one of the agency's visits."""
    supervision.reply_to_complaint(
        g.principal, complaint_id, request.form.get("text", ""), utcnow()
    )
    return redirect(url_for("manager.visit_feedback") + f"#c-{complaint_id}")
