"""Failed sign-ins counted per user name and per address, in the database every host shares."""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast

import sqlalchemy as sa

from server.database import dialect_insert
from server.domain import throttle
from server.domain.errors import TooManyRequests
from server.extensions import db
from server.models.throttle import LoginThrottle

_TABLE = LoginThrottle.__table__


def _keys(username: str, address: str | None) -> list[tuple[str, str]]:
    keys = [(throttle.USER, username[:200])]
    if address:
        keys.append((throttle.ADDRESS, address[:200]))
    return keys


def check(username: str, address: str | None, now: datetime) -> None:
    """Raise ``TooManyRequests`` while the user name or the address must wait."""
    wait = 0
    for scope, key in _keys(username, address):
        row = db.session.get(LoginThrottle, (scope, key))
        window = None if row is None else throttle.Window(row.window_started_at, row.failures)
        wait = max(wait, throttle.wait_seconds(window, throttle.LIMITS[scope], now))
    if wait:
        minutes = -(-wait // 60)
        raise TooManyRequests(
            f"登录失败次数过多，请 {minutes} 分钟后再试 (too many failed sign-ins; "
            f"try again in {wait} s)",
            details={"retry_after": wait},
        )


def record_failure(username: str, address: str | None, now: datetime) -> None:
    """Count one failed sign-in, in a transaction of its own (the request then fails).

    Atomic across hosts: the counter is raised in place while its window lasts; a window
    that is over (or none) starts again at 1, and a concurrent start is retried as a raise."""
    db.session.rollback()
    for scope, key in _keys(username, address):
        cutoff = throttle.window_cutoff(throttle.LIMITS[scope], now)
        where = (_TABLE.c.scope == scope) & (_TABLE.c.key == key)
        for _ in range(2):
            raised = cast(
                "sa.CursorResult[Any]",
                db.session.execute(
                    sa.update(_TABLE)
                    .where(where, _TABLE.c.window_started_at > cutoff)
                    .values(failures=_TABLE.c.failures + 1)
                ),
            )
            if raised.rowcount:
                break
            insert = dialect_insert(db.session)(_TABLE).values(
                scope=scope, key=key, window_started_at=now, failures=1
            )
            started = cast(
                "sa.CursorResult[Any]",
                db.session.execute(
                    insert.on_conflict_do_update(
                        index_elements=["scope", "key"],
                        set_={"window_started_at": now, "failures": 1},
                        where=_TABLE.c.window_started_at <= cutoff,
                    )
                ),
            )
            if started.rowcount:
                break
    db.session.commit()


def forget(username: str) -> None:
    """A successful sign-in clears the user name's failures (not the address's)."""
    db.session.execute(
        sa.delete(_TABLE).where(_TABLE.c.scope == throttle.USER, _TABLE.c.key == username[:200])
    )
