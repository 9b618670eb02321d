"""Which reporting year a record belongs to: one rule for the annual report, the hazard
statistics and the lists behind every figure.

A record belongs to the agency's calendar year (its own time zone) of one date of its own,
fixed when the record is made, so a past year's figure does not move when later records
arrive: an inspection by when it started, a document by when it was issued, a hazard by when
it was found, a case by when it was opened (a transfer to the judiciary by its transfer), a
decision or an exemption by its decision date, a legal review by its review date, a
complaint by when it was handled. A revoked decision is annulled and counts nowhere.

The one figure that can legitimately change after its year is whether a hazard was
rectified; it is judged at the end of the year (``rectified_as_of``): a hazard closed after
the 31st of December is not rectified in that year's figures, in the report as in the
statistics, so the figure printed in January stays true.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

# record kind → the field whose date decides its year
YEAR_OF = {
    "inspection": "started_at",
    "document": "issued_at",
    "hazard": "found_at",
    "case": "opened_on",
    "transfer": "transferred_on",
    "decision": "decided_on",
    "exemption": "decided_on",
    "legal_review": "reviewed_on",
    "complaint": "handled_on",
}

YEAR_RULE_TEXT = (
    "统计口径：检查按开始时间、文书按签发时间、隐患按发现时间、立案按立案日期、移送按移送日期、"
    "处罚决定和免罚按决定日期（已撤销的决定不计）、法制审核按审核日期、投诉举报按办结日期，"
    "均以本机关所在时区的公历年度计。已整改隐患指当年发现并于当年12月31日前销号的隐患；"
    "此后销号的不计入当年，往年数字因此不再变动。"
)


def year_span(year: int, timezone: str) -> tuple[datetime, datetime]:
    """The agency's calendar year as a half-open UTC span, for records dated by a moment."""
    zone = ZoneInfo(timezone)
    start = datetime(year, 1, 1, tzinfo=zone).astimezone(UTC)
    end = datetime(year + 1, 1, 1, tzinfo=zone).astimezone(UTC)
    return start, end


def day_span(year: int) -> tuple[date, date]:
    """The calendar year as a half-open span of days, for records dated by a day."""
    return date(year, 1, 1), date(year + 1, 1, 1)


def rectified_as_of(last_day: date | None, today: date) -> date:
    """The day by whose end a hazard must be closed to count as rectified in a period ending
    on ``last_day``: that day, or today while the period runs (or has no end)."""
    return min(last_day, today) if last_day else today


def end_of_day(day: date, timezone: str) -> datetime:
    """The UTC moment a local ``day`` ends (the next day's local midnight)."""
    following = day + timedelta(days=1)
    zone = ZoneInfo(timezone)
    return datetime(following.year, following.month, following.day, tzinfo=zone).astimezone(UTC)
