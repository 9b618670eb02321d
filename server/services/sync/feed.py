"""The change feed: every committed change of a synced record gets the next feed position.

Tracked models declare ``__entity__``. Their inserts, updates and deletes are noticed at flush
time and written to ``changes`` just before commit, after advancing the agency's
``sync_clocks`` row. That row stays locked until the commit, so on PostgreSQL transactions
take feed positions in commit order and a reader never sees position n+1 before n.
"""

from __future__ import annotations

import uuid
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so

from server.database import dialect_insert, insert_rows
from server.extensions import SessionLike
from server.models.sync import EVERYONE, Change, SyncClock

_PENDING = "feed_pending"
_EXTRA = "feed_extra"


def _pending(session: SessionLike) -> dict[int, tuple[str, Any, bool]]:
    # Keyed by object identity: a new row has no primary key until it is flushed.
    return session.info.setdefault(_PENDING, {})


def _extra(session: SessionLike) -> list[dict[str, Any]]:
    return session.info.setdefault(_EXTRA, [])


def tombstone_for(
    session: SessionLike,
    agency_id: uuid.UUID,
    entity: str,
    record_id: uuid.UUID,
    version: int,
    user_id: uuid.UUID,
) -> None:
    """Tell one user's devices that a record left their view (access lost)."""
    _extra(session).append(
        {
            "agency_id": agency_id,
            "entity": entity,
            "record_id": record_id,
            "version": version,
            "deleted": True,
            "audience": user_id,
        }
    )


def snapshot(session: SessionLike) -> tuple[dict[Any, Any], list[Any]]:
    """What is pending now; ``restore`` it when a savepoint rolls back."""
    return dict(_pending(session)), list(_extra(session))


def restore(session: SessionLike, state: tuple[dict[Any, Any], list[Any]]) -> None:
    session.info[_PENDING] = dict(state[0])
    session.info[_EXTRA] = list(state[1])


def written(session: SessionLike, objects: Any) -> None:
    """Note records created or changed outside the ORM's flush (a batch's records written
    as rows, see sync/cache.py): they take feed positions at commit like flushed ones."""
    pending = _pending(session)
    for obj in objects:
        pending[id(obj)] = (type(obj).__entity__, obj, False)


def _before_flush(session: so.Session, flush_context: Any, instances: Any) -> None:
    pending = _pending(session)
    written(session, (obj for obj in session.new if getattr(type(obj), "__entity__", None)))
    for obj in session.dirty:
        entity = getattr(type(obj), "__entity__", None)
        if entity and session.is_modified(obj):
            pending[id(obj)] = (entity, obj, False)
    for obj in session.deleted:
        entity = getattr(type(obj), "__entity__", None)
        if entity:
            pending[id(obj)] = (entity, obj, True)


_UPSERTS: dict[str, Any] = {}
# A record's one feed row for an audience.
_FEED_KEY = ("agency_id", "entity", "record_id", "audience")


def _upsert(session: so.Session) -> Any:
    """One feed row per record and audience: a later change moves it to its new position.

    Built once per dialect and run as an executemany where ``insert_rows`` does not take the
    rows as one document: building a statement of many VALUES for every commit cost more
    than writing the rows."""
    dialect = session.get_bind().dialect.name
    if dialect not in _UPSERTS:
        stmt = dialect_insert(session)(Change)
        _UPSERTS[dialect] = stmt.on_conflict_do_update(
            index_elements=list(_FEED_KEY),
            set_={
                "seq": stmt.excluded.seq,
                "version": stmt.excluded.version,
                "deleted": stmt.excluded.deleted,
            },
        )
    return _UPSERTS[dialect]


def _advance_clock(session: so.Session, agency_id: uuid.UUID, n: int) -> int:
    """Reserve ``n`` feed positions for an agency; returns the last one."""
    stmt = (
        sa.update(SyncClock)
        .where(SyncClock.agency_id == agency_id)
        .values(seq=SyncClock.seq + n)
        .returning(SyncClock.seq)
    )
    last = session.execute(stmt, execution_options={"synchronize_session": False}).scalar()
    if last is None:
        insert = dialect_insert(session)
        session.execute(
            insert(SyncClock).values(agency_id=agency_id, seq=0).on_conflict_do_nothing()
        )
        last = session.execute(stmt, execution_options={"synchronize_session": False}).scalar_one()
    return int(last)


def _before_commit(session: so.Session) -> None:
    # Commit flushes only after this hook; flush now so this commit's changes are pending.
    session.flush()
    if not session.info.get(_PENDING) and not session.info.get(_EXTRA):
        return
    rows: list[dict[str, Any]] = []
    for entity, obj, deleted in session.info.pop(_PENDING, {}).values():
        rows.append(
            {
                "agency_id": obj.agency_id,
                "entity": entity,
                "record_id": obj.id,
                "version": obj.version,
                "deleted": deleted,
                "audience": EVERYONE,
            }
        )
    extras = {
        (r["agency_id"], r["entity"], r["record_id"], r["audience"]): r
        for r in session.info.pop(_EXTRA, [])
    }
    rows.extend(extras.values())
    if not rows:
        return
    by_agency: dict[uuid.UUID, list[dict[str, Any]]] = {}
    for row in rows:
        by_agency.setdefault(row["agency_id"], []).append(row)
    for agency_id in sorted(by_agency, key=str):
        group = by_agency[agency_id]
        last = _advance_clock(session, agency_id, len(group))
        for offset, row in enumerate(group):
            row["seq"] = last - len(group) + 1 + offset
        insert_rows(
            session.connection(),
            Change.__table__,
            group,
            upsert=(_FEED_KEY, ("seq", "version", "deleted")),
            fallback=_upsert(session),
        )


def _after_rollback(session: so.Session) -> None:
    session.info.pop(_PENDING, None)
    session.info.pop(_EXTRA, None)


def install() -> None:
    if not sa.event.contains(so.Session, "before_flush", _before_flush):
        sa.event.listen(so.Session, "before_flush", _before_flush)
        sa.event.listen(so.Session, "before_commit", _before_commit)
        sa.event.listen(so.Session, "after_rollback", _after_rollback)


def current_position(session: so.Session, agency_id: uuid.UUID) -> int:
    return session.scalar(sa.select(SyncClock.seq).where(SyncClock.agency_id == agency_id)) or 0
