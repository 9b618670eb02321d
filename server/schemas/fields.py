"""Custom fields: times reported in the agency's zone, money in integer fen."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import marshmallow as ma
from flask import current_app, g, has_app_context


def reporting_zone() -> ZoneInfo:
    """The caller's agency zone, else the deployment's default."""
    name = None
    if has_app_context():
        name = g.get("timezone") or current_app.config.get("TIMEZONE")
    return ZoneInfo(name or "Asia/Shanghai")


# Every date and time the service takes from outside lies in these years: deadlines, periods
# and calendars stay arithmetic on them instead of overflowing (year 1, year 9999).
EARLIEST_DAY = date(2000, 1, 1)
LATEST_DAY = date(2099, 12, 31)
_EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
_LATEST = datetime(2100, 1, 1, tzinfo=UTC)
_OUT_OF_RANGE = f"must lie between {EARLIEST_DAY.isoformat()} and {LATEST_DAY.isoformat()}"


def in_service_range(day: date) -> bool:
    """True for a date the service accepts (web filters use it to ignore absurd dates)."""
    return EARLIEST_DAY <= day <= LATEST_DAY


class Day(ma.fields.Date):
    """A calendar date within the service's years."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> date:
        day = super()._deserialize(value, attr, data, **kwargs)
        if not in_service_range(day):
            raise ma.ValidationError(_OUT_OF_RANGE)
        return day


class LocalDateTime(ma.fields.AwareDateTime):
    """Accepts RFC 3339 with an offset, within the service's years; reports in the agency's
    zone."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> datetime:
        moment = super()._deserialize(value, attr, data, **kwargs)
        try:
            inside = _EARLIEST <= moment < _LATEST
        except OverflowError:  # an offset that pushes year 1 or 9999 off the calendar
            inside = False
        if not inside:
            raise ma.ValidationError(_OUT_OF_RANGE)
        return moment

    def _serialize(self, value: datetime | None, attr: str | None, obj: Any, **kwargs: Any):
        if value is None:
            return None
        return value.astimezone(reporting_zone()).isoformat()


class Fen(ma.fields.Integer):
    """Money as integer fen (分); floats are refused."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("strict", True)
        kwargs.setdefault("validate", ma.validate.Range(min=0))
        kwargs.setdefault("metadata", {"description": "integer fen (分)"})
        super().__init__(**kwargs)
