"""Penalty cases, legal reviews, decisions, exemptions, publication and complaints."""

from __future__ import annotations

import marshmallow as ma

from server.domain import penalties as rules
from server.schemas.common import PageQuerySchema, page_schema
from server.schemas.fields import Day, Fen, LocalDateTime

_MAX_FEN = 10**13  # a hundred billion yuan: beyond any fine, well inside a 64-bit column


def Money(**kwargs: object) -> Fen:  # noqa: N802
    kwargs.setdefault("validate", ma.validate.Range(min=0, max=_MAX_FEN))
    return Fen(**kwargs)


def Text(max_length: int = 5000, **kwargs: object) -> ma.fields.String:  # noqa: N802
    kwargs.setdefault("validate", ma.validate.Length(max=max_length))
    return ma.fields.String(**kwargs)  # type: ignore[arg-type]


# --- requests ---------------------------------------------------------------------------------


class CaseInputSchema(ma.Schema):
    enterprise_id = ma.fields.UUID(required=True)
    opened_on = Day(required=True, metadata={"description": "立案 date (local)"})
    source = ma.fields.String(
        validate=ma.validate.OneOf(rules.SOURCES),
        metadata={
            "description": "where the case came from; default inspection (complaint if "
            "complaint_id is given)"
        },
    )
    accident = ma.fields.Boolean(
        load_default=False, metadata={"description": "a production-safety accident penalty"}
    )
    summary = Text(load_default="")
    inspection_ids = ma.fields.List(
        ma.fields.UUID(), load_default=list, validate=ma.validate.Length(max=200)
    )
    hazard_ids = ma.fields.List(
        ma.fields.UUID(), load_default=list, validate=ma.validate.Length(max=500)
    )
    complaint_id = ma.fields.UUID(allow_none=True, load_default=None)


class CaseQuerySchema(PageQuerySchema):
    status = ma.fields.String(validate=ma.validate.OneOf(rules.CASE_STATUSES))
    year = ma.fields.Integer(validate=ma.validate.Range(min=2000, max=2100))
    enterprise_id = ma.fields.UUID()


class ReviewInputSchema(ma.Schema):
    reviewed_on = Day(required=True)
    opinion = ma.fields.String(required=True, validate=ma.validate.OneOf(rules.REVIEW_OPINIONS))
    note = Text(load_default="")


class IndividualSchema(ma.Schema):
    name = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=100))
    title = ma.fields.String(load_default="", validate=ma.validate.Length(max=100))
    fine_fen = Money(required=True)


class DecisionInputSchema(ma.Schema):
    decided_on = Day(required=True)
    entity_fine_fen = Money(load_default=0, metadata={"description": "fine on the entity, fen"})
    individuals = ma.fields.List(
        ma.fields.Nested(IndividualSchema),
        load_default=list,
        validate=ma.validate.Length(max=50),
        metadata={"description": "named individuals fined (e.g. the principal in charge)"},
    )
    other_penalties = ma.fields.List(
        ma.fields.String(validate=ma.validate.OneOf(rules.OTHER_PENALTIES)),
        load_default=list,
        validate=ma.validate.Length(max=10),
    )
    confiscated_fen = Money(
        load_default=0,
        metadata={
            "description": "money confiscated from the entity (没收违法所得/非法财物), fen; "
            "needs `confiscation` among other_penalties. Counts in 罚没金额."
        },
    )
    lenient = ma.fields.Boolean(load_default=False, metadata={"description": "从轻处罚"})
    facts = Text(load_default="")
    basis = Text(
        2000,
        load_default="",
        metadata={"description": "legal basis, e.g. 《安全生产法》第一百零二条"},
    )


class ExemptionInputSchema(ma.Schema):
    decided_on = Day(required=True)
    party = ma.fields.String(
        load_default="entity", validate=ma.validate.OneOf(["entity", "individual"])
    )
    party_name = ma.fields.String(load_default="", validate=ma.validate.Length(max=200))
    list_item = Text(
        2000, required=True, metadata={"description": "the item of the 免罚清单 applied"}
    )
    amount_not_imposed_fen = Money(load_default=0)
    note = Text(load_default="")


class DismissInputSchema(ma.Schema):
    dismissed_on = Day(required=True)
    reason = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=2000))


class TransferInputSchema(ma.Schema):
    transferred_on = Day(required=True)
    transferred_to = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=200))
    reason = Text(load_default="")


class PublishInputSchema(ma.Schema):
    published_on = Day(metadata={"description": "default today (agency's zone)"})


class RevokeInputSchema(ma.Schema):
    revoked_on = Day(metadata={"description": "default today (agency's zone)"})
    reason = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=2000))


CHANNELS = ("phone", "letter", "online", "visit", "referral", "other")


class ComplaintInputSchema(ma.Schema):
    received_on = Day(required=True)
    channel = ma.fields.String(load_default="phone", validate=ma.validate.OneOf(CHANNELS))
    summary = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=5000))
    enterprise_id = ma.fields.UUID(allow_none=True, load_default=None)
    handled_on = Day(allow_none=True)
    outcome = Text()


class ComplaintPatchSchema(ma.Schema):
    handled_on = Day(required=True)
    outcome = Text()


class ComplaintQuerySchema(PageQuerySchema):
    year = ma.fields.Integer(validate=ma.validate.Range(min=2000, max=2100))


# --- responses --------------------------------------------------------------------------------


