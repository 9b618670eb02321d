"""Running a draw: load the pool, draw, store the result and its tasks, commit."""

from __future__ import annotations

import logging
import secrets
import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from server.domain import permissions
from server.domain.draw import model as draw_model
from server.domain.draw.algorithm import run_draw
from server.domain.draw.pseudonyms import pseudonymize
from server.domain.draw_plans import stratum_of
from server.domain.errors import Conflict, ValidationFailed
from server.domain.periods import period_key, period_label
from server.domain.permissions import INSPECTOR, Principal
from server.extensions import db
from server.models import (
    Agency,
    Draw,
    DrawPlan,
    Enterprise,
    Inspection,
    Recusal,
    Task,
    User,
)
from server.models.types import utcnow
from server.services import tasks as task_service
from server.services.calendar import working_calendar
from server.services.draws.plans import get_plan, opt_date, plan_config
from server.services.draws.seeds import commitment_for
from server.services.visit_policy import visit_policy_for

log = logging.getLogger(__name__)


class DrawExists(Conflict):
    code = "draw_exists"


class PlanInactive(Conflict):
    code = "plan_inactive"


@dataclass(frozen=True)
class Pool:
    """What a draw draws from, read from the database, with what was left out and why."""

    inputs: draw_model.DrawInputs
    enterprise_names: dict[str, str]
    outside_people: dict[str, dict[str, Any]]
    excluded: dict[str, int | str]


def build_pool(
    plan: DrawPlan, agency: Agency, *, draw_date: date, now: datetime, period: str
) -> Pool:
    """The plan's candidate enterprises and people as of ``now``, as the algorithm's inputs."""
    zone = ZoneInfo(agency.timezone)
    stmt = sa.select(Enterprise).where(
        Enterprise.agency_id == plan.agency_id, Enterprise.is_key.is_(False)
    )
    if plan.industries:
        stmt = stmt.where(Enterprise.industry.in_(plan.industries))
    if plan.risk_grades:
        stmt = stmt.where(Enterprise.risk_grade.in_(plan.risk_grades))
    if plan.credit_ratings:
        stmt = stmt.where(Enterprise.credit_rating.in_(plan.credit_ratings))
    if plan.exclude_seriously_dishonest:
        stmt = stmt.where(Enterprise.seriously_dishonest.is_(False))
    candidates = list(db.session.scalars(stmt))

    recent: set[uuid.UUID] = set()
    if plan.exclude_inspected_within_days:
        since = now - timedelta(days=plan.exclude_inspected_within_days)
        recent = set(
            db.session.scalars(
                sa.select(Inspection.enterprise_id)
                .where(Inspection.agency_id == plan.agency_id, Inspection.started_at >= since)
                .distinct()
            )
        )
    capped: set[uuid.UUID] = set()
    if plan.respect_yearly_caps:
        policy = visit_policy_for(agency, now.astimezone(zone).year)
        local = now.astimezone(zone)
        year_start = local.replace(month=1, day=1, hour=0, minute=0, second=0, microsecond=0)
        counts = dict(
            db.session.execute(
                sa.select(Inspection.enterprise_id, sa.func.count(Inspection.id))
                .where(Inspection.agency_id == plan.agency_id, Inspection.started_at >= year_start)
                .group_by(Inspection.enterprise_id)
            ).all()
        )
        for e in candidates:
            cap = policy.cap_for(
                is_key=e.is_key, credit_rating=e.credit_rating, risk_grade=e.risk_grade
            )
            if cap is not None and counts.get(e.id, 0) >= cap:
                capped.add(e.id)
    pool = [e for e in candidates if e.id not in recent and e.id not in capped]
    pool_ids = {str(e.id) for e in pool}

    people = sa.select(User).where(User.agency_id == plan.agency_id, User.active.is_(True))
    if plan.inspector_ids is None:
        people = people.where(User.role == INSPECTOR)
    else:
        people = people.where(User.id.in_([uuid.UUID(i) for i in plan.inspector_ids]))
    inspectors = list(db.session.scalars(people))

    recusals = [
        draw_model.Pair(str(i), str(e))
        for i, e in db.session.execute(
            sa.select(Recusal.inspector_id, Recusal.enterprise_id).where(
                Recusal.agency_id == plan.agency_id
            )
        )
        if str(e) in pool_ids
    ]
    outside_people = {o["id"]: o for o in plan.outside_inspectors}
    inputs = draw_model.DrawInputs(
        enterprises=[
            draw_model.Enterprise(
                str(e.id), stratum_of(plan.strata_by, e.risk_grade, e.credit_rating), e.industry
            )
            for e in pool
        ],
        inspectors=[
            draw_model.Inspector(str(u.id), u.cert_no, u.cert_valid_until) for u in inspectors
        ],
        outside_inspectors=[
            draw_model.OutsideInspector(
                o["id"],
                o["department"],
                o.get("certificate_no"),
                opt_date(o.get("certificate_valid_until")),
            )
            for o in plan.outside_inspectors
        ],
        recusals=recusals,
        previous_assignments=_previous_pairs(plan, period, pool_ids),
        parameters=draw_model.DrawParameters(
            draw_date=draw_date,
            team_size=plan.team_size,
            rates=dict(plan.rates),
            default_rate=plan.default_rate,
            min_targets=plan.min_targets,
            max_targets=plan.max_targets,
            outside_per_team=plan.outside_per_team,
        ),
    )
    return Pool(
        inputs=inputs,
        enterprise_names={str(e.id): e.name for e in candidates},
        outside_people=outside_people,
        excluded={
            "key_enterprises": "always",
            "recently_inspected": len(recent & {e.id for e in candidates}),
            "yearly_cap_reached": len(capped - recent),
        },
    )


