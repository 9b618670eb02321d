"""An agency's own settings: the hazard policy and the visit rules, validated before stored."""

from __future__ import annotations

from typing import Any

import marshmallow as ma

from server.domain.hazards import HazardPolicy
from server.domain.visits import CAP_KEYS, yearly_cap_errors
from server.domain.workdays import DAY_KINDS


def _days(low: int, high: int, description: str) -> ma.fields.Integer:
    return ma.fields.Integer(
        strict=True,
        validate=ma.validate.Range(min=low, max=high),
        metadata={"description": description},
    )


class HazardSettingsSchema(ma.Schema):
    """``settings["hazards"]``: the fields of ``server.domain.hazards.HazardPolicy``."""

    class Meta:
        unknown = ma.RAISE

    reinspection_days = _days(1, 90, "复查 due within this many days of the report or deadline")
    reinspection_unit = ma.fields.String(validate=ma.validate.OneOf(DAY_KINDS))
    deadline_unit = ma.fields.String(
        validate=ma.validate.OneOf(DAY_KINDS),
        metadata={"description": "unit of an order's period_days: calendar or working days"},
    )
    escalate_after_days = _days(1, 365, "days overdue before escalation level 2")
    penalty_case_after_days = _days(1, 730, "days overdue before a penalty case is flagged")
    max_major_deadline_months = _days(1, 12, "longest deadline of a major hazard's order or plan")
    max_general_deadline_months = ma.fields.Integer(
        strict=True,
        allow_none=True,
        validate=ma.validate.Range(min=1, max=24),
        metadata={"description": "longest deadline of a general hazard's order; null: no limit"},
    )
    max_stop_months = _days(1, 6, "longest stop order (停产停业)")

    @ma.validates_schema
    def _consistent(self, data: dict[str, Any], **_: Any) -> None:
        try:
            HazardPolicy(**data)
        except ValueError as exc:
            raise ma.ValidationError(str(exc)) from exc


class VisitSettingsSchema(ma.Schema):
    """``settings["visits"]``: repeated-visit warnings and yearly caps (domain/visits.py)."""

    class Meta:
        unknown = ma.RAISE

    repeat_visit_days = _days(0, 365, "a visit within this many days of another one warns")
    yearly_caps = ma.fields.Dict(
        keys=ma.fields.String(),
        values=ma.fields.Integer(strict=True),
        metadata={"description": "inspections a year at most, keyed " + ", ".join(CAP_KEYS)},
    )

    @ma.validates("yearly_caps")
    def _caps(self, caps: dict[str, int], **_: Any) -> None:
        # The same rule as the annual plan's caps: one list of keys, one range.
        errors = yearly_cap_errors(caps)
        if errors:
            raise ma.ValidationError(errors)


class SupervisionSettingsSchema(ma.Schema):
    """``settings["supervision"]``: what the supervisor holds the agency to (domain/parties.py)."""

    class Meta:
        unknown = ma.RAISE

    complaint_answer_days = _days(1, 60, "an enterprise's complaint is answered within this")


SECTION_SCHEMAS: dict[str, type[ma.Schema]] = {
    "hazards": HazardSettingsSchema,
    "visits": VisitSettingsSchema,
    "supervision": SupervisionSettingsSchema,
}


class AgencySettingsPatchSchema(ma.Schema):
    """Keys to change; a section not named stays as it is, a named one is merged key by key."""

    class Meta:
        unknown = ma.RAISE

    hazards = ma.fields.Dict()
    visits = ma.fields.Dict()
    supervision = ma.fields.Dict()


class AgencySettingsSchema(ma.Schema):
    """The settings in force: stored values over the defaults."""

    agency = ma.fields.String(required=True, metadata={"description": "the agency's code"})
    hazards = ma.fields.Nested(HazardSettingsSchema, required=True)
    visits = ma.fields.Nested(VisitSettingsSchema, required=True)
    supervision = ma.fields.Nested(SupervisionSettingsSchema, required=True)
    ignored = ma.fields.List(
        ma.fields.String(),
        required=True,
        metadata={"description": "stored values not in force because they are invalid"},
    )
