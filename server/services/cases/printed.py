"""The printed decision: the penalty in words and the PDF."""

from __future__ import annotations

import uuid
from typing import Any

import sqlalchemy as sa

from server.domain import penalties as rules
from server.domain import permissions
from server.domain.dates import chinese_date
from server.domain.money import format_yuan, yuan_in_words
from server.domain.numbering import PENALTY_DECISION
from server.domain.permissions import Principal
from server.extensions import db
from server.models import (
    Enterprise,
    Hazard,
    Inspection,
    PenaltyDecision,
    User,
)
from server.render.documents import DocumentData, HazardEntry, Inspector, render_document
from server.services.cases.context import agency_of
from server.services.cases.publication import load_decision
from server.services.cases.views import load_case


def _mask(name: str) -> str:
    """张三 → 张某: individuals are named in the document, not on the public page."""
    return (name[:1] + "某") if name else ""


def penalty_text(decision: PenaltyDecision, *, public: bool = False) -> str:
    parts = []
    for p in decision.other_penalties:
        if p not in rules.OTHER_PENALTY_TEXT:
            continue
        text = rules.OTHER_PENALTY_TEXT[p]
        if p == rules.CONFISCATION and decision.confiscated_fen:
            amount = decision.confiscated_fen
            text += f"人民币{yuan_in_words(amount)}（{format_yuan(amount)}）"
        parts.append(text)
    for person in decision.individuals:
        who = _mask(person["name"]) if public else person["name"]
        if person.get("title"):
            who += f"（{person['title']}）"
        parts.append(
            f"对{who}罚款人民币{yuan_in_words(person['fine_fen'])}（{format_yuan(person['fine_fen'])}）"
        )
    return "；".join(parts)


def decision_pdf(
    principal: Principal, decision_id: uuid.UUID, font: Any = None
) -> tuple[PenaltyDecision, bytes]:
    permissions.require_role(principal, permissions.READ_CASES, "reading penalty decisions")
    decision = load_decision(decision_id)
    case = load_case(decision.case_id)
    agency = agency_of(principal)
    enterprise = db.session.get_one(Enterprise, decision.enterprise_id)
    inspectors: tuple[Inspector, ...] = ()
    if case.inspection_ids:
        inspection = db.session.get(Inspection, uuid.UUID(case.inspection_ids[0]))
        if inspection is not None:
            team = [uuid.UUID(i) for i in inspection.inspector_ids]
            users = {u.id: u for u in db.session.scalars(sa.select(User).where(User.id.in_(team)))}
            inspectors = tuple(
                Inspector(users[i].display_name, users[i].cert_no or "") for i in team if i in users
            )
    hazards = db.session.scalars(
        sa.select(Hazard).where(Hazard.id.in_([uuid.UUID(h) for h in case.hazard_ids]))
    )
    data = DocumentData(
        doc_type=PENALTY_DECISION,
        agency_name=agency.name,
        number=decision.number,
        enterprise_name=enterprise.name,
        enterprise_uscc=enterprise.uscc,
        enterprise_address=enterprise.address,
        issued_on=chinese_date(decision.decided_on),
        inspectors=inspectors,
        findings=decision.facts or case.summary,
        hazards=tuple(
            HazardEntry(
                h.description,
                h.level,
                h.legal_basis,
                chinese_date(h.deadline) if h.deadline else "",
            )
            for h in hazards
        ),
        penalty_fen=decision.entity_fine_fen or None,
        penalty_text=penalty_text(decision),
        penalty_basis=decision.basis,
    )
    return decision, render_document(data, font=font)
