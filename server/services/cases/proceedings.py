"""A case from opening to its end: review, decision, exemption, dismissal, transfer."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa

from server.domain import penalties as rules
from server.domain import permissions
from server.domain.errors import ValidationFailed
from server.domain.numbering import PENALTY_DECISION, format_number
from server.domain.permissions import Principal
from server.extensions import db
from server.models import (
    Complaint,
    Enterprise,
    Exemption,
    Hazard,
    Inspection,
    LegalReview,
    PenaltyCase,
    PenaltyDecision,
)
from server.services import numbering as numbering_service
from server.services.calendar import warn_if_estimated, working_calendar
from server.services.cases.context import agency_of, local_today, not_before_case, not_future
from server.services.cases.views import (
    CaseView,
    DecisionView,
    case_view,
    decision_view,
    load_case,
)


def open_case(principal: Principal, data: dict[str, Any], now: datetime) -> CaseView:
    """立案 against an enterprise, linking the inspections and hazards it grew out of."""
    permissions.require_role(principal, permissions.OPEN_CASES, "opening a penalty case")
    agency = agency_of(principal)
    not_future(data["opened_on"], local_today(agency, now), "opened_on")
    enterprise = db.session.get(Enterprise, data["enterprise_id"])
    if enterprise is None:
        raise ValidationFailed(
            "no such enterprise in your agency's directory",
            code="unknown_enterprise",
            fields={"enterprise_id": "not in the directory"},
        )
    inspection_ids = list(dict.fromkeys(data.get("inspection_ids") or []))
    hazard_ids = list(dict.fromkeys(data.get("hazard_ids") or []))
    _check_links(Inspection, inspection_ids, enterprise.id, "inspection_ids")
    _check_links(Hazard, hazard_ids, enterprise.id, "hazard_ids")
    complaint_id = data.get("complaint_id")
    if complaint_id is not None and db.session.get(Complaint, complaint_id) is None:
        raise ValidationFailed("no such complaint", fields={"complaint_id": "not found"})
    source = data.get("source") or ("complaint" if complaint_id else "inspection")
    case = PenaltyCase(
        agency_id=principal.agency_id,
        enterprise_id=enterprise.id,
        opened_on=data["opened_on"],
        source=source,
        accident=bool(data.get("accident")) or source == "accident",
        summary=data.get("summary", ""),
        inspection_ids=[str(i) for i in inspection_ids],
        hazard_ids=[str(h) for h in hazard_ids],
        complaint_id=complaint_id,
        status=rules.OPEN,
        opened_by=principal.user_id,
    )
    db.session.add(case)
    db.session.commit()
    return case_view(case, now)


def _check_links(model: Any, ids: list[uuid.UUID], enterprise_id: uuid.UUID, field: str) -> None:
    if not ids:
        return
    found: dict[uuid.UUID, uuid.UUID] = dict(
        db.session.execute(sa.select(model.id, model.enterprise_id).where(model.id.in_(ids))).all()
    )
    missing = [str(i) for i in ids if i not in found]
    other = [str(i) for i in ids if i in found and found[i] != enterprise_id]
    if missing or other:
        raise ValidationFailed(
            "the case links records that are not this enterprise's",
            code="unknown_or_foreign_record",
            fields={field: "unknown or of another enterprise"},
            details={"missing": missing, "other_enterprise": other},
        )


def record_review(
    principal: Principal, case_id: uuid.UUID, data: dict[str, Any], now: datetime
) -> CaseView:
    """法制审核 of the case: approved, or returned with the reviewer's note."""
    permissions.require_role(principal, permissions.LEGAL_REVIEW, "legal review")
    case = load_case(case_id, lock=True)
    agency = agency_of(principal)
    not_future(data["reviewed_on"], local_today(agency, now), "reviewed_on")
    not_before_case(data["reviewed_on"], case, "reviewed_on")
    if data["opinion"] == rules.RETURNED and not (data.get("note") or "").strip():
        raise ValidationFailed(
            "a returned review says what to fix", fields={"note": "required when returned"}
        )
    db.session.add(
        LegalReview(
            agency_id=principal.agency_id,
            case_id=case.id,
            reviewed_on=data["reviewed_on"],
            opinion=data["opinion"],
            note=data.get("note", ""),
            reviewer_id=principal.user_id,
        )
    )
    db.session.commit()
    return case_view(case, now)


def _terms(case: PenaltyCase, data: dict[str, Any]) -> rules.DecisionTerms:
    return rules.DecisionTerms(
        entity_fine_fen=data.get("entity_fine_fen", 0),
        individuals=tuple(
            rules.Individual(p["name"], p["fine_fen"], p.get("title", ""))
            for p in data.get("individuals") or []
        ),
        other_penalties=tuple(dict.fromkeys(data.get("other_penalties") or [])),
        accident=case.accident,
        confiscated_fen=data.get("confiscated_fen", 0),
    )


