"""Which days are working days for an agency: the official calendar and its override table."""

from __future__ import annotations

import logging
from datetime import date

from server.domain.workdays import WorkCalendar
from server.models import Agency

log = logging.getLogger(__name__)


def working_calendar(agency: Agency) -> WorkCalendar:
    """The official calendar plus the agency's override table (``settings["calendar_overrides"]``).

    Overrides are ``{"YYYY-MM-DD": true|false}`` (working day or not), for a year the installed
    calendar does not know yet, or a local adjustment; ``calendar_complete_years`` names years
    typed in full.
    """
    settings = agency.settings or {}
    overrides: dict[date, bool] = {}
    for day, working in (settings.get("calendar_overrides") or {}).items():
        try:
            overrides[date.fromisoformat(day)] = bool(working)
        except (TypeError, ValueError):
            log.warning("agency %s: ignoring calendar override %r", agency.code, day)
    years = [y for y in settings.get("calendar_complete_years") or [] if isinstance(y, int)]
    return WorkCalendar(overrides, complete_years=years)
