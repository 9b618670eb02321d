"""The enterprise's and the supervisor's sides as the inspecting agency's API shows them."""

from __future__ import annotations

import marshmallow as ma

from server.domain import parties
from server.schemas.fields import Day, LocalDateTime


class ActivationCodeSchema(ma.Schema):
    uscc = ma.fields.String(required=True)
    activation_code = ma.fields.String(
        required=True, metadata={"description": "shown once; hand it to the enterprise"}
    )
    expires_at = LocalDateTime(required=True)


class RatingSummarySchema(ma.Schema):
    shown = ma.fields.Boolean(
        required=True,
        metadata={
            "description": f"false under {parties.MIN_RATINGS_FOR_AGGREGATE} ratings: then "
            "neither the count nor the average is given"
        },
    )
    count = ma.fields.Integer(allow_none=True, required=True)
    average = ma.fields.Float(allow_none=True, required=True)
    minimum_ratings = ma.fields.Integer(required=True)


class ComplaintMessageSchema(ma.Schema):
    author = ma.fields.String(required=True, metadata={"description": "supervisor|agency"})
    text = ma.fields.String(required=True)
    at = LocalDateTime(required=True)


class VisitComplaintSchema(ma.Schema):
    id = ma.fields.UUID(required=True)
    inspection_id = ma.fields.UUID(required=True)
    text = ma.fields.String(required=True)
    photo_attachments = ma.fields.List(ma.fields.String(), required=True)
    status = ma.fields.String(
        required=True, metadata={"description": "|".join(parties.COMPLAINT_STATUSES)}
    )
    answer_due = Day(required=True)
    created_at = LocalDateTime(required=True)
    messages = ma.fields.List(ma.fields.Nested(ComplaintMessageSchema), required=True)


class ReplyInputSchema(ma.Schema):
    text = ma.fields.String(
        required=True, validate=ma.validate.Length(min=1, max=parties.MAX_COMMENT)
    )


class InspectorCodeSchema(ma.Schema):
    token = ma.fields.String(required=True)
    url = ma.fields.String(
        required=True, metadata={"description": "show it as a QR code; a phone camera opens it"}
    )
    expires_at = LocalDateTime(required=True, metadata={"description": "ask for a new one before"})


class AdvanceNoticeSchema(ma.Schema):
    advance_notice = ma.fields.Boolean(
        required=True,
        metadata={"description": "drawn enterprises see their open task on their own pages"},
    )


class AdvanceNoticeStateSchema(AdvanceNoticeSchema):
    id = ma.fields.UUID(required=True)
