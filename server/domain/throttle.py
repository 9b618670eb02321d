"""How many failed sign-ins a user name, or an address, may have before it must wait."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

USER = "user"
ADDRESS = "address"


@dataclass(frozen=True)
class Limit:
    """At most ``failures`` failed sign-ins in a window of ``window``; then wait for its end."""

    failures: int
    window: timedelta


# A person mistyping a password a few times never meets these; a script guessing passwords
# for one account gets ten guesses a quarter-hour, and one address forty over all accounts
# (an office behind one NAT address holds many honest users).
LIMITS = {
    USER: Limit(10, timedelta(minutes=15)),
    ADDRESS: Limit(40, timedelta(minutes=15)),
}


@dataclass(frozen=True)
class Window:
    """The failures counted for one user name or address since ``started_at``."""

    started_at: datetime
    failures: int


def window_cutoff(limit: Limit, now: datetime) -> datetime:
    """Windows that started at or before this moment are over: the next failure starts a
    new one."""
    return now - limit.window


def wait_seconds(window: Window | None, limit: Limit, now: datetime) -> int:
    """Seconds to wait before the next try is allowed: 0 when it is allowed now."""
    if window is None or window.failures < limit.failures:
        return 0
    ends = window.started_at + limit.window
    if now >= ends:
        return 0
    return max(1, math.ceil((ends - now).total_seconds()))
