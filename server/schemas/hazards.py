"""Hazards for managers: list filters, list rows, one hazard's history, steps, statistics."""

from __future__ import annotations

from typing import Any

import marshmallow as ma

from server.domain import hazards as lifecycle
from server.domain.enterprises import INDUSTRIES
from server.domain.hazards import ESCALATION_LABELS, OPEN, SORTS
from server.schemas.common import PageQuerySchema, page_schema
from server.schemas.fields import Day, Fen, LocalDateTime

_SORTS = sorted(SORTS) + sorted(f"-{s}" for s in SORTS)
_SHA256 = ma.validate.Regexp(r"^[0-9a-f]{64}$", error="a sha256, 64 lowercase hex digits")
ESCALATION_KINDS = sorted(ESCALATION_LABELS)


class HazardFilterSchema(ma.Schema):
    status = ma.fields.String(
        validate=ma.validate.OneOf([*lifecycle.STATUSES, OPEN]),
        metadata={"description": "a status, or `open` for every status but closed"},
    )
    level = ma.fields.String(validate=ma.validate.OneOf(list(lifecycle.LEVELS)))
    overdue = ma.fields.Boolean(
        metadata={"description": "ordered and past its deadline today (agency's calendar)"}
    )
    enterprise_id = ma.fields.UUID()
    industry = ma.fields.String(validate=ma.validate.OneOf(list(INDUSTRIES)))
    inspector_id = ma.fields.UUID(
        metadata={"description": "found on an inspection this inspector took part in"}
    )
    found_from = Day(metadata={"description": "found on or after (local date)"})
    found_to = Day(metadata={"description": "found on or before (local date)"})
    supervised = ma.fields.Boolean(metadata={"description": "on the supervised list (挂牌督办)"})
    penalty_case = ma.fields.Boolean(
        metadata={"description": "flagged for a penalty case by the daily overdue job"}
    )


class HazardQuerySchema(PageQuerySchema, HazardFilterSchema):
    sort = ma.fields.String(load_default="-found_at", validate=ma.validate.OneOf(_SORTS))
    format = ma.fields.String(
        load_default="json",
        validate=ma.validate.OneOf(["json", "csv"]),
        metadata={"description": "`csv`: every matching row (not one page), UTF-8 with BOM"},
    )


class HazardSchema(ma.Schema):
    id = ma.fields.UUID(required=True)
    inspection_id = ma.fields.UUID(required=True)
    enterprise_id = ma.fields.UUID(required=True)
    enterprise_name = ma.fields.String(required=True)
    industry = ma.fields.String(required=True)
    level = ma.fields.String(required=True)
    description = ma.fields.String(required=True)
    location = ma.fields.String(required=True)
    legal_basis = ma.fields.String(required=True)
    photo_attachments = ma.fields.List(ma.fields.String(), required=True)
    found_at = LocalDateTime(required=True)
    status = ma.fields.String(required=True)
    deadline = Day(allow_none=True)
    supervised = ma.fields.Boolean(required=True)
    closed_at = LocalDateTime(allow_none=True)
    overdue = ma.fields.Boolean(required=True)
    days_overdue = ma.fields.Integer(required=True)
    escalation = ma.fields.Integer(
        required=True, metadata={"description": "0 none, 1 overdue, 2 long overdue, 3 penalty"}
    )
    version = ma.fields.Integer(required=True)


HazardPageSchema = page_schema(HazardSchema, "HazardPageSchema")


class _Person(ma.Schema):
    id = ma.fields.UUID(allow_none=True)
    name = ma.fields.String(allow_none=True)
    role = ma.fields.String(allow_none=True)


class _DeviceRef(ma.Schema):
    id = ma.fields.UUID(required=True)
    name = ma.fields.String(required=True)


class _DocumentRef(ma.Schema):
    id = ma.fields.String(required=True)
    number = ma.fields.String(allow_none=True)
    type = ma.fields.String(allow_none=True)


class HazardStepSchema(ma.Schema):
    action = ma.fields.String(required=True)
    label = ma.fields.String(required=True)
    at = LocalDateTime(required=True, metadata={"description": "when it happened on site"})
    recorded_at = LocalDateTime(required=True, metadata={"description": "when the server took it"})
    from_status = ma.fields.String(allow_none=True)
    to_status = ma.fields.String(allow_none=True)
    by = ma.fields.Nested(_Person, required=True)
    device = ma.fields.Nested(_DeviceRef, allow_none=True)
    op_id = ma.fields.UUID(allow_none=True)
    version = ma.fields.Integer(required=True)
    evidence = ma.fields.List(ma.fields.String(), required=True)
    documents = ma.fields.List(ma.fields.Nested(_DocumentRef), required=True)
    note = ma.fields.String(allow_none=True)
    details = ma.fields.Dict(required=True)


