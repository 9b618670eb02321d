"""Reading draws: one or a list, its public view, verification and its tasks."""

from __future__ import annotations

import uuid
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from server.domain import permissions
from server.domain.draw.algorithm import verify
from server.domain.draw.pseudonyms import pseudonym
from server.domain.draw.reading import read_document
from server.domain.permissions import Principal
from server.extensions import db
from server.models import (
    Agency,
    Draw,
    DrawSeed,
    Enterprise,
    Task,
    User,
)
from server.models.types import utcnow
from server.services import tasks as task_service
from server.services.lookup import scalar_or_not_found


def get_draw(principal: Principal, draw_id: uuid.UUID) -> Draw:
    permissions.require_role(principal, permissions.MANAGE_DRAWS, "reading draws")
    return scalar_or_not_found(
        sa.select(Draw).where(Draw.id == draw_id, Draw.agency_id == principal.agency_id),
        "no such draw",
    )


def list_draws(principal: Principal, plan_id: uuid.UUID | None = None) -> list[Draw]:
    permissions.require_role(principal, permissions.MANAGE_DRAWS, "reading draws")
    stmt = sa.select(Draw).where(Draw.agency_id == principal.agency_id)
    if plan_id is not None:
        stmt = stmt.where(Draw.plan_id == plan_id)
    return list(db.session.scalars(stmt.order_by(Draw.drawn_at.desc(), Draw.attempt.desc())))


def superseded_by(draw: Draw) -> Draw | None:
    return db.session.scalar(
        sa.select(Draw).where(
            Draw.plan_id == draw.plan_id,
            Draw.period_key == draw.period_key,
            Draw.attempt == draw.attempt + 1,
        )
    )


def commitment_of(draw: Draw) -> DrawSeed | None:
    """The published commitment whose seed the draw used (none: the seed was made with it)."""
    return db.session.scalar(sa.select(DrawSeed).where(DrawSeed.used_by_draw_id == draw.id))


def real_ids(draw: Draw) -> dict[str, str]:
    """Pseudonym → id for the drawn enterprises and people (empty for sr-draw/1: ids as is)."""
    return dict(draw.identities or {})


def draw_view(draw: Draw) -> dict[str, Any]:
    """A draw for leads: everything stored, and the teams with names and task ids."""
    document = read_document(draw.document)
    names = real_ids(draw)

    def real(public_id: str) -> str:
        return names.get(public_id, public_id)

    people = {real(i) for a in document.assignments for i in a.inspector_ids}
    users = {
        str(u.id): u
        for u in db.session.scalars(
            sa.select(User).where(User.id.in_([uuid.UUID(i) for i in people]))
        )
    }
    enterprises = {
        str(e.id): e
        for e in db.session.scalars(
            sa.select(Enterprise).where(
                Enterprise.id.in_([uuid.UUID(real(a.enterprise_id)) for a in document.assignments])
            )
        )
    }
    outside = {o["id"]: o for o in draw.parameters.get("outside_inspectors", [])}
    task_ids = {
        str(t.enterprise_id): t.id
        for t in db.session.scalars(sa.select(Task).where(Task.draw_id == draw.id))
    }
    later = superseded_by(draw)
    seed = commitment_of(draw)
    return {
        "id": draw.id,
        "plan_id": draw.plan_id,
        "plan_name": draw.plan_name,
        "period_key": draw.period_key,
        "attempt": draw.attempt,
        "redraw_reason": draw.redraw_reason,
        "superseded_by": later.id if later else None,
        "trigger": draw.trigger,
        "operator_id": draw.operator_id,
        "drawn_at": draw.drawn_at,
        "draw_date": draw.draw_date,
        "seed": draw.seed,
        "seed_commitment": draw.seed_commitment,
        "committed_at": draw.committed_at,
        "commitment_period_key": seed.planned_period_key if seed else None,
        "commitment_planned_for": seed.planned_for if seed else None,
        "fingerprint": draw.fingerprint,
        "algorithm": draw.algorithm,
        "parameters": draw.parameters,
        "pool_size": draw.pool_size,
        "drawn_count": draw.drawn_count,
        "strata": [
            {
                "stratum": s.stratum,
                "pool_size": s.pool_size,
                "rate": s.rate,
                "base": s.base,
                "drawn": s.drawn,
            }
            for s in document.strata
        ],
        "assignments": [
            {
                "enterprise_id": real(a.enterprise_id),
                "public_id": a.enterprise_id,
                "enterprise_name": enterprises[real(a.enterprise_id)].name
                if real(a.enterprise_id) in enterprises
                else "",
                "stratum": a.stratum,
                "task_id": task_ids.get(real(a.enterprise_id)),
                "inspectors": [
                    {
                        "id": real(i),
                        "public_id": i,
                        "name": _user_name(users.get(real(i))),
                        "certificate_no": users[real(i)].cert_no if real(i) in users else None,
                    }
                    for i in a.inspector_ids
                ],
                "outside_inspectors": [
                    {
                        "id": real(o),
                        "public_id": o,
                        "name": outside.get(real(o), {}).get("name", ""),
                        "department": outside.get(real(o), {}).get("department", ""),
                        "certificate_no": outside.get(real(o), {}).get("certificate_no"),
                    }
                    for o in a.outside_inspector_ids
                ],
            }
            for a in document.assignments
        ],
    }


