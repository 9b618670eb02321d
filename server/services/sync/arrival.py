"""What a scan is answered with: the visit warnings and the enterprise card.

Both read an enterprise's recent history (its scans, inspections, open hazards and tasks). A
batch reads that history once for all the enterprises it scans (``preload``), in a few
queries instead of five per scan; each scan then takes the stored rows the batch has not
touched and adds the touched records, whose state in memory is current (see cache.py).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from server.domain.visits import PastVisit, VisitPolicy, VisitWindow, visit_warnings
from server.extensions import db
from server.models import Agency, Enterprise, Task
from server.models.records import Hazard, Inspection, RecordMember, Scan
from server.services import tasks as draw_tasks
from server.services.visit_policy import visit_policy_for

# How many open hazards and past inspections the card lists.
CARD_HAZARDS = 50
CARD_INSPECTIONS = 5

_HAZARD_COLUMNS = (
    Hazard.id,
    Hazard.enterprise_id,
    Hazard.level,
    Hazard.status,
    Hazard.description,
    Hazard.deadline,
    Hazard.found_at,
)
_INSPECTION_COLUMNS = (
    Inspection.id,
    Inspection.enterprise_id,
    Inspection.kind,
    Inspection.started_at,
    Inspection.inspector_ids,
)
_SCAN_COLUMNS = (Scan.id, Scan.enterprise_id, Scan.scanned_at, Scan.inspector_ids)
_TASK_COLUMNS = (
    Task.id,
    Task.enterprise_id,
    Task.title,
    Task.kind,
    Task.draw_id,
    Task.due_date,
    Task.inspector_ids,
    Task.outside_inspectors,
    Task.status,
)


@dataclass
class _History:
    """One enterprise's stored rows, as read for a batch."""

    since: datetime  # scans and inspections are complete from here ...
    until: datetime  # ... to here (exclusive)
    scans: list[Any] = field(default_factory=list)
    inspections: list[Any] = field(default_factory=list)
    # The newest CARD_HAZARDS open hazards and CARD_INSPECTIONS inspections.
    open_hazards: list[Any] = field(default_factory=list)
    last_inspections: list[Any] = field(default_factory=list)
    # Open tasks of ``tasks_for`` at the enterprise.
    tasks_for: uuid.UUID | None = None
    tasks: list[Any] = field(default_factory=list)


def _policy(cache: Any, agency_id: uuid.UUID, year: int) -> VisitPolicy:
    def compute() -> VisitPolicy:
        agency = cache.agency or db.session.get_one(Agency, agency_id)
        return visit_policy_for(agency, year)

    return cache.memo(("visit_policy", year), compute)


def _window(cache: Any, agency_id: uuid.UUID, zone: ZoneInfo, at: datetime) -> VisitWindow:
    """The window of a visit at ``at``, by the policy of its year."""
    return _policy(cache, agency_id, at.astimezone(zone).year).window(at, zone)


def preload(
    cache: Any,
    agency_id: uuid.UUID,
    zone: ZoneInfo,
    visits: list[tuple[uuid.UUID, datetime]],
    user_id: uuid.UUID,
) -> None:
    """Read the history the batch's scans (enterprise, time) will answer with."""
    if not visits:
        return
    spans: dict[uuid.UUID, tuple[datetime, datetime]] = {}
    for enterprise_id, at in visits:
        window = _window(cache, agency_id, zone, at)
        lo, hi = window.history_from, window.year_end
        if enterprise_id in spans:
            old_lo, old_hi = spans[enterprise_id]
            lo, hi = min(lo, old_lo), max(hi, old_hi)
        spans[enterprise_id] = (lo, hi)
    _read(cache, spans, user_id)


def _newest(columns: tuple[Any, ...], order: Any, limit: int, *where: Any) -> sa.Select[Any]:
    """The ``limit`` newest rows of each enterprise in ``:ids`` (ROW_NUMBER per enterprise)."""
    enterprise = columns[1]
    rank = sa.func.row_number().over(
        partition_by=enterprise, order_by=(order.desc(), columns[0].desc())
    )
    inner = sa.select(*columns, rank.label("rank")).where(enterprise.in_(_IDS), *where).subquery()
    return (
        sa.select(*(inner.c[c.key] for c in columns))
        .where(inner.c.rank <= limit)
        .order_by(inner.c[order.key].desc())
    )