def issue_decision(
    principal: Principal, case_id: uuid.UUID, data: dict[str, Any], now: datetime
) -> DecisionView:
    """行政处罚决定书: checked, legally reviewed if major, numbered without gaps, deadline set."""
    permissions.require_role(principal, permissions.DECIDE_CASES, "issuing a penalty decision")
    case = load_case(case_id, lock=True)
    agency = agency_of(principal)
    rules.require_open(case.status)
    decided_on: date = data["decided_on"]
    not_future(decided_on, local_today(agency, now), "decided_on")
    not_before_case(decided_on, case, "decided_on")
    terms = _terms(case, data)
    rules.check_terms(terms)
    # Oldest first: the rule looks at the latest review in force on the decision date.
    reviews = db.session.scalars(
        sa.select(LegalReview.opinion)
        .where(LegalReview.case_id == case.id, LegalReview.reviewed_on <= decided_on)
        .order_by(LegalReview.reviewed_on, LegalReview.created_at, LegalReview.id)
    )
    major = rules.require_review(terms, rules.PenaltyPolicy.from_settings(agency.settings), reviews)
    format_number(agency.abbr, PENALTY_DECISION, decided_on.year, 1)  # refuses a bad abbreviation
    deadline = rules.publication_deadline(decided_on, working_calendar(agency))
    # Everything is checked: only now take the serial, so a refusal never leaves a gap.
    serial = numbering_service.next_serial(agency.id, PENALTY_DECISION, decided_on.year)
    decision = PenaltyDecision(
        agency_id=agency.id,
        case_id=case.id,
        enterprise_id=case.enterprise_id,
        decided_on=decided_on,
        year=decided_on.year,
        serial=serial,
        number=format_number(agency.abbr, PENALTY_DECISION, decided_on.year, serial),
        entity_fine_fen=terms.entity_fine_fen,
        individual_fine_fen=terms.individual_fine_fen,
        confiscated_fen=terms.confiscated_fen,
        individuals=[
            {"name": p.name, "title": p.title, "fine_fen": p.fine_fen} for p in terms.individuals
        ],
        other_penalties=list(terms.other_penalties),
        accident=terms.accident,
        lenient=bool(data.get("lenient")),
        major=major,
        facts=data.get("facts", ""),
        basis=data.get("basis", ""),
        publication_deadline=deadline,
        issued_by=principal.user_id,
    )
    case.status = rules.DECIDED
    case.closed_on = decided_on
    db.session.add(decision)
    db.session.commit()
    warn_if_estimated(decided_on, deadline, f"penalty decision {decision.number}")
    return decision_view(decision, agency, now)


def exempt(
    principal: Principal, case_id: uuid.UUID, data: dict[str, Any], now: datetime
) -> CaseView:
    """不予处罚 under the minor/first-violation list: recorded, counted, nothing imposed."""
    permissions.require_role(principal, permissions.DECIDE_CASES, "deciding not to penalize")
    case = load_case(case_id, lock=True)
    agency = agency_of(principal)
    rules.require_open(case.status)
    not_future(data["decided_on"], local_today(agency, now), "decided_on")
    not_before_case(data["decided_on"], case, "decided_on")
    rules.check_exemption(data["list_item"], data.get("amount_not_imposed_fen", 0))
    db.session.add(
        Exemption(
            agency_id=agency.id,
            case_id=case.id,
            enterprise_id=case.enterprise_id,
            decided_on=data["decided_on"],
            party=data.get("party", "entity"),
            party_name=data.get("party_name", ""),
            list_item=data["list_item"],
            amount_not_imposed_fen=data.get("amount_not_imposed_fen", 0),
            note=data.get("note", ""),
            decided_by=principal.user_id,
        )
    )
    case.status = rules.EXEMPTED
    case.closed_on = data["decided_on"]
    db.session.commit()
    return case_view(case, now)


def dismiss(
    principal: Principal, case_id: uuid.UUID, data: dict[str, Any], now: datetime
) -> CaseView:
    """撤案: the case ends without a decision; the reason stays on it."""
    permissions.require_role(principal, permissions.DECIDE_CASES, "dismissing a case")
    case = load_case(case_id, lock=True)
    rules.require_open(case.status)
    not_future(data["dismissed_on"], local_today(agency_of(principal), now), "dismissed_on")
    not_before_case(data["dismissed_on"], case, "dismissed_on")
    case.status = rules.DISMISSED
    case.closed_on = data["dismissed_on"]
    case.summary = (case.summary + "\n撤案理由：" + data["reason"]).strip()
    db.session.commit()
    return case_view(case, now)


def transfer(
    principal: Principal, case_id: uuid.UUID, data: dict[str, Any], now: datetime
) -> CaseView:
    """移送司法: record that the case went to the public security organs or procuratorate."""
    permissions.require_role(principal, permissions.DECIDE_CASES, "transferring a case")
    case = load_case(case_id, lock=True)
    if case.transferred_on is not None:
        raise rules.CaseNotOpen("the case was already transferred", code="already_transferred")
    not_future(data["transferred_on"], local_today(agency_of(principal), now), "transferred_on")
    not_before_case(data["transferred_on"], case, "transferred_on")
    case.transferred_on = data["transferred_on"]
    case.transferred_to = data["transferred_to"]
    case.transfer_reason = data.get("reason", "")
    db.session.commit()
    return case_view(case, now)