def _previous_pairs(plan: DrawPlan, period: str, pool_ids: set[str]) -> list[draw_model.Pair]:
    """For each enterprise of the pool, who went there in the latest earlier draw that drew it.

    Every plan of the agency counts: a campaign and the general plan must not send the same
    inspector to an enterprise twice running either. The period this plan is (re)drawing
    does not count, nor do cancelled tasks (their draw was redrawn before anyone went).
    """
    rows = db.session.execute(
        sa.select(
            Task.enterprise_id,
            Task.inspector_ids,
            Task.outside_inspectors,
            Draw.drawn_at,
            Draw.attempt,
        )
        .join(Draw, Draw.id == Task.draw_id)
        .where(
            Task.agency_id == plan.agency_id,
            Task.status != task_service.CANCELLED,
            sa.or_(Draw.plan_id != plan.id, Draw.period_key != period),
        )
    )
    latest: dict[str, tuple[tuple[datetime, int], list[str]]] = {}
    for enterprise_id, inspectors, outside, drawn_at, attempt in rows:
        key = str(enterprise_id)
        if key not in pool_ids:
            continue
        mark = (drawn_at, attempt)
        if key not in latest or mark > latest[key][0]:
            latest[key] = (mark, [*inspectors, *(o["id"] for o in outside)])
    return [
        draw_model.Pair(person, enterprise)
        for enterprise, (_, people) in sorted(latest.items())
        for person in people
    ]


def _explain(
    exc: draw_model.DrawInfeasible, identities: dict[str, str], names: dict[str, str]
) -> draw_model.DrawInfeasible:
    """Name the enterprise a lead would recognise, not its pseudonym."""
    details = dict(exc.details)
    message = exc.message
    enterprises = details.get("enterprises")
    if isinstance(enterprises, list):
        details["enterprises"] = []
        for e in enterprises:
            alias = e.get("enterprise_id", "")
            real = identities.get(alias, alias)
            details["enterprises"].append(
                {**e, "enterprise_id": real, "enterprise_name": names.get(real, "")}
            )
            label = f"{names[real]} ({real})" if real in names else real
            message = message.replace(f"enterprise {alias}", f"enterprise {label}")
    return draw_model.DrawInfeasible(message, fields=exc.fields, details=details)


def run_plan(
    principal: Principal,
    plan_id: uuid.UUID,
    redraw_reason: str | None = None,
    now: datetime | None = None,
) -> Draw:
    """A lead runs a plan for the current period (or redraws it, giving a public reason)."""
    permissions.require_role(principal, permissions.MANAGE_DRAWS, "running a draw")
    plan = get_plan(principal, plan_id)
    return execute(
        plan,
        now=now or utcnow(),
        operator_id=principal.user_id,
        trigger="manual",
        redraw_reason=redraw_reason,
    )


