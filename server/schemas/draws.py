"""Double-random draws: plans, runs, draws, verification, tasks and recusals."""

from __future__ import annotations

from typing import Any

import marshmallow as ma

from server.domain.draw_plans import STRATIFY_BY
from server.domain.enterprises import CREDIT_RATINGS, INDUSTRIES, RISK_GRADES
from server.domain.periods import PERIOD_KINDS
from server.domain.workdays import DAY_KINDS
from server.models.draws import RECUSAL_SOURCES, TASK_STATUSES
from server.schemas.fields import Day, LocalDateTime

_RATE = ma.validate.Regexp(
    r"^(0|[1-9][0-9]*)(\.[0-9]{1,12})?$", error="a plain decimal such as 0.05, within [0, 1]"
)


def _text(min_len: int, max_len: int, **kw: Any) -> ma.fields.String:
    return ma.fields.String(validate=ma.validate.Length(min=min_len, max=max_len), **kw)


def _count(low: int, high: int, **kw: Any) -> ma.fields.Integer:
    return ma.fields.Integer(strict=True, validate=ma.validate.Range(low, high), **kw)


class OutsideInspectorSchema(ma.Schema):
    """An inspector of another department on joint checks (联合抽查)."""

    id = ma.fields.UUID(load_default=None, allow_none=True)
    name = _text(1, 100, required=True)
    department = _text(1, 100, required=True, metadata={"description": "e.g. 市场监管局"})
    certificate_no = _text(0, 40, load_default=None, allow_none=True)
    certificate_valid_until = Day(load_default=None, allow_none=True)


class DrawPlanInputSchema(ma.Schema):
    name = _text(1, 200, required=True)
    notes = _text(0, 2000, load_default="", metadata={"description": "internal, never published"})
    industries = ma.fields.List(
        ma.fields.String(validate=ma.validate.OneOf(list(INDUSTRIES))),
        load_default=list,
        validate=ma.validate.Length(max=len(INDUSTRIES)),
        metadata={"description": "pool filter; empty means every industry"},
    )
    risk_grades = ma.fields.List(
        ma.fields.String(validate=ma.validate.OneOf(list(RISK_GRADES))),
        load_default=list,
        validate=ma.validate.Length(max=len(RISK_GRADES)),
    )
    credit_ratings = ma.fields.List(
        ma.fields.String(validate=ma.validate.OneOf(list(CREDIT_RATINGS))),
        load_default=list,
        validate=ma.validate.Length(max=len(CREDIT_RATINGS)),
    )
    exclude_seriously_dishonest = ma.fields.Boolean(load_default=False)
    exclude_inspected_within_days = _count(
        1,
        3660,
        load_default=None,
        allow_none=True,
        metadata={"description": "leave out enterprises inspected in the last N days"},
    )
    respect_yearly_caps = ma.fields.Boolean(
        load_default=True,
        metadata={"description": "leave out enterprises at the agency's yearly inspection cap"},
    )
    strata_by = ma.fields.List(
        ma.fields.String(validate=ma.validate.OneOf(STRATIFY_BY)),
        load_default=lambda: ["risk"],
        validate=ma.validate.Length(max=len(STRATIFY_BY)),
        metadata={"description": "stratum keys look like risk:good, credit:B, risk:poor/credit:C"},
    )
    rates = ma.fields.Dict(
        keys=_text(1, 60),
        values=ma.fields.String(validate=_RATE),
        load_default=dict,
        metadata={"description": "sampling rate per stratum key, exact decimal strings"},
    )
    default_rate = ma.fields.String(load_default="0", validate=_RATE)
    min_targets = _count(0, 1_000_000, load_default=None, allow_none=True)
    max_targets = _count(0, 1_000_000, load_default=None, allow_none=True)
    inspector_ids = ma.fields.List(
        ma.fields.UUID(),
        load_default=None,
        allow_none=True,
        validate=ma.validate.Length(max=5000),
        metadata={"description": "null: every active inspector of the agency"},
    )
    team_size = _count(2, 50, load_default=2, metadata={"description": "at least 2"})
    outside_inspectors = ma.fields.List(
        ma.fields.Nested(OutsideInspectorSchema),
        load_default=list,
        validate=ma.validate.Length(max=500),
    )
    outside_per_team = _count(0, 20, load_default=0)
    due_days = _count(1, 366, load_default=20)
    due_day_kind = ma.fields.String(load_default="working", validate=ma.validate.OneOf(DAY_KINDS))
    cron = ma.fields.String(
        load_default=None,
        allow_none=True,
        validate=ma.validate.Length(max=100),
        metadata={
            "description": "five-field crontab line in the agency's zone, read as cron(8) "
            "reads it (weekday 0 and 7 are Sunday); null: run by hand only"
        },
    )
    period = ma.fields.String(
        load_default="quarter",
        validate=ma.validate.OneOf(list(PERIOD_KINDS)),
        metadata={"description": "one draw per plan per month, quarter or year"},
    )
    active = ma.fields.Boolean(load_default=True)


