"""Publishing decisions, revoking them, and watching the publication deadlines."""

from __future__ import annotations

import logging
import uuid
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from server.domain import penalties as rules
from server.domain import permissions
from server.domain.permissions import Principal
from server.extensions import db
from server.models import (
    Agency,
    PenaltyDecision,
)
from server.services.calendar import working_calendar
from server.services.cases.context import agency_of, local_today, not_future
from server.services.cases.views import DecisionView, decision_view, enterprise_names
from server.services.lookup import scalar_or_not_found

log = logging.getLogger(__name__)


def load_decision(decision_id: uuid.UUID, *, lock: bool = False) -> PenaltyDecision:
    stmt = sa.select(PenaltyDecision).where(PenaltyDecision.id == decision_id)
    if lock:
        stmt = stmt.with_for_update()
    return scalar_or_not_found(stmt, "no such penalty decision in your agency")


def get_decision(principal: Principal, decision_id: uuid.UUID, now: datetime) -> DecisionView:
    permissions.require_role(principal, permissions.READ_CASES, "reading penalty decisions")
    return decision_view(load_decision(decision_id), agency_of(principal), now)


def publish(
    principal: Principal, decision_id: uuid.UUID, data: dict[str, Any], now: datetime
) -> DecisionView:
    """Put the decision on the public pages (公示).

    ``published_on`` (default today) is the date shown on the public page; whether the
    publication was on time is judged by the server's own record of this moment.
    """
    permissions.require_role(principal, permissions.PUBLISH_DECISIONS, "publishing a decision")
    decision = load_decision(decision_id, lock=True)
    agency = agency_of(principal)
    today = local_today(agency, now)
    published_on = data.get("published_on") or today
    not_future(published_on, today, "published_on")
    rules.check_publish(
        published_on,
        decision.decided_on,
        decision.revoked_on is not None,
        decision.published_at is not None or decision.published_on is not None,
    )
    decision.published_on = published_on
    decision.published_at = now
    decision.published_late = rules.published_late(
        today, decision.publication_deadline, decision.late_flagged_on
    )
    if decision.published_late:
        log.warning(
            "decision %s published on %s, after its deadline %s",
            decision.number,
            today,
            decision.publication_deadline,
        )
    db.session.commit()
    return decision_view(decision, agency, now)


def revoke(
    principal: Principal, decision_id: uuid.UUID, data: dict[str, Any], now: datetime
) -> DecisionView:
    """Revoke a decision: the reason is kept; a published one leaves the public pages now."""
    permissions.require_role(principal, permissions.DECIDE_CASES, "revoking a decision")
    decision = load_decision(decision_id, lock=True)
    agency = agency_of(principal)
    today = local_today(agency, now)
    revoked_on = data.get("revoked_on") or today
    not_future(revoked_on, today, "revoked_on")
    rules.check_revoke(
        revoked_on, decision.decided_on, data["reason"], decision.revoked_on is not None
    )
    decision.revoked_on = revoked_on
    decision.revoke_reason = data["reason"]
    if decision.published_on is not None:
        decision.withdrawal_deadline = rules.withdrawal_deadline(
            revoked_on, working_calendar(agency)
        )
        # The public list shows only unrevoked decisions, so recording it withdraws it.
        decision.withdrawn_on = today
        if today > decision.withdrawal_deadline:
            log.warning(
                "decision %s withdrawn on %s, after its deadline %s",
                decision.number,
                today,
                decision.withdrawal_deadline,
            )
    db.session.commit()
    return decision_view(decision, agency, now)


def publication_watch(principal: Principal, now: datetime) -> dict[str, Any]:
    """Decisions waiting for publication (due), past the 7-working-day deadline (late), and
    this year's decisions published after it (published_late)."""
    permissions.require_role(principal, permissions.PUBLISH_DECISIONS, "watching publication")
    agency = agency_of(principal)
    today = local_today(agency, now)
    pending = list(
        db.session.scalars(
            sa.select(PenaltyDecision)
            .where(PenaltyDecision.published_at.is_(None), PenaltyDecision.revoked_on.is_(None))
            .order_by(
                PenaltyDecision.publication_deadline, PenaltyDecision.year, PenaltyDecision.serial
            )
        )
    )
    published_late = list(
        db.session.scalars(
            sa.select(PenaltyDecision)
            .where(
                PenaltyDecision.published_late.is_(True),
                PenaltyDecision.revoked_on.is_(None),
                PenaltyDecision.year == today.year,
            )
            .order_by(PenaltyDecision.serial)
        )
    )
    names = enterprise_names(d.enterprise_id for d in pending + published_late)
    views = [decision_view(d, agency, now, names.get(d.enterprise_id, "")) for d in pending]
    return {
        "today": today,
        "due": [v for v in views if v.publication.due],
        "late": [v for v in views if v.publication.late],
        "published_late": [
            decision_view(d, agency, now, names.get(d.enterprise_id, "")) for d in published_late
        ],
    }


def flag_late_publications(now: datetime) -> int:
    """Daily: mark decisions found unpublished past their deadline, in every agency.

    Safe to run twice: a decision is flagged once, on the first day it is found late, and the
    flag stays as the record that it was late even after it is published.
    """
    flagged = 0
    agencies = {a.id: a for a in db.session.scalars(sa.select(Agency))}
    pending = db.session.scalars(
        sa.select(PenaltyDecision).where(
            PenaltyDecision.published_at.is_(None),
            PenaltyDecision.revoked_on.is_(None),
            PenaltyDecision.late_flagged_on.is_(None),
        )
    )
    for decision in pending:
        agency = agencies[decision.agency_id]
        today = local_today(agency, now)
        if today > decision.publication_deadline:
            decision.late_flagged_on = today
            flagged += 1
            log.warning(
                "penalty decision %s (%s) not published by its deadline %s",
                decision.number,
                agency.code,
                decision.publication_deadline,
            )
    db.session.commit()
    return flagged
