"""The annual plan: set it, read it, and its completion counted live from inspections."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from server.domain import annual_plan as plans
from server.domain import permissions
from server.domain.errors import NotFound, ValidationFailed
from server.domain.permissions import Principal
from server.domain.reporting_years import year_span
from server.extensions import db
from server.models import Agency, AnnualPlan, AnnualPlanItem, Enterprise, Inspection
from server.services.visit_policy import visit_policy_for


def year_bounds(year: int, timezone: str) -> tuple[datetime, datetime]:
    """The agency's calendar year as a half-open UTC span (``domain.reporting_years``)."""
    return year_span(year, timezone)


@dataclass
class PlanView:
    plan: AnnualPlan
    key_enterprises: list[dict[str, Any]]

    def __getattr__(self, name: str) -> Any:
        return getattr(self.plan, name)


def _view(plan: AnnualPlan) -> PlanView:
    rows = db.session.execute(
        sa.select(AnnualPlanItem.enterprise_id, AnnualPlanItem.planned, Enterprise.name)
        .join(Enterprise, Enterprise.id == AnnualPlanItem.enterprise_id)
        .where(AnnualPlanItem.plan_id == plan.id)
        .order_by(Enterprise.name, Enterprise.id)
    )
    return PlanView(
        plan,
        [{"enterprise_id": e, "planned": n, "enterprise_name": name} for e, n, name in rows],
    )


def _plan(year: int) -> AnnualPlan | None:
    return db.session.scalar(sa.select(AnnualPlan).where(AnnualPlan.year == year))


def put_plan(principal: Principal, year: int, data: dict[str, Any]) -> PlanView:
    """Set (or replace) the agency's plan for ``year``."""
    permissions.require_role(principal, permissions.MANAGE_ANNUAL_PLANS, "setting the annual plan")
    rows: dict[uuid.UUID, int] = {}
    for row in data.get("key_enterprises") or []:
        if row["enterprise_id"] in rows:
            raise ValidationFailed(
                "an enterprise is listed twice",
                fields={"key_enterprises": f"{row['enterprise_id']} twice"},
            )
        rows[row["enterprise_id"]] = row["planned"]
    caps = dict(data.get("yearly_caps") or {})
    plans.check_plan(data.get("planned_general", 0), rows, caps)
    if rows:
        known = set(db.session.scalars(sa.select(Enterprise.id).where(Enterprise.id.in_(rows))))
        unknown = [str(e) for e in rows if e not in known]
        if unknown:
            raise ValidationFailed(
                "some key enterprises are not in the directory",
                code="unknown_enterprise",
                fields={"key_enterprises": "unknown enterprises"},
                details={"enterprise_ids": unknown},
            )
    plan = _plan(year)
    if plan is None:
        plan = AnnualPlan(agency_id=principal.agency_id, year=year)
        db.session.add(plan)
        db.session.flush()
    else:
        db.session.execute(sa.delete(AnnualPlanItem).where(AnnualPlanItem.plan_id == plan.id))
    plan.planned_general = data.get("planned_general", 0)
    plan.yearly_caps = caps
    plan.note = data.get("note", "")
    if rows:
        db.session.execute(
            sa.insert(AnnualPlanItem),
            [
                {
                    "plan_id": plan.id,
                    "enterprise_id": e,
                    "planned": n,
                    "agency_id": principal.agency_id,
                }
                for e, n in rows.items()
            ],
        )
    db.session.commit()
    return _view(plan)


def get_plan(principal: Principal, year: int) -> PlanView:
    permissions.require_role(principal, permissions.READ_REPORTS, "reading the annual plan")
    plan = _plan(year)
    if plan is None:
        raise NotFound(f"no annual plan for {year}")
    return _view(plan)


def inspections_by_enterprise_kind(agency: Agency, year: int) -> dict[tuple[uuid.UUID, str], int]:
    start, end = year_bounds(year, agency.timezone)
    rows = db.session.execute(
        sa.select(Inspection.enterprise_id, Inspection.kind, sa.func.count())
        .where(
            Inspection.agency_id == agency.id,
            Inspection.started_at >= start,
            Inspection.started_at < end,
        )
        .group_by(Inspection.enterprise_id, Inspection.kind)
    )
    return {(e, k): n for e, k, n in rows}


