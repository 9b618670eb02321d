"""The records behind each figure of the annual report, defined once.

Every counted figure of the report is a ``Figure``: one or more ``Source`` (a kind of record
with the conditions that select it within a year) and what it adds up (how many, or an
amount). The report computes its figures from these definitions, one query per kind of
record and year, and the lists behind the figures select rows with the very same
conditions, so a list's length (or its amounts' total) is the figure.

The year a record belongs to is ``domain.reporting_years``.
"""

from __future__ import annotations

import csv
import io
import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from server.domain import inspections
from server.domain.annual_plan import GENERAL_KINDS, KEY_KINDS
from server.domain.money import format_fen
from server.domain.numbering import DOCUMENT_TYPES
from server.domain.reporting_years import (
    YEAR_OF,
    day_span,
    end_of_day,
    rectified_as_of,
    year_span,
)
from server.extensions import db
from server.models import (
    Agency,
    AnnualPlan,
    AnnualPlanItem,
    Complaint,
    Document,
    Enterprise,
    Exemption,
    Hazard,
    Inspection,
    LegalReview,
    PenaltyCase,
    PenaltyDecision,
)
from server.services.paging import page_of, sliced

# On-site measures that are 行政强制措施: a stop of production or of equipment.
COMPULSORY_MEASURES = frozenset({"stop_production", "stop_use"})


@dataclass(frozen=True)
class Year:
    """The year being counted, for one agency, as of the agency's ``today``."""

    agency: Agency
    year: int
    today: date

    @property
    def moments(self) -> tuple[Any, Any]:
        return year_span(self.year, self.agency.timezone)

    @property
    def days(self) -> tuple[date, date]:
        return day_span(self.year)


Condition = Callable[[Year], Any]


@dataclass(frozen=True)
class Kind:
    """A kind of record: its table, the column whose date puts it in a year, how it is
    shown in a list."""

    name: str
    label: str
    model: Any
    dated_by: Any  # None: the figure's own conditions carry the year
    by_moment: bool
    base: tuple[Condition, ...] = ()
    # The enterprise a record concerns, for its name in lists (a review: its case's).
    enterprise_of: Callable[[], Any] | None = None

    def enterprise(self) -> Any:
        return self.enterprise_of() if self.enterprise_of else self.model.enterprise_id

    def in_year(self, y: Year) -> list[Any]:
        conditions = [self.model.agency_id == y.agency.id, *(c(y) for c in self.base)]
        if self.dated_by is not None:
            low, high = y.moments if self.by_moment else y.days
            conditions += [self.dated_by >= low, self.dated_by < high]
        return conditions


def _dated(model: Any, record: str) -> Any:
    """The column whose date puts a record in its year: ``domain.reporting_years.YEAR_OF``."""
    return getattr(model, YEAR_OF[record])


d = PenaltyDecision
INSPECTIONS = Kind("inspections", "检查记录", Inspection, _dated(Inspection, "inspection"), True)
DOCUMENTS = Kind("documents", "执法文书", Document, _dated(Document, "document"), True)
HAZARDS = Kind("hazards", "隐患", Hazard, _dated(Hazard, "hazard"), True)
CASES = Kind("cases", "立案", PenaltyCase, _dated(PenaltyCase, "case"), False)
TRANSFERS = Kind("transfers", "移送司法", PenaltyCase, _dated(PenaltyCase, "transfer"), False)
# A revoked decision was annulled: it is not part of any year's enforcement.
DECISIONS = Kind(
    "decisions", "处罚决定", d, _dated(d, "decision"), False, (lambda y: d.revoked_on.is_(None),)
)
EXEMPTIONS = Kind("exemptions", "免罚", Exemption, _dated(Exemption, "exemption"), False)
COMPLAINTS = Kind("complaints", "投诉举报", Complaint, _dated(Complaint, "complaint"), False)
KINDS = {
    k.name: k
    for k in (INSPECTIONS, DOCUMENTS, HAZARDS, CASES, TRANSFERS, DECISIONS, EXEMPTIONS, COMPLAINTS)
}


