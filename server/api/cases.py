"""Penalty cases (立案), legal review, decisions and their publication, complaints (投诉举报)."""

from __future__ import annotations

import uuid
from typing import Any

from flask import Response, current_app
from flask.views import MethodView

from server.api.parsing import Blueprint
from server.api.security import current_principal
from server.models.types import utcnow
from server.schemas.cases import (
    CaseInputSchema,
    CasePageSchema,
    CaseQuerySchema,
    CaseSchema,
    ComplaintInputSchema,
    ComplaintPageSchema,
    ComplaintPatchSchema,
    ComplaintQuerySchema,
    ComplaintSchema,
    DecisionInputSchema,
    DecisionSchema,
    DismissInputSchema,
    ExemptionInputSchema,
    PublicationWatchSchema,
    PublishInputSchema,
    ReviewInputSchema,
    RevokeInputSchema,
    TransferInputSchema,
)
from server.services.cases.complaints import handle_complaint, list_complaints, record_complaint
from server.services.cases.printed import decision_pdf
from server.services.cases.proceedings import (
    dismiss,
    exempt,
    issue_decision,
    open_case,
    record_review,
    transfer,
)
from server.services.cases.publication import get_decision, publication_watch, publish, revoke
from server.services.cases.views import get_case, list_cases

blp = Blueprint(
    "cases",
    __name__,
    url_prefix="/api/v1",
    description="Penalty cases, legal review, decisions and publication (行政处罚)",
)


@blp.route("/cases")
class CaseCollection(MethodView):
    @blp.arguments(CaseQuerySchema, location="query")
    @blp.response(200, CasePageSchema)
    def get(self, query: dict[str, Any]) -> Any:
        """The agency's penalty cases, newest first."""
        return list_cases(current_principal(), utcnow(), **query)

    @blp.arguments(CaseInputSchema)
    @blp.response(201, CaseSchema)
    def post(self, data: dict[str, Any]) -> Any:
        """Open a case (立案) against an enterprise, linking inspections and hazards."""
        return open_case(current_principal(), data, utcnow())


@blp.route("/cases/<uuid:case_id>")
class CaseItem(MethodView):
    @blp.response(200, CaseSchema)
    def get(self, case_id: uuid.UUID) -> Any:
        """One case with its reviews, decision or exemption."""
        return get_case(current_principal(), case_id, utcnow())


@blp.route("/cases/<uuid:case_id>/legal-reviews")
class CaseReviews(MethodView):
    @blp.arguments(ReviewInputSchema)
    @blp.response(201, CaseSchema)
    def post(self, data: dict[str, Any], case_id: uuid.UUID) -> Any:
        """Record the legal review (法制审核) of a case: approved or returned."""
        return record_review(current_principal(), case_id, data, utcnow())


@blp.route("/cases/<uuid:case_id>/decision")
class CaseDecision(MethodView):
    @blp.arguments(DecisionInputSchema)
    @blp.response(201, DecisionSchema)
    @blp.alt_response(
        409,
        description="`legal_review_required`: a major decision without an approving legal "
        "review; `case_not_open`: the case is already decided, exempted or dismissed",
    )
    def post(self, data: dict[str, Any], case_id: uuid.UUID) -> Any:
        """Issue the 行政处罚决定书: numbered, with its publication deadline."""
        return issue_decision(current_principal(), case_id, data, utcnow())


@blp.route("/cases/<uuid:case_id>/exemption")
class CaseExemption(MethodView):
    @blp.arguments(ExemptionInputSchema)
    @blp.response(201, CaseSchema)
    @blp.alt_response(409, description="`case_not_open`")
    def post(self, data: dict[str, Any], case_id: uuid.UUID) -> Any:
        """Decide not to penalize under the minor/first-violation list (免罚清单)."""
        return exempt(current_principal(), case_id, data, utcnow())


