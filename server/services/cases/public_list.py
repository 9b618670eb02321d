"""The public list of published decisions."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa

from server.domain.money import format_yuan
from server.extensions import db
from server.models import (
    Agency,
    Enterprise,
    PenaltyDecision,
)
from server.services.cases.printed import penalty_text
from server.services.paging import Page, sliced


@dataclass(frozen=True)
class PublicDecision:
    number: str
    agency_name: str
    enterprise_name: str
    enterprise_uscc: str
    decided_on: date
    published_on: date
    facts: str
    basis: str
    penalty: str
    fine_fen: int


PUBLIC_PER_PAGE = 50


def public_decisions(
    agency_code: str | None = None, *, page: int = 1, per_page: int = PUBLIC_PER_PAGE
) -> Page:
    """Published decisions not revoked, newest first, a page at a time; individuals masked."""
    where: list[sa.ColumnElement[bool]] = [
        PenaltyDecision.published_on.is_not(None),
        PenaltyDecision.revoked_on.is_(None),
    ]
    if agency_code:
        where.append(Agency.code == agency_code)
    total = (
        db.session.scalar(
            sa.select(sa.func.count())
            .select_from(PenaltyDecision)
            .join(Agency, Agency.id == PenaltyDecision.agency_id)
            .where(*where)
        )
        or 0
    )
    stmt = (
        sa.select(PenaltyDecision, Enterprise, Agency)
        .join(Enterprise, Enterprise.id == PenaltyDecision.enterprise_id)
        .join(Agency, Agency.id == PenaltyDecision.agency_id)
        .where(*where)
        .order_by(PenaltyDecision.published_on.desc(), PenaltyDecision.number, PenaltyDecision.id)
    )
    out = []
    for decision, enterprise, agency in db.session.execute(sliced(stmt, page, per_page)):
        parts = []
        if decision.entity_fine_fen:
            parts.append(f"对该单位罚款人民币{format_yuan(decision.entity_fine_fen)}")
        extra = penalty_text(decision, public=True)
        if extra:
            parts.append(extra)
        out.append(
            PublicDecision(
                number=decision.number,
                agency_name=agency.name,
                enterprise_name=enterprise.name,
                enterprise_uscc=enterprise.uscc,
                decided_on=decision.decided_on,
                published_on=decision.published_on,
                facts=decision.facts,
                basis=decision.basis,
                penalty="；".join(parts),
                fine_fen=decision.entity_fine_fen + decision.individual_fine_fen,
            )
        )
    return Page(out, page, per_page, total)
