"""What the hazard use cases share: roles, filters, a list row and the agency's day."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from server.domain import hazards as lifecycle
from server.domain import permissions
from server.domain.enterprises import INDUSTRIES
from server.domain.errors import ValidationFailed
from server.domain.permissions import Principal
from server.extensions import AnySelect
from server.models import (
    Agency,
    Enterprise,
    Hazard,
    HazardEscalation,
    RecordMember,
)
from server.models.types import utcnow
from server.services import hazard_state
from server.services.lookup import get_or_not_found

READ_HAZARDS = frozenset({permissions.INSPECTOR, permissions.LEAD, permissions.MANAGER})
OVERSEE_HAZARDS = frozenset({permissions.LEAD, permissions.MANAGER})

# An IN list rather than "!= closed", so the (agency, status, deadline) index serves it.
OPEN_LIST = sorted(lifecycle.OPEN_STATUSES)
OVERDUE_STATUS = lifecycle.ORDERED

NO_UNIT_LABEL = "未设科室（大队）"


@dataclass(frozen=True)
class HazardFilters:
    status: str | None = None
    level: str | None = None
    overdue: bool | None = None
    enterprise_id: uuid.UUID | None = None
    industry: str | None = None
    inspector_id: uuid.UUID | None = None
    found_from: date | None = None
    found_to: date | None = None
    supervised: bool | None = None
    penalty_case: bool | None = None


@dataclass
class HazardRow:
    """One line of a list: the hazard, its enterprise and where it stands today."""

    hazard: Hazard
    enterprise_name: str
    industry: str
    today: date
    policy: lifecycle.HazardPolicy
    assessment: lifecycle.Assessment = field(init=False)

    def __post_init__(self) -> None:
        # Only the columns are needed for overdue and escalation; the lifecycle JSON stays put.
        state = lifecycle.HazardState(
            level=self.hazard.level,  # type: ignore[arg-type]
            found_at=self.hazard.found_at,
            status=self.hazard.status,  # type: ignore[arg-type]
            deadline=self.hazard.deadline,
        )
        self.assessment = lifecycle.assess(state, self.today, self.policy)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.hazard, name)

    @property
    def overdue(self) -> bool:
        return self.assessment.overdue

    @property
    def days_overdue(self) -> int:
        return self.assessment.days_overdue

    @property
    def escalation(self) -> int:
        return self.assessment.escalation

    @property
    def status_label(self) -> str:
        return lifecycle.STATUS_LABELS.get(self.hazard.status, self.hazard.status)

    @property
    def level_label(self) -> str:
        return lifecycle.LEVEL_LABELS.get(self.hazard.level, self.hazard.level)

    @property
    def industry_label(self) -> str:
        return INDUSTRIES.get(self.industry, self.industry)


def agency_of(principal: Principal) -> Agency:
    # A token can outlive its agency.
    return get_or_not_found(Agency, principal.agency_id, "no such agency")


def policy_of(agency: Agency) -> lifecycle.HazardPolicy:
    return hazard_state.policy_for(agency.settings, agency.timezone)


def local_today(agency: Agency, now: datetime | None = None) -> date:
    return (now or utcnow()).astimezone(ZoneInfo(agency.timezone)).date()


def local_midnight(agency: Agency, day: date) -> datetime:
    """The instant ``day`` begins in the agency's zone (found_at is stored in UTC)."""
    return datetime.combine(day, time.min, tzinfo=ZoneInfo(agency.timezone))


def require_read(principal: Principal) -> None:
    permissions.require_role(principal, READ_HAZARDS, "reading hazards")


def filtered(agency: Agency, filters: HazardFilters, today: date) -> sa.Select[Any]:
    """Hazards of the agency matching ``filters``, joined to their enterprise."""
    stmt = (
        sa.select(Hazard, Enterprise.name, Enterprise.industry)
        .join(Enterprise, Enterprise.id == Hazard.enterprise_id)
        .where(Hazard.agency_id == agency.id)
    )
    return apply_filters(stmt, agency, filters, today)


def apply_filters(
    stmt: AnySelect, agency: Agency, f: HazardFilters, today: date
) -> AnySelect:
    if f.status == lifecycle.OPEN:
        stmt = stmt.where(Hazard.status.in_(OPEN_LIST))
    elif f.status is not None:
        stmt = stmt.where(Hazard.status == f.status)
    if f.level is not None:
        stmt = stmt.where(Hazard.level == f.level)
    overdue = sa.and_(Hazard.status == OVERDUE_STATUS, Hazard.deadline < today)
    if f.overdue is True:
        stmt = stmt.where(overdue)
    elif f.overdue is False:
        stmt = stmt.where(sa.not_(overdue))
    if f.enterprise_id is not None:
        stmt = stmt.where(Hazard.enterprise_id == f.enterprise_id)
    if f.industry is not None:
        stmt = stmt.where(Hazard.industry == f.industry)
    if f.inspector_id is not None:
        stmt = stmt.where(
            sa.exists().where(
                RecordMember.entity == "inspection",
                RecordMember.record_id == Hazard.inspection_id,
                RecordMember.user_id == f.inspector_id,
            )
        )
    if f.found_from is not None:
        stmt = stmt.where(Hazard.found_at >= local_midnight(agency, f.found_from))
    if f.found_to is not None:
        stmt = stmt.where(Hazard.found_at < local_midnight(agency, f.found_to + timedelta(1)))
    if f.supervised is not None:
        stmt = stmt.where(Hazard.supervised.is_(f.supervised))
    if f.penalty_case is not None:
        flagged = sa.exists().where(
            HazardEscalation.hazard_id == Hazard.id, HazardEscalation.kind == "penalty_case"
        )
        stmt = stmt.where(flagged if f.penalty_case else sa.not_(flagged))
    return stmt


def check_period(f: HazardFilters) -> None:
    if f.found_from and f.found_to and f.found_to < f.found_from:
        raise ValidationFailed(
            "found_to is before found_from", fields={"found_to": ["before found_from"]}
        )


def sort_order(sort: str) -> list[Any]:
    name = sort.lstrip("-")
    if name not in lifecycle.SORTS:
        raise ValidationFailed(f"cannot sort by {sort}", fields={"sort": ["unknown field"]})
    column = getattr(Hazard, name)
    # NULLS LAST only where there can be nulls: an order an index gives must not name it.
    nulls = Hazard.__table__.c[name].nullable
    if sort.startswith("-"):
        return [column.desc().nulls_last() if nulls else column.desc(), Hazard.id.desc()]
    return [column.asc().nulls_last() if nulls else column.asc(), Hazard.id]
