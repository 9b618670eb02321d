"""China's working-day calendar: holidays, make-up weekends, overrides and the guessing fallback."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from server.domain.workdays import LIBRARY_YEARS, WorkCalendar

CAL = WorkCalendar()


@pytest.mark.parametrize("day", [date(2024, 10, d) for d in range(1, 8)])
def test_national_day_week_2024_is_not_worked(day: date) -> None:
    assert not CAL.is_working_day(day)


def test_make_up_weekends_around_national_day_2024_are_worked() -> None:
    assert date(2024, 9, 29).weekday() == 6
    assert date(2024, 10, 12).weekday() == 5
    assert CAL.is_working_day(date(2024, 9, 29))
    assert CAL.is_working_day(date(2024, 10, 12))


def test_an_ordinary_weekend_is_not_worked() -> None:
    assert not CAL.is_working_day(date(2024, 9, 28))
    assert CAL.is_working_day(date(2024, 9, 27))


def test_publication_deadline_of_seven_working_days_from_27_september_2024() -> None:
    # Counted by hand: 29 Sep (Sun, make-up) 1, 30 Sep 2, 1–7 Oct holiday, 8 Oct 3, 9 Oct 4,
    # 10 Oct 5, 11 Oct 6, 12 Oct (Sat, make-up) 7.
    assert CAL.add_working_days(date(2024, 9, 27), 7) == date(2024, 10, 12)
    assert CAL.add_days(date(2024, 9, 27), 7, "working") == date(2024, 10, 12)
    assert CAL.add_days(date(2024, 9, 27), 7, "calendar") == date(2024, 10, 4)


def test_the_start_date_is_not_counted_even_when_it_is_a_working_day() -> None:
    assert CAL.add_working_days(date(2024, 9, 26), 1) == date(2024, 9, 27)
    assert CAL.add_working_days(date(2024, 10, 3), 1) == date(2024, 10, 8)
    assert CAL.add_working_days(date(2024, 10, 3), 0) == date(2024, 10, 3)


def test_negative_counts_go_backwards() -> None:
    assert CAL.add_working_days(date(2024, 10, 8), -1) == date(2024, 9, 30)
    assert CAL.working_days_between(date(2024, 10, 12), date(2024, 9, 27)) == -7


def test_overrides_win_over_the_library_both_ways() -> None:
    cal = WorkCalendar({date(2024, 10, 8): False, date(2024, 10, 5): True})
    assert not cal.is_working_day(date(2024, 10, 8))
    assert cal.is_working_day(date(2024, 10, 5))
    assert cal.is_authoritative(date(2024, 10, 8))


def test_overrides_are_copied_so_the_caller_cannot_change_a_calendar_later() -> None:
    table = {date(2024, 10, 8): False}
    cal = WorkCalendar(table)
    table[date(2024, 10, 9)] = False
    assert cal.is_working_day(date(2024, 10, 9))


def test_a_year_the_library_does_not_know_falls_back_to_monday_to_friday_and_says_so() -> None:
    year = max(LIBRARY_YEARS) + 50
    monday = date(year, 6, 1)
    monday -= timedelta(days=monday.weekday())
    assert year not in CAL.known_years
    week = [CAL.is_working_day(monday + timedelta(days=i)) for i in range(7)]
    assert week == [True] * 5 + [False] * 2
    assert not CAL.is_authoritative(monday)
    assert CAL.is_authoritative(date(2024, 10, 1))


def test_a_year_entered_by_hand_becomes_authoritative() -> None:
    year = max(LIBRARY_YEARS) + 50
    new_year = date(year, 1, 1)
    cal = WorkCalendar({new_year: False}, complete_years=[year])
    assert not cal.is_working_day(new_year)
    assert cal.is_authoritative(date(year, 3, 3))
    assert year in cal.known_years
    partial = WorkCalendar({new_year: False})
    assert partial.is_authoritative(new_year)
    assert not partial.is_authoritative(date(year, 3, 3))


def test_a_datetime_is_refused_because_its_date_depends_on_the_zone() -> None:
    with pytest.raises(TypeError):
        CAL.is_working_day(datetime(2024, 10, 1, 20, tzinfo=UTC))  # type: ignore[arg-type]


def test_an_unknown_day_kind_is_refused() -> None:
    with pytest.raises(ValueError):
        CAL.add_days(date(2024, 1, 1), 3, "lunar")  # type: ignore[arg-type]


def test_next_working_day_skips_a_holiday() -> None:
    assert CAL.next_working_day(date(2024, 10, 1)) == date(2024, 10, 8)
    assert CAL.next_working_day(date(2024, 10, 8)) == date(2024, 10, 8)


_days = st.dates(min_value=date(2004, 1, 1), max_value=date(max(LIBRARY_YEARS) + 3, 12, 31))
_counts = st.integers(min_value=1, max_value=300)


@given(_days, _counts)
def test_adding_working_days_always_lands_on_a_working_day(start: date, n: int) -> None:
    assert CAL.is_working_day(CAL.add_working_days(start, n))


@given(_days, _counts, _counts)
def test_adding_more_working_days_never_lands_earlier(start: date, n: int, m: int) -> None:
    lo, hi = sorted((n, m))
    assert CAL.add_working_days(start, lo) <= CAL.add_working_days(start, hi)
    if lo < hi:
        assert CAL.add_working_days(start, lo) < CAL.add_working_days(start, hi)


@given(_days, st.integers(min_value=0, max_value=300))
def test_counting_working_days_inverts_adding_them(start: date, n: int) -> None:
    assert CAL.working_days_between(start, CAL.add_working_days(start, n)) == n
