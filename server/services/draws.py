"""Draw plans, the recusal registry, and running a draw: load the pool, draw, store, commit."""

from __future__ import annotations

import logging
import secrets
import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from server.domain import draw as algorithm
from server.domain import permissions
from server.domain.draw_plans import PoolSize, check_plan, stratum_of
from server.domain.errors import Conflict, NotFound, ValidationFailed
from server.domain.periods import next_fire_after, parse_cron, period_key, period_label
from server.domain.permissions import INSPECTOR, Principal
from server.extensions import db
from server.models import (
    Agency,
    Draw,
    DrawPlan,
    DrawSeed,
    Enterprise,
    Inspection,
    Recusal,
    Task,
    User,
)
from server.models.types import utcnow
from server.services import tasks as task_service
from server.services.calendar import working_calendar
from server.services.visit_policy import visit_policy_for

log = logging.getLogger(__name__)

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


class DrawExists(Conflict):
    code = "draw_exists"


class PlanInactive(Conflict):
    code = "plan_inactive"


def _zone(agency: Agency) -> ZoneInfo:
    return ZoneInfo(agency.timezone)


# --- plans ----------------------------------------------------------------------------------


def _check_people(agency: Agency, config: dict[str, Any], now: datetime) -> PoolSize:
    """How many people the plan lists or implies, and how many are certified today."""
    today = now.astimezone(_zone(agency)).date()
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
            1 for u in found if algorithm.is_certified(u.cert_no, u.cert_valid_until, today)
        ),
        outside_inspectors=len(outside),
        outside_certified=sum(
            1
            for o in outside
            if algorithm.is_certified(
                o.get("certificate_no"), _opt_date(o.get("certificate_valid_until")), today
            )
        ),
        on=today,
    )


def _opt_date(value: str | None) -> date | None:
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
    config.update(check_plan(config, pool, _zone(agency)))
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
    plan = db.session.scalar(
        sa.select(DrawPlan).where(DrawPlan.id == plan_id, DrawPlan.agency_id == principal.agency_id)
    )
    if plan is None:
        raise NotFound("no such draw plan")
    return plan


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
        view["next_run_at"] = next_fire_after(parse_cron(plan.cron, _zone(agency)), now)
        seed = db.session.scalar(
            _pending_seeds(plan.id).order_by(DrawSeed.planned_for.desc()).limit(1)
        )
        if seed is not None:
            view["upcoming"] = {
                "period_key": seed.period_key,
                "planned_for": seed.planned_for,
                "seed_commitment": seed.commitment,
                "committed_at": seed.committed_at,
            }
    return view


# --- seed commitments -----------------------------------------------------------------------


def _pending_seeds(plan_id: uuid.UUID) -> sa.Select[DrawSeed]:
    """The plan's published commitments that a draw may still use."""
    return sa.select(DrawSeed).where(
        DrawSeed.plan_id == plan_id,
        DrawSeed.used_by_draw_id.is_(None),
        DrawSeed.lapsed_at.is_(None),
    )


def commit_next_seed(plan: DrawPlan, agency: Agency, now: datetime) -> DrawSeed | None:
    """Fix and publish (as SHA-256) the seed of the plan's next scheduled draw, once."""
    if not plan.active or not plan.cron:
        return None
    trigger = parse_cron(plan.cron, _zone(agency))
    fire = now
    for _ in range(36):
        following = next_fire_after(trigger, fire)
        if following is None:
            return None
        fire = following
        key = period_key(plan.period, fire.astimezone(_zone(agency)).date())
        seed = db.session.scalar(
            sa.select(DrawSeed).where(DrawSeed.plan_id == plan.id, DrawSeed.period_key == key)
        )
        if seed is not None:
            if seed.used_by_draw_id is None and seed.lapsed_at is None:
                return seed
            continue  # that period is drawn (or given up): the next fire may be in another
        drawn = db.session.scalar(
            sa.select(Draw.id).where(Draw.plan_id == plan.id, Draw.period_key == key).limit(1)
        )
        if drawn is None:
            break
    else:
        return None
    value = secrets.token_hex(32)
    seed = DrawSeed(
        agency_id=plan.agency_id,
        plan_id=plan.id,
        period_key=key,
        planned_period_key=key,
        seed=value,
        commitment=algorithm.seed_commitment(value),
        committed_at=now,
        planned_for=fire,
        pseudonym_key=secrets.token_hex(algorithm.PSEUDONYM_KEY_BYTES),
    )
    db.session.add(seed)
    return seed


