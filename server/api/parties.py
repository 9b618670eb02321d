"""What the inspecting agency does for the other parties: activation codes for enterprises,
the ratings it may see (aggregates only), replies to complaints about its visits."""

from __future__ import annotations

import uuid
from typing import Any

from flask import current_app
from flask.views import MethodView

from server.api.parsing import Blueprint
from server.api.security import current_principal
from server.domain import inspector_codes as codes
from server.domain import parties
from server.models.types import utcnow
from server.schemas.parties import (
    ActivationCodeSchema,
    AdvanceNoticeSchema,
    AdvanceNoticeStateSchema,
    InspectorCodeSchema,
    RatingSummarySchema,
    ReplyInputSchema,
    VisitComplaintSchema,
)
from server.services import enterprise_portal, inspector_codes, supervision

blp = Blueprint(
    "parties",
    __name__,
    url_prefix="/api/v1",
    description="Enterprise accounts, ratings and complaints of visits (企业端与监督)",
)


@blp.route("/enterprises/<uuid:enterprise_id>/activation-code")
class ActivationCode(MethodView):
    @blp.response(201, ActivationCodeSchema)
    def post(self, enterprise_id: uuid.UUID) -> Any:
        """A one-time activation code for the enterprise's account (also resets its password)."""
        return enterprise_portal.issue_activation_code(current_principal(), enterprise_id, utcnow())


@blp.route("/visit-ratings")
class RatingSummary(MethodView):
    @blp.response(200, RatingSummarySchema)
    def get(self) -> Any:
        """The average rating of the agency's visits, over enough ratings; never who rated."""
        summary = supervision.rating_summary(current_principal())
        return {
            "shown": summary.shown,
            "count": summary.count,
            "average": summary.average,
            "minimum_ratings": parties.MIN_RATINGS_FOR_AGGREGATE,
        }


@blp.route("/visit-complaints")
class VisitComplaints(MethodView):
    @blp.response(200, VisitComplaintSchema(many=True))
    def get(self) -> Any:
        """Complaints enterprises made about the agency's visits, newest first."""
        return supervision.agency_complaints(current_principal())


@blp.route("/visit-complaints/<uuid:visit_complaint_id>/replies")
class ComplaintReplies(MethodView):
    @blp.arguments(ReplyInputSchema)
    @blp.response(201, VisitComplaintSchema)
    def post(self, data: dict[str, Any], visit_complaint_id: uuid.UUID) -> Any:
        """Reply to a complaint about one of the agency's visits."""
        return supervision.reply_to_complaint(
            current_principal(), visit_complaint_id, data["text"], utcnow()
        )


def _inspector_code(task_id: uuid.UUID | None) -> Any:
    return inspector_codes.issue(
        current_principal(),
        task_id,
        key=codes.derive_key(current_app.config["SECRET_KEY"]),
        base_url=current_app.config["PUBLIC_BASE_URL"],
        now=utcnow(),
    )


@blp.route("/inspector-code")
class InspectorCode(MethodView):
    @blp.response(200, InspectorCodeSchema)
    def get(self) -> Any:
        """亮码: the caller's short-lived signed code for a visit with no drawn task."""
        return _inspector_code(None)


@blp.route("/tasks/<uuid:task_id>/inspector-code")
class TaskInspectorCode(MethodView):
    @blp.response(200, InspectorCodeSchema)
    def get(self, task_id: uuid.UUID) -> Any:
        """亮码: the caller's short-lived signed code for one of their drawn tasks."""
        return _inspector_code(task_id)


@blp.route("/draw-plans/<uuid:plan_id>/advance-notice")
class AdvanceNotice(MethodView):
    @blp.arguments(AdvanceNoticeSchema)
    @blp.response(200, AdvanceNoticeStateSchema)
    def post(self, data: dict[str, Any], plan_id: uuid.UUID) -> Any:
        """检查预告: whether the plan's drawn enterprises see their task before the visit."""
        return enterprise_portal.set_advance_notice(
            current_principal(), plan_id, data["advance_notice"]
        )
