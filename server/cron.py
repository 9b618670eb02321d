"""Crontab lines as APScheduler triggers, and their fire times before or after a moment."""

from __future__ import annotations

from datetime import datetime, timedelta, tzinfo

from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.combining import OrTrigger
from apscheduler.triggers.cron import CronTrigger

from server.domain.periods import parse_crontab

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


def parse_cron(expression: str, zone: tzinfo) -> BaseTrigger:
    """A five-field crontab line as cron(8) reads it (``parse_crontab``), evaluated in ``zone``."""
    tab = parse_crontab(expression)
    common = {"minute": tab.minute, "hour": tab.hour, "month": tab.month, "timezone": zone}
    if not tab.either:
        return CronTrigger(day=tab.day, day_of_week=tab.weekday, **common)
    return OrTrigger(
        [
            CronTrigger(day=tab.day, day_of_week="*", **common),
            CronTrigger(day="*", day_of_week=tab.weekday, **common),
        ]
    )


def next_fire_after(trigger: BaseTrigger, moment: datetime) -> datetime | None:
    """The first fire time strictly after ``moment``."""
    fire = trigger.get_next_fire_time(None, moment)
    if fire is not None and fire <= moment:
        fire = trigger.get_next_fire_time(fire, fire + timedelta(microseconds=1))
    return fire


def last_fire_at_or_before(trigger: BaseTrigger, now: datetime) -> datetime | None:
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
