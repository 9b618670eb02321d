"""What the case use cases share: the agency, its day, and the date checks."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from server.domain.errors import ValidationFailed
from server.domain.permissions import Principal
from server.extensions import db
from server.models import (
    Agency,
    PenaltyCase,
)


def local_today(agency: Agency, now: datetime) -> date:
    return now.astimezone(ZoneInfo(agency.timezone)).date()


def agency_of(principal: Principal) -> Agency:
    agency = db.session.get(Agency, principal.agency_id)
    assert agency is not None
    return agency


def not_future(day: date, today: date, field: str) -> None:
    if day > today:
        raise ValidationFailed(f"{field} is in the future", fields={field: f"on or before {today}"})


def not_before_case(day: date, case: PenaltyCase, field: str) -> None:
    if day < case.opened_on:
        raise ValidationFailed(
            f"{field} is before the case was opened",
            fields={field: f"on or after {case.opened_on}"},
        )
