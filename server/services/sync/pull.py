"""``GET /sync/pull``: what changed after a cursor, within what the user may see."""

from __future__ import annotations

import uuid
from collections import defaultdict
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from server.domain.permissions import INSPECTOR, Principal
from server.domain.sync import decode_cursor, encode_cursor
from server.extensions import db
from server.models import Agency, Enterprise, Task
from server.models.records import (
    Document,
    Hazard,
    Inspection,
    RecordMember,
    Rectification,
    Scan,
)
from server.models.sync import EVERYONE, Change
from server.services.sync.records import serialize

MODELS: dict[str, Any] = {
    "enterprise": Enterprise,
    "scan": Scan,
    "inspection": Inspection,
    "hazard": Hazard,
    "rectification": Rectification,
    "document": Document,
    "task": Task,
}
# What an inspector sees only as a member (took part / was assigned); the rest of the
# agency's records (directory, hazards, documents) every user of the agency sees.
MEMBER_ONLY = ("scan", "inspection", "task")


def _visible(principal: Principal) -> sa.ColumnElement[bool]:
    mine = Change.audience == principal.user_id
    if principal.role != INSPECTOR:
        return sa.or_(Change.audience == EVERYONE, mine)
    member = sa.exists().where(
        RecordMember.entity == Change.entity,
        RecordMember.record_id == Change.record_id,
        RecordMember.user_id == principal.user_id,
    )
    shared = sa.and_(
        Change.audience == EVERYONE,
        sa.or_(Change.entity.not_in(MEMBER_ONLY), member),
    )
    return sa.or_(shared, mine)


def pull(principal: Principal, cursor: str | None, limit: int) -> dict[str, Any]:
    """Changes after ``cursor`` in feed order, with the records' current data."""
    after = decode_cursor(cursor)
    rows = db.session.execute(
        sa.select(
            Change.seq,
            Change.entity,
            Change.record_id,
            Change.version,
            Change.deleted,
            Change.audience,
        )
        .where(Change.agency_id == principal.agency_id, Change.seq > after, _visible(principal))
        .order_by(Change.seq)
        .limit(limit + 1)
    ).all()
    has_more = len(rows) > limit
    rows = rows[:limit]
    agency = db.session.get_one(Agency, principal.agency_id)
    zone = ZoneInfo(agency.timezone)
    wanted: dict[str, list[uuid.UUID]] = defaultdict(list)
    for row in rows:
        if not row.deleted and row.entity in MODELS:
            wanted[row.entity].append(row.record_id)
    records: dict[tuple[str, uuid.UUID], Any] = {}
    for entity, ids in wanted.items():
        model = MODELS[entity]
        for record in db.session.scalars(sa.select(model).where(model.id.in_(ids))):
            records[(entity, record.id)] = record
    changes = []
    for row in rows:
        record = records.get((row.entity, row.record_id))
        if row.deleted or record is None:
            changes.append(
                {
                    "entity": row.entity,
                    "id": row.record_id,
                    "version": row.version,
                    "deleted": True,
                    "data": None,
                }
            )
        else:
            changes.append(
                {
                    "entity": row.entity,
                    "id": row.record_id,
                    "version": record.version,
                    "deleted": False,
                    "data": serialize(record, zone),
                }
            )
    next_seq = rows[-1].seq if rows else after
    return {"changes": changes, "next_cursor": encode_cursor(next_seq), "has_more": has_more}
