"""Scheduled draws: run each active plan at its latest cron fire time, once, and pre-commit seeds.

``tick(now)`` is the whole scheduler for draws, called every minute and once at start-up. It
reads the plans afresh each time, so new and changed plans need no restart. For each plan it
looks at the most recent fire time not after ``now``: if the plan has not dealt with it yet,
it draws for that fire time's period. A scheduler that was down for three fire times
therefore draws once (the latest), not three times, with the seed committed before the first
of the missed ones (see ``execute``); the commitments of the others lapse. Two
schedulers ticking at once make one draw: the second loses on the database's unique
constraint and records nothing new.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from server.cron import last_fire_at_or_before, parse_cron
from server.domain.errors import DomainError
from server.domain.periods import period_key
from server.extensions import db
from server.models import Agency, DrawPlan
from server.services.draws.running import DrawExists, execute
from server.services.draws.seeds import commit_next_seed, lapse_missed_commitments

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PlanRun:
    plan_id: uuid.UUID
    fire_at: datetime
    period_key: str
    outcome: str  # drawn | already_drawn | failed
    draw_id: uuid.UUID | None = None
    error: str | None = None


def tick(now: datetime) -> list[PlanRun]:
    """Run every plan whose latest fire time is due, then commit seeds for the next ones."""
    plan_ids = list(
        db.session.scalars(
            sa.select(DrawPlan.id)
            .where(DrawPlan.active.is_(True), DrawPlan.cron.is_not(None))
            .order_by(DrawPlan.id)
        )
    )
    db.session.rollback()
    runs = []
    for plan_id in plan_ids:
        try:
            run = _tick_plan(plan_id, now)
        except Exception:
            db.session.rollback()
            log.exception("scheduled draw of plan %s failed unexpectedly", plan_id)
            continue
        if run is not None:
            runs.append(run)
    return runs


def _tick_plan(plan_id: uuid.UUID, now: datetime) -> PlanRun | None:
    plan = db.session.get(DrawPlan, plan_id)
    if plan is None or not plan.active or not plan.cron:
        return None
    agency = db.session.get_one(Agency, plan.agency_id)
    zone = ZoneInfo(agency.timezone)
    fire = last_fire_at_or_before(parse_cron(plan.cron, zone), now)
    run = None
    if (
        fire is not None
        and fire >= plan.schedule_from
        and (plan.last_fire_at is None or fire > plan.last_fire_at)
    ):
        run = _run(plan, fire, now)
        plan = db.session.get_one(DrawPlan, plan_id)
        plan.last_fire_at = fire
        plan.last_error = run.error
        lapse_missed_commitments(plan, fire, run.period_key, now)
        db.session.commit()
    plan = db.session.get_one(DrawPlan, plan_id)
    try:
        with db.session.begin_nested():
            commit_next_seed(plan, agency, now)
        db.session.commit()
    except sa.exc.IntegrityError:
        # Another scheduler committed the same period's seed first; theirs stands.
        db.session.rollback()
    return run


def _run(plan: DrawPlan, fire: datetime, now: datetime) -> PlanRun:
    zone = ZoneInfo(db.session.get_one(Agency, plan.agency_id).timezone)
    key = period_key(plan.period, fire.astimezone(zone).date())
    plan_id = plan.id
    try:
        draw = execute(plan, now=now, operator_id=None, trigger="schedule", fire_at=fire)
    except DrawExists:
        db.session.rollback()
        log.info("plan %s: %s is drawn already; nothing to do for %s", plan_id, key, fire)
        return PlanRun(plan_id, fire, key, "already_drawn")
    except DomainError as exc:
        db.session.rollback()
        log.warning("plan %s: scheduled draw for %s failed: %s", plan_id, key, exc.message)
        return PlanRun(plan_id, fire, key, "failed", error=f"{exc.code}: {exc.message}")
    log.info("plan %s: drew %s for %s (fire time %s)", plan_id, draw.id, key, fire.isoformat())
    return PlanRun(plan_id, fire, key, "drawn", draw_id=draw.id)
