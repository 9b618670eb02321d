"""The annual report and the annual plan: query, plan input, completion and report output."""

from __future__ import annotations

import marshmallow as ma

from server.domain.visits import CAP_KEYS, MAX_YEARLY_CAP

YEAR = ma.validate.Range(min=2000, max=2100)


class ReportQuerySchema(ma.Schema):
    year = ma.fields.Integer(required=True, validate=YEAR)
    format = ma.fields.String(
        load_default="json",
        validate=ma.validate.OneOf(["json", "csv", "xlsx"]),
        metadata={
            "description": "`csv`: UTF-8 with BOM, Chinese headers; `xlsx`: one sheet a table"
        },
    )


class ReportChangeSchema(ma.Schema):
    kind = ma.fields.String(
        required=True,
        metadata={
            "description": "`percent`, `new` (last year zero: 新增), `none` (both zero), "
            "`points` (rates: percentage points)"
        },
    )
    percent = ma.fields.String(allow_none=True, required=True)
    display = ma.fields.String(required=True, metadata={"description": "+7.6%, 新增, —"})


class ReportRowSchema(ma.Schema):
    key = ma.fields.String(required=True)
    label = ma.fields.String(required=True)
    unit = ma.fields.String(required=True)
    kind = ma.fields.String(required=True, metadata={"description": "count | fen | rate"})
    this_year = ma.fields.Raw(
        allow_none=True,
        required=True,
        metadata={"description": "int (counts, money in fen) or a decimal string (rates)"},
    )
    last_year = ma.fields.Raw(allow_none=True, required=True)
    this_year_display = ma.fields.String(required=True)
    last_year_display = ma.fields.String(required=True)
    change = ma.fields.Nested(ReportChangeSchema, required=True)


class ReportTableSchema(ma.Schema):
    key = ma.fields.String(required=True)
    title = ma.fields.String(required=True)
    rows = ma.fields.List(ma.fields.Nested(ReportRowSchema), required=True)


class AnnualReportSchema(ma.Schema):
    agency = ma.fields.String(required=True)
    year = ma.fields.Integer(required=True)
    last_year = ma.fields.Integer(required=True)
    tables = ma.fields.List(ma.fields.Nested(ReportTableSchema), required=True)


class PlanRowInputSchema(ma.Schema):
    enterprise_id = ma.fields.UUID(required=True)
    planned = ma.fields.Integer(required=True, validate=ma.validate.Range(min=1, max=366))


class PlanInputSchema(ma.Schema):
    planned_general = ma.fields.Integer(
        load_default=0,
        validate=ma.validate.Range(min=0, max=1_000_000),
        metadata={"description": "planned general (double-random) inspections"},
    )
    key_enterprises = ma.fields.List(
        ma.fields.Nested(PlanRowInputSchema),
        load_default=list,
        validate=ma.validate.Length(max=20000),
    )
    yearly_caps = ma.fields.Dict(
        keys=ma.fields.String(validate=ma.validate.OneOf(CAP_KEYS)),
        values=ma.fields.Integer(
            strict=True, validate=ma.validate.Range(min=0, max=MAX_YEARLY_CAP)
        ),
        load_default=dict,
        metadata={
            "description": "the year's inspection caps of ordinary enterprises, keyed like the "
            "agency's visit settings: `credit:A`…`credit:E`, `risk:good|medium|poor` (the "
            "tightest applies). While a plan exists for the year these are the caps scan "
            "warnings, draws and over_cap use; without a plan, the agency's visit settings."
        },
    )
    note = ma.fields.String(load_default="", validate=ma.validate.Length(max=5000))


class PlanRowSchema(ma.Schema):
    enterprise_id = ma.fields.UUID(required=True)
    enterprise_name = ma.fields.String(required=True)
    planned = ma.fields.Integer(required=True)


class PlanSchema(ma.Schema):
    id = ma.fields.UUID(required=True)
    year = ma.fields.Integer(required=True)
    planned_general = ma.fields.Integer(required=True)
    yearly_caps = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.Integer(), required=True)
    note = ma.fields.String(required=True)
    key_enterprises = ma.fields.List(ma.fields.Nested(PlanRowSchema), required=True)


def Rate() -> ma.fields.Decimal:  # noqa: N802
    """A percentage sent as a decimal string ("107.6"), so no float ever rounds it."""
    return ma.fields.Decimal(
        as_string=True,
        allow_none=True,
        required=True,
        metadata={
            "type": "string",
            "description": "percent, one decimal, as a string; null when nothing was planned",
        },
    )


class CategorySchema(ma.Schema):
    planned = ma.fields.Integer(required=True)
    done = ma.fields.Integer(required=True)
    rate = Rate()