# Built once: a batch runs each of them once with its enterprises (:ids) and span (:lo, :hi).
_IDS: sa.BindParameter[Any] = sa.bindparam("ids", expanding=True)
_LO: sa.BindParameter[Any] = sa.bindparam("lo")
_HI: sa.BindParameter[Any] = sa.bindparam("hi")
_SCANS = sa.select(*_SCAN_COLUMNS).where(
    Scan.enterprise_id.in_(_IDS), Scan.scanned_at >= _LO, Scan.scanned_at < _HI
)
_INSPECTIONS = sa.select(*_INSPECTION_COLUMNS).where(
    Inspection.enterprise_id.in_(_IDS), Inspection.started_at >= _LO, Inspection.started_at < _HI
)
_OPEN_HAZARDS = _newest(_HAZARD_COLUMNS, Hazard.found_at, CARD_HAZARDS, Hazard.status != "closed")
_LAST_INSPECTIONS = _newest(_INSPECTION_COLUMNS, Inspection.started_at, CARD_INSPECTIONS)
# Open tasks at these enterprises on which :user is a team member.
_OPEN_TASKS = (
    sa.select(*_TASK_COLUMNS)
    .join(
        RecordMember,
        sa.and_(
            RecordMember.entity == "task",
            RecordMember.record_id == Task.id,
            RecordMember.user_id == sa.bindparam("user", type_=sa.Uuid),
        ),
    )
    .where(Task.enterprise_id.in_(_IDS), Task.status == draw_tasks.OPEN)
    .order_by(Task.due_date, Task.id)
)


def _read(
    cache: Any, spans: dict[uuid.UUID, tuple[datetime, datetime]], user_id: uuid.UUID
) -> None:
    histories: dict[uuid.UUID, _History] = cache.memo("arrival", dict)
    for enterprise_id, (since, until) in spans.items():
        histories[enterprise_id] = _History(since, until, tasks_for=user_id)
    ids = list(spans)
    span = {
        "ids": ids,
        "lo": min(s for s, _ in spans.values()),
        "hi": max(u for _, u in spans.values()),
    }
    with db.session.no_autoflush:
        for scan in db.session.execute(_SCANS, span):
            histories[scan.enterprise_id].scans.append(scan)
        for inspection in db.session.execute(_INSPECTIONS, span):
            histories[inspection.enterprise_id].inspections.append(inspection)
        for hazard in db.session.execute(_OPEN_HAZARDS, {"ids": ids}):
            histories[hazard.enterprise_id].open_hazards.append(hazard)
        for last in db.session.execute(_LAST_INSPECTIONS, {"ids": ids}):
            histories[last.enterprise_id].last_inspections.append(last)
        for task in db.session.execute(_OPEN_TASKS, {"ids": ids, "user": user_id}):
            histories[task.enterprise_id].tasks.append(task)


def _history(
    cache: Any, enterprise_id: uuid.UUID, window: VisitWindow, user_id: uuid.UUID
) -> _History:
    """The stored history of ``enterprise_id``, read again alone when the batch's preload did
    not cover this visit (an op the preload did not foresee)."""
    since, until = window.history_from, window.year_end
    histories: dict[uuid.UUID, _History] = cache.memo("arrival", dict)
    history = histories.get(enterprise_id)
    if (
        history is None
        or since < history.since
        or until > history.until
        or history.tasks_for != user_id
    ):
        _read(cache, {enterprise_id: (since, until)}, user_id)
        history = histories[enterprise_id]
    return history


def _current(cache: Any, model: type, stored: list[Any], enterprise_id: uuid.UUID) -> list[Any]:
    """Stored rows the batch has not touched, and the enterprise's touched records."""
    touched = cache.touched_ids(model)
    return [r for r in stored if r.id not in touched] + [
        r for r in cache.touched(model) if r.enterprise_id == enterprise_id
    ]


def _newest_current(
    cache: Any,
    model: type,
    stored: list[Any],
    enterprise_id: uuid.UUID,
    limit: int,
    key: str,
    reread: Any,
    keep: Any = None,
) -> list[Any]:
    """The ``limit`` newest of ``_current`` that ``keep``, newest first, as the database orders
    them (``key``, then id, descending). When the stored list was cut at ``limit`` and the
    batch touched one of its rows, the next stored row may belong in the answer: read again
    (``reread`` builds the statement; rarely needed, so only then)."""
    touched = cache.touched_ids(model)
    if len(stored) >= limit and any(r.id in touched for r in stored):
        stored = list(cache.read(model, reread()))
    rows = [r for r in _current(cache, model, stored, enterprise_id) if keep is None or keep(r)]
    return sorted(rows, key=lambda r: (getattr(r, key), r.id), reverse=True)[:limit]


