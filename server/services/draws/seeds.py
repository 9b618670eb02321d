"""Seed commitments: published before a draw, lapsed when their draw never ran."""

from __future__ import annotations

import logging
import secrets
import uuid
from datetime import datetime
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from server.cron import next_fire_after, parse_cron
from server.domain.draw import model as draw_model
from server.domain.draw.snapshot import seed_commitment
from server.domain.periods import period_key
from server.extensions import db
from server.models import (
    Agency,
    Draw,
    DrawPlan,
    DrawSeed,
)

log = logging.getLogger(__name__)


def pending_seeds(plan_id: uuid.UUID) -> sa.Select[DrawSeed]:
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
    trigger = parse_cron(plan.cron, ZoneInfo(agency.timezone))
    fire = now
    for _ in range(36):
        following = next_fire_after(trigger, fire)
        if following is None:
            return None
        fire = following
        key = period_key(plan.period, fire.astimezone(ZoneInfo(agency.timezone)).date())
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
        commitment=seed_commitment(value),
        committed_at=now,
        planned_for=fire,
        pseudonym_key=secrets.token_hex(draw_model.PSEUDONYM_KEY_BYTES),
    )
    db.session.add(seed)
    return seed


def commitment_for(
    plan: DrawPlan, period: str, now: datetime, *, scheduled: bool
) -> DrawSeed | None:
    """The published commitment a first draw of ``period`` uses, if there is one.

    The one made for that period; failing that, a scheduled draw catching up after the
    scheduler was down takes the plan's earliest commitment whose fire time went by unused.
    Either way the seed was fixed and published before this draw, and the rule leaves no
    choice. A manual run never takes over another period's commitment.
    """
    own = db.session.scalar(
        pending_seeds(plan.id).where(DrawSeed.period_key == period, DrawSeed.committed_at <= now)
    )
    if own is not None or not scheduled:
        return own
    missed = db.session.scalar(
        pending_seeds(plan.id)
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
            pending_seeds(plan.id).where(
                DrawSeed.planned_for <= fire, DrawSeed.period_key != period
            )
        )
    )
    for seed in stale:
        seed.lapsed_at = now
        log.info("plan %s: commitment for %s lapsed unused", plan.id, seed.period_key)
    return len(stale)