@dataclass(frozen=True)
class Source:
    kind: Kind
    where: tuple[Condition, ...] = ()
    # Rows kept after the query, for what SQL cannot read alike on both databases (the
    # measures inside a document's JSON body); few rows a year.
    keep: Callable[[Any], bool] | None = None


@dataclass(frozen=True)
class Figure:
    """A counted figure: how many records its sources select, or the total of ``amount``."""

    sources: tuple[Source, ...]
    amount: Callable[[], Any] | None = None
    note: str = ""


# --- conditions, each written once ---------------------------------------------------------------


def _kinds_in(kinds: frozenset[str]) -> Condition:
    return lambda y: Inspection.kind.in_(sorted(kinds))


def _outside_plan(y: Year) -> Any:
    planned = (
        sa.select(AnnualPlanItem.enterprise_id)
        .join(AnnualPlan, AnnualPlan.id == AnnualPlanItem.plan_id)
        .where(AnnualPlan.agency_id == y.agency.id, AnnualPlan.year == y.year)
    )
    return Inspection.enterprise_id.not_in(planned)


def _doc_type(name: str) -> Condition:
    return lambda y: Document.type == name


def _measures(document: Document) -> set[str]:
    measures = (document.body or {}).get("measures") or []
    if isinstance(measures, str):
        measures = json.loads(measures)
    return set(measures)


def is_compulsory(document: Document) -> bool:
    return bool(COMPULSORY_MEASURES & _measures(document))


def is_prudent(document: Document) -> bool:
    return bool((document.body or {}).get("prudence"))


def _major(y: Year) -> Any:
    return Hazard.level == "major"


def _rectified(y: Year) -> Any:
    as_of = rectified_as_of(date(y.year, 12, 31), y.today)
    closed_by = end_of_day(as_of, y.agency.timezone)
    return sa.and_(Hazard.status == "closed", Hazard.closed_at < closed_by)


def _accident(y: Year) -> Any:
    return d.accident.is_(True)


def _ordinary(y: Year) -> Any:
    return d.accident.is_(False)


def _on_individuals(y: Year) -> Any:
    return sa.func.json_array_length(d.individuals) > 0


def _on_entity(y: Year) -> Any:
    return sa.or_(
        d.entity_fine_fen > 0,
        d.confiscated_fen > 0,
        sa.func.json_array_length(d.other_penalties) > 0,
    )


def _lenient(y: Year) -> Any:
    return d.lenient.is_(True)


def _late(y: Year) -> Any:
    # Late by the server's record: found late by the daily check, published after the
    # deadline, or still unpublished with the deadline behind us (whether or not the daily
    # check has run yet).
    return sa.or_(
        d.late_flagged_on.is_not(None),
        d.published_late.is_(True),
        sa.and_(d.published_at.is_(None), d.publication_deadline < y.today),
    )


def _on_time(y: Year) -> Any:
    return sa.and_(d.published_at.is_not(None), sa.not_(_late(y)))


def _party(name: str) -> Condition:
    return lambda y: Exemption.party == name


def _reviewed(on_enterprise: bool) -> Condition:
    """Cases reviewed in the year (a case reviewed twice counts once); 涉企: those whose
    outcome concerns the enterprise, a decision on it or its exemption."""

    def condition(y: Year) -> Any:
        low, high = y.days
        reviews = sa.select(LegalReview.case_id).where(
            LegalReview.agency_id == y.agency.id,
            LegalReview.reviewed_on >= low,
            LegalReview.reviewed_on < high,
        )
        if on_enterprise:
            reviews = reviews.where(
                sa.or_(
                    LegalReview.case_id.in_(
                        sa.select(d.case_id).where(
                            d.agency_id == y.agency.id, d.revoked_on.is_(None), _on_entity(y)
                        )
                    ),
                    LegalReview.case_id.in_(
                        sa.select(Exemption.case_id).where(
                            Exemption.agency_id == y.agency.id, Exemption.party == "entity"
                        )
                    ),
                )
            )
        return PenaltyCase.id.in_(reviews)

    return condition


