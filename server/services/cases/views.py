"""Views of a case and of its decision, and reading one or a list of cases."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa

from server.domain import penalties as rules
from server.domain import permissions
from server.domain.permissions import Principal
from server.extensions import db
from server.models import (
    Agency,
    Enterprise,
    Exemption,
    LegalReview,
    PenaltyCase,
    PenaltyDecision,
)
from server.services.calendar import working_calendar
from server.services.cases.context import local_today
from server.services.lookup import scalar_or_not_found
from server.services.paging import Page, paginate


@dataclass
class DecisionView:
    decision: PenaltyDecision
    publication: rules.Publication
    enterprise_name: str = ""

    def __getattr__(self, name: str) -> Any:
        return getattr(self.decision, name)

    @property
    def total_fine_fen(self) -> int:
        return self.decision.entity_fine_fen + self.decision.individual_fine_fen


@dataclass
class CaseView:
    case: PenaltyCase
    enterprise_name: str
    reviews: list[LegalReview]
    decision: DecisionView | None
    exemption: Exemption | None

    def __getattr__(self, name: str) -> Any:
        return getattr(self.case, name)


def decision_view(
    decision: PenaltyDecision,
    agency: Agency,
    now: datetime,
    enterprise_name: str | None = None,
) -> DecisionView:
    state = rules.publication(
        decided_on=decision.decided_on,
        deadline=decision.publication_deadline,
        published=decision.published_at is not None or decision.published_on is not None,
        published_late=decision.published_late,
        revoked_on=decision.revoked_on,
        late_flagged_on=decision.late_flagged_on,
        today=local_today(agency, now),
        calendar=working_calendar(agency),
    )
    if enterprise_name is None:
        enterprise = db.session.get_one(Enterprise, decision.enterprise_id)
        enterprise_name = enterprise.name if enterprise else ""
    return DecisionView(decision, state, enterprise_name)


def enterprise_names(enterprise_ids: Any) -> dict[uuid.UUID, str]:
    ids = list(set(enterprise_ids))
    if not ids:
        return {}
    return dict(
        db.session.execute(
            sa.select(Enterprise.id, Enterprise.name).where(Enterprise.id.in_(ids))
        ).all()
    )


def _case_views(cases: list[PenaltyCase], now: datetime) -> list[CaseView]:
    """Views of several cases in five queries, whatever their number."""
    if not cases:
        return []
    agency = db.session.get_one(Agency, cases[0].agency_id)
    ids = [c.id for c in cases]
    names = enterprise_names(c.enterprise_id for c in cases)
    reviews: dict[uuid.UUID, list[LegalReview]] = {i: [] for i in ids}
    for review in db.session.scalars(
        sa.select(LegalReview)
        .where(LegalReview.case_id.in_(ids))
        .order_by(LegalReview.reviewed_on, LegalReview.created_at)
    ):
        reviews[review.case_id].append(review)
    decisions = {
        d.case_id: d
        for d in db.session.scalars(
            sa.select(PenaltyDecision).where(PenaltyDecision.case_id.in_(ids))
        )
    }
    exemptions = {
        e.case_id: e
        for e in db.session.scalars(sa.select(Exemption).where(Exemption.case_id.in_(ids)))
    }
    out = []
    for case in cases:
        name = names.get(case.enterprise_id, "")
        decision = decisions.get(case.id)
        out.append(
            CaseView(
                case,
                name,
                reviews[case.id],
                decision_view(decision, agency, now, name) if decision else None,
                exemptions.get(case.id),
            )
        )
    return out


def case_view(case: PenaltyCase, now: datetime) -> CaseView:
    return _case_views([case], now)[0]


def load_case(case_id: uuid.UUID, *, lock: bool = False) -> PenaltyCase:
    stmt = sa.select(PenaltyCase).where(PenaltyCase.id == case_id)
    if lock:
        stmt = stmt.with_for_update()
    return scalar_or_not_found(stmt, "no such case in your agency")


def get_case(principal: Principal, case_id: uuid.UUID, now: datetime) -> CaseView:
    permissions.require_role(principal, permissions.READ_CASES, "reading penalty cases")
    return case_view(load_case(case_id), now)


def list_cases(
    principal: Principal,
    now: datetime,
    *,
    status: str | None = None,
    year: int | None = None,
    enterprise_id: uuid.UUID | None = None,
    page: int = 1,
    per_page: int = 50,
) -> Page:
    permissions.require_role(principal, permissions.READ_CASES, "reading penalty cases")
    stmt = sa.select(PenaltyCase)
    if status:
        stmt = stmt.where(PenaltyCase.status == status)
    if year:
        stmt = stmt.where(
            PenaltyCase.opened_on >= date(year, 1, 1), PenaltyCase.opened_on < date(year + 1, 1, 1)
        )
    if enterprise_id:
        stmt = stmt.where(PenaltyCase.enterprise_id == enterprise_id)
    order = (PenaltyCase.opened_on.desc(), PenaltyCase.id)
    found = paginate(stmt, *order, page=page, per_page=per_page)
    return replace(found, items=_case_views(found.items, now))
