"""Draw periods (month, quarter, year) and cron fire times: what "one draw per period" means."""

from __future__ import annotations

from datetime import date, datetime, timedelta, tzinfo

from apscheduler.triggers.cron import CronTrigger

from server.domain.errors import ValidationFailed

PERIOD_KINDS: dict[str, str] = {"month": "每月", "quarter": "每季度", "year": "每年"}

# Searching backwards for the latest fire time widens the window step by step, so a cron that
# fires every minute is found in a minute's worth of steps and a yearly one in a few.
_WINDOWS = (
    timedelta(minutes=2),
    timedelta(hours=2),
    timedelta(days=2),
    timedelta(days=32),
    timedelta(days=367),
    timedelta(days=5 * 366),
)
_MAX_STEPS = 200_000


class InvalidCron(ValidationFailed):
    code = "invalid_cron"


def period_key(kind: str, day: date) -> str:
    """The period a draw made on ``day`` (local date) belongs to: 2024-05, 2024-Q2, 2024."""
    if kind == "month":
        return f"{day.year:04d}-{day.month:02d}"
    if kind == "quarter":
        return f"{day.year:04d}-Q{(day.month - 1) // 3 + 1}"
    if kind == "year":
        return f"{day.year:04d}"
    raise ValueError(f"period must be one of {', '.join(PERIOD_KINDS)}, not {kind!r}")


def period_label(key: str) -> str:
    """A period key as people write it: 2024年5月, 2024年第2季度, 2024年."""
    year, _, rest = key.partition("-")
    if not rest:
        return f"{year}年"
    if rest.startswith("Q"):
        return f"{year}年第{rest[1:]}季度"
    return f"{year}年{int(rest)}月"


def parse_cron(expression: str, zone: tzinfo) -> CronTrigger:
    """A five-field crontab line (minute hour day month weekday), evaluated in ``zone``."""
    text = (expression or "").strip()
    if len(text.split()) != 5:
        raise InvalidCron(
            f"cron expression {expression!r} must have five fields: minute hour day month weekday",
            fields={"cron": ["five fields: minute hour day month weekday, e.g. 0 9 1 */3 *"]},
        )
    try:
        trigger = CronTrigger.from_crontab(text, timezone=zone)
    except (ValueError, TypeError, KeyError) as exc:
        raise InvalidCron(
            f"cron expression {expression!r} is not valid: {exc}",
            fields={"cron": [f"not a valid crontab line: {exc}"]},
        ) from None
    if trigger.get_next_fire_time(None, datetime(2000, 1, 1, tzinfo=zone)) is None:
        raise InvalidCron(
            f"cron expression {expression!r} never fires",
            fields={"cron": ["never fires (e.g. 30 February)"]},
        )
    return trigger


def next_fire_after(trigger: CronTrigger, moment: datetime) -> datetime | None:
    """The first fire time strictly after ``moment``."""
    fire = trigger.get_next_fire_time(None, moment)
    if fire is not None and fire <= moment:
        fire = trigger.get_next_fire_time(fire, fire + timedelta(microseconds=1))
    return fire


def last_fire_at_or_before(trigger: CronTrigger, now: datetime) -> datetime | None:
    """The most recent fire time not after ``now`` (within about five years), else None."""
    for window in _WINDOWS:
        fire = trigger.get_next_fire_time(None, now - window)
        if fire is None or fire > now:
            continue
        steps = 0
        while True:
            following = trigger.get_next_fire_time(fire, fire + timedelta(microseconds=1))
            steps += 1
            if following is None or following > now or steps > _MAX_STEPS:
                return fire
            fire = following
    return None
