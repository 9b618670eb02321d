"""Which days are working days: the official calendar and its national override table."""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa

from server.domain import penalties as rules
from server.domain import permissions
from server.domain.errors import ValidationFailed
from server.domain.permissions import Principal
from server.domain.workdays import LIBRARY_YEARS, WorkCalendar
from server.extensions import db
from server.models import Agency, CalendarDay, CalendarYear, PenaltyDecision
from server.services.lookup import get_or_not_found

log = logging.getLogger(__name__)

# Built once per database session (one request, one job run); any change here drops it.
_CACHE_KEY = "working_calendar"

MANAGE_CALENDAR = frozenset({permissions.ADMIN})


def working_calendar(agency: Agency | None = None) -> WorkCalendar:
    """The official calendar plus the override table (``calendar_days``, ``calendar_years``).

    Holidays are national, so every agency gets the same calendar; ``agency`` stays in the
    signature for callers that count an agency's deadlines.
    """
    cached = db.session.info.get(_CACHE_KEY)
    if cached is not None:
        return cached
    overrides = dict(
        db.session.execute(sa.select(CalendarDay.day, CalendarDay.is_working_day)).all()
    )
    complete = list(db.session.scalars(sa.select(CalendarYear.year)))
    calendar = WorkCalendar(overrides, complete_years=complete)
    db.session.info[_CACHE_KEY] = calendar
    return calendar


def _forget() -> None:
    db.session.info.pop(_CACHE_KEY, None)


def warn_if_estimated(start: date, deadline: date, what: str) -> bool:
    """Log when a deadline was counted over days the calendar only guesses; True if so."""
    calendar = working_calendar()
    if calendar.span_is_authoritative(start, deadline):
        return False
    unknown = [y for y in range(start.year, deadline.year + 1) if y not in calendar.known_years]
    log.warning(
        "%s: deadline %s counted on a plain Monday-Friday week; the official calendar of %s is "
        "not known (upgrade chinese_calendar, or enter the year with `flask calendar set` and "
        "`flask calendar complete`)",
        what,
        deadline,
        ", ".join(map(str, unknown)),
    )
    return True


@dataclass(frozen=True)
class CalendarListing:
    year: int | None
    library_years: tuple[int, int]
    complete_years: list[int]
    days: list[CalendarDay]


def list_days(year: int | None = None) -> CalendarListing:
    stmt = sa.select(CalendarDay).order_by(CalendarDay.day)
    if year is not None:
        stmt = stmt.where(
            CalendarDay.day >= date(year, 1, 1), CalendarDay.day < date(year + 1, 1, 1)
        )
    return CalendarListing(
        year,
        (min(LIBRARY_YEARS), max(LIBRARY_YEARS)),
        sorted(db.session.scalars(sa.select(CalendarYear.year))),
        list(db.session.scalars(stmt)),
    )


def read_calendar(principal: Principal, year: int | None = None) -> CalendarListing:
    """Anyone signed in may see which days are set by hand."""
    return list_days(year)


def set_day(
    day: date, is_working_day: bool, note: str = "", *, user_id: uuid.UUID | None = None
) -> tuple[CalendarDay, int]:
    """Set one date's kind; returns it and how many pending publication deadlines moved."""
    if not 2000 <= day.year <= 2099:
        raise ValidationFailed("outside the service's years", fields={"day": "2000–2099"})
    row = db.session.get(CalendarDay, day)
    if row is None:
        row = CalendarDay(day=day)
        db.session.add(row)
    row.is_working_day = is_working_day
    row.note = note
    row.updated_by = user_id
    db.session.flush()
    moved = _recount_deadlines(day)
    db.session.commit()
    return row, moved


def clear_day(day: date) -> int:
    """Drop a date's override: the library (or Monday–Friday) decides it again."""
    row = get_or_not_found(CalendarDay, day, f"{day} has no override")
    db.session.delete(row)
    db.session.flush()
    moved = _recount_deadlines(day)
    db.session.commit()
    return moved


def set_year_complete(year: int, complete: bool, note: str = "") -> None:
    """Mark a year as entered in full (every holiday and make-up day), or not any more."""
    row = db.session.get(CalendarYear, year)
    if complete and row is None:
        db.session.add(CalendarYear(year=year, note=note))
    elif complete and row is not None:
        row.note = note
    elif row is not None:
        db.session.delete(row)
    db.session.commit()
    _forget()


def _recount_deadlines(changed: date) -> int:
    """Re-count the stored deadline of decisions still waiting for publication whose 7
    working days span ``changed``, so that the stored deadline and a fresh count agree.

    A decision already published, revoked or found late keeps the deadline it was judged by.
    """
    _forget()
    calendar = working_calendar()
    # Core statements on the table: the calendar is national, so this reaches every agency's
    # decisions even from a request whose session is fenced to the admin's agency.
    table = PenaltyDecision.__table__
    pending = db.session.execute(
        sa.select(
            table.c.id, table.c.number, table.c.decided_on, table.c.publication_deadline
        ).where(
            table.c.published_at.is_(None),
            table.c.revoked_on.is_(None),
            table.c.late_flagged_on.is_(None),
            table.c.decided_on < changed,
            table.c.publication_deadline >= changed,
        )
    ).all()
    moved = 0
    for decision_id, number, decided_on, stored in pending:
        deadline = rules.publication_deadline(decided_on, calendar)
        if deadline != stored:
            log.info(
                "decision %s: publication deadline %s -> %s (calendar changed on %s)",
                number,
                stored,
                deadline,
                changed,
            )
            db.session.execute(
                sa.update(table)
                .where(table.c.id == decision_id)
                .values(publication_deadline=deadline)
            )
            moved += 1
    return moved


# --- the admin API ----------------------------------------------------------------------------


def _require_admin(principal: Principal) -> None:
    permissions.require_role(principal, MANAGE_CALENDAR, "changing the national calendar")


def put_day(principal: Principal, day: date, data: dict[str, object]) -> tuple[CalendarDay, int]:
    _require_admin(principal)
    note = str(data.get("note") or "")
    return set_day(day, bool(data["is_working_day"]), note, user_id=principal.user_id)


def delete_day(principal: Principal, day: date) -> int:
    _require_admin(principal)
    return clear_day(day)


def put_year(principal: Principal, year: int, data: dict[str, object]) -> CalendarListing:
    _require_admin(principal)
    set_year_complete(year, bool(data["complete"]), str(data.get("note") or ""))
    return list_days(year)
