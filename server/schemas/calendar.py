"""The national working-day calendar's override table."""

from __future__ import annotations

import marshmallow as ma

from server.schemas.fields import Day, LocalDateTime


class CalendarQuerySchema(ma.Schema):
    year = ma.fields.Integer(validate=ma.validate.Range(min=2000, max=2099))


class CalendarDayInputSchema(ma.Schema):
    is_working_day = ma.fields.Boolean(
        required=True, metadata={"description": "true: a working day (调休); false: a day off"}
    )
    note = ma.fields.String(load_default="", validate=ma.validate.Length(max=200))


class CalendarYearInputSchema(ma.Schema):
    complete = ma.fields.Boolean(
        required=True,
        metadata={
            "description": "every holiday and make-up day of the year is entered: its other "
            "days follow Monday–Friday for sure, and its deadlines are no longer estimates"
        },
    )
    note = ma.fields.String(load_default="", validate=ma.validate.Length(max=200))


class CalendarDaySchema(ma.Schema):
    day = Day(required=True)
    is_working_day = ma.fields.Boolean(required=True)
    note = ma.fields.String(required=True)
    updated_at = LocalDateTime(required=True)


class CalendarDayChangeSchema(CalendarDaySchema):
    moved_deadlines = ma.fields.Integer(
        required=True,
        metadata={"description": "pending publication deadlines re-counted because of it"},
    )


class CalendarRemovalSchema(ma.Schema):
    day = Day(required=True)
    moved_deadlines = ma.fields.Integer(required=True)


class LibraryYearsSchema(ma.Schema):
    first = ma.fields.Integer(required=True)
    last = ma.fields.Integer(required=True)


class CalendarSchema(ma.Schema):
    year = ma.fields.Integer(allow_none=True, required=True)
    library_years = ma.fields.Nested(
        LibraryYearsSchema,
        required=True,
        metadata={"description": "years the installed official calendar library knows"},
    )
    complete_years = ma.fields.List(
        ma.fields.Integer(),
        required=True,
        metadata={"description": "years entered in full in the override table"},
    )
    days = ma.fields.List(ma.fields.Nested(CalendarDaySchema), required=True)
