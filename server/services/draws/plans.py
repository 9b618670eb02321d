"""Draw plans: create, change, list and show them, and who may be in their pool."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from server.cron import next_fire_after, parse_cron
from server.domain import permissions
from server.domain.draw import model as draw_model
from server.domain.draw_plans import PoolSize, check_plan
from server.domain.errors import ValidationFailed
from server.domain.permissions import INSPECTOR, Principal
from server.extensions import db
from server.models import (
    Agency,
    DrawPlan,
    DrawSeed,
    User,
)
from server.models.types import utcnow
from server.services.draws.seeds import commit_next_seed, pending_seeds
from server.services.lookup import scalar_or_not_found

PLAN_FIELDS = (
    "name",
    "notes",
    "industries",
    "risk_grades",
    "credit_ratings",
    "exclude_seriously_dishonest",
    "exclude_inspected_within_days",
    "respect_yearly_caps",
    "strata_by",
    "rates",
    "default_rate",
    "min_targets",
    "max_targets",
    "inspector_ids",
    "team_size",
    "outside_inspectors",
    "outside_per_team",
    "due_days",
    "due_day_kind",
    "cron",
    "period",
    "active",
)
# Changing any of these restarts the schedule: earlier fire times are no longer "missed".
SCHEDULE_FIELDS = frozenset({"cron", "period", "active"})


def _check_people(agency: Agency, config: dict[str, Any], now: datetime) -> PoolSize:
    """How many people the plan lists or implies, and how many are certified today."""
    today = now.astimezone(ZoneInfo(agency.timezone)).date()
    ids = config.get("inspector_ids")
    people = sa.select(User).where(User.agency_id == agency.id, User.active.is_(True))
    if ids is None:
        found = list(db.session.scalars(people.where(User.role == INSPECTOR)))
    else:
        wanted = {uuid.UUID(str(i)) for i in ids}
        found = list(db.session.scalars(people.where(User.id.in_(wanted))))
        unknown = sorted(str(i) for i in wanted - {u.id for u in found})
        if unknown:
            raise ValidationFailed(
                f"not active users of your agency: {', '.join(unknown)}",
                code="unknown_inspector",
                fields={
                    "inspector_ids": [f"{i} is not an active user of your agency" for i in unknown]
                },
            )
    outside = config["outside_inspectors"]
    return PoolSize(
        inspectors=len(found),
        certified=sum(
            1 for u in found if draw_model.is_certified(u.cert_no, u.cert_valid_until, today)
        ),
        outside_inspectors=len(outside),
        outside_certified=sum(
            1
            for o in outside
            if draw_model.is_certified(
                o.get("certificate_no"), opt_date(o.get("certificate_valid_until")), today
            )
        ),
        on=today,
    )


def opt_date(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None


def _normalize(config: dict[str, Any]) -> dict[str, Any]:
    """Values as stored: ids as strings, outside inspectors with ids and ISO dates."""
    out = dict(config)
    if out.get("inspector_ids") is not None:
        out["inspector_ids"] = sorted({str(i) for i in out["inspector_ids"]})
    outside = []
    for person in out.get("outside_inspectors") or []:
        valid = person.get("certificate_valid_until")
        outside.append(
            {
                "id": str(person.get("id") or uuid.uuid4()),
                "name": person["name"],
                "department": person["department"],
                "certificate_no": person.get("certificate_no") or None,
                "certificate_valid_until": valid.isoformat() if isinstance(valid, date) else valid,
            }
        )
    if len({o["id"] for o in outside}) != len(outside):
        raise ValidationFailed(
            "an outside inspector is listed twice",
            fields={"outside_inspectors": ["ids must be unique"]},
        )
    out["outside_inspectors"] = outside
    for key in ("industries", "risk_grades", "credit_ratings", "strata_by"):
        out[key] = list(dict.fromkeys(out.get(key) or []))
    out["cron"] = (out.get("cron") or "").strip() or None
    return out


def _validated(agency: Agency, config: dict[str, Any], now: datetime) -> dict[str, Any]:
    config = _normalize(config)
    pool = _check_people(agency, config, now)
    config.update(check_plan(config, pool))
    return config


def plan_config(plan: DrawPlan) -> dict[str, Any]:
    return {name: getattr(plan, name) for name in PLAN_FIELDS}


def create_plan(
    principal: Principal, data: dict[str, Any], now: datetime | None = None
) -> DrawPlan:
    """Save a plan after checking it could produce a lawful draw."""
    permissions.require_role(principal, permissions.MANAGE_DRAWS, "creating a draw plan")
    now = now or utcnow()
    agency = db.session.get_one(Agency, principal.agency_id)
    config = _validated(agency, data, now)
    plan = DrawPlan(
        agency_id=agency.id, created_by=principal.user_id, schedule_from=now, version=1, **config
    )
    db.session.add(plan)
    db.session.flush()
    commit_next_seed(plan, agency, now)
    db.session.commit()
    return plan


def update_plan(
    principal: Principal, plan_id: uuid.UUID, changes: dict[str, Any], now: datetime | None = None
) -> DrawPlan:
    """Change some settings; the whole plan is checked again."""
    permissions.require_role(principal, permissions.MANAGE_DRAWS, "changing a draw plan")
    now = now or utcnow()
    plan = get_plan(principal, plan_id)
    agency = db.session.get_one(Agency, plan.agency_id)
    config = _validated(agency, {**plan_config(plan), **changes}, now)
    changed = {k for k, v in config.items() if getattr(plan, k) != v}
    if changed:
        for key in changed:
            setattr(plan, key, config[key])
        plan.version += 1
        if changed & SCHEDULE_FIELDS:
            plan.schedule_from = now
            plan.last_error = None
            _discard_unused_seeds(plan)
        commit_next_seed(plan, agency, now)
    db.session.commit()
    return plan


def _discard_unused_seeds(plan: DrawPlan) -> None:
    # A new schedule fires at other times (and maybe in other periods): its commitments are
    # made afresh. Any other change keeps the published commitment, so editing a plan never
    # re-rolls its seed.
    db.session.execute(
        sa.delete(DrawSeed).where(
            DrawSeed.plan_id == plan.id,
            DrawSeed.used_by_draw_id.is_(None),
            DrawSeed.lapsed_at.is_(None),
        )
    )


def get_plan(principal: Principal, plan_id: uuid.UUID) -> DrawPlan:
    permissions.require_role(principal, permissions.MANAGE_DRAWS, "reading draw plans")
    return scalar_or_not_found(
        sa.select(DrawPlan).where(
            DrawPlan.id == plan_id, DrawPlan.agency_id == principal.agency_id
        ),
        "no such draw plan",
    )


def list_plans(principal: Principal) -> list[DrawPlan]:
    permissions.require_role(principal, permissions.MANAGE_DRAWS, "reading draw plans")
    return list(
        db.session.scalars(
            sa.select(DrawPlan)
            .where(DrawPlan.agency_id == principal.agency_id)
            .order_by(DrawPlan.created_at.desc(), DrawPlan.id)
        )
    )


def pool_candidates(principal: Principal) -> list[User]:
    """The agency's active inspectors and leads, whom a plan may list in its inspector pool."""
    permissions.require_role(principal, permissions.MANAGE_DRAWS, "reading draw plans")
    return list(
        db.session.scalars(
            sa.select(User)
            .where(
                User.agency_id == principal.agency_id,
                User.active.is_(True),
                User.role.in_([INSPECTOR, permissions.LEAD]),
            )
            .order_by(User.role, User.unit, User.full_name, User.username)
        )
    )


def plan_view(plan: DrawPlan, now: datetime | None = None) -> dict[str, Any]:
    """A plan as the API shows it: settings, the next run and its published commitment."""
    now = now or utcnow()
    agency = db.session.get_one(Agency, plan.agency_id)
    view = {
        **plan_config(plan),
        "id": plan.id,
        "version": plan.version,
        "created_at": plan.created_at,
        "updated_at": plan.updated_at,
        "last_fire_at": plan.last_fire_at,
        "last_error": plan.last_error,
        "next_run_at": None,
        "upcoming": None,
    }
    if plan.active and plan.cron:
        view["next_run_at"] = next_fire_after(parse_cron(plan.cron, ZoneInfo(agency.timezone)), now)
        seed = db.session.scalar(
            pending_seeds(plan.id).order_by(DrawSeed.planned_for.desc()).limit(1)
        )
        if seed is not None:
            view["upcoming"] = {
                "period_key": seed.period_key,
                "planned_for": seed.planned_for,
                "seed_commitment": seed.commitment,
                "committed_at": seed.committed_at,
            }
    return view
