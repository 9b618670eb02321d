"""What the public sees of draws (一公开): results, seeds, teams and task outcomes, nothing else.

Public pages run without a login, so the session is not fenced to an agency: every query here
names exactly the rows it publishes, and every value returned is meant to be public. Recusal
reasons, plan notes, pool filters and the people's internal ids are never published; the
verifiable document names the pool by per-draw pseudonyms, and only the drawn enterprises
and team members are named, beside their pseudonyms.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import replace
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from server.domain.draw.reading import read_document
from server.domain.periods import period_label
from server.extensions import db
from server.models import Agency, Draw, DrawPlan, DrawSeed, Enterprise, Task, User
from server.models.types import utcnow
from server.services.draws.reading import commitment_of, real_ids
from server.services.lookup import get_or_not_found
from server.services.paging import Page, paginate
from server.services.tasks import hazards_found

STATUS_TEXT = {"open": "未完成", "done": "已完成", "cancelled": "已作废（重新抽取）"}


def _local(moment: datetime | None, zone: ZoneInfo) -> str | None:
    return moment.astimezone(zone).isoformat() if moment else None


def _agencies(ids: set[uuid.UUID]) -> dict[uuid.UUID, Agency]:
    if not ids:
        return {}
    return {a.id: a for a in db.session.scalars(sa.select(Agency).where(Agency.id.in_(ids)))}


PER_PAGE = 50
MAX_PER_PAGE = 200


def list_draws(agency_code: str | None = None, page: int = 1, per_page: int = PER_PAGE) -> Page:
    """Published draws, newest first, one page of them."""
    per_page = max(1, min(per_page, MAX_PER_PAGE))
    page = max(1, page)
    stmt = sa.select(Draw)
    if agency_code:
        stmt = stmt.join(Agency, Agency.id == Draw.agency_id).where(Agency.code == agency_code)
    order = (Draw.drawn_at.desc(), Draw.attempt.desc(), Draw.id)
    found = paginate(stmt, *order, page=page, per_page=per_page)
    rows = found.items
    agencies = _agencies({d.agency_id for d in rows})
    later = (
        {
            (d.plan_id, d.period_key, d.attempt)
            for d in db.session.scalars(
                sa.select(Draw).where(Draw.plan_id.in_({d.plan_id for d in rows}), Draw.attempt > 1)
            )
        }
        if rows
        else set()
    )
    out = []
    for d in rows:
        agency = agencies[d.agency_id]
        zone = ZoneInfo(agency.timezone)
        out.append(
            {
                "id": str(d.id),
                "agency": agency.name,
                "plan_name": d.plan_name,
                "period_key": d.period_key,
                "period_label": period_label(d.period_key),
                "attempt": d.attempt,
                "redraw_reason": d.redraw_reason,
                "superseded": (d.plan_id, d.period_key, d.attempt + 1) in later,
                "trigger": d.trigger,
                "drawn_at": _local(d.drawn_at, zone),
                "pool_size": d.pool_size,
                "drawn_count": d.drawn_count,
                "fingerprint": d.fingerprint,
            }
        )
    return replace(found, items=out)


def upcoming(agency_code: str | None = None, now: datetime | None = None) -> list[dict[str, Any]]:
    """Scheduled draws not yet made, each with the SHA-256 of the seed it will use.

    A commitment whose fire time has passed (the scheduler is down) stays listed, marked
    overdue: the scheduler's next draw uses it. Once a later fire time is dealt with without
    it, it lapses and leaves the list.
    """
    now = now or utcnow()
    stmt = (
        sa.select(DrawSeed, DrawPlan)
        .join(DrawPlan, DrawPlan.id == DrawSeed.plan_id)
        .where(
            DrawSeed.used_by_draw_id.is_(None),
            DrawSeed.lapsed_at.is_(None),
            DrawPlan.active.is_(True),
            DrawPlan.cron.is_not(None),
        )
        .order_by(DrawSeed.planned_for, DrawSeed.id)
    )
    if agency_code:
        stmt = stmt.join(Agency, Agency.id == DrawPlan.agency_id).where(Agency.code == agency_code)
    rows = db.session.execute(stmt).all()
    agencies = _agencies({plan.agency_id for _, plan in rows})
    out = []
    for seed, plan in rows:
        agency = agencies[plan.agency_id]
        zone = ZoneInfo(agency.timezone)
        out.append(
            {
                "agency": agency.name,
                "plan_name": plan.name,
                "period_key": seed.period_key,
                "period_label": period_label(seed.period_key),
                "planned_for": _local(seed.planned_for, zone),
                "overdue": seed.planned_for is not None and seed.planned_for < now,
                "seed_commitment": seed.commitment,
                "committed_at": _local(seed.committed_at, zone),
            }
        )
    return out


def _get(draw_id: uuid.UUID) -> Draw:
    return get_or_not_found(Draw, draw_id, "no such draw")


def document(draw_id: uuid.UUID) -> str:
    """The verifiable document exactly as stored (canonical JSON, ``sr-draw-public/2``)."""
    return _get(draw_id).document


def publication(draw_id: uuid.UUID) -> dict[str, Any]:
    """Everything the public page shows about one draw."""
    draw = _get(draw_id)
    agency = db.session.get_one(Agency, draw.agency_id)
    zone = ZoneInfo(agency.timezone)
    doc = read_document(draw.document)
    names = real_ids(draw)

    def real(public_id: str) -> str:
        return names.get(public_id, public_id)

    enterprise_ids = [uuid.UUID(real(a.enterprise_id)) for a in doc.assignments]
    enterprises = {
        str(e.id): e
        for e in db.session.scalars(
            sa.select(Enterprise).where(
                Enterprise.agency_id == draw.agency_id, Enterprise.id.in_(enterprise_ids)
            )
        )
    }
    member_ids = {uuid.UUID(real(i)) for a in doc.assignments for i in a.inspector_ids}
    people = {
        str(u.id): u
        for u in db.session.scalars(
            sa.select(User).where(User.agency_id == draw.agency_id, User.id.in_(member_ids))
        )
    }
    outside = {o["id"]: o for o in draw.parameters.get("outside_inspectors", [])}
    tasks = {
        str(t.enterprise_id): t
        for t in db.session.scalars(sa.select(Task).where(Task.draw_id == draw.id))
    }
    found = hazards_found([t.inspection_id for t in tasks.values() if t.inspection_id])
    later = db.session.scalar(
        sa.select(Draw).where(
            Draw.plan_id == draw.plan_id,
            Draw.period_key == draw.period_key,
            Draw.attempt == draw.attempt + 1,
        )
    )
    earlier = db.session.scalar(
        sa.select(Draw).where(
            Draw.plan_id == draw.plan_id,
            Draw.period_key == draw.period_key,
            Draw.attempt == draw.attempt - 1,
        )
    )
    rows = []
    for a in doc.assignments:
        eid = real(a.enterprise_id)
        e = enterprises.get(eid)
        task = tasks.get(eid)
        rows.append(
            {
                "enterprise_id": eid,
                "public_id": a.enterprise_id,
                "enterprise_name": e.name if e else "",
                "uscc": e.uscc if e else "",
                "stratum": a.stratum,
                "inspectors": [
                    {
                        "public_id": i,
                        "name": _name(people.get(real(i))),
                        "certificate_no": people[real(i)].cert_no if real(i) in people else None,
                    }
                    for i in a.inspector_ids
                ],
                "outside_inspectors": [
                    {
                        "public_id": o,
                        "name": outside.get(real(o), {}).get("name", ""),
                        "department": outside.get(real(o), {}).get("department", ""),
                        "certificate_no": outside.get(real(o), {}).get("certificate_no"),
                    }
                    for o in a.outside_inspector_ids
                ],
                "result": {
                    "status": task.status if task else "open",
                    "status_text": STATUS_TEXT[task.status if task else "open"],
                    "due_date": task.due_date.isoformat() if task else None,
                    "inspected_on": task.completed_at.astimezone(zone).date().isoformat()
                    if task and task.completed_at
                    else None,
                    "hazards_found": found.get(task.inspection_id, 0)
                    if task and task.inspection_id
                    else None,
                },
            }
        )
    seed = commitment_of(draw)
    commitment = None
    if seed is not None:
        planned = seed.planned_period_key or seed.period_key
        commitment = {
            "committed_at": _local(seed.committed_at, zone),
            "planned_for": _local(seed.planned_for, zone),
            "period_key": planned,
            "period_label": period_label(planned),
            # A scheduled draw that caught up after downtime, with the first missed commitment.
            "carried_over": planned != draw.period_key,
        }
    return {
        "id": str(draw.id),
        "agency": agency.name,
        "plan_name": draw.plan_name,
        "period_key": draw.period_key,
        "period_label": period_label(draw.period_key),
        "attempt": draw.attempt,
        "redraw_reason": draw.redraw_reason,
        "replaces": str(earlier.id) if earlier else None,
        "superseded_by": str(later.id) if later else None,
        "superseded_reason": later.redraw_reason if later else None,
        "trigger": draw.trigger,
        "drawn_at": _local(draw.drawn_at, zone),
        "draw_date": draw.draw_date.isoformat(),
        "seed": draw.seed,
        "seed_commitment": draw.seed_commitment,
        "committed_at": _local(draw.committed_at, zone),
        "commitment": commitment,
        "fingerprint": draw.fingerprint,
        "algorithm": draw.algorithm,
        "pseudonymous": draw.pseudonym_key is not None,
        "team_size": doc.inputs.parameters.team_size,
        "outside_per_team": doc.inputs.parameters.outside_per_team,
        "pool_size": draw.pool_size,
        "inspector_pool_size": doc.inputs.pool_inspectors,
        "drawn_count": draw.drawn_count,
        "strata": [
            {
                "stratum": s.stratum,
                "pool_size": s.pool_size,
                "rate": s.rate,
                "drawn": s.drawn,
            }
            for s in doc.strata
        ],
        "assignments": rows,
    }


def _name(user: User | None) -> str:
    return user.display_name if user is not None else ""


def publication_json(draw_id: uuid.UUID) -> dict[str, Any]:
    """The verifiable document with the page's content beside it under ``publication``.

    ``scripts/verify_draw.py`` and ``server.domain.draw.algorithm.verify`` read only the
    document's own members, so this one file both shows and proves the draw.
    """
    body = json.loads(document(draw_id))
    body["publication"] = publication(draw_id)
    return body
