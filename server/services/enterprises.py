"""The enterprise directory: create, change, find."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from server.domain import permissions
from server.domain.enterprises import SORTABLE_FIELDS, normalize_uscc
from server.domain.errors import Conflict, ValidationFailed
from server.domain.permissions import Principal
from server.extensions import db
from server.models import Document, Enterprise, Inspection, Scan, User
from server.services.lookup import scalar_or_not_found
from server.services.paging import Page, paginate


def get_enterprise(enterprise_id: uuid.UUID) -> Enterprise:
    """Load one enterprise of the caller's agency (another agency's is simply not found)."""
    return scalar_or_not_found(
        sa.select(Enterprise).where(Enterprise.id == enterprise_id), "no such enterprise"
    )


def enterprises_by_id(ids: list[uuid.UUID]) -> list[Enterprise]:
    """The caller's agency's enterprises among ``ids`` (others are not found), in no order."""
    if not ids:
        return []
    return list(db.session.scalars(sa.select(Enterprise).where(Enterprise.id.in_(set(ids)))))


def _uscc_taken(uscc: str, agency_id: uuid.UUID, exclude: uuid.UUID | None = None) -> bool:
    stmt = sa.select(Enterprise.id).where(
        Enterprise.agency_id == agency_id, Enterprise.uscc == uscc
    )
    if exclude is not None:
        stmt = stmt.where(Enterprise.id != exclude)
    return db.session.scalar(stmt) is not None


def _duplicate(uscc: str) -> Conflict:
    return Conflict(
        f"an enterprise with USCC {uscc} is already in the directory",
        code="duplicate_uscc",
        fields={"uscc": ["already in the directory"]},
    )


def create_enterprise(principal: Principal, data: dict[str, Any]) -> Enterprise:
    """Add an enterprise to the caller's agency directory."""
    permissions.require_role(principal, permissions.EDIT_ENTERPRISES, "adding an enterprise")
    data = dict(data)
    data["uscc"] = normalize_uscc(data["uscc"])
    if _uscc_taken(data["uscc"], principal.agency_id):
        raise _duplicate(data["uscc"])
    enterprise = Enterprise(agency_id=principal.agency_id, **data)
    db.session.add(enterprise)
    try:
        db.session.commit()
    except sa.exc.IntegrityError:
        db.session.rollback()
        raise _duplicate(data["uscc"]) from None
    return enterprise


def update_enterprise(
    principal: Principal, enterprise_id: uuid.UUID, changes: dict[str, Any]
) -> Enterprise:
    """Change some fields of an enterprise; the USCC stays unique."""
    permissions.require_role(principal, permissions.EDIT_ENTERPRISES, "changing an enterprise")
    enterprise = get_enterprise(enterprise_id)
    if "uscc" in changes:
        changes = dict(changes, uscc=normalize_uscc(changes["uscc"]))
        if _uscc_taken(changes["uscc"], principal.agency_id, exclude=enterprise.id):
            raise _duplicate(changes["uscc"])
    changed = False
    for key, value in changes.items():
        if getattr(enterprise, key) != value:
            setattr(enterprise, key, value)
            changed = True
    if changed:
        enterprise.version += 1
    try:
        db.session.commit()
    except sa.exc.IntegrityError:
        db.session.rollback()
        raise _duplicate(changes.get("uscc", enterprise.uscc)) from None
    return enterprise


def list_enterprises(
    *,
    q: str | None = None,
    industry: str | None = None,
    risk_grade: str | None = None,
    credit_rating: str | None = None,
    is_key: bool | None = None,
    region: str | None = None,
    sort: str = "name",
    page: int = 1,
    per_page: int = 50,
) -> Page:
    """Filter and page the directory of the caller's agency."""
    stmt = sa.select(Enterprise)
    if q and q.strip():
        # A search for "%" or "_" means those characters, not LIKE wildcards.
        term = q.strip()
        stmt = stmt.where(
            sa.or_(
                Enterprise.name.icontains(term, autoescape=True),
                Enterprise.uscc.icontains(term, autoescape=True),
                Enterprise.address.icontains(term, autoescape=True),
            )
        )
    for column, value in (
        (Enterprise.industry, industry),
        (Enterprise.risk_grade, risk_grade),
        (Enterprise.credit_rating, credit_rating),
        (Enterprise.is_key, is_key),
        (Enterprise.region, region),
    ):
        if value is not None:
            stmt = stmt.where(column == value)
    descending = sort.startswith("-")
    if sort.lstrip("-") not in SORTABLE_FIELDS:
        raise ValidationFailed(f"cannot sort by {sort}", fields={"sort": ["unknown field"]})
    column = getattr(Enterprise, sort.lstrip("-"))
    order = column.desc() if descending else column.asc()
    return paginate(stmt, order, Enterprise.id, page=page, per_page=per_page)


@dataclass(frozen=True)
class History:
    """An enterprise's record with the agency: its latest inspections, documents and gate
    scans (each newest first, at most ``limit``), how many there are of each, and the names
    of the people in them."""

    inspections: list[Inspection]
    documents: list[Document]
    scans: list[Scan]
    totals: dict[str, int]
    people: dict[str, str]


def history(enterprise_id: uuid.UUID, limit: int = 30) -> History:
    """The enterprise's visit history, documents and scans (the session is fenced to the
    caller's agency, so another agency's enterprise is not found)."""
    get_enterprise(enterprise_id)
    found: dict[str, list[Any]] = {}
    totals: dict[str, int] = {}
    for key, model, moment in (
        ("inspections", Inspection, Inspection.started_at),
        ("documents", Document, Document.issued_at),
        ("scans", Scan, Scan.scanned_at),
    ):
        where = model.enterprise_id == enterprise_id
        found[key] = list(
            db.session.scalars(sa.select(model).where(where).order_by(moment.desc()).limit(limit))
        )
        totals[key] = db.session.scalars(
            sa.select(sa.func.count()).select_from(model).where(where)
        ).one()
    ids = {
        uuid.UUID(str(i))
        for record in found["inspections"] + found["scans"]
        for i in record.inspector_ids or ()
    }
    people = (
        {
            str(user.id): user.display_name
            for user in db.session.scalars(sa.select(User).where(User.id.in_(ids)))
        }
        if ids
        else {}
    )
    return History(found["inspections"], found["documents"], found["scans"], totals, people)