class PublicationSchema(ma.Schema):
    state = ma.fields.String(
        required=True, metadata={"description": "|".join(rules.PUBLICATION_STATES)}
    )
    deadline = Day(required=True, metadata={"description": "7 working days after"})
    due = ma.fields.Boolean(required=True)
    late = ma.fields.Boolean(
        required=True,
        metadata={
            "description": "found unpublished past the deadline, or published (by the server's "
            "record) after it; once late, always late"
        },
    )
    days_left = ma.fields.Integer(allow_none=True, required=True)
    deadline_estimated = ma.fields.Boolean(
        required=True,
        metadata={
            "description": "the deadline spans days of a year the official calendar does not "
            "know yet (counted Monday–Friday); it may move when the year is entered"
        },
    )


class DecisionSchema(ma.Schema):
    id = ma.fields.UUID(required=True)
    case_id = ma.fields.UUID(required=True)
    number = ma.fields.String(required=True)
    enterprise_id = ma.fields.UUID(required=True)
    enterprise_name = ma.fields.String(required=True)
    decided_on = Day(required=True)
    entity_fine_fen = Fen(required=True)
    individual_fine_fen = Fen(required=True)
    total_fine_fen = Fen(required=True)
    confiscated_fen = Fen(required=True)
    individuals = ma.fields.List(ma.fields.Nested(IndividualSchema), required=True)
    other_penalties = ma.fields.List(ma.fields.String(), required=True)
    accident = ma.fields.Boolean(required=True)
    lenient = ma.fields.Boolean(required=True)
    major = ma.fields.Boolean(required=True, metadata={"description": "needed legal review"})
    facts = ma.fields.String(required=True)
    basis = ma.fields.String(required=True)
    publication = ma.fields.Nested(PublicationSchema, required=True)
    published_on = Day(
        allow_none=True, required=True, metadata={"description": "the date shown publicly"}
    )
    published_at = LocalDateTime(
        allow_none=True, required=True, metadata={"description": "when the server recorded it"}
    )
    late_flagged_on = Day(allow_none=True, required=True)
    revoked_on = Day(allow_none=True, required=True)
    revoke_reason = ma.fields.String(required=True)
    withdrawal_deadline = Day(allow_none=True, required=True)
    withdrawn_on = Day(allow_none=True, required=True)


class ReviewSchema(ma.Schema):
    id = ma.fields.UUID(required=True)
    reviewed_on = Day(required=True)
    opinion = ma.fields.String(required=True)
    note = ma.fields.String(required=True)
    reviewer_id = ma.fields.UUID(required=True)


class ExemptionSchema(ma.Schema):
    id = ma.fields.UUID(required=True)
    decided_on = Day(required=True)
    party = ma.fields.String(required=True)
    party_name = ma.fields.String(required=True)
    list_item = ma.fields.String(required=True)
    amount_not_imposed_fen = Fen(required=True)
    note = ma.fields.String(required=True)


class CaseSchema(ma.Schema):
    id = ma.fields.UUID(required=True)
    enterprise_id = ma.fields.UUID(required=True)
    enterprise_name = ma.fields.String(required=True)
    opened_on = Day(required=True)
    source = ma.fields.String(required=True)
    accident = ma.fields.Boolean(required=True)
    summary = ma.fields.String(required=True)
    inspection_ids = ma.fields.List(ma.fields.String(), required=True)
    hazard_ids = ma.fields.List(ma.fields.String(), required=True)
    complaint_id = ma.fields.UUID(allow_none=True, required=True)
    status = ma.fields.String(required=True)
    closed_on = Day(allow_none=True, required=True)
    transferred_on = Day(allow_none=True, required=True)
    transferred_to = ma.fields.String(required=True)
    transfer_reason = ma.fields.String(required=True)
    reviews = ma.fields.List(ma.fields.Nested(ReviewSchema), required=True)
    decision = ma.fields.Nested(DecisionSchema, allow_none=True, required=True)
    exemption = ma.fields.Nested(ExemptionSchema, allow_none=True, required=True)


CasePageSchema = page_schema(CaseSchema, "CasePageSchema")


class PublicationWatchSchema(ma.Schema):
    today = Day(required=True)
    due = ma.fields.List(ma.fields.Nested(DecisionSchema), required=True)
    late = ma.fields.List(ma.fields.Nested(DecisionSchema), required=True)
    published_late = ma.fields.List(
        ma.fields.Nested(DecisionSchema),
        required=True,
        metadata={"description": "this year's decisions published after their deadline"},
    )


class ComplaintSchema(ma.Schema):
    id = ma.fields.UUID(required=True)
    received_on = Day(required=True)
    channel = ma.fields.String(required=True)
    summary = ma.fields.String(required=True)
    enterprise_id = ma.fields.UUID(allow_none=True, required=True)
    handled_on = Day(allow_none=True, required=True)
    outcome = ma.fields.String(required=True)
    created_at = LocalDateTime(required=True)


ComplaintPageSchema = page_schema(ComplaintSchema, "ComplaintPageSchema")


class PublicDecisionSchema(ma.Schema):
    number = ma.fields.String(required=True)
    agency_name = ma.fields.String(required=True)
    enterprise_name = ma.fields.String(required=True)
    enterprise_uscc = ma.fields.String(required=True)
    decided_on = Day(required=True)
    published_on = Day(required=True)
    facts = ma.fields.String(required=True)
    basis = ma.fields.String(required=True)
    penalty = ma.fields.String(required=True)
    fine_fen = Fen(required=True)