def _open(cache: Any, stored: list[Any]) -> list[Any]:
    """The stored open tasks still open: the batch may have completed one (in memory)."""
    touched = {t.id: t for t in cache.touched(Task)}
    current = (touched.get(t.id, t) for t in stored)
    return [t for t in current if t.status == draw_tasks.OPEN]


def warnings_for(
    ctx: Any, enterprise: Enterprise, at: datetime, team: list[str]
) -> list[dict[str, Any]]:
    """What the arriving team is warned of: a repeat visit, the yearly cap passed."""
    cache = ctx.cache
    zone = ZoneInfo(ctx.agency_timezone)
    window = _window(cache, ctx.agency_id, zone, at)
    since, year_start, year_end = window.since, window.year_start, window.year_end
    history = _history(cache, enterprise.id, window, ctx.principal.user_id)
    scans = _current(cache, Scan, history.scans, enterprise.id)
    past = [
        PastVisit(s.scanned_at, None, tuple(s.inspector_ids))
        for s in scans
        if since <= s.scanned_at <= at
    ]
    # An inspection recorded without a scan (an emergency, a device without a camera) is a
    # visit too; the same rows count this year's inspections for the cap.
    inspections = _current(cache, Inspection, history.inspections, enterprise.id)
    past += [
        PastVisit(v.started_at, str(v.id), tuple(v.inspector_ids))
        for v in inspections
        if since <= v.started_at <= at
    ]
    this_year = sum(1 for v in inspections if year_start <= v.started_at < year_end)
    policy = _policy(cache, ctx.agency_id, at.astimezone(zone).year)
    return visit_warnings(
        arriving_at=at,
        arriving_team=team,
        past_visits=past,
        inspections_this_year=this_year,
        cap=policy.cap_for(
            is_key=enterprise.is_key,
            credit_rating=enterprise.credit_rating,
            risk_grade=enterprise.risk_grade,
        ),
    )


def enterprise_card(
    ctx: Any, enterprise: Enterprise, at: datetime, warnings: list[dict[str, Any]]
) -> dict[str, Any]:
    """What the phone shows on arrival: who this is, what is open, who came before."""
    cache = ctx.cache
    zone = ZoneInfo(ctx.agency_timezone)
    history = _history(
        cache, enterprise.id, _window(cache, ctx.agency_id, zone, at), ctx.principal.user_id
    )
    open_hazards = _newest_current(
        cache,
        Hazard,
        history.open_hazards,
        enterprise.id,
        CARD_HAZARDS,
        "found_at",
        lambda: (
            sa.select(*_HAZARD_COLUMNS)
            .where(Hazard.enterprise_id == enterprise.id, Hazard.status != "closed")
            .order_by(Hazard.found_at.desc(), Hazard.id.desc())
            .limit(CARD_HAZARDS)
        ),
        keep=lambda h: h.status != "closed",
    )
    last = _newest_current(
        cache,
        Inspection,
        history.last_inspections,
        enterprise.id,
        CARD_INSPECTIONS,
        "started_at",
        lambda: (
            sa.select(*_INSPECTION_COLUMNS)
            .where(Inspection.enterprise_id == enterprise.id)
            .order_by(Inspection.started_at.desc(), Inspection.id.desc())
            .limit(CARD_INSPECTIONS)
        ),
    )
    today = ctx.now.astimezone(zone).date()
    return {
        "enterprise_id": str(enterprise.id),
        "name": enterprise.name,
        "uscc": enterprise.uscc,
        "address": enterprise.address,
        "industry": enterprise.industry,
        "is_key": enterprise.is_key,
        "risk_grade": enterprise.risk_grade,
        "credit_rating": enterprise.credit_rating,
        "seriously_dishonest": enterprise.seriously_dishonest,
        "open_hazards": [
            {
                "id": str(h.id),
                "level": h.level,
                "status": h.status,
                "description": h.description,
                "deadline": h.deadline.isoformat() if h.deadline else None,
                "overdue": bool(h.deadline and h.deadline < today),
            }
            for h in open_hazards
        ],
        "last_inspections": [
            {
                "id": str(i.id),
                "kind": i.kind,
                "started_at": i.started_at.astimezone(zone).isoformat(),
                "inspector_ids": i.inspector_ids,
            }
            for i in last
        ],
        "tasks": [draw_tasks.card_task(t) for t in _open(cache, history.tasks)],
        "warnings": warnings,
    }