class AssessmentSchema(ma.Schema):
    overdue = ma.fields.Boolean(required=True)
    days_overdue = ma.fields.Integer(required=True)
    escalation = ma.fields.Integer(required=True)
    penalty_case = ma.fields.Boolean(required=True)
    reinspection_due_on = Day(allow_none=True)
    reinspection_overdue = ma.fields.Boolean(required=True)
    stop_expired = ma.fields.Boolean(required=True)
    plan_overdue = ma.fields.Boolean(required=True)


class EscalationSchema(ma.Schema):
    id = ma.fields.UUID(required=True)
    hazard_id = ma.fields.UUID(required=True)
    enterprise_id = ma.fields.UUID(required=True)
    enterprise_name = ma.fields.String()
    description = ma.fields.String()
    hazard_status = ma.fields.String()
    kind = ma.fields.String(required=True)
    label = ma.fields.String()
    level = ma.fields.Integer(required=True)
    round = ma.fields.Integer(required=True)
    raised_on = Day(required=True)
    deadline = Day(allow_none=True)
    days_overdue = ma.fields.Integer(required=True)
    notified_at = LocalDateTime(allow_none=True)
    details = ma.fields.Dict()


class HazardDetailSchema(HazardSchema):
    """One hazard with its whole lifecycle state and every step taken on it."""

    lifecycle = ma.fields.Dict(
        required=True, metadata={"description": "the full lifecycle state: plan, stop order"}
    )
    assessment = ma.fields.Nested(AssessmentSchema, required=True)
    allowed_actions = ma.fields.List(
        ma.fields.String(), required=True, metadata={"description": "steps you may take now"}
    )
    history = ma.fields.List(ma.fields.Nested(HazardStepSchema), required=True)
    escalations = ma.fields.List(ma.fields.Nested(EscalationSchema), required=True)


class TransitionSchema(ma.Schema):
    """A lifecycle step from the office; which fields an action needs is in its description."""

    class Meta:
        unknown = ma.RAISE

    action = ma.fields.String(
        required=True,
        validate=ma.validate.OneOf(list(lifecycle.ACTIONS)),
        metadata={
            "description": (
                "fix_on_spot: evidence_attachments, note. order: deadline or period_days "
                "(in the agency's deadline unit, calendar or working days), note; the server "
                "issues the numbered 责令限期整改指令书 (document_id only for an order "
                "document naming this hazard and not yet recorded on it). report_done (for "
                "the enterprise): evidence_attachments, reported_at, description. reinspect: "
                "outcome, evidence_attachments, note, and on fail a new deadline or "
                "period_days; the server issues the numbered 整改复查意见书 unless "
                "opinion_document_id names one for this hazard. supervise: "
                "responsible_person, measures, funds_fen, deadline (at most a year), "
                "emergency_arrangements, document_id. stop_production: until, scope, "
                "document_id (a 现场处理措施决定书 naming this hazard). lift_stop: "
                "review_passed, review_opinion. reclassify (leads, managers): level (the "
                "other level), reason; a supervised major hazard or one under a stop order "
                "stays major. sign_off: note."
            )
        },
    )
    note = ma.fields.String(validate=ma.validate.Length(max=2000))
    evidence_attachments = ma.fields.List(
        ma.fields.String(validate=_SHA256), validate=ma.validate.Length(max=50)
    )
    deadline = Day()
    period_days = ma.fields.Integer(strict=True, validate=ma.validate.Range(min=1, max=3660))
    document_id = ma.fields.UUID()
    opinion_document_id = ma.fields.UUID()
    outcome = ma.fields.String(validate=ma.validate.OneOf(["pass", "fail"]))
    reported_at = LocalDateTime()
    description = ma.fields.String(validate=ma.validate.Length(max=2000))
    responsible_person = ma.fields.String(validate=ma.validate.Length(max=2000))
    measures = ma.fields.String(validate=ma.validate.Length(max=2000))
    funds_fen = Fen()
    emergency_arrangements = ma.fields.String(validate=ma.validate.Length(max=2000))
    until = Day()
    scope = ma.fields.String(validate=ma.validate.Length(max=2000))
    review_passed = ma.fields.Boolean()
    review_opinion = ma.fields.String(validate=ma.validate.Length(max=2000))
    level = ma.fields.String(validate=ma.validate.OneOf(list(lifecycle.LEVELS)))
    reason = ma.fields.String(validate=ma.validate.Length(max=2000))


