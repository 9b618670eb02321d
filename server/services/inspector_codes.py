"""亮码: issue an inspector's short-lived code, and what its public page shows when scanned."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from server.domain import inspector_codes as codes
from server.domain.errors import Forbidden
from server.domain.permissions import Principal
from server.extensions import db
from server.models import Agency, DrawPlan, Task, User
from server.services.lookup import scalar_or_not_found


@dataclass(frozen=True)
class IssuedCode:
    token: str
    url: str
    expires_at: datetime


def issue(
    principal: Principal, task_id: uuid.UUID | None, *, key: bytes, base_url: str, now: datetime
) -> IssuedCode:
    """The caller's code, for one of their tasks or for a visit with no drawn task."""
    if task_id is not None:
        task = scalar_or_not_found(
            sa.select(Task).where(Task.id == task_id, Task.agency_id == principal.agency_id),
            "no such task",
        )
        if str(principal.user_id) not in {str(i) for i in task.inspector_ids}:
            raise Forbidden("only the task's team shows a code for it", code="not_on_team")
    token = codes.issue(key, principal.user_id, task_id, now)
    return IssuedCode(
        token=token,
        url=f"{base_url.rstrip('/')}/{codes.URL_PATH_SEGMENT}/{token}",
        expires_at=codes.read(key, token, now).expires_at,  # type: ignore[arg-type]
    )


@dataclass(frozen=True)
class Shown:
    """What the public page says of a scanned code."""

    status: str
    warning: str | None = None
    name: str = ""
    agency: str = ""
    department: str = ""
    cert_no: str = ""
    cert_valid_until: date | None = None
    task: str = ""
    legal_basis: str = ""
    expires_at: datetime | None = None


def shown(token: str, *, key: bytes, now: datetime) -> Shown:
    """Read a scanned code; the holder and their certificate are checked as of now."""
    reading = codes.read(key, token, now)
    if reading.status != codes.VALID:
        return Shown(reading.status, codes.WARNINGS[reading.status])
    user = db.session.get(User, reading.user_id)
    if user is None or not user.active:
        return Shown(codes.UNKNOWN, codes.WARNINGS[codes.UNKNOWN])
    agency = db.session.get_one(Agency, user.agency_id)
    today = now.astimezone(ZoneInfo(agency.timezone)).date()
    task_title, basis = "", codes.DEFAULT_LEGAL_BASIS
    if reading.task_id is not None:
        task = db.session.scalar(
            sa.select(Task).where(Task.id == reading.task_id, Task.agency_id == agency.id)
        )
        if task is not None:
            plan = db.session.get(DrawPlan, task.plan_id)
            task_title = task.title
            basis = codes.DRAWN_LEGAL_BASIS + (f"（{plan.name}）" if plan is not None else "")
    valid = codes.certificate_valid(user.cert_no, user.cert_valid_until, today)
    status = codes.VALID if valid else codes.CERT_LAPSED
    return Shown(
        status=status,
        warning=None if valid else codes.WARNINGS[codes.CERT_LAPSED],
        name=user.display_name,
        agency=agency.name,
        department=user.unit,
        cert_no=user.cert_no or "",
        cert_valid_until=user.cert_valid_until,
        task=task_title,
        legal_basis=basis,
        expires_at=reading.expires_at,
    )
