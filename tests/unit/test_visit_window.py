"""The window a visit is judged against: its repeat period and its calendar year."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from server.domain.visits import VisitPolicy

SHANGHAI = ZoneInfo("Asia/Shanghai")


def test_the_year_is_the_agencys_not_utcs() -> None:
    # 17:30 UTC on New Year's Eve is already 1 January in Tianjin.
    at = datetime(2024, 12, 31, 17, 30, tzinfo=UTC)
    window = VisitPolicy(repeat_within_days=7).window(at, SHANGHAI)
    assert window.year_start == datetime(2025, 1, 1, tzinfo=SHANGHAI)
    assert window.year_end == datetime(2026, 1, 1, tzinfo=SHANGHAI)
    assert window.since == at - timedelta(days=7)
    # The repeat period reaches into the year before: the history starts there.
    assert window.history_from == window.since


def test_late_in_the_year_the_history_starts_with_the_year() -> None:
    at = datetime(2025, 6, 30, 9, tzinfo=SHANGHAI)
    window = VisitPolicy(repeat_within_days=30).window(at, SHANGHAI)
    assert window.since == datetime(2025, 5, 31, 9, tzinfo=SHANGHAI)
    assert window.history_from == datetime(2025, 1, 1, tzinfo=SHANGHAI)
