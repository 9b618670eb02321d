"""Penalty cases to published decisions: one function per use case, each one transaction."""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from server.domain import penalties as rules
from server.domain import permissions
from server.domain.errors import NotFound, ValidationFailed
from server.domain.numbering import PENALTY_DECISION, format_number
from server.domain.permissions import Principal
from server.extensions import db
from server.models import (
    Agency,
    Complaint,
    Enterprise,
    Exemption,
    Hazard,
    Inspection,
    LegalReview,
    PenaltyCase,
    PenaltyDecision,
    User,
)
from server.render.pdf import (
    DocumentData,
    HazardEntry,
    Inspector,
    format_yuan,
    render_document,
    yuan_in_words,
)
from server.services.calendar import warn_if_estimated, working_calendar

log = logging.getLogger(__name__)


# --- agency context ---------------------------------------------------------------------------


def local_today(agency: Agency, now: datetime) -> date:
    return now.astimezone(ZoneInfo(agency.timezone)).date()


def _agency(principal: Principal) -> Agency:
    agency = db.session.get(Agency, principal.agency_id)
    assert agency is not None
    return agency


def _not_future(day: date, today: date, field: str) -> None:
    if day > today:
        raise ValidationFailed(f"{field} is in the future", fields={field: f"on or before {today}"})


def _not_before_case(day: date, case: PenaltyCase, field: str) -> None:
    if day < case.opened_on:
        raise ValidationFailed(
            f"{field} is before the case was opened",
            fields={field: f"on or after {case.opened_on}"},
        )


# --- views of a case --------------------------------------------------------------------------


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
        enterprise = db.session.get(Enterprise, decision.enterprise_id)
        enterprise_name = enterprise.name if enterprise else ""
    return DecisionView(decision, state, enterprise_name)


def _names(enterprise_ids: Any) -> dict[uuid.UUID, str]:
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
    names = _names(c.enterprise_id for c in cases)
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


def _case_view(case: PenaltyCase, now: datetime) -> CaseView:
    return _case_views([case], now)[0]


def _load_case(case_id: uuid.UUID, *, lock: bool = False) -> PenaltyCase:
    stmt = sa.select(PenaltyCase).where(PenaltyCase.id == case_id)
    if lock:
        stmt = stmt.with_for_update()
    case = db.session.scalar(stmt)
    if case is None:
        raise NotFound("no such case in your agency")
    return case


def get_case(principal: Principal, case_id: uuid.UUID, now: datetime) -> CaseView:
    permissions.require_role(principal, permissions.READ_CASES, "reading penalty cases")
    return _case_view(_load_case(case_id), now)


def list_cases(
    principal: Principal,
    now: datetime,
    *,
    status: str | None = None,
    year: int | None = None,
    enterprise_id: uuid.UUID | None = None,
    page: int = 1,
    per_page: int = 50,
) -> dict[str, Any]:
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
    total = db.session.scalar(sa.select(sa.func.count()).select_from(stmt.subquery())) or 0
    rows = list(
        db.session.scalars(
            stmt.order_by(PenaltyCase.opened_on.desc(), PenaltyCase.id)
            .limit(per_page)
            .offset((page - 1) * per_page)
        )
    )
    return {
        "items": _case_views(rows, now),
        "page": page,
        "per_page": per_page,
        "total": total,
    }


# --- cases ------------------------------------------------------------------------------------


def open_case(principal: Principal, data: dict[str, Any], now: datetime) -> CaseView:
    """立案 against an enterprise, linking the inspections and hazards it grew out of."""
    permissions.require_role(principal, permissions.OPEN_CASES, "opening a penalty case")
    agency = _agency(principal)
    _not_future(data["opened_on"], local_today(agency, now), "opened_on")
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
    return _case_view(case, now)


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
    case = _load_case(case_id, lock=True)
    agency = _agency(principal)
    _not_future(data["reviewed_on"], local_today(agency, now), "reviewed_on")
    _not_before_case(data["reviewed_on"], case, "reviewed_on")
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
    return _case_view(case, now)


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
    case = _load_case(case_id, lock=True)
    agency = _agency(principal)
    rules.require_open(case.status)
    decided_on: date = data["decided_on"]
    _not_future(decided_on, local_today(agency, now), "decided_on")
    _not_before_case(decided_on, case, "decided_on")
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
    serial = _next_serial(agency.id, decided_on.year)
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


