"""Dates as Chinese documents and pages write them: 2026年12月4日.

Month and day take no leading zero, as GB/T 9704 sets for official documents (月、日不编虚位).
"""

from __future__ import annotations

from datetime import date


def chinese_date(day: date) -> str:
    """``date(2027, 1, 3)`` → ``2027年1月3日``."""
    return f"{day.year}年{day.month}月{day.day}日"
