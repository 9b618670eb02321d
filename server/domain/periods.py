"""Draw periods (month, quarter, year) and crontab lines: what "one draw per period" means."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from server.domain.errors import ValidationFailed

PERIOD_KINDS: dict[str, str] = {"month": "每月", "quarter": "每季度", "year": "每年"}



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


@dataclass(frozen=True)
class Crontab:
    """A checked crontab line, each field as the explicit values APScheduler reads the same way
    (``*`` kept, weekdays as names)."""

    minute: str
    hour: str
    day: str
    month: str
    weekday: str
    # Both the day of the month and the weekday are restricted: the line fires on either.
    either: bool


def parse_crontab(expression: str) -> Crontab:
    """A five-field crontab line (minute hour day month weekday), checked.

    The line means what it means to cron(8), not what APScheduler's own syntax would make of
    it: weekdays count from Sunday (``0`` and ``7`` are Sunday, ``1`` is Monday), names
    (``mon``, ``jan``) may stand for numbers anywhere, and when both the day of the month and
    the weekday are restricted (neither starts with ``*``) the line fires on either, so
    ``0 9 1 * 1`` fires on the 1st and on every Monday.
    """
    text = (expression or "").strip()
    parts = text.split()
    if len(parts) != 5:
        raise InvalidCron(
            f"cron expression {expression!r} must have five fields: minute hour day month weekday",
            fields={"cron": ["five fields: minute hour day month weekday, e.g. 0 9 1 */3 *"]},
        )
    try:
        values = [
            _crontab_field(part, spec) for part, spec in zip(parts, _CRON_FIELDS, strict=True)
        ]
    except ValueError as exc:
        raise InvalidCron(
            f"cron expression {expression!r} is not valid: {exc}",
            fields={"cron": [f"not a valid crontab line: {exc}"]},
        ) from None
    minute, hour, day, month, weekday = values
    either = not (parts[2].startswith("*") or parts[4].startswith("*"))
    if not either and not _some_date(day, month):
        raise InvalidCron(
            f"cron expression {expression!r} never fires",
            fields={"cron": ["never fires (e.g. 30 February)"]},
        )
    return Crontab(minute, hour, day, month, weekday, either)


_MONTH_DAYS = (31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def _some_date(day: str, month: str) -> bool:
    """Whether any chosen day exists in any chosen month. Every date falls on every weekday
    sooner or later (29 February within 28 years), so the weekday cannot stop a line firing."""
    days = range(1, 32) if day == "*" else [int(v) for v in day.split(",")]
    months = range(1, 13) if month == "*" else [int(v) for v in month.split(",")]
    return any(d <= _MONTH_DAYS[m - 1] for m in months for d in days)


@dataclass(frozen=True)
class _CronField:
    """One crontab field: its range and the names that count up from ``low`` (jan = 1)."""

    name: str
    low: int
    high: int
    names: tuple[str, ...] = ()


_WEEKDAY_NAMES = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")
_CRON_FIELDS = (
    _CronField("minute", 0, 59),
    _CronField("hour", 0, 23),
    _CronField("day", 1, 31),
    _CronField(
        "month",
        1,
        12,
        ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"),
    ),
    # 0-7: cron(8) takes both 0 and 7 for Sunday.
    _CronField("weekday", 0, 7, _WEEKDAY_NAMES),
)
_CRON_PART = re.compile(r"(\*|[0-9a-z]+(?:-[0-9a-z]+)?)(?:/([0-9]+))?", re.IGNORECASE)


def _crontab_field(text: str, spec: _CronField) -> str:
    """One crontab field as the explicit values APScheduler reads the same way (``*`` kept)."""
    if text == "*":
        return "*"
    chosen: set[int] = set()
    for part in text.split(","):
        match = _CRON_PART.fullmatch(part)
        if match is None:
            raise ValueError(f"{spec.name} {part!r} is not a number, range, list or step")
        body, step_text = match.groups()
        step = int(step_text) if step_text else 1
        if step < 1:
            raise ValueError(f"{spec.name} step must be at least 1")
        if body == "*":
            first, last = spec.low, spec.high
        else:
            start, _, end = body.partition("-")
            first = _cron_value(start, spec)
            # "5/15" runs from 5 to the end of the range, as cron(8) reads it.
            last = _cron_value(end, spec) if end else (spec.high if step_text else first)
            if first > last:
                raise ValueError(f"{spec.name} range {body!r} runs backwards")
        chosen.update(range(first, last + 1, step))
    if spec.name == "weekday":
        # APScheduler counts weekdays from Monday; its names are unambiguous.
        days = sorted({v % 7 for v in chosen})
        return ",".join(_WEEKDAY_NAMES[d] for d in days)
    return ",".join(str(v) for v in sorted(chosen))


def _cron_value(text: str, spec: _CronField) -> int:
    word = text.lower()
    if word in spec.names:
        return spec.names.index(word) + spec.low
    if not word.isdigit():
        raise ValueError(
            f"{spec.name} {text!r} is not a number"
            + (f" or one of {', '.join(spec.names)}" if spec.names else "")
        )
    value = int(word)
    if not spec.low <= value <= spec.high:
        raise ValueError(f"{spec.name} {value} is outside {spec.low}-{spec.high}")
    return value