def _commitment_for(
    plan: DrawPlan, period: str, now: datetime, *, scheduled: bool
) -> DrawSeed | None:
    """The published commitment a first draw of ``period`` uses, if there is one.

    The one made for that period; failing that, a scheduled draw catching up after the
    scheduler was down takes the plan's earliest commitment whose fire time went by unused.
    Either way the seed was fixed and published before this draw, and the rule leaves no
    choice. A manual run never takes over another period's commitment.
    """
    own = db.session.scalar(
        _pending_seeds(plan.id).where(DrawSeed.period_key == period, DrawSeed.committed_at <= now)
    )
    if own is not None or not scheduled:
        return own
    missed = db.session.scalar(
        _pending_seeds(plan.id)
        .where(DrawSeed.committed_at <= now, DrawSeed.planned_for <= now)
        .order_by(DrawSeed.committed_at, DrawSeed.id)
        .limit(1)
    )
    if missed is not None:
        missed.period_key = period
    return missed


def lapse_missed_commitments(plan: DrawPlan, fire: datetime, period: str, now: datetime) -> int:
    """Once the scheduler has dealt with ``fire``, commitments of earlier periods whose time
    went by unused will never be used: mark them so that they leave "upcoming"."""
    stale = list(
        db.session.scalars(
            _pending_seeds(plan.id).where(
                DrawSeed.planned_for <= fire, DrawSeed.period_key != period
            )
        )
    )
    for seed in stale:
        seed.lapsed_at = now
        log.info("plan %s: commitment for %s lapsed unused", plan.id, seed.period_key)
    return len(stale)


# --- recusals -------------------------------------------------------------------------------


def list_recusals(
    principal: Principal,
    *,
    inspector_id: uuid.UUID | None = None,
    enterprise_id: uuid.UUID | None = None,
) -> list[Recusal]:
    permissions.require_role(principal, permissions.MANAGE_RECUSALS, "reading recusals")
    stmt = sa.select(Recusal).where(Recusal.agency_id == principal.agency_id)
    if inspector_id is not None:
        stmt = stmt.where(Recusal.inspector_id == inspector_id)
    if enterprise_id is not None:
        stmt = stmt.where(Recusal.enterprise_id == enterprise_id)
    return list(db.session.scalars(stmt.order_by(Recusal.created_at, Recusal.id)))


def create_recusal(principal: Principal, data: dict[str, Any]) -> Recusal:
    """Register that an inspector must never be drawn for an enterprise."""
    permissions.require_role(principal, permissions.MANAGE_RECUSALS, "registering a recusal")
    inspector = db.session.scalar(
        sa.select(User).where(
            User.id == data["inspector_id"], User.agency_id == principal.agency_id
        )
    )
    if inspector is None:
        raise ValidationFailed(
            "no such user in your agency",
            code="unknown_inspector",
            fields={"inspector_id": ["not a user of your agency"]},
        )
    enterprise = db.session.scalar(
        sa.select(Enterprise).where(
            Enterprise.id == data["enterprise_id"], Enterprise.agency_id == principal.agency_id
        )
    )
    if enterprise is None:
        raise ValidationFailed(
            "no such enterprise in your agency's directory",
            code="unknown_enterprise",
            fields={"enterprise_id": ["not in the directory"]},
        )
    duplicate = Conflict(
        "this inspector is already recused from this enterprise",
        code="duplicate_recusal",
    )
    exists = db.session.scalar(
        sa.select(Recusal.id).where(
            Recusal.inspector_id == inspector.id, Recusal.enterprise_id == enterprise.id
        )
    )
    if exists is not None:
        raise duplicate
    recusal = Recusal(
        agency_id=principal.agency_id,
        inspector_id=inspector.id,
        enterprise_id=enterprise.id,
        source=data["source"],
        reason=data["reason"].strip(),
        created_by=principal.user_id,
    )
    db.session.add(recusal)
    try:
        db.session.commit()
    except sa.exc.IntegrityError:
        db.session.rollback()
        raise duplicate from None
    return recusal