def _next_serial(agency_id: uuid.UUID, year: int) -> int:
    """The next 应急罚 serial, from the row-locked counter the device documents use."""
    from server.services.sync.cache import BatchCache

    counters = BatchCache(agency_id)
    serial = counters.next_serial(PENALTY_DECISION, year)
    counters.write_counters()
    return serial


def exempt(
    principal: Principal, case_id: uuid.UUID, data: dict[str, Any], now: datetime
) -> CaseView:
    """不予处罚 under the minor/first-violation list: recorded, counted, nothing imposed."""
    permissions.require_role(principal, permissions.DECIDE_CASES, "deciding not to penalize")
    case = _load_case(case_id, lock=True)
    agency = _agency(principal)
    rules.require_open(case.status)
    _not_future(data["decided_on"], local_today(agency, now), "decided_on")
    _not_before_case(data["decided_on"], case, "decided_on")
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
    return _case_view(case, now)


def dismiss(
    principal: Principal, case_id: uuid.UUID, data: dict[str, Any], now: datetime
) -> CaseView:
    """撤案: the case ends without a decision; the reason stays on it."""
    permissions.require_role(principal, permissions.DECIDE_CASES, "dismissing a case")
    case = _load_case(case_id, lock=True)
    rules.require_open(case.status)
    _not_future(data["dismissed_on"], local_today(_agency(principal), now), "dismissed_on")
    _not_before_case(data["dismissed_on"], case, "dismissed_on")
    case.status = rules.DISMISSED
    case.closed_on = data["dismissed_on"]
    case.summary = (case.summary + "\n撤案理由：" + data["reason"]).strip()
    db.session.commit()
    return _case_view(case, now)


def transfer(
    principal: Principal, case_id: uuid.UUID, data: dict[str, Any], now: datetime
) -> CaseView:
    """移送司法: record that the case went to the public security organs or procuratorate."""
    permissions.require_role(principal, permissions.DECIDE_CASES, "transferring a case")
    case = _load_case(case_id, lock=True)
    if case.transferred_on is not None:
        raise rules.CaseNotOpen("the case was already transferred", code="already_transferred")
    _not_future(data["transferred_on"], local_today(_agency(principal), now), "transferred_on")
    _not_before_case(data["transferred_on"], case, "transferred_on")
    case.transferred_on = data["transferred_on"]
    case.transferred_to = data["transferred_to"]
    case.transfer_reason = data.get("reason", "")
    db.session.commit()
    return _case_view(case, now)


# --- decisions: publication -------------------------------------------------------------------


def _load_decision(decision_id: uuid.UUID, *, lock: bool = False) -> PenaltyDecision:
    stmt = sa.select(PenaltyDecision).where(PenaltyDecision.id == decision_id)
    if lock:
        stmt = stmt.with_for_update()
    decision = db.session.scalar(stmt)
    if decision is None:
        raise NotFound("no such penalty decision in your agency")
    return decision


def get_decision(principal: Principal, decision_id: uuid.UUID, now: datetime) -> DecisionView:
    permissions.require_role(principal, permissions.READ_CASES, "reading penalty decisions")
    return decision_view(_load_decision(decision_id), _agency(principal), now)


def publish(
    principal: Principal, decision_id: uuid.UUID, data: dict[str, Any], now: datetime
) -> DecisionView:
    """Put the decision on the public pages (公示).

    ``published_on`` (default today) is the date shown on the public page; whether the
    publication was on time is judged by the server's own record of this moment.
    """
    permissions.require_role(principal, permissions.PUBLISH_DECISIONS, "publishing a decision")
    decision = _load_decision(decision_id, lock=True)
    agency = _agency(principal)
    today = local_today(agency, now)
    published_on = data.get("published_on") or today
    _not_future(published_on, today, "published_on")
    rules.check_publish(
        published_on,
        decision.decided_on,
        decision.revoked_on is not None,
        decision.published_at is not None or decision.published_on is not None,
    )
    decision.published_on = published_on
    decision.published_at = now
    decision.published_late = rules.published_late(
        today, decision.publication_deadline, decision.late_flagged_on
    )
    if decision.published_late:
        log.warning(
            "decision %s published on %s, after its deadline %s",
            decision.number,
            today,
            decision.publication_deadline,
        )
    db.session.commit()
    return decision_view(decision, agency, now)