# Cases reviewed in the year: listed as the cases, whatever year they were opened in.
REVIEWED_CASES = Kind("reviewed_cases", "法制审核案件", PenaltyCase, None, False)
KINDS[REVIEWED_CASES.name] = REVIEWED_CASES
LEGAL_REVIEWS = Kind(
    "legal_reviews",
    "法制审核",
    LegalReview,
    _dated(LegalReview, "legal_review"),
    False,
    enterprise_of=lambda: (
        sa.select(PenaltyCase.enterprise_id)
        .where(PenaltyCase.id == LegalReview.case_id)
        .scalar_subquery()
    ),
)
KINDS[LEGAL_REVIEWS.name] = LEGAL_REVIEWS


def _reviewed_source(on_enterprise: bool) -> Source:
    return Source(REVIEWED_CASES, (_reviewed(on_enterprise),))


# --- the figures ------------------------------------------------------------------------------

_FINES = lambda: d.entity_fine_fen + d.individual_fine_fen  # noqa: E731


def _decisions(*where: Condition, amount: Callable[[], Any] | None = None) -> Figure:
    return Figure((Source(DECISIONS, where),), amount)


FIGURES: dict[str, Figure] = {
    "key_done": Figure((Source(INSPECTIONS, (_kinds_in(KEY_KINDS),)),)),
    "key_outside_plan": Figure((Source(INSPECTIONS, (_kinds_in(KEY_KINDS), _outside_plan)),)),
    "general_done": Figure((Source(INSPECTIONS, (_kinds_in(GENERAL_KINDS),)),)),
    "inspections": Figure((Source(INSPECTIONS),)),
    "hazards_found": Figure((Source(HAZARDS),)),
    "major_hazards": Figure((Source(HAZARDS, (_major,)),)),
    "hazards_rectified": Figure((Source(HAZARDS, (_rectified,)),)),
    "major_rectified": Figure((Source(HAZARDS, (_major, _rectified)),)),
    "decisions": _decisions(),
    "fines": _decisions(amount=_FINES),
    "forfeitures": _decisions(amount=lambda: _FINES() + d.confiscated_fen),
    "ordinary_decisions": _decisions(_ordinary),
    "ordinary_on_individuals": _decisions(_ordinary, _on_individuals),
    "ordinary_fines": _decisions(_ordinary, amount=_FINES),
    "ordinary_individual_fines": _decisions(_ordinary, amount=lambda: d.individual_fine_fen),
    "accident_decisions": _decisions(_accident),
    "accident_on_individuals": _decisions(_accident, _on_individuals),
    "accident_fines": _decisions(_accident, amount=_FINES),
    "accident_individual_fines": _decisions(_accident, amount=lambda: d.individual_fine_fen),
    "decisions_on_individuals": _decisions(_on_individuals),
    "enterprise_decisions": _decisions(_on_entity),
    "enterprise_forfeitures": _decisions(amount=lambda: d.entity_fine_fen + d.confiscated_fen),
    "lenient_decisions": _decisions(_lenient),
    "lenient_fines": _decisions(_lenient, amount=_FINES),
    "published_on_time": _decisions(_on_time),
    "publication_late": _decisions(_late),
    "legal_reviews": Figure((_reviewed_source(False),)),
    "enterprise_legal_reviews": Figure((_reviewed_source(True),)),
    "exemptions": Figure((Source(EXEMPTIONS),)),
    "exemption_fines": Figure((Source(EXEMPTIONS),), lambda: Exemption.amount_not_imposed_fen),
    "exempted_entities": Figure((Source(EXEMPTIONS, (_party("entity"),)),)),
    "exempted_individuals": Figure((Source(EXEMPTIONS, (_party("individual"),)),)),
    "enterprise_exemptions": Figure((Source(EXEMPTIONS, (_party("entity"),)),)),
    "enterprise_exemption_fines": Figure(
        (Source(EXEMPTIONS, (_party("entity"),)),), lambda: Exemption.amount_not_imposed_fen
    ),
    "cases_opened": Figure((Source(CASES),)),
    "transferred": Figure((Source(TRANSFERS),)),
    "complaints": Figure((Source(COMPLAINTS),)),
    "onsite_measures": Figure((Source(DOCUMENTS, (_doc_type("onsite_measures"),)),)),
    "rectification_orders": Figure((Source(DOCUMENTS, (_doc_type("rectification_order"),)),)),
    "reinspections": Figure((Source(DOCUMENTS, (_doc_type("reinspection_opinion"),)),)),
    "compulsory": Figure((Source(DOCUMENTS, (_doc_type("onsite_measures"),), keep=is_compulsory),)),
    "prudent_compulsory": Figure(
        (Source(DOCUMENTS, (_doc_type("onsite_measures"),), keep=is_prudent),)
    ),
    # 涉企行政检查 counts every check at an enterprise: the inspection records and the
    # re-inspections (复查), written on the order's inspection as an opinion.
    "enterprise_inspections": Figure(
        (Source(INSPECTIONS), Source(DOCUMENTS, (_doc_type("reinspection_opinion"),)))
    ),
}