class AggregatesQuerySchema(ma.Schema):
    year = ma.fields.Integer(validate=ma.validate.Range(min=2000, max=2099))
    found_from = Day()
    found_to = Day()
    as_of = Day(
        metadata={
            "description": "count a hazard rectified when closed by the end of this day; "
            "default: the period's last day (today if the period is not over, or none given)"
        }
    )
    industry = ma.fields.String(validate=ma.validate.OneOf(list(INDUSTRIES)))
    level = ma.fields.String(validate=ma.validate.OneOf(list(lifecycle.LEVELS)))


class _IndustryCount(ma.Schema):
    industry = ma.fields.String(required=True)
    label = ma.fields.String(required=True)
    total = ma.fields.Integer(required=True)
    open = ma.fields.Integer(required=True)
    overdue = ma.fields.Integer(required=True)


class _InspectorCount(ma.Schema):
    user_id = ma.fields.UUID(required=True)
    name = ma.fields.String(required=True)
    total = ma.fields.Integer(required=True)
    open = ma.fields.Integer(required=True)


class _TeamCount(ma.Schema):
    unit = ma.fields.String(required=True, metadata={"description": '"" for no unit'})
    label = ma.fields.String(required=True)
    total = ma.fields.Integer(required=True)
    open = ma.fields.Integer(required=True)


class _BlockingHazard(ma.Schema):
    id = ma.fields.UUID(required=True)
    enterprise_id = ma.fields.UUID(required=True)
    enterprise_name = ma.fields.String(required=True)
    level = ma.fields.String(required=True)
    status = ma.fields.String(required=True)
    description = ma.fields.String(required=True)
    found_at = LocalDateTime(required=True)
    deadline = Day(allow_none=True)
    overdue = ma.fields.Boolean(required=True)


class RectificationSchema(ma.Schema):
    as_of = Day(required=True, metadata={"description": "closed by the end of this day"})
    found = ma.fields.Integer(required=True)
    major = ma.fields.Integer(required=True)
    closed = ma.fields.Integer(required=True)
    open = ma.fields.Integer(required=True)
    rate = ma.fields.Decimal(
        allow_none=True, as_string=True, metadata={"description": "percent, one decimal"}
    )
    rate_display = ma.fields.String(required=True)
    summary = ma.fields.String(required=True)
    blocking_total = ma.fields.Integer(required=True)
    blocking = ma.fields.List(
        ma.fields.Nested(_BlockingHazard),
        required=True,
        metadata={
            "description": "hazards of the period not closed by as_of, oldest first (first 100)"
        },
    )


class _MonthCount(ma.Schema):
    month = ma.fields.String(required=True)
    found = ma.fields.Integer(required=True)
    closed = ma.fields.Integer(required=True)
    open = ma.fields.Integer(required=True)


def _counts(keys: list[str]) -> Any:
    return ma.fields.Dict(
        keys=ma.fields.String(validate=ma.validate.OneOf(keys)),
        values=ma.fields.Integer(),
        required=True,
    )


class AggregatesSchema(ma.Schema):
    as_of = Day(required=True)
    found_from = Day(allow_none=True)
    found_to = Day(allow_none=True)
    total = ma.fields.Integer(required=True)
    by_status = _counts(list(lifecycle.STATUSES))
    by_level = _counts(list(lifecycle.LEVELS))
    by_industry = ma.fields.List(ma.fields.Nested(_IndustryCount), required=True)
    by_inspector = ma.fields.List(
        ma.fields.Nested(_InspectorCount),
        required=True,
        metadata={"description": "per member of the finding inspection team"},
    )
    by_team = ma.fields.List(
        ma.fields.Nested(_TeamCount),
        required=True,
        metadata={
            "description": "per unit (科室/大队) of the finding team's members; a joint team "
            "counts for each of its units"
        },
    )
    age_buckets = _counts(list(lifecycle.AGE_BUCKETS))
    overdue = ma.fields.Integer(required=True)
    supervised_open = ma.fields.Integer(required=True)
    rectification = ma.fields.Nested(RectificationSchema, required=True)
    open_vs_closed = ma.fields.List(
        ma.fields.Nested(_MonthCount),
        required=True,
        metadata={"description": "last 12 months: found, closed, open at month end"},
    )


class EscalationQuerySchema(PageQuerySchema):
    kind = ma.fields.String(validate=ma.validate.OneOf(ESCALATION_KINDS))
    raised_from = Day()
    hazard_id = ma.fields.UUID()


EscalationPageSchema = page_schema(EscalationSchema, "EscalationPageSchema")