class CompletionRowSchema(CategorySchema):
    enterprise_id = ma.fields.UUID(required=True)
    enterprise_name = ma.fields.String(required=True)


class OverCapSchema(ma.Schema):
    enterprise_id = ma.fields.UUID(required=True)
    enterprise_name = ma.fields.String(required=True)
    done = ma.fields.Integer(required=True)
    cap = ma.fields.Integer(required=True)


class CompletionSchema(ma.Schema):
    year = ma.fields.Integer(required=True)
    rows = ma.fields.List(ma.fields.Nested(CompletionRowSchema), required=True)
    key = ma.fields.Nested(CategorySchema, required=True)
    general = ma.fields.Nested(CategorySchema, required=True)
    overall = ma.fields.Nested(CategorySchema, required=True)
    key_enterprises = ma.fields.Integer(required=True)
    key_enterprises_covered = ma.fields.Integer(required=True)
    coverage_rate = Rate()
    unplanned_done = ma.fields.Integer(
        required=True, metadata={"description": "complaint-driven and other inspections"}
    )
    key_outside_plan = ma.fields.Integer(
        required=True,
        metadata={
            "description": "key inspections at enterprises the plan does not list: with the "
            "rows' done they make key.done"
        },
    )
    inspections = ma.fields.Integer(required=True)
    over_cap = ma.fields.List(ma.fields.Nested(OverCapSchema), required=True)


class FigureRecordsQuerySchema(ma.Schema):
    year = ma.fields.Integer(required=True, validate=YEAR)
    page = ma.fields.Integer(load_default=1, validate=ma.validate.Range(min=1, max=1_000_000))
    per_page = ma.fields.Integer(load_default=50, validate=ma.validate.Range(min=1, max=500))
    format = ma.fields.String(
        load_default="json",
        validate=ma.validate.OneOf(["json", "csv"]),
        metadata={"description": "`csv`: every record, UTF-8 with BOM, Chinese headers"},
    )


class RecordItemSchema(ma.Schema):
    id = ma.fields.UUID(required=True)
    kind = ma.fields.String(required=True)
    day = ma.fields.Date(
        required=True, metadata={"description": "the date that puts it in the year"}
    )
    title = ma.fields.String(required=True)
    enterprise = ma.fields.String(required=True)
    detail = ma.fields.String(required=True)
    amount_fen = ma.fields.Integer(allow_none=True)
    document_id = ma.fields.UUID(allow_none=True)


class RecordSectionSchema(ma.Schema):
    kind = ma.fields.String(
        required=True,
        metadata={
            "description": "inspections, documents, hazards, cases, transfers, reviewed_cases, "
            "decisions, exemptions, complaints"
        },
    )
    label = ma.fields.String(required=True)
    total = ma.fields.Integer(required=True)
    amount_fen = ma.fields.Integer(allow_none=True)
    items = ma.fields.List(ma.fields.Nested(RecordItemSchema), required=True)


class FigureRecordsSchema(ma.Schema):
    figure = ma.fields.String(required=True)
    label = ma.fields.String(required=True)
    year = ma.fields.Integer(required=True)
    total = ma.fields.Integer(
        required=True, metadata={"description": "how many records: the figure, for a count"}
    )
    amount_fen = ma.fields.Integer(
        allow_none=True, metadata={"description": "their amounts' total: the figure, for money"}
    )
    page = ma.fields.Integer(required=True)
    per_page = ma.fields.Integer(required=True)
    sections = ma.fields.List(ma.fields.Nested(RecordSectionSchema), required=True)


class KindRecordsQuerySchema(FigureRecordsQuerySchema):
    enterprise_id = ma.fields.UUID()
    kind = ma.fields.String(
        validate=ma.validate.Length(max=20), metadata={"description": "inspections: key, random…"}
    )
    type = ma.fields.String(
        validate=ma.validate.Length(max=30),
        metadata={"description": "documents: rectification_order, onsite_measures…"},
    )
    level = ma.fields.String(validate=ma.validate.OneOf(["general", "major"]))
    status = ma.fields.String(
        validate=ma.validate.Length(max=30), metadata={"description": "hazards, cases"}
    )
    accident = ma.fields.Boolean(metadata={"description": "decisions"})
    party = ma.fields.String(
        validate=ma.validate.OneOf(["entity", "individual"]), metadata={"description": "exemptions"}
    )
    opinion = ma.fields.String(
        validate=ma.validate.OneOf(["approved", "returned"]),
        metadata={"description": "legal_reviews"},
    )
    channel = ma.fields.String(
        validate=ma.validate.Length(max=30), metadata={"description": "complaints"}
    )
