"""The daily overdue job: assess open hazards, record escalations, tell the webhook."""

from __future__ import annotations

import json
import logging
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from flask import current_app, has_app_context

from server.database import dialect_insert
from server.domain import hazards as lifecycle
from server.domain.hazards import ESCALATION_LABELS
from server.domain.permissions import Principal
from server.extensions import db
from server.models import Agency, Enterprise, Hazard, HazardEscalation
from server.models.types import utcnow
from server.services import hazard_state
from server.services.calendar import working_calendar
from server.services.hazards.common import OVERSEE_HAZARDS, local_today
from server.services.paging import Page, count, sliced

log = logging.getLogger(__name__)

BATCH = 5000
WEBHOOK_CHUNK = 500
WEBHOOK_MAX_CHUNKS = 40

_LEVEL_KIND = {
    lifecycle.ESCALATION_OVERDUE: "overdue",
    lifecycle.ESCALATION_LONG_OVERDUE: "long_overdue",
    lifecycle.ESCALATION_PENALTY_CASE: "penalty_case",
}

Poster = Callable[[str, bytes, float], int]


@dataclass
class DailyResult:
    assessed: int = 0
    raised: int = 0
    notified: int = 0
    webhook_failures: int = 0
    # Codes of the agencies whose assessment failed (logged; the others ran).
    failed_agencies: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.failed_agencies

    def __str__(self) -> str:
        text = (
            f"assessed {self.assessed}, raised {self.raised}, notified {self.notified}, "
            f"webhook failures {self.webhook_failures}"
        )
        if self.failed_agencies:
            text += f", FAILED agencies: {', '.join(self.failed_agencies)}"
        return text


def escalations_for(
    hazard_id: uuid.UUID,
    enterprise_id: uuid.UUID,
    state: lifecycle.HazardState,
    assessment: lifecycle.Assessment,
    today: date,
) -> list[dict[str, Any]]:
    """The escalation rows one hazard's assessment calls for (before de-duplication)."""
    rows = []

    def add(kind: str, level: int, **details: Any) -> None:
        rows.append(
            {
                "hazard_id": hazard_id,
                "enterprise_id": enterprise_id,
                "kind": kind,
                "round": state.order_count,
                "level": level,
                "raised_on": today,
                "deadline": state.deadline,
                "days_overdue": assessment.days_overdue,
                "details": {
                    k: v.isoformat() if isinstance(v, date) else v for k, v in details.items()
                },
            }
        )

    if assessment.escalation:
        add(_LEVEL_KIND[assessment.escalation], assessment.escalation)
    if assessment.reinspection_overdue:
        add("reinspection_overdue", 1, reinspection_due_on=assessment.reinspection_due_on)
    if assessment.plan_overdue and state.plan is not None:
        add("plan_overdue", 2, plan_deadline=state.plan.deadline)
    if assessment.stop_expired and state.stop is not None:
        add("stop_expired", 1, stop_until=state.stop.until)
    return rows


def assess_agency(agency: Agency, now: datetime) -> tuple[int, int]:
    """Assess the agency's open hazards that could be late; store new escalations.

    Set-based: one read of the candidates' columns and lifecycle, the domain's ``assess`` per
    row in memory, and batched ``INSERT .. ON CONFLICT DO NOTHING`` of what is new. Returns
    (hazards assessed, escalations raised).
    """
    today = local_today(agency, now)
    policy = hazard_state.policy_for(agency.settings, agency.timezone)
    calendar = working_calendar(agency)
    candidates = (
        sa.select(Hazard.id, Hazard.enterprise_id, Hazard.lifecycle)
        .where(
            Hazard.agency_id == agency.id,
            Hazard.status.in_(sorted(lifecycle.OPEN_STATUSES)),
            sa.or_(
                Hazard.deadline < today,
                Hazard.status == lifecycle.REPORTED,
                Hazard.level == lifecycle.MAJOR,
            ),
        )
        .execution_options(yield_per=BATCH)
    )
    known = {
        (h, k, r)
        for h, k, r in db.session.execute(
            sa.select(
                HazardEscalation.hazard_id, HazardEscalation.kind, HazardEscalation.round
            ).where(HazardEscalation.agency_id == agency.id)
        )
    }
    insert = dialect_insert(db.session)
    assessed = raised = 0
    pending: list[dict[str, Any]] = []

    def flush() -> int:
        if not pending:
            return 0
        table = HazardEscalation.__table__
        stmt = (
            insert(table)
            .on_conflict_do_nothing(index_elements=["hazard_id", "kind", "round"])
            .returning(table.c.id)
        )
        # Only rows actually inserted come back: one another run stored meanwhile is not counted.
        n = len(db.session.execute(stmt, pending).all())
        pending.clear()
        return n

    created = utcnow()
    for hazard_id, enterprise_id, data in db.session.execute(candidates):
        state = hazard_state.state_from_json(data)
        assessment = lifecycle.assess(state, today, policy, calendar)
        assessed += 1
        for row in escalations_for(hazard_id, enterprise_id, state, assessment, today):
            key = (hazard_id, row["kind"], row["round"])
            if key in known:
                continue
            known.add(key)
            pending.append(
                {**row, "id": uuid.uuid4(), "agency_id": agency.id, "created_at": created}
            )
        if len(pending) >= BATCH:
            raised += flush()
    raised += flush()
    return assessed, raised