@blp.route("/cases/<uuid:case_id>/dismissal")
class CaseDismissal(MethodView):
    @blp.arguments(DismissInputSchema)
    @blp.response(201, CaseSchema)
    @blp.alt_response(409, description="`case_not_open`")
    def post(self, data: dict[str, Any], case_id: uuid.UUID) -> Any:
        """Dismiss the case (撤案) with a reason."""
        return dismiss(current_principal(), case_id, data, utcnow())


@blp.route("/cases/<uuid:case_id>/transfer")
class CaseTransfer(MethodView):
    @blp.arguments(TransferInputSchema)
    @blp.response(201, CaseSchema)
    @blp.alt_response(409, description="`already_transferred`")
    def post(self, data: dict[str, Any], case_id: uuid.UUID) -> Any:
        """Record the transfer of the case to the judiciary (移送司法)."""
        return transfer(current_principal(), case_id, data, utcnow())


@blp.route("/penalty-decisions/publication")
class PublicationWatch(MethodView):
    @blp.response(200, PublicationWatchSchema)
    def get(self) -> Any:
        """Decisions due for publication and those past the 7-working-day deadline."""
        return publication_watch(current_principal(), utcnow())


@blp.route("/penalty-decisions/<uuid:decision_id>")
class DecisionItem(MethodView):
    @blp.response(200, DecisionSchema)
    def get(self, decision_id: uuid.UUID) -> Any:
        """One penalty decision with where it stands on publication."""
        return get_decision(current_principal(), decision_id, utcnow())


@blp.route("/penalty-decisions/<uuid:decision_id>/pdf")
class DecisionPdf(MethodView):
    @blp.response(200, content_type="application/pdf", description="the printable 行政处罚决定书")
    def get(self, decision_id: uuid.UUID) -> Response:
        """The printable PDF of a penalty decision."""
        from server.render.fonts import cjk_font

        decision, pdf = decision_pdf(
            current_principal(), decision_id, font=cjk_font(current_app.config.get("PDF_FONT_PATH"))
        )
        return Response(
            pdf,
            mimetype="application/pdf",
            headers={"Content-Disposition": f'inline; filename="decision-{decision.id}.pdf"'},
        )


@blp.route("/penalty-decisions/<uuid:decision_id>/publish")
class DecisionPublish(MethodView):
    @blp.arguments(PublishInputSchema)
    @blp.response(200, DecisionSchema)
    @blp.alt_response(409, description="`publication_conflict`: already published or revoked")
    def post(self, data: dict[str, Any], decision_id: uuid.UUID) -> Any:
        """Publish the decision on the public pages (公示)."""
        return publish(current_principal(), decision_id, data, utcnow())


@blp.route("/penalty-decisions/<uuid:decision_id>/revoke")
class DecisionRevoke(MethodView):
    @blp.arguments(RevokeInputSchema)
    @blp.response(200, DecisionSchema)
    @blp.alt_response(409, description="`publication_conflict`: already revoked")
    def post(self, data: dict[str, Any], decision_id: uuid.UUID) -> Any:
        """Revoke a decision with the reason; a published one is withdrawn from the public pages."""
        return revoke(current_principal(), decision_id, data, utcnow())


@blp.route("/complaints")
class ComplaintCollection(MethodView):
    @blp.arguments(ComplaintQuerySchema, location="query")
    @blp.response(200, ComplaintPageSchema)
    def get(self, query: dict[str, Any]) -> Any:
        """Complaints and tip-offs (投诉举报) received, newest first."""
        return list_complaints(current_principal(), **query)

    @blp.arguments(ComplaintInputSchema)
    @blp.response(201, ComplaintSchema)
    def post(self, data: dict[str, Any]) -> Any:
        """Record a complaint or tip-off, handled or not yet."""
        return record_complaint(current_principal(), data, utcnow())


@blp.route("/complaints/<uuid:complaint_id>")
class ComplaintItem(MethodView):
    @blp.arguments(ComplaintPatchSchema)
    @blp.response(200, ComplaintSchema)
    def patch(self, data: dict[str, Any], complaint_id: uuid.UUID) -> Any:
        """Record that a complaint was handled, and how."""
        return handle_complaint(current_principal(), complaint_id, data, utcnow())
