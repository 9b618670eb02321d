"""Which year a record belongs to, and by when a hazard must close to count as rectified."""

from __future__ import annotations

from datetime import UTC, date, datetime

from server.domain.reporting_years import day_span, end_of_day, rectified_as_of, year_span


def test_a_year_is_the_agencys_own_calendar_year() -> None:
    start, end = year_span(2024, "Asia/Shanghai")
    assert start == datetime(2023, 12, 31, 16, 0, tzinfo=UTC)
    assert end == datetime(2024, 12, 31, 16, 0, tzinfo=UTC)
    assert day_span(2024) == (date(2024, 1, 1), date(2025, 1, 1))


def test_a_past_years_hazards_are_judged_at_its_end_and_the_running_year_today() -> None:
    assert rectified_as_of(date(2024, 12, 31), date(2025, 1, 20)) == date(2024, 12, 31)
    assert rectified_as_of(date(2025, 12, 31), date(2025, 6, 1)) == date(2025, 6, 1)
    assert rectified_as_of(None, date(2025, 6, 1)) == date(2025, 6, 1)
    assert end_of_day(date(2024, 12, 31), "Asia/Shanghai") == datetime(
        2024, 12, 31, 16, 0, tzinfo=UTC
    )