def execute(
    plan: DrawPlan,
    *,
    now: datetime,
    operator_id: uuid.UUID | None,
    trigger: str,
    redraw_reason: str | None = None,
    fire_at: datetime | None = None,
) -> Draw:
    """Draw the plan for the period of ``fire_at`` (else of ``now``), store it with its tasks.

    One transaction. A first draw of a period is attempt 1, so two processes running the same
    plan at once collide on the database's unique constraint and the second gets
    ``DrawExists``; a redraw is the next attempt and cancels the open tasks of the one before.
    """
    if not plan.active:
        raise PlanInactive("this plan is inactive; activate it before running it")
    agency = db.session.get_one(Agency, plan.agency_id)
    zone = ZoneInfo(agency.timezone)
    draw_date = now.astimezone(zone).date()
    period = period_key(plan.period, (fire_at or now).astimezone(zone).date())
    reason = (redraw_reason or "").strip() or None
    latest = db.session.scalar(
        sa.select(Draw)
        .where(Draw.plan_id == plan.id, Draw.period_key == period)
        .order_by(Draw.attempt.desc())
        .limit(1)
    )
    if latest is not None and reason is None:
        raise DrawExists(
            f"this plan was drawn for {period_label(period)} already (draw {latest.id}); "
            "a redraw needs a redraw_reason, which is published",
            details={"draw_id": str(latest.id), "period_key": period},
        )
    if latest is None and reason is not None:
        raise ValidationFailed(
            f"this plan has no draw for {period_label(period)} to redraw; run it without a reason",
            code="nothing_to_redraw",
            fields={"redraw_reason": ["only for a period drawn already"]},
        )

    pool = build_pool(plan, agency, draw_date=draw_date, now=now, period=period)
    seed_row = None
    if latest is None:
        seed_row = commitment_for(plan, period, now, scheduled=trigger == "schedule")
    if seed_row is not None:
        seed = seed_row.seed
        # Commitments made before pseudonyms existed get their key now, still before drawing.
        key = seed_row.pseudonym_key or secrets.token_hex(draw_model.PSEUDONYM_KEY_BYTES)
    else:
        seed = secrets.token_hex(32)
        key = secrets.token_hex(draw_model.PSEUDONYM_KEY_BYTES)
    hidden, identities = pseudonymize(pool.inputs, bytes.fromhex(key))
    try:
        result = run_draw(hidden, seed)
    except draw_model.DrawInfeasible as exc:
        raise _explain(exc, identities, pool.enterprise_names) from None
    assignments = [a.renamed(identities) for a in result.assignments]
    named = {a.enterprise_id for a in result.assignments} | {
        person
        for a in result.assignments
        for person in (*a.inspector_ids, *a.outside_inspector_ids)
    }

    draw = Draw(
        agency_id=plan.agency_id,
        plan_id=plan.id,
        plan_name=plan.name,
        period_key=period,
        attempt=1 if latest is None else latest.attempt + 1,
        redraw_reason=reason,
        trigger=trigger,
        operator_id=operator_id,
        drawn_at=now,
        draw_date=draw_date,
        seed=result.seed,
        seed_commitment=result.seed_commitment,
        committed_at=seed_row.committed_at if seed_row is not None else None,
        fingerprint=result.fingerprint,
        algorithm=result.algorithm,
        parameters={
            **{k: v for k, v in plan_config(plan).items() if k not in ("notes", "active")},
            "plan_version": plan.version,
            "fire_at": fire_at.isoformat() if fire_at else None,
            "excluded": pool.excluded,
        },
        document=result.to_public_json(),
        pseudonym_key=key,
        identities={p: identities[p] for p in sorted(named)},
        pool_size=len(pool.inputs.enterprises),
        drawn_count=len(result.assignments),
    )
    db.session.add(draw)
    try:
        # Claim the (plan, period, attempt) slot before writing anything else.
        db.session.flush()
    except sa.exc.IntegrityError:
        db.session.rollback()
        raise _lost_race(period) from None
    if latest is not None:
        task_service.cancel_open_tasks(latest.id)
    due = working_calendar(agency).add_days(draw_date, plan.due_days, plan.due_day_kind)
    task_service.create_for_draw(
        draw,
        assignments,
        title=f"{plan.name}（{period_label(period)}）",
        enterprise_names=pool.enterprise_names,
        outside_people=pool.outside_people,
        due_date=due,
    )
    if seed_row is not None:
        seed_row.used_by_draw_id = draw.id
        seed_row.pseudonym_key = key
    try:
        db.session.commit()
    except sa.exc.IntegrityError:
        db.session.rollback()
        raise _lost_race(period) from None
    log.info(
        "draw %s of plan %s for %s (attempt %s, %s): %s of %s enterprises",
        draw.id,
        plan.id,
        period,
        draw.attempt,
        trigger,
        draw.drawn_count,
        draw.pool_size,
    )
    return draw


def _lost_race(period: str) -> DrawExists:
    return DrawExists(
        f"this plan was drawn for {period_label(period)} at the same moment by another run",
        details={"period_key": period},
    )
