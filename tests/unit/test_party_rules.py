"""The enterprise's and the supervisor's rules: lockouts, anonymity threshold, alerts."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from server.domain import parties, supervision
from server.domain.errors import ValidationFailed

T = datetime(2024, 5, 6, 1, 0, tzinfo=UTC)
ZONE = ZoneInfo("Asia/Shanghai")


def entry(n: str, agency: str = "a", at: datetime = T, scanned: datetime | None = T, **kw):
    values = {
        "inspection_id": n,
        "agency_id": agency,
        "agency_name": f"机关{agency}",
        "uscc": "91120104MA05XXXX1X",
        "enterprise_name": "天津市宏达机械制造有限公司",
        "started_at": at,
        "scanned_at": scanned,
        "cap": None,
    }
    values.update(kw)
    return supervision.Entry(**values)


def test_the_fifth_failure_in_a_row_locks_for_fifteen_minutes() -> None:
    failed, locked = 0, None
    for _ in range(4):
        lock = parties.after_failure(failed, T)
        failed, locked = lock.failed, lock.locked_until
        assert locked is None
    lock = parties.after_failure(failed, T)
    assert lock.locked_until == T + timedelta(minutes=15) and lock.failed == 0
    assert parties.is_locked(lock.locked_until, T + timedelta(minutes=14))
    assert not parties.is_locked(lock.locked_until, T + timedelta(minutes=15))


@pytest.mark.parametrize("count", range(0, 5))
def test_under_five_ratings_the_agency_learns_nothing(count: int) -> None:
    summary = parties.summarize_ratings([1] * count)
    assert summary == parties.RatingSummary(None, None, False)


def test_from_five_ratings_the_agency_sees_count_and_average() -> None:
    assert parties.summarize_ratings([1, 2, 3, 4, 5, 5]) == parties.RatingSummary(6, 3.33, True)


@pytest.mark.parametrize("rating", [0, 6, -1])
def test_ratings_are_one_to_five(rating: int) -> None:
    with pytest.raises(ValidationFailed):
        parties.check_rating(rating, "")


def test_an_open_complaint_is_overdue_the_day_after_its_deadline() -> None:
    due = parties.answer_due(date(2024, 5, 6))
    assert due == date(2024, 5, 21)
    assert not parties.is_overdue(parties.COMPLAINT_OPEN, due, due)
    assert parties.is_overdue(parties.COMPLAINT_OPEN, due, due + timedelta(days=1))
    assert not parties.is_overdue(parties.COMPLAINT_ANSWERED, due, due + timedelta(days=9))


def test_a_scan_is_late_only_beyond_ten_minutes_after_the_visit_began() -> None:
    on_time = entry("1", scanned=T + timedelta(minutes=10))
    late = entry("2", scanned=T + timedelta(minutes=11))
    missing = entry("3", scanned=None)
    found = {a.inspection_ids[0]: a.kind for a in supervision.scan_alerts([on_time, late, missing])}
    assert found == {"2": supervision.LATE_SCAN, "3": supervision.NO_SCAN}


def test_entries_beyond_the_yearly_cap_are_flagged_each_with_the_years_entries() -> None:
    visits = [entry(str(n), at=T + timedelta(days=30 * n), cap=2) for n in range(4)]
    alerts = supervision.high_frequency_alerts(visits, ZONE)
    assert [a.inspection_ids for a in alerts] == [("0", "1", "2"), ("0", "1", "2", "3")]
    # Another year starts again from zero; no cap, no alert.
    next_year = [entry("x", at=datetime(2025, 1, 2, tzinfo=UTC), cap=2)]
    assert supervision.high_frequency_alerts(visits[:2] + next_year, ZONE) == []
    assert supervision.high_frequency_alerts([entry(str(n)) for n in range(9)], ZONE) == []


def test_the_year_of_the_cap_is_the_local_one() -> None:
    # 2024-12-31 17:00 UTC is already 2025 in Shanghai.
    new_year = datetime(2024, 12, 31, 17, 0, tzinfo=UTC)
    visits = [entry("1", at=new_year - timedelta(days=1), cap=1), entry("2", at=new_year, cap=1)]
    assert supervision.high_frequency_alerts(visits, ZONE) == []


def test_several_agencies_within_the_window_is_multi_department_but_one_agency_is_not() -> None:
    window = timedelta(days=7)
    ours = [entry("1", "a"), entry("2", "a", at=T + timedelta(days=1))]
    assert supervision.multi_department_alerts(ours, window) == []
    theirs = entry("3", "b", at=T + timedelta(days=7))
    [alert] = supervision.multi_department_alerts([*ours, theirs], window)
    assert alert.agency_id == "b" and alert.inspection_ids == ("1", "2", "3")
    assert "机关a" in alert.detail
    later = entry("4", "b", at=T + timedelta(days=8, minutes=1))
    assert supervision.multi_department_alerts([ours[0], later], window) == []