# Figures typed into the year's plan, or worked out from other figures: no records of their
# own to list. Their parts are listed (the inspections done, the hazards found and closed).
NOT_RECORDS = {
    "key_enterprises": "年度计划中的重点企业数（计划填报）",
    "key_enterprises_covered": "年度计划重点企业中已检查的家数（见“实际重点检查”）",
    "key_coverage_rate": "比率",
    "key_planned": "年度计划数",
    "key_rate": "比率",
    "general_planned": "年度计划数",
    "general_rate": "比率",
    "overall_rate": "比率",
    "rectification_rate": "比率",
}


def _equals(column: Any, value: Any) -> Condition:
    """The condition that ``column`` equals ``value``, in any year."""
    return lambda y: column == value


def _conditions(source: Source, y: Year) -> list[Any]:
    return [*source.kind.in_year(y), *(c(y) for c in source.where)]


def figure_values(y: Year) -> dict[str, int]:
    """Every figure of ``FIGURES`` for one year: one query per kind of record, plus the
    kept-after-query documents."""
    values: dict[str, int] = {}
    by_kind: dict[str, list[tuple[str, Source, Figure]]] = {}
    for key, figure in FIGURES.items():
        for source in figure.sources:
            by_kind.setdefault(source.kind.name, []).append((key, source, figure))
    for kind_name, entries in by_kind.items():
        kind = KINDS[kind_name]
        columns: list[sa.ColumnElement[Any]] = []
        labels = []
        kept: list[tuple[str, Source, Callable[[Any], bool]]] = []
        for key, source, figure in entries:
            if source.keep is not None:
                kept.append((key, source, source.keep))
                continue
            conditions = [c(y) for c in source.where]
            condition = sa.and_(sa.true(), *conditions)
            if figure.amount is None:
                columns.append(sa.func.count().filter(condition))
            else:
                columns.append(sa.func.coalesce(sa.func.sum(figure.amount()).filter(condition), 0))
            labels.append(key)
        if columns:
            row = db.session.execute(sa.select(*columns).where(*kind.in_year(y))).one()
            for key, value in zip(labels, row, strict=True):
                values[key] = values.get(key, 0) + int(value or 0)
        for key, source, keep in kept:
            rows = db.session.scalars(sa.select(kind.model).where(*_conditions(source, y)))
            values[key] = values.get(key, 0) + sum(1 for r in rows if keep(r))
    return values


# --- the lists behind the figures -----------------------------------------------------------------

PARTY_LABELS = {"entity": "单位", "individual": "个人"}


@dataclass(frozen=True)
class Item:
    """One record of a list, as a page or a CSV shows it."""

    id: uuid.UUID
    kind: str
    day: date
    title: str
    enterprise: str
    detail: str
    amount_fen: int | None
    document_id: uuid.UUID | None = None


