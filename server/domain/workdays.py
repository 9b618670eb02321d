"""China's official working-day calendar: holidays, make-up weekends (调休) and overrides."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from types import MappingProxyType
from typing import Literal

import chinese_calendar

DayKind = Literal["calendar", "working"]
DAY_KINDS: tuple[DayKind, ...] = ("calendar", "working")

_ONE_DAY = dt.timedelta(days=1)


def _library_years() -> frozenset[int]:
    # The library covers a contiguous span of years; ask it rather than hard-coding the span, so
    # upgrading the package is all it takes once the State Council publishes a new year.
    years = {d.year for d in chinese_calendar.holidays} | {
        d.year for d in chinese_calendar.workdays
    }
    return frozenset(range(min(years), max(years) + 1))


LIBRARY_YEARS: frozenset[int] = _library_years()


class WorkCalendar:
    """Decides which dates are working days in mainland China.

    Sources, strongest first:

    1. ``overrides`` (``{date: is_working_day}``): local adjustments, or the State Council
       notice for a year the installed ``chinese_calendar`` does not know yet, typed in by hand.
    2. ``chinese_calendar`` for the years it covers (holidays and 调休 weekends alike).
    3. Plain Monday–Friday. That is a guess; ``is_authoritative`` says so.

    ``complete_years`` names years whose every holiday and make-up day is in ``overrides``, so
    that the Monday–Friday remainder of those years counts as authoritative too.
    """

    def __init__(
        self,
        overrides: Mapping[dt.date, bool] | None = None,
        *,
        complete_years: Iterable[int] = (),
    ) -> None:
        for day in overrides or {}:
            _require_date(day)
        # A private copy: callers keep their dict, and a calendar never changes under a deadline.
        self._overrides: Mapping[dt.date, bool] = MappingProxyType(dict(overrides or {}))
        self._complete_years = frozenset(complete_years)

    @property
    def overrides(self) -> Mapping[dt.date, bool]:
        return self._overrides

    @property
    def known_years(self) -> frozenset[int]:
        """Years for which every date is known rather than guessed."""
        return LIBRARY_YEARS | self._complete_years

    def is_authoritative(self, d: dt.date) -> bool:
        """False when ``is_working_day(d)`` is only the Monday–Friday guess."""
        _require_date(d)
        return d in self._overrides or d.year in self.known_years

    def span_is_authoritative(self, a: dt.date, b: dt.date) -> bool:
        """Whether every day of the half-open span (a, b] is known rather than guessed.

        A deadline counted over such a span is final; otherwise it may move once the year's
        holidays are published and entered.
        """
        _require_date(a)
        _require_date(b)
        low, high = min(a, b), max(a, b)
        if all(y in self.known_years for y in range(low.year, high.year + 1)):
            return True
        day = low
        while day < high:
            day += _ONE_DAY
            if not self.is_authoritative(day):
                return False
        return True

    def is_working_day(self, d: dt.date) -> bool:
        _require_date(d)
        override = self._overrides.get(d)
        if override is not None:
            return override
        if d.year in LIBRARY_YEARS:
            return bool(chinese_calendar.is_workday(d))
        return d.weekday() < 5

    def add_working_days(self, start: dt.date, n: int) -> dt.date:
        """The ``n``-th working day after ``start``; ``start`` itself is never counted.

        A deadline of "7 working days after the decision" is ``add_working_days(decided_on, 7)``:
        the first working day after the decision is day 1, whatever kind of day the decision
        date was. ``n == 0`` returns ``start`` unchanged; a negative ``n`` counts backwards
        (the ``-n``-th working day before ``start``), which reminders use.
        """
        _require_date(start)
        step = _ONE_DAY if n >= 0 else -_ONE_DAY
        remaining = abs(n)
        day = start
        while remaining:
            day += step
            if self.is_working_day(day):
                remaining -= 1
        return day

    def working_days_between(self, a: dt.date, b: dt.date) -> int:
        """Working days in the half-open span (a, b]; negative when ``b`` is before ``a``.

        This is the inverse of ``add_working_days``:
        ``working_days_between(d, add_working_days(d, n)) == n`` for every ``n >= 0``.
        """
        _require_date(a)
        _require_date(b)
        if b < a:
            return -self.working_days_between(b, a)
        count = 0
        day = a
        while day < b:
            day += _ONE_DAY
            if self.is_working_day(day):
                count += 1
        return count

    def add_days(self, start: dt.date, n: int, kind: DayKind) -> dt.date:
        """``start`` plus ``n`` days of either kind; deadlines are set in both units."""
        if kind == "calendar":
            _require_date(start)
            return start + dt.timedelta(days=n)
        if kind == "working":
            return self.add_working_days(start, n)
        raise ValueError(f"day kind must be one of {', '.join(DAY_KINDS)}, not {kind!r}")

    def next_working_day(self, d: dt.date) -> dt.date:
        """``d`` itself when it is a working day, otherwise the first working day after it."""
        return d if self.is_working_day(d) else self.add_working_days(d, 1)

    def __repr__(self) -> str:
        return (
            f"WorkCalendar(overrides={len(self._overrides)} dates, "
            f"complete_years={sorted(self._complete_years)})"
        )


def _require_date(d: object) -> None:
    # A datetime is a date subclass; its .date() depends on the zone it carries, and a UTC
    # timestamp taken after 16:00 is already tomorrow in China. Make callers pick the date.
    if isinstance(d, dt.datetime) or not isinstance(d, dt.date):
        raise TypeError(f"expected a datetime.date, got {type(d).__name__}")


DEFAULT_CALENDAR = WorkCalendar()
