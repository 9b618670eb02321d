"""扫码入企 visit rules: repeated visits and yearly caps that should warn an arriving team."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, tzinfo
from typing import Any

from server.domain.enterprises import CREDIT_RATINGS, RISK_GRADES

# One province's caps for ordinary enterprises, by credit rating (1/2/4/6 a year for A/B/C/D).
DEFAULT_YEARLY_CAPS: dict[str, int] = {"credit:A": 1, "credit:B": 2, "credit:C": 4, "credit:D": 6}
DEFAULT_REPEAT_DAYS = 7
# The keys a yearly cap may have: one per credit rating and one per risk grade.
CAP_KEYS: tuple[str, ...] = tuple(f"credit:{c}" for c in CREDIT_RATINGS) + tuple(
    f"risk:{g}" for g in RISK_GRADES
)
MAX_YEARLY_CAP = 366


# A visit warning's code (see visit_warnings) as the office reads it.
WARNING_LABELS = {"repeat_visit": "短期内重复检查", "yearly_cap_reached": "超过年度检查上限"}

def yearly_cap_errors(caps: Mapping[str, Any]) -> dict[str, str]:
    """Per-key problems of a set of yearly caps (``{"credit:A": 1, "risk:poor": 4}``)."""
    errors: dict[str, str] = {}
    for key, value in caps.items():
        if key not in CAP_KEYS:
            errors[str(key)] = f"not a cap key; one of {', '.join(CAP_KEYS)}"
        elif isinstance(value, bool) or not isinstance(value, int):
            errors[key] = "a whole number of inspections a year"
        elif not 0 <= value <= MAX_YEARLY_CAP:
            errors[key] = f"between 0 and {MAX_YEARLY_CAP}"
    return errors


@dataclass(frozen=True)
class VisitWindow:
    """What a visit is judged against: the visits since ``since`` (a repeat) and the
    inspections of its calendar year in the agency's zone (the yearly cap)."""

    since: datetime
    year_start: datetime
    year_end: datetime

    @property
    def history_from(self) -> datetime:
        """The earliest visit either rule looks at."""
        return min(self.since, self.year_start)


@dataclass(frozen=True)
class VisitPolicy:
    """Per agency: how soon a repeat visit warns, and yearly caps keyed ``credit:X``/``risk:Y``."""

    repeat_within_days: int = DEFAULT_REPEAT_DAYS
    yearly_caps: Mapping[str, int] = field(default_factory=lambda: dict(DEFAULT_YEARLY_CAPS))

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any] | None) -> VisitPolicy:
        # Settings are validated when changed (server/schemas/agency.py); a bad stored value
        # still falls back to its default here rather than failing the scan that reads it.
        settings = settings if isinstance(settings, Mapping) else {}
        days = settings.get("repeat_visit_days", DEFAULT_REPEAT_DAYS)
        caps = settings.get("yearly_caps", DEFAULT_YEARLY_CAPS)
        return cls(
            repeat_within_days=days if _count(days) else DEFAULT_REPEAT_DAYS,
            yearly_caps=(
                {k: v for k, v in caps.items() if isinstance(k, str) and _count(v)}
                if isinstance(caps, Mapping)
                else dict(DEFAULT_YEARLY_CAPS)
            ),
        )

    def window(self, at: datetime, zone: tzinfo) -> VisitWindow:
        """The window of a visit at ``at``, whose calendar year is taken in ``zone``."""
        local = at.astimezone(zone)
        year_start = local.replace(month=1, day=1, hour=0, minute=0, second=0, microsecond=0)
        return VisitWindow(
            since=at - timedelta(days=self.repeat_within_days),
            year_start=year_start,
            year_end=year_start.replace(year=year_start.year + 1),
        )

    def cap_for(
        self, *, is_key: bool, credit_rating: str | None, risk_grade: str | None
    ) -> int | None:
        """The tightest cap that applies; key enterprises are covered in full, never capped."""
        if is_key:
            return None
        caps = [
            self.yearly_caps[k]
            for k in (f"credit:{credit_rating}", f"risk:{risk_grade}")
            if k in self.yearly_caps
        ]
        return min(caps) if caps else None


def _count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


@dataclass(frozen=True)
class PastVisit:
    at: datetime
    inspection_id: str | None
    team: tuple[str, ...]


def visit_warnings(
    *,
    arriving_at: datetime,
    arriving_team: Iterable[str],
    past_visits: Iterable[PastVisit],
    inspections_this_year: int,
    cap: int | None,
) -> list[dict[str, Any]]:
    """Warnings for a team arriving at an enterprise. ``past_visits`` are other teams' and
    this team's earlier scans and inspections there; the current scan is not among them."""
    warnings: list[dict[str, Any]] = []
    team = set(arriving_team)
    recent = sorted((v for v in past_visits if v.at <= arriving_at), key=lambda v: v.at)
    if recent:
        last = recent[-1]
        days = (arriving_at - last.at) / timedelta(days=1)
        warnings.append(
            {
                "code": "repeat_visit",
                "message": f"this enterprise was visited {days:.1f} days ago"
                + ("" if team & set(last.team) else " by another team"),
                "last_visit_at": last.at.isoformat(),
                "same_team": bool(team & set(last.team)),
            }
        )
    if cap is not None and inspections_this_year >= cap:
        warnings.append(
            {
                "code": "yearly_cap_reached",
                "message": f"{inspections_this_year} inspections this year already; "
                f"the yearly cap for this enterprise is {cap}",
                "inspections_this_year": inspections_this_year,
                "cap": cap,
            }
        )
    return warnings


def window_start(arriving_at: datetime, policy: VisitPolicy) -> datetime:
    return arriving_at - timedelta(days=policy.repeat_within_days)


def year_bounds(local_day: date) -> tuple[date, date]:
    return date(local_day.year, 1, 1), date(local_day.year + 1, 1, 1)