def revoke(
    principal: Principal, decision_id: uuid.UUID, data: dict[str, Any], now: datetime
) -> DecisionView:
    """Revoke a decision: the reason is kept; a published one leaves the public pages now."""
    permissions.require_role(principal, permissions.DECIDE_CASES, "revoking a decision")
    decision = _load_decision(decision_id, lock=True)
    agency = _agency(principal)
    today = local_today(agency, now)
    revoked_on = data.get("revoked_on") or today
    _not_future(revoked_on, today, "revoked_on")
    rules.check_revoke(
        revoked_on, decision.decided_on, data["reason"], decision.revoked_on is not None
    )
    decision.revoked_on = revoked_on
    decision.revoke_reason = data["reason"]
    if decision.published_on is not None:
        decision.withdrawal_deadline = rules.withdrawal_deadline(
            revoked_on, working_calendar(agency)
        )
        # The public list shows only unrevoked decisions, so recording it withdraws it.
        decision.withdrawn_on = today
        if today > decision.withdrawal_deadline:
            log.warning(
                "decision %s withdrawn on %s, after its deadline %s",
                decision.number,
                today,
                decision.withdrawal_deadline,
            )
    db.session.commit()
    return decision_view(decision, agency, now)


def publication_watch(principal: Principal, now: datetime) -> dict[str, Any]:
    """Decisions waiting for publication (due), past the 7-working-day deadline (late), and
    this year's decisions published after it (published_late)."""
    permissions.require_role(principal, permissions.PUBLISH_DECISIONS, "watching publication")
    agency = _agency(principal)
    today = local_today(agency, now)
    pending = list(
        db.session.scalars(
            sa.select(PenaltyDecision)
            .where(PenaltyDecision.published_at.is_(None), PenaltyDecision.revoked_on.is_(None))
            .order_by(
                PenaltyDecision.publication_deadline, PenaltyDecision.year, PenaltyDecision.serial
            )
        )
    )
    published_late = list(
        db.session.scalars(
            sa.select(PenaltyDecision)
            .where(
                PenaltyDecision.published_late.is_(True),
                PenaltyDecision.revoked_on.is_(None),
                PenaltyDecision.year == today.year,
            )
            .order_by(PenaltyDecision.serial)
        )
    )
    names = _names(d.enterprise_id for d in pending + published_late)
    views = [decision_view(d, agency, now, names.get(d.enterprise_id, "")) for d in pending]
    return {
        "today": today,
        "due": [v for v in views if v.publication.due],
        "late": [v for v in views if v.publication.late],
        "published_late": [
            decision_view(d, agency, now, names.get(d.enterprise_id, "")) for d in published_late
        ],
    }


def flag_late_publications(now: datetime) -> int:
    """Daily: mark decisions found unpublished past their deadline, in every agency.

    Safe to run twice: a decision is flagged once, on the first day it is found late, and the
    flag stays as the record that it was late even after it is published.
    """
    flagged = 0
    agencies = {a.id: a for a in db.session.scalars(sa.select(Agency))}
    pending = db.session.scalars(
        sa.select(PenaltyDecision).where(
            PenaltyDecision.published_at.is_(None),
            PenaltyDecision.revoked_on.is_(None),
            PenaltyDecision.late_flagged_on.is_(None),
        )
    )
    for decision in pending:
        agency = agencies[decision.agency_id]
        today = local_today(agency, now)
        if today > decision.publication_deadline:
            decision.late_flagged_on = today
            flagged += 1
            log.warning(
                "penalty decision %s (%s) not published by its deadline %s",
                decision.number,
                agency.code,
                decision.publication_deadline,
            )
    db.session.commit()
    return flagged


