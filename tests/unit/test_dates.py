"""Dates as documents and pages print them."""

from __future__ import annotations

from datetime import date

from server.domain.dates import chinese_date


def test_month_and_day_take_no_leading_zero() -> None:
    assert chinese_date(date(2027, 1, 3)) == "2027年1月3日"


def test_two_digit_months_and_days_print_in_full() -> None:
    assert chinese_date(date(2026, 12, 14)) == "2026年12月14日"
