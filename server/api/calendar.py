"""The national working-day calendar: overrides for years the official library does not know."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask.views import MethodView

from server.api.parsing import Blueprint
from server.api.security import current_principal
from server.schemas.calendar import (
    CalendarDayChangeSchema,
    CalendarDayInputSchema,
    CalendarQuerySchema,
    CalendarRemovalSchema,
    CalendarSchema,
    CalendarYearInputSchema,
)
from server.services import calendar

blp = Blueprint(
    "calendar",
    __name__,
    url_prefix="/api/v1/calendar",
    description="Holidays and make-up working days (调休), national; admins maintain them",
)


def _listing(found: calendar.CalendarListing) -> dict[str, Any]:
    first, last = found.library_years
    return {
        "year": found.year,
        "library_years": {"first": first, "last": last},
        "complete_years": found.complete_years,
        "days": found.days,
    }


@blp.route("")
class CalendarOverrides(MethodView):
    @blp.arguments(CalendarQuerySchema, location="query")
    @blp.response(200, CalendarSchema)
    def get(self, query: dict[str, Any]) -> Any:
        """The dates set by hand (of one year), and the years the calendar knows."""
        return _listing(calendar.read_calendar(current_principal(), query.get("year")))


@blp.route("/days/<day:day>")
class CalendarDayItem(MethodView):
    @blp.arguments(CalendarDayInputSchema)
    @blp.response(200, CalendarDayChangeSchema)
    @blp.alt_response(403, description="admins only")
    def put(self, data: dict[str, Any], day: date) -> Any:
        """Set a date as a working day or a day off; pending deadlines spanning it move."""
        row, moved = calendar.put_day(current_principal(), day, data)
        return {
            "day": row.day,
            "is_working_day": row.is_working_day,
            "note": row.note,
            "updated_at": row.updated_at,
            "moved_deadlines": moved,
        }

    @blp.response(200, CalendarRemovalSchema)
    @blp.alt_response(403, description="admins only")
    @blp.alt_response(404, description="the date has no override")
    def delete(self, day: date) -> Any:
        """Remove a date's override: the official calendar decides it again."""
        return {"day": day, "moved_deadlines": calendar.delete_day(current_principal(), day)}


@blp.route("/years/<int(min=2000,max=2099):year>")
class CalendarYearItem(MethodView):
    @blp.arguments(CalendarYearInputSchema)
    @blp.response(200, CalendarSchema)
    @blp.alt_response(403, description="admins only")
    def put(self, data: dict[str, Any], year: int) -> Any:
        """Mark a year as entered in full (or not)."""
        return _listing(calendar.put_year(current_principal(), year, data))