def _user_name(user: User | None) -> str:
    return user.display_name if user is not None else ""


def verify_draw(principal: Principal, draw_id: uuid.UUID) -> dict[str, Any]:
    """Recompute a stored draw from its own published inputs and seed.

    Beyond what anyone can check from the document, the service also checks what only it
    can: that each drawn pseudonym is the one the draw's secret key gives the enterprise or
    person it is published as.
    """
    draw = get_draw(principal, draw_id)
    outcome = verify(draw.document)
    differences = list(outcome.differences)
    document = read_document(draw.document)
    # The row's own columns must say what the document says, too.
    for column in ("seed", "seed_commitment", "fingerprint", "algorithm"):
        if getattr(draw, column) != getattr(document, column):
            differences.append(f"the stored {column} differs from the published document")
    if draw.pseudonym_key is not None:
        key = bytes.fromhex(draw.pseudonym_key)
        names = real_ids(draw)
        named: dict[str, str] = {}
        for a in document.assignments:
            named[a.enterprise_id] = "enterprise"
            named.update(dict.fromkeys(a.inspector_ids, "inspector"))
            named.update(dict.fromkeys(a.outside_inspector_ids, "outside"))
        for public_id, kind in sorted(named.items()):
            real = names.get(public_id)
            if real is None or pseudonym(key, kind, real) != public_id:
                differences.append(f"{public_id} does not stand for the {kind} named")
    return {
        "draw_id": draw.id,
        "matches": not differences,
        "differences": differences,
        "algorithm": draw.algorithm,
        "fingerprint": draw.fingerprint,
        "seed_commitment": draw.seed_commitment,
    }


def draw_tasks(principal: Principal, draw_id: uuid.UUID) -> dict[str, Any]:
    """Task progress of one draw, for leads."""
    draw = get_draw(principal, draw_id)
    rows = list(
        db.session.scalars(sa.select(Task).where(Task.draw_id == draw.id).order_by(Task.title))
    )
    found = task_service.hazards_found([t.inspection_id for t in rows if t.inspection_id])
    counts = {status: 0 for status in ("open", "done", "cancelled")}
    for t in rows:
        counts[t.status] += 1
    zone = ZoneInfo(db.session.get_one(Agency, draw.agency_id).timezone)
    today = utcnow().astimezone(zone).date()
    return {
        "draw_id": draw.id,
        "total": len(rows),
        **counts,
        "overdue": sum(1 for t in rows if t.status == "open" and t.due_date < today),
        "tasks": [
            {
                "id": t.id,
                "enterprise_id": t.enterprise_id,
                "title": t.title,
                "kind": t.kind,
                "inspector_ids": t.inspector_ids,
                "outside_inspectors": t.outside_inspectors,
                "due_date": t.due_date,
                "status": t.status,
                "overdue": t.status == "open" and t.due_date < today,
                "inspection_id": t.inspection_id,
                "completed_at": t.completed_at,
                "hazards_found": found.get(t.inspection_id, 0) if t.inspection_id else None,
                "version": t.version,
            }
            for t in rows
        ],
    }