class DrawPlanPatchSchema(DrawPlanInputSchema):
    """The same fields, each optional (use with ``partial=True``)."""


class UpcomingSchema(ma.Schema):
    period_key = ma.fields.String(required=True)
    planned_for = LocalDateTime(allow_none=True)
    seed_commitment = ma.fields.String(required=True)
    committed_at = LocalDateTime(required=True)


class OutsideInspectorOutSchema(ma.Schema):
    id = ma.fields.String(required=True)
    name = ma.fields.String(required=True)
    department = ma.fields.String(required=True)
    certificate_no = ma.fields.String(allow_none=True)
    certificate_valid_until = ma.fields.String(allow_none=True)


class DrawPlanSchema(ma.Schema):
    id = ma.fields.UUID(required=True)
    name = ma.fields.String(required=True)
    notes = ma.fields.String(required=True)
    industries = ma.fields.List(ma.fields.String(), required=True)
    risk_grades = ma.fields.List(ma.fields.String(), required=True)
    credit_ratings = ma.fields.List(ma.fields.String(), required=True)
    exclude_seriously_dishonest = ma.fields.Boolean(required=True)
    exclude_inspected_within_days = ma.fields.Integer(allow_none=True)
    respect_yearly_caps = ma.fields.Boolean(required=True)
    strata_by = ma.fields.List(ma.fields.String(), required=True)
    rates = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.String(), required=True)
    default_rate = ma.fields.String(required=True)
    min_targets = ma.fields.Integer(allow_none=True)
    max_targets = ma.fields.Integer(allow_none=True)
    inspector_ids = ma.fields.List(ma.fields.String(), allow_none=True)
    team_size = ma.fields.Integer(required=True)
    outside_inspectors = ma.fields.List(ma.fields.Nested(OutsideInspectorOutSchema), required=True)
    outside_per_team = ma.fields.Integer(required=True)
    due_days = ma.fields.Integer(required=True)
    due_day_kind = ma.fields.String(required=True)
    cron = ma.fields.String(allow_none=True)
    period = ma.fields.String(required=True)
    active = ma.fields.Boolean(required=True)
    next_run_at = LocalDateTime(allow_none=True)
    upcoming = ma.fields.Nested(
        UpcomingSchema,
        allow_none=True,
        metadata={"description": "the next scheduled draw and the SHA-256 of its seed"},
    )
    last_fire_at = LocalDateTime(allow_none=True)
    last_error = ma.fields.String(allow_none=True)
    version = ma.fields.Integer(required=True)
    created_at = LocalDateTime(required=True)
    updated_at = LocalDateTime(required=True)


class RunSchema(ma.Schema):
    redraw_reason = _text(
        1,
        1000,
        load_default=None,
        allow_none=True,
        metadata={"description": "required to draw a period again; published with the result"},
    )


class StratumSchema(ma.Schema):
    stratum = ma.fields.String(required=True)
    pool_size = ma.fields.Integer(required=True)
    rate = ma.fields.String(required=True)
    base = ma.fields.Integer(required=True)
    drawn = ma.fields.Integer(required=True)


_PUBLIC_ID = {"description": "the pseudonym the published document names it by (sr-draw/2)"}


class TeamMemberSchema(ma.Schema):
    id = ma.fields.String(required=True)
    public_id = ma.fields.String(required=True, metadata=_PUBLIC_ID)
    name = ma.fields.String(required=True)
    certificate_no = ma.fields.String(allow_none=True)
    department = ma.fields.String()


class AssignmentSchema(ma.Schema):
    enterprise_id = ma.fields.String(required=True)
    public_id = ma.fields.String(required=True, metadata=_PUBLIC_ID)
    enterprise_name = ma.fields.String(required=True)
    stratum = ma.fields.String(required=True)
    task_id = ma.fields.UUID(allow_none=True)
    inspectors = ma.fields.List(ma.fields.Nested(TeamMemberSchema), required=True)
    outside_inspectors = ma.fields.List(ma.fields.Nested(TeamMemberSchema), required=True)