@dataclass(frozen=True)
class Section:
    kind: str
    label: str
    total: int
    amount_fen: int | None
    items: list[Item]


@dataclass(frozen=True)
class Records:
    figure: str
    year: int
    total: int
    amount_fen: int | None
    sections: list[Section]
    page: int
    per_page: int


def _day(y: Year, value: Any) -> date:
    if isinstance(value, datetime):
        return value.astimezone(ZoneInfo(y.agency.timezone)).date()
    return value


def _item(kind: Kind, y: Year, row: Any, enterprise: str | None, amount: Any) -> Item:
    amount_fen = None if amount is None else int(amount)
    if kind is INSPECTIONS:
        return Item(
            row.id,
            kind.name,
            _day(y, row.started_at),
            inspections.KIND_LABELS.get(row.kind, row.kind),
            enterprise or "",
            row.place or "",
            amount_fen,
        )
    if kind is DOCUMENTS:
        title = DOCUMENT_TYPES[row.type].title if row.type in DOCUMENT_TYPES else row.type
        return Item(
            row.id,
            kind.name,
            _day(y, row.issued_at),
            row.number,
            enterprise or "",
            title,
            amount_fen,
            document_id=row.id,
        )
    if kind is HAZARDS:
        return Item(
            row.id,
            kind.name,
            _day(y, row.found_at),
            row.description,
            enterprise or "",
            f"{'重大' if row.level == 'major' else '一般'} · {row.status}",
            amount_fen,
        )
    if kind is DECISIONS:
        return Item(
            row.id,
            kind.name,
            row.decided_on,
            row.number,
            enterprise or "",
            "事故处罚" if row.accident else "一般行政处罚",
            amount_fen,
        )
    if kind is EXEMPTIONS:
        return Item(
            row.id,
            kind.name,
            row.decided_on,
            row.party_name or "",
            enterprise or "",
            PARTY_LABELS.get(row.party, row.party),
            amount_fen,
        )
    if kind is COMPLAINTS:
        return Item(
            row.id,
            kind.name,
            row.handled_on,
            row.summary,
            enterprise or "",
            row.channel or "",
            amount_fen,
        )
    if kind is LEGAL_REVIEWS:
        opinion = "同意" if row.opinion == "approved" else "退回"
        return Item(
            row.id,
            kind.name,
            row.reviewed_on,
            opinion,
            enterprise or "",
            row.note or "",
            amount_fen,
        )
    day = row.transferred_on if kind is TRANSFERS else row.opened_on
    return Item(row.id, kind.name, day, row.summary, enterprise or "", row.status, amount_fen)


def _order(kind: Kind) -> list[Any]:
    if kind.dated_by is not None:
        return [kind.dated_by, kind.model.id]
    return [kind.model.opened_on, kind.model.id]


def records(
    agency: Agency, figure_key: str, year: int, today: date, *, page: int = 1, per_page: int = 50
) -> Records:
    """The records a figure of ``year`` counts, a page of each of its sources; ``total`` and
    ``amount_fen`` are over all of them. Unknown figures are ``KeyError``."""
    return _records(FIGURES[figure_key], figure_key, Year(agency, year, today), page, per_page)


# Filters of the plain lists (``GET /api/v1/records/<kind>``): name → column.
LIST_FILTERS: dict[str, dict[str, Any]] = {
    "inspections": {"kind": Inspection.kind},
    "documents": {"type": Document.type},
    "hazards": {"level": Hazard.level, "status": Hazard.status},
    "decisions": {"accident": d.accident},
    "exemptions": {"party": Exemption.party},
    "legal_reviews": {"opinion": LegalReview.opinion},
    "cases": {"status": PenaltyCase.status},
    "complaints": {"channel": Complaint.channel},
}
# What a plain list adds up beside counting.
LIST_AMOUNTS: dict[str, Callable[[], Any]] = {
    "decisions": lambda: _FINES() + d.confiscated_fen,
    "exemptions": lambda: Exemption.amount_not_imposed_fen,
}