def _post_json(url: str, body: bytes, timeout: float) -> int:
    request = urllib.request.Request(
        url, data=body, method="POST", headers={"Content-Type": "application/json; charset=utf-8"}
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            return int(response.status)
    except urllib.error.HTTPError as exc:  # an answer, only not a 2xx one
        exc.close()
        return int(exc.code)


def notify(
    agency: Agency, url: str, *, timeout: float, post: Poster, base_url: str, now: datetime
) -> tuple[int, int]:
    """POST escalations the webhook has not accepted yet; returns (notified, failures).

    A failure (refused, timeout, non-2xx) is logged and leaves the rest for the next run.
    """
    notified = 0
    for _ in range(WEBHOOK_MAX_CHUNKS):
        rows = db.session.execute(
            sa.select(HazardEscalation, Enterprise.name, Hazard.description, Hazard.level)
            .join(Enterprise, Enterprise.id == HazardEscalation.enterprise_id)
            .join(Hazard, Hazard.id == HazardEscalation.hazard_id)
            .where(HazardEscalation.agency_id == agency.id, HazardEscalation.notified_at.is_(None))
            .order_by(HazardEscalation.raised_on, HazardEscalation.id)
            .limit(WEBHOOK_CHUNK)
        ).all()
        if not rows:
            break
        payload = {
            "agency": {"code": agency.code, "name": agency.name},
            "sent_at": now.isoformat(),
            "escalations": [
                _event(e, name, text, level, base_url) for e, name, text, level in rows
            ],
        }
        body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
        try:
            status = post(url, body, timeout)
        except (OSError, urllib.error.URLError, ValueError) as exc:
            log.warning("hazard webhook %s failed for agency %s: %s", url, agency.code, exc)
            return notified, 1
        if not 200 <= status < 300:
            log.warning("hazard webhook %s answered %s for agency %s", url, status, agency.code)
            return notified, 1
        ids = [e.id for e, *_ in rows]
        db.session.execute(
            sa.update(HazardEscalation).where(HazardEscalation.id.in_(ids)).values(notified_at=now)
        )
        db.session.commit()
        notified += len(ids)
    return notified, 0


def _event(
    e: HazardEscalation, enterprise: str, description: str, level: str, base_url: str
) -> dict[str, Any]:
    return {
        "id": str(e.id),
        "kind": e.kind,
        "label": ESCALATION_LABELS.get(e.kind, e.kind),
        "level": e.level,
        "hazard_id": str(e.hazard_id),
        "hazard_level": level,
        "description": description,
        "enterprise_id": str(e.enterprise_id),
        "enterprise_name": enterprise,
        "raised_on": e.raised_on.isoformat(),
        "deadline": e.deadline.isoformat() if e.deadline else None,
        "days_overdue": e.days_overdue,
        "url": f"{base_url}/manage/hazards/{e.hazard_id}",
    }


def run_daily(
    now: datetime | None = None,
    *,
    webhook_url: str | None = None,
    timeout: float | None = None,
    post: Poster = _post_json,
) -> DailyResult:
    """The scheduled job: every agency, one transaction each, then the webhook.

    Safe to run any number of times a day: an escalation exists once per hazard, kind and
    order round, and only escalations the webhook has not accepted are sent again. One
    agency's failure is logged, rolled back and named in ``failed_agencies``; the other
    agencies are assessed all the same.
    """
    now = now or utcnow()
    config = current_app.config if has_app_context() else {}
    url = webhook_url if webhook_url is not None else config.get("HAZARD_WEBHOOK_URL")
    timeout = timeout if timeout is not None else float(config.get("HAZARD_WEBHOOK_TIMEOUT", 10))
    base_url = str(config.get("PUBLIC_BASE_URL", "")).rstrip("/")
    result = DailyResult()
    agencies = db.session.scalars(sa.select(Agency).order_by(Agency.code)).all()
    codes = {a.id: a.code for a in agencies}
    for agency in agencies:
        try:
            assessed, raised = assess_agency(agency, now)
            db.session.commit()
        except Exception:
            db.session.rollback()
            log.exception("hazard assessment failed for agency %s", codes[agency.id])
            result.failed_agencies.append(codes[agency.id])
            continue
        result.assessed += assessed
        result.raised += raised
    if result.failed_agencies:
        log.error("hazard assessment failed for %s; see above", ", ".join(result.failed_agencies))
    if url:
        for agency in agencies:
            try:
                notified, failures = notify(
                    agency, url, timeout=timeout, post=post, base_url=base_url, now=now
                )
            except Exception:  # the job's own data is stored; a webhook never fails it
                db.session.rollback()
                log.exception("hazard webhook failed for agency %s", agency.code)
                notified, failures = 0, 1
            result.notified += notified
            result.webhook_failures += failures
    return result


def list_escalations(
    principal: Principal,
    *,
    kind: str | None = None,
    raised_from: date | None = None,
    hazard_id: uuid.UUID | None = None,
    page: int = 1,
    per_page: int = 50,
) -> Page:
    """Escalations of the caller's agency, newest first, with the enterprise's name."""
    from server.domain import permissions

    permissions.require_role(principal, OVERSEE_HAZARDS, "reading escalations")
    stmt = (
        sa.select(HazardEscalation, Enterprise.name, Hazard.description, Hazard.status)
        .join(Enterprise, Enterprise.id == HazardEscalation.enterprise_id)
        .join(Hazard, Hazard.id == HazardEscalation.hazard_id)
        .where(HazardEscalation.agency_id == principal.agency_id)
    )
    if kind:
        stmt = stmt.where(HazardEscalation.kind == kind)
    if raised_from:
        stmt = stmt.where(HazardEscalation.raised_on >= raised_from)
    if hazard_id:
        stmt = stmt.where(HazardEscalation.hazard_id == hazard_id)
    total = count(stmt)
    rows = db.session.execute(
        sliced(
            stmt.order_by(
                HazardEscalation.raised_on.desc(),
                HazardEscalation.level.desc(),
                HazardEscalation.id,
            ),
            page,
            per_page,
        )
    ).all()
    items = [
        {
            "id": e.id,
            "hazard_id": e.hazard_id,
            "enterprise_id": e.enterprise_id,
            "enterprise_name": name,
            "description": description,
            "hazard_status": status,
            "kind": e.kind,
            "label": ESCALATION_LABELS.get(e.kind, e.kind),
            "level": e.level,
            "round": e.round,
            "raised_on": e.raised_on,
            "deadline": e.deadline,
            "days_overdue": e.days_overdue,
            "notified_at": e.notified_at,
            "details": e.details,
        }
        for e, name, description, status in rows
    ]
    return Page(items, page, per_page, total)


def flagged_for_penalty(hazard_ids: Iterable[uuid.UUID]) -> set[uuid.UUID]:
    ids = list(hazard_ids)
    if not ids:
        return set()
    return set(
        db.session.scalars(
            sa.select(HazardEscalation.hazard_id).where(
                HazardEscalation.hazard_id.in_(ids), HazardEscalation.kind == "penalty_case"
            )
        )
    )