def delete_recusal(principal: Principal, recusal_id: uuid.UUID) -> None:
    permissions.require_role(principal, permissions.MANAGE_RECUSALS, "removing a recusal")
    recusal = db.session.scalar(
        sa.select(Recusal).where(Recusal.id == recusal_id, Recusal.agency_id == principal.agency_id)
    )
    if recusal is None:
        raise NotFound("no such recusal")
    db.session.delete(recusal)
    db.session.commit()


# --- running a draw -------------------------------------------------------------------------


@dataclass(frozen=True)
class Pool:
    """What a draw draws from, read from the database, with what was left out and why."""

    inputs: algorithm.DrawInputs
    enterprise_names: dict[str, str]
    outside_people: dict[str, dict[str, Any]]
    excluded: dict[str, int | str]


def build_pool(
    plan: DrawPlan, agency: Agency, *, draw_date: date, now: datetime, period: str
) -> Pool:
    """The plan's candidate enterprises and people as of ``now``, as the algorithm's inputs."""
    zone = _zone(agency)
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
        algorithm.Pair(str(i), str(e))
        for i, e in db.session.execute(
            sa.select(Recusal.inspector_id, Recusal.enterprise_id).where(
                Recusal.agency_id == plan.agency_id
            )
        )
        if str(e) in pool_ids
    ]
    outside_people = {o["id"]: o for o in plan.outside_inspectors}
    inputs = algorithm.DrawInputs(
        enterprises=[
            algorithm.Enterprise(
                str(e.id), stratum_of(plan.strata_by, e.risk_grade, e.credit_rating), e.industry
            )
            for e in pool
        ],
        inspectors=[
            algorithm.Inspector(str(u.id), u.cert_no, u.cert_valid_until) for u in inspectors
        ],
        outside_inspectors=[
            algorithm.OutsideInspector(
                o["id"],
                o["department"],
                o.get("certificate_no"),
                _opt_date(o.get("certificate_valid_until")),
            )
            for o in plan.outside_inspectors
        ],
        recusals=recusals,
        previous_assignments=_previous_pairs(plan, period, pool_ids),
        parameters=algorithm.DrawParameters(
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


def _previous_pairs(plan: DrawPlan, period: str, pool_ids: set[str]) -> list[algorithm.Pair]:
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
        algorithm.Pair(person, enterprise)
        for enterprise, (_, people) in sorted(latest.items())
        for person in people
    ]


def _explain(
    exc: algorithm.DrawInfeasible, identities: dict[str, str], names: dict[str, str]
) -> algorithm.DrawInfeasible:
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
    return algorithm.DrawInfeasible(message, fields=exc.fields, details=details)


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
    zone = _zone(agency)
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
        seed_row = _commitment_for(plan, period, now, scheduled=trigger == "schedule")
    if seed_row is not None:
        seed = seed_row.seed
        # Commitments made before pseudonyms existed get their key now, still before drawing.
        key = seed_row.pseudonym_key or secrets.token_hex(algorithm.PSEUDONYM_KEY_BYTES)
    else:
        seed = secrets.token_hex(32)
        key = secrets.token_hex(algorithm.PSEUDONYM_KEY_BYTES)
    hidden, identities = algorithm.pseudonymize(pool.inputs, bytes.fromhex(key))
    try:
        result = algorithm.run_draw(hidden, seed)
    except algorithm.DrawInfeasible as exc:
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


# --- reading draws --------------------------------------------------------------------------


def get_draw(principal: Principal, draw_id: uuid.UUID) -> Draw:
    permissions.require_role(principal, permissions.MANAGE_DRAWS, "reading draws")
    draw = db.session.scalar(
        sa.select(Draw).where(Draw.id == draw_id, Draw.agency_id == principal.agency_id)
    )
    if draw is None:
        raise NotFound("no such draw")
    return draw


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
    document = algorithm.read_document(draw.document)
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
    outcome = algorithm.verify(draw.document)
    differences = list(outcome.differences)
    document = algorithm.read_document(draw.document)
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
            if real is None or algorithm.pseudonym(key, kind, real) != public_id:
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
    today = utcnow().astimezone(_zone(db.session.get_one(Agency, draw.agency_id))).date()
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