# --- the printed decision ---------------------------------------------------------------------


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
    decision = _load_decision(decision_id)
    case = _load_case(decision.case_id)
    agency = _agency(principal)
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
        issued_on=decision.decided_on.strftime("%Y年%m月%d日"),
        inspectors=inspectors,
        findings=decision.facts or case.summary,
        hazards=tuple(
            HazardEntry(
                h.description, h.level, h.legal_basis, h.deadline.isoformat() if h.deadline else ""
            )
            for h in hazards
        ),
        penalty_fen=decision.entity_fine_fen or None,
        penalty_text=penalty_text(decision),
        penalty_basis=decision.basis,
    )
    return decision, render_document(data, font=font)


# --- the public list --------------------------------------------------------------------------


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


@dataclass(frozen=True)
class PublicPage:
    items: list[PublicDecision]
    page: int
    per_page: int
    total: int

    @property
    def pages(self) -> int:
        return max((self.total + self.per_page - 1) // self.per_page, 1)


PUBLIC_PER_PAGE = 50


def public_decisions(
    agency_code: str | None = None, *, page: int = 1, per_page: int = PUBLIC_PER_PAGE
) -> PublicPage:
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
        .limit(per_page)
        .offset((page - 1) * per_page)
    )
    out = []
    for decision, enterprise, agency in db.session.execute(stmt):
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
                # The query keeps published decisions only.
                published_on=decision.published_on,  # type: ignore[arg-type]
                facts=decision.facts,
                basis=decision.basis,
                penalty="；".join(parts),
                fine_fen=decision.entity_fine_fen + decision.individual_fine_fen,
            )
        )
    return PublicPage(out, page, per_page, total)


# --- complaints -------------------------------------------------------------------------------


def record_complaint(principal: Principal, data: dict[str, Any], now: datetime) -> Complaint:
    """投诉举报 received (and, if already done, handled)."""
    permissions.require_role(principal, permissions.RECORD_COMPLAINTS, "recording a complaint")
    today = local_today(_agency(principal), now)
    _not_future(data["received_on"], today, "received_on")
    if data.get("enterprise_id") and db.session.get(Enterprise, data["enterprise_id"]) is None:
        raise ValidationFailed("no such enterprise", fields={"enterprise_id": "not found"})
    complaint = Complaint(
        agency_id=principal.agency_id,
        received_on=data["received_on"],
        channel=data["channel"],
        summary=data["summary"],
        enterprise_id=data.get("enterprise_id"),
        recorded_by=principal.user_id,
    )
    _handle(complaint, data, today)
    db.session.add(complaint)
    db.session.commit()
    return complaint


def _handle(complaint: Complaint, data: dict[str, Any], today: date) -> None:
    if data.get("handled_on") is not None:
        _not_future(data["handled_on"], today, "handled_on")
        if data["handled_on"] < complaint.received_on:
            raise ValidationFailed(
                "handled before it was received",
                fields={"handled_on": f"on or after {complaint.received_on}"},
            )
        complaint.handled_on = data["handled_on"]
    if "outcome" in data:
        complaint.outcome = data["outcome"]


def handle_complaint(
    principal: Principal, complaint_id: uuid.UUID, data: dict[str, Any], now: datetime
) -> Complaint:
    permissions.require_role(principal, permissions.RECORD_COMPLAINTS, "handling a complaint")
    complaint = db.session.get(Complaint, complaint_id)
    if complaint is None:
        raise NotFound("no such complaint in your agency")
    _handle(complaint, data, local_today(_agency(principal), now))
    db.session.commit()
    return complaint


def list_complaints(
    principal: Principal, *, year: int | None = None, page: int = 1, per_page: int = 50
) -> dict[str, Any]:
    permissions.require_role(principal, permissions.RECORD_COMPLAINTS, "reading complaints")
    stmt = sa.select(Complaint)
    if year:
        stmt = stmt.where(
            Complaint.received_on >= date(year, 1, 1), Complaint.received_on < date(year + 1, 1, 1)
        )
    total = db.session.scalar(sa.select(sa.func.count()).select_from(stmt.subquery())) or 0
    items = list(
        db.session.scalars(
            stmt.order_by(Complaint.received_on.desc(), Complaint.id)
            .limit(per_page)
            .offset((page - 1) * per_page)
        )
    )
    return {"items": items, "page": page, "per_page": per_page, "total": total}