def kind_records(
    agency: Agency,
    kind_name: str,
    year: int,
    today: date,
    filters: dict[str, Any],
    *,
    page: int = 1,
    per_page: int = 50,
) -> Records:
    """One kind of record of a year (the year rule of ``domain.reporting_years``), filtered
    by the enterprise and the kind's own ``LIST_FILTERS``."""
    kind = KINDS[kind_name]
    where: list[Condition] = []
    for name, value in filters.items():
        if value is None:
            continue
        if name == "enterprise_id":
            where.append(_equals(kind.enterprise(), value))
        else:
            where.append(_equals(LIST_FILTERS[kind_name][name], value))
    figure = Figure((Source(kind, tuple(where)),), LIST_AMOUNTS.get(kind_name))
    return _records(figure, kind_name, Year(agency, year, today), page, per_page)


def _records(figure: Figure, key: str, y: Year, page: int, per_page: int) -> Records:
    sections = []
    for source in figure.sources:
        kind = source.kind
        amount = figure.amount() if figure.amount is not None else None
        columns = [kind.model, Enterprise.name]
        if amount is not None:
            columns.append(amount.label("amount"))
        stmt = (
            sa.select(*columns)
            .outerjoin(Enterprise, Enterprise.id == kind.enterprise())
            .where(*_conditions(source, y))
            .order_by(*_order(kind))
        )
        if source.keep is not None:
            rows = [r for r in db.session.execute(stmt) if source.keep(r[0])]
            total = len(rows)
            summed = sum(int(r[2]) for r in rows) if amount is not None else None
            chosen = page_of(rows, page, per_page)
        else:
            count_columns: list[sa.ColumnElement[Any]] = [sa.func.count()]
            if amount is not None:
                count_columns.append(sa.func.coalesce(sa.func.sum(amount), 0))
            counted = db.session.execute(
                sa.select(*count_columns).select_from(kind.model).where(*_conditions(source, y))
            ).one()
            total = int(counted[0])
            summed = int(counted[1]) if amount is not None else None
            chosen = list(db.session.execute(sliced(stmt, page, per_page)))
        items = [_item(kind, y, r[0], r[1], r[2] if amount is not None else None) for r in chosen]
        sections.append(Section(kind.name, kind.label, total, summed, items))
    amounts = [s.amount_fen for s in sections if s.amount_fen is not None]
    return Records(
        key,
        y.year,
        sum(s.total for s in sections),
        sum(amounts) if figure.amount is not None else None,
        sections,
        page,
        per_page,
    )


def records_csv(agency: Agency, figure_key: str, year: int, today: date, label: str) -> bytes:
    """Every record of a figure as CSV (UTF-8 with BOM, so Excel reads the Chinese)."""
    return pages_csv(
        lambda page: records(agency, figure_key, year, today, page=page, per_page=500), label
    )


def pages_csv(fetch: Callable[[int], Records], label: str) -> bytes:
    """Every page ``fetch`` gives (500 a page) as one CSV, UTF-8 with BOM."""
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out)
    writer.writerow(["指标", "类别", "日期", "名称/文号", "企业", "说明", "金额（元）"])
    page = 1
    while True:
        chunk = fetch(page)
        for section in chunk.sections:
            for item in section.items:
                writer.writerow(
                    [
                        label,
                        section.label,
                        item.day.isoformat(),
                        _cell(item.title),
                        _cell(item.enterprise),
                        _cell(item.detail),
                        format_fen(item.amount_fen) if item.amount_fen is not None else "",
                    ]
                )
        if all(len(s.items) < 500 for s in chunk.sections):
            break
        page += 1
    return out.getvalue().encode("utf-8")


def _cell(text: str) -> str:
    # A cell that Excel would read as a formula is quoted as text.
    return "'" + text if text[:1] in ("=", "+", "-", "@") else text