@dataclass
class Completion:
    year: int
    has_plan: bool
    completion: plans.PlanCompletion
    over_cap: list[dict[str, Any]]


def completion_for(
    agency: Agency,
    year: int,
    done: dict[tuple[uuid.UUID, str], int] | None = None,
    *,
    with_over_cap: bool = True,
) -> Completion:
    """The plan's completion from the year's inspections; an empty plan when none was set."""
    done = inspections_by_enterprise_kind(agency, year) if done is None else done
    plan = db.session.scalar(
        sa.select(AnnualPlan).where(AnnualPlan.agency_id == agency.id, AnnualPlan.year == year)
    )
    key_rows: dict[uuid.UUID, int] = {}
    if plan is not None:
        key_rows = dict(
            db.session.execute(
                sa.select(AnnualPlanItem.enterprise_id, AnnualPlanItem.planned).where(
                    AnnualPlanItem.plan_id == plan.id
                )
            ).all()
        )
    result = plans.completion(key_rows, plan.planned_general if plan else 0, done)
    over = _over_cap(agency, year, set(key_rows)) if with_over_cap else []
    return Completion(year, plan is not None, result, over)


def _over_cap(agency: Agency, year: int, key_rows: set[uuid.UUID]) -> list[dict[str, Any]]:
    """Ordinary enterprises inspected more often this year than the year's caps allow."""
    policy = visit_policy_for(agency, year)
    if not policy.yearly_caps:
        return []
    start, end = year_bounds(year, agency.timezone)
    rows = db.session.execute(
        sa.select(
            Inspection.enterprise_id,
            Enterprise.is_key,
            Enterprise.credit_rating,
            Enterprise.risk_grade,
            sa.func.count(),
        )
        .join(Enterprise, Enterprise.id == Inspection.enterprise_id)
        .where(
            Inspection.agency_id == agency.id,
            Inspection.started_at >= start,
            Inspection.started_at < end,
        )
        .group_by(
            Inspection.enterprise_id,
            Enterprise.is_key,
            Enterprise.credit_rating,
            Enterprise.risk_grade,
        )
    ).all()
    caps = {
        e: policy.cap_for(is_key=is_key, credit_rating=credit, risk_grade=risk)
        for e, is_key, credit, risk, _n in rows
    }
    counts = {e: n for e, _k, _c, _r, n in rows}
    return [
        {"enterprise_id": e, "done": n, "cap": cap}
        for e, (n, cap) in plans.over_cap(counts, caps.__getitem__, key_rows).items()
    ]


def plan_completion(principal: Principal, year: int) -> dict[str, Any]:
    """Completion per row, per category and overall, with enterprises over their yearly cap."""
    permissions.require_role(principal, permissions.READ_REPORTS, "reading plan completion")
    agency = db.session.get(Agency, principal.agency_id)
    assert agency is not None
    found = completion_for(agency, year)
    if not found.has_plan:
        raise NotFound(f"no annual plan for {year}")
    c = found.completion
    names = dict(
        db.session.execute(
            sa.select(Enterprise.id, Enterprise.name).where(
                Enterprise.id.in_(
                    [r.enterprise_id for r in c.rows] + [o["enterprise_id"] for o in found.over_cap]
                )
            )
        ).all()
    )

    def category(cat: plans.CategoryCompletion) -> dict[str, Any]:
        return {"planned": cat.planned, "done": cat.done, "rate": cat.rate}

    return {
        "year": year,
        "rows": [
            {
                "enterprise_id": r.enterprise_id,
                "enterprise_name": names.get(r.enterprise_id, ""),
                "planned": r.planned,
                "done": r.done,
                "rate": r.rate,
            }
            for r in sorted(c.rows, key=lambda r: names.get(r.enterprise_id, ""))
        ],
        "key": category(c.key),
        "general": category(c.general),
        "overall": category(c.overall),
        "key_enterprises": c.key_enterprises,
        "key_enterprises_covered": c.key_enterprises_covered,
        "coverage_rate": c.coverage_rate,
        "unplanned_done": c.unplanned_done,
        "key_outside_plan": c.key_outside_plan,
        "inspections": c.inspections,
        "over_cap": [
            dict(o, enterprise_name=names.get(o["enterprise_id"], "")) for o in found.over_cap
        ],
    }