class DrawSummarySchema(ma.Schema):
    """A draw in a list: what identifies it and its size; ``DrawSchema`` adds the rest."""

    id = ma.fields.UUID(required=True)
    plan_id = ma.fields.UUID(required=True)
    plan_name = ma.fields.String(required=True)
    period_key = ma.fields.String(required=True, metadata={"description": "2024-05, 2024-Q2, 2024"})
    attempt = ma.fields.Integer(required=True)
    redraw_reason = ma.fields.String(allow_none=True)
    trigger = ma.fields.String(required=True, metadata={"description": "manual or schedule"})
    drawn_at = LocalDateTime(required=True)
    fingerprint = ma.fields.String(required=True)
    pool_size = ma.fields.Integer(required=True)
    drawn_count = ma.fields.Integer(required=True)


class DrawSchema(DrawSummarySchema):
    superseded_by = ma.fields.UUID(allow_none=True)
    operator_id = ma.fields.UUID(allow_none=True)
    draw_date = Day(required=True)
    seed = ma.fields.String(required=True)
    seed_commitment = ma.fields.String(required=True)
    committed_at = LocalDateTime(
        allow_none=True,
        metadata={"description": "when the commitment was published; null: with the result"},
    )
    commitment_period_key = ma.fields.String(
        allow_none=True,
        metadata={
            "description": "the period the commitment was published for; another than "
            "period_key when a scheduled draw caught up on a missed one"
        },
    )
    commitment_planned_for = LocalDateTime(
        allow_none=True, metadata={"description": "the fire time the commitment was made for"}
    )
    algorithm = ma.fields.String(required=True)
    parameters = ma.fields.Dict(required=True)
    strata = ma.fields.List(ma.fields.Nested(StratumSchema), required=True)
    assignments = ma.fields.List(ma.fields.Nested(AssignmentSchema), required=True)


class DrawQuerySchema(ma.Schema):
    plan_id = ma.fields.UUID()


class VerifySchema(ma.Schema):
    draw_id = ma.fields.UUID(required=True)
    matches = ma.fields.Boolean(required=True)
    differences = ma.fields.List(ma.fields.String(), required=True)
    algorithm = ma.fields.String(required=True)
    fingerprint = ma.fields.String(required=True)
    seed_commitment = ma.fields.String(required=True)


class TaskSchema(ma.Schema):
    id = ma.fields.UUID(required=True)
    enterprise_id = ma.fields.UUID(required=True)
    title = ma.fields.String(required=True)
    kind = ma.fields.String(required=True)
    inspector_ids = ma.fields.List(ma.fields.String(), required=True)
    outside_inspectors = ma.fields.List(ma.fields.Dict(), required=True)
    due_date = Day(required=True)
    status = ma.fields.String(required=True, validate=ma.validate.OneOf(TASK_STATUSES))
    overdue = ma.fields.Boolean(required=True)
    inspection_id = ma.fields.UUID(allow_none=True)
    completed_at = LocalDateTime(allow_none=True)
    hazards_found = ma.fields.Integer(allow_none=True)
    version = ma.fields.Integer(required=True)


class TaskProgressSchema(ma.Schema):
    draw_id = ma.fields.UUID(required=True)
    total = ma.fields.Integer(required=True)
    open = ma.fields.Integer(required=True)
    done = ma.fields.Integer(required=True)
    cancelled = ma.fields.Integer(required=True)
    overdue = ma.fields.Integer(required=True)
    tasks = ma.fields.List(ma.fields.Nested(TaskSchema), required=True)


class RecusalInputSchema(ma.Schema):
    inspector_id = ma.fields.UUID(required=True)
    enterprise_id = ma.fields.UUID(required=True)
    source = ma.fields.String(
        required=True,
        validate=ma.validate.OneOf(RECUSAL_SOURCES),
        metadata={"description": "conflict (利害关系) or enterprise_request (企业申请回避)"},
    )
    reason = _text(1, 2000, required=True, metadata={"description": "internal, never published"})


class RecusalSchema(ma.Schema):
    id = ma.fields.UUID(required=True)
    inspector_id = ma.fields.UUID(required=True)
    enterprise_id = ma.fields.UUID(required=True)
    source = ma.fields.String(required=True)
    reason = ma.fields.String(required=True)
    created_by = ma.fields.UUID(required=True)
    created_at = LocalDateTime(required=True)


class RecusalQuerySchema(ma.Schema):
    inspector_id = ma.fields.UUID()
    enterprise_id = ma.fields.UUID()
