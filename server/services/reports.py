"""The annual enforcement statistics report: every figure counted from records, two years."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from server.domain import permissions
from server.domain.errors import NotFound, ValidationFailed
from server.domain.money import format_fen
from server.domain.permissions import Principal
from server.domain.reporting import Change, change, rectification_rate
from server.extensions import db
from server.models import (
    Agency,
    Complaint,
    Document,
    Exemption,
    Hazard,
    Inspection,
    LegalReview,
    PenaltyCase,
    PenaltyDecision,
)
from server.services import report_records
from server.services.annual_plan import completion_for, inspections_by_enterprise_kind

COUNT, FEN, RATE = "count", "fen", "rate"

# (key, label, unit word, kind). Labels follow the forms agencies fill in by hand.
OVERVIEW: tuple[tuple[str, str, str, str], ...] = (
    ("key_enterprises", "计划重点检查企业", "家", COUNT),
    ("key_enterprises_covered", "已检查重点企业", "家", COUNT),
    ("key_coverage_rate", "重点企业检查覆盖率", "%", RATE),
    ("key_planned", "计划重点检查", "家次", COUNT),
    ("key_done", "实际重点检查", "家次", COUNT),
    ("key_outside_plan", "　其中计划外企业重点检查", "家次", COUNT),
    ("key_rate", "重点检查完成率", "%", RATE),
    ("general_planned", "计划一般检查", "家次", COUNT),
    ("general_done", "实际一般检查", "家次", COUNT),
    ("general_rate", "一般检查完成率", "%", RATE),
    ("overall_rate", "年度计划总完成率", "%", RATE),
    ("inspections", "行政执法检查", "家次", COUNT),
    ("hazards_found", "查处隐患", "条", COUNT),
    ("major_hazards", "其中重大隐患", "条", COUNT),
    ("hazards_rectified", "已整改隐患", "条", COUNT),
    ("major_rectified", "已整改重大隐患", "条", COUNT),
    ("rectification_rate", "隐患整改率", "%", RATE),
    ("decisions", "行政处罚决定", "次", COUNT),
    ("fines", "罚款金额", "元", FEN),
    ("ordinary_decisions", "其中一般行政处罚", "次", COUNT),
    ("ordinary_on_individuals", "　含对个人处罚", "次", COUNT),
    ("ordinary_fines", "　一般行政处罚罚款", "元", FEN),
    ("ordinary_individual_fines", "　含对个人罚款", "元", FEN),
    ("accident_decisions", "其中事故处罚", "次", COUNT),
    ("accident_on_individuals", "　含对个人处罚", "次", COUNT),
    ("accident_fines", "　事故处罚罚款", "元", FEN),
    ("accident_individual_fines", "　含对个人罚款", "元", FEN),
    ("decisions_on_individuals", "对个人处罚合计", "次", COUNT),
    ("legal_reviews", "重大执法决定法制审核", "件", COUNT),
    ("exempted_entities", "不予处罚（免罚清单）企业", "个", COUNT),
    ("exempted_individuals", "不予处罚（免罚清单）个人", "个", COUNT),
    ("published_on_time", "按时公示（7个工作日内）", "件", COUNT),
    ("publication_late", "逾期公示或逾期未公示", "件", COUNT),
)

# 行政执法案件数据情况统计表 (seed 002, first table), the columns the service records, and the
# three documents seed 002's text counts beside them. Not tracked, so left out: 行政许可 and
# the form's other categories of non-enforcement acts (README, "The annual report").
CASE_DATA: tuple[tuple[str, str, str, str], ...] = (
    ("compulsory", "行政强制（停产停业、停止使用）", "件", COUNT),
    ("inspections", "行政检查（现场检查记录）", "件", COUNT),
    ("decisions", "行政处罚（处罚决定书）", "件", COUNT),
    ("complaints", "投诉举报线索来源办案数", "件", COUNT),
    ("legal_reviews", "重大执法决定法制审核案件", "件", COUNT),
    ("forfeitures", "罚没金额", "元", FEN),
    ("transferred", "移送司法机关刑事案件", "件", COUNT),
    ("onsite_measures", "现场处理措施决定书", "份", COUNT),
    ("rectification_orders", "责令限期整改指令书", "份", COUNT),
    ("cases_opened", "立案", "起", COUNT),
    ("exemptions", "免罚案件", "件", COUNT),
    ("exemption_fines", "免罚金额", "元", FEN),
)

# 涉企行政执法数据情况统计表 (seed 002, second table), every column.
ENTERPRISE: tuple[tuple[str, str, str, str], ...] = (
    ("enterprise_decisions", "涉企行政处罚", "件", COUNT),
    ("compulsory", "涉企行政强制", "件", COUNT),
    ("enterprise_inspections", "涉企行政检查（含复查）", "次", COUNT),
    ("enterprise_forfeitures", "涉企罚没金额", "元", FEN),
    ("complaints", "投诉举报线索来源办案数", "件", COUNT),
    ("enterprise_legal_reviews", "涉企重大执法决定法制审核", "件", COUNT),
    ("enterprise_exemptions", "免罚案件（企业）", "件", COUNT),
    ("enterprise_exemption_fines", "免罚金额（企业）", "元", FEN),
    ("lenient_decisions", "从轻处罚案件", "件", COUNT),
    ("lenient_fines", "从轻处罚金额", "元", FEN),
    ("prudent_compulsory", "包容审慎适用行政强制措施", "件", COUNT),
)

TABLES: tuple[tuple[str, str, tuple[tuple[str, str, str, str], ...]], ...] = (
    ("overview", "年度执法基本情况", OVERVIEW),
    ("case_data", "行政执法案件数据情况统计表", CASE_DATA),
    ("enterprise", "涉企行政执法数据情况统计表", ENTERPRISE),
)


def year_figures(agency: Agency, year: int, today: date) -> dict[str, Any]:
    """Every figure of the report for one calendar year (the agency's zone).

    The counted figures are ``report_records.FIGURES``, the definitions the lists behind them
    use too; each is counted by the database (COUNT and SUM with filters, one query per kind
    of record). The plan's figures and the rates come from the annual plan's completion.
    """
    done = inspections_by_enterprise_kind(agency, year)
    c = completion_for(agency, year, done, with_over_cap=False).completion
    f: dict[str, Any] = dict(
        key_enterprises=c.key_enterprises,
        key_enterprises_covered=c.key_enterprises_covered,
        key_coverage_rate=c.coverage_rate,
        key_planned=c.key.planned,
        key_rate=c.key.rate,
        general_planned=c.general.planned,
        general_rate=c.general.rate,
        overall_rate=c.overall.rate,
    )
    f.update(report_records.figure_values(report_records.Year(agency, year, today)))
    f["rectification_rate"] = rectification_rate(f["hazards_rectified"], f["hazards_found"])
    return f


# --- the report -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    key: str
    label: str
    unit: str
    kind: str
    this_year: Any
    last_year: Any

    @property
    def change(self) -> Change | None:
        if self.kind == RATE:
            return None
        return change(self.this_year, self.last_year)

    @property
    def change_display(self) -> str:
        if self.kind == RATE:
            if self.this_year is None or self.last_year is None:
                return "—"
            points = self.this_year - self.last_year
            sign = "+" if points > 0 else ""
            return f"{sign}{points}个百分点"
        c = self.change
        return c.display if c else "—"

    def display(self, value: Any) -> str:
        if self.kind == FEN:
            return format_fen(value)
        if self.kind == RATE:
            return "—" if value is None else f"{value}%"
        return str(value)


@dataclass(frozen=True)
class Table:
    key: str
    title: str
    rows: list[Row]


@dataclass(frozen=True)
class AnnualReport:
    agency_name: str
    year: int
    last_year: int
    tables: list[Table]

    def table(self, key: str) -> Table:
        return next(t for t in self.tables if t.key == key)

    def figures(self, key: str) -> dict[str, Row]:
        return {r.key: r for r in self.table(key).rows}


def annual_report(principal: Principal, year: int, now: datetime) -> AnnualReport:
    """The report for ``year`` with ``year - 1`` beside it, as of ``now``."""
    permissions.require_role(principal, permissions.READ_REPORTS, "reading the annual report")
    agency = db.session.get(Agency, principal.agency_id)
    assert agency is not None
    return build_report(agency, year, now.astimezone(ZoneInfo(agency.timezone)).date())


def figure_label(key: str) -> str:
    """The report's own wording of a figure (its first table that has it)."""
    for _key, _title, rows in TABLES:
        for row_key, label, _unit, _kind in rows:
            if row_key == key:
                return label.strip("　")
    raise NotFound(f"the report has no figure {key}", code="unknown_figure")


def _records_context(principal: Principal, key: str, now: datetime) -> tuple[Agency, date]:
    permissions.require_role(principal, permissions.READ_REPORTS, "reading the annual report")
    if key not in report_records.FIGURES:
        figure_label(key)  # a figure unknown to the report: 404 unknown_figure
        raise NotFound(
            f"{key} is not counted from records: {report_records.NOT_RECORDS.get(key, '')}",
            code="not_from_records",
        )
    agency = db.session.get(Agency, principal.agency_id)
    assert agency is not None
    return agency, now.astimezone(ZoneInfo(agency.timezone)).date()


def figure_records(
    principal: Principal, key: str, year: int, now: datetime, *, page: int, per_page: int
) -> report_records.Records:
    """The records a figure of the report counts for ``year``: as many as the figure says."""
    agency, today = _records_context(principal, key, now)
    return report_records.records(agency, key, year, today, page=page, per_page=per_page)


def figure_records_csv(principal: Principal, key: str, year: int, now: datetime) -> bytes:
    agency, today = _records_context(principal, key, now)
    return report_records.records_csv(agency, key, year, today, figure_label(key))


def kind_records(
    principal: Principal,
    kind: str,
    year: int,
    now: datetime,
    filters: dict[str, Any],
    *,
    page: int,
    per_page: int,
) -> report_records.Records:
    """A year's records of one kind, filtered; the same year rule as the report's."""
    permissions.require_role(principal, permissions.READ_REPORTS, "reading records")
    if kind not in report_records.LIST_FILTERS:
        raise NotFound(f"no list of {kind}", code="not_found")
    allowed = {"enterprise_id", *report_records.LIST_FILTERS[kind]}
    wrong = sorted(k for k, v in filters.items() if v is not None and k not in allowed)
    if wrong:
        raise ValidationFailed(
            f"{', '.join(wrong)} do not filter {kind}",
            fields={
                k: [f"not a filter of {kind}; use {', '.join(sorted(allowed))}"] for k in wrong
            },
        )
    agency = db.session.get(Agency, principal.agency_id)
    assert agency is not None
    today = now.astimezone(ZoneInfo(agency.timezone)).date()
    return report_records.kind_records(
        agency, kind, year, today, filters, page=page, per_page=per_page
    )


def kind_records_csv(
    principal: Principal, kind: str, year: int, now: datetime, filters: dict[str, Any]
) -> bytes:
    label = report_records.KINDS[kind].label if kind in report_records.KINDS else kind
    return report_records.pages_csv(
        lambda page: kind_records(principal, kind, year, now, filters, page=page, per_page=500),
        label,
    )


def latest_year(principal: Principal, now: datetime) -> int:
    """The latest year (the agency's zone) holding a record the report counts; this year when
    there is none, so the report opens where there is something to read."""
    permissions.require_role(principal, permissions.READ_REPORTS, "reading the annual report")
    agency = db.session.get(Agency, principal.agency_id)
    assert agency is not None
    zone = ZoneInfo(agency.timezone)
    moments = [
        db.session.scalar(sa.select(sa.func.max(column)).where(model.agency_id == agency.id))
        for model, column in (
            (Inspection, Inspection.started_at),
            (Document, Document.issued_at),
            (Hazard, Hazard.found_at),
        )
    ]
    days = [
        db.session.scalar(sa.select(sa.func.max(column)).where(model.agency_id == agency.id))
        for model, column in (
            (PenaltyCase, PenaltyCase.opened_on),
            (PenaltyCase, PenaltyCase.transferred_on),
            (PenaltyDecision, PenaltyDecision.decided_on),
            (LegalReview, LegalReview.reviewed_on),
            (Exemption, Exemption.decided_on),
            (Complaint, Complaint.handled_on),
        )
    ]
    years = [m.astimezone(zone).year for m in moments if m is not None]
    years += [d.year for d in days if d is not None]
    # A record dated ahead of today (a typed date) does not make an empty future year the
    # default.
    this_year = now.astimezone(zone).year
    return min(max(years), this_year) if years else this_year


def build_report(agency: Agency, year: int, today: date) -> AnnualReport:
    """``today`` (the agency's date) decides which unpublished decisions are already late."""
    this, last = year_figures(agency, year, today), year_figures(agency, year - 1, today)
    tables = [
        Table(
            key,
            title,
            [Row(k, label, unit, kind, this[k], last[k]) for k, label, unit, kind in rows],
        )
        for key, title, rows in TABLES
    ]
    return AnnualReport(agency.name, year, year - 1, tables)


def _json_value(row: Row, value: Any) -> Any:
    if row.kind == RATE:
        return None if value is None else str(value)
    return value


def report_json(report: AnnualReport) -> dict[str, Any]:
    def change_json(row: Row) -> dict[str, Any]:
        c = row.change
        return {
            "kind": c.kind if c else "points",
            "percent": str(c.percent) if c and c.percent is not None else None,
            "display": row.change_display,
        }

    return {
        "agency": report.agency_name,
        "year": report.year,
        "last_year": report.last_year,
        "tables": [
            {
                "key": t.key,
                "title": t.title,
                "rows": [
                    {
                        "key": r.key,
                        "label": r.label.strip("　"),
                        "unit": r.unit,
                        "kind": r.kind,
                        "this_year": _json_value(r, r.this_year),
                        "last_year": _json_value(r, r.last_year),
                        "this_year_display": r.display(r.this_year),
                        "last_year_display": r.display(r.last_year),
                        "change": change_json(r),
                    }
                    for r in t.rows
                ],
            }
            for t in report.tables
        ],
    }


def _headers(report: AnnualReport) -> list[str]:
    return ["表", "项目", "单位", f"{report.last_year}年", f"{report.year}年", "同比增减"]


def report_csv(report: AnnualReport) -> bytes:
    """UTF-8 with a BOM, so that Excel opens the Chinese headers as Chinese."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(_headers(report))
    for t in report.tables:
        for r in t.rows:
            writer.writerow(
                [
                    t.title,
                    r.label.strip("　"),
                    r.unit,
                    r.display(r.last_year),
                    r.display(r.this_year),
                    r.change_display,
                ]
            )
    return out.getvalue().encode("utf-8-sig")


def report_xlsx(report: AnnualReport) -> bytes:
    """One sheet per table; money as yuan numbers with two decimals, rates as text."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    book = Workbook()
    book.remove(book.worksheets[0])  # the empty sheet a new workbook comes with

    def cell_value(row: Row, value: Any) -> Any:
        if row.kind == FEN:
            return Decimal(value).scaleb(-2)
        if row.kind == RATE:
            return row.display(value)
        return value

    for t in report.tables:
        sheet = book.create_sheet(t.title[:31])
        sheet.append([f"{report.agency_name} {report.year}年{t.title}"])
        sheet["A1"].font = Font(bold=True, size=13)
        sheet.append(_headers(report)[1:])
        for cell in sheet[2]:
            cell.font = Font(bold=True)
            cell.alignment = Alignment(horizontal="center")
        for r in t.rows:
            sheet.append(
                [
                    r.label.strip("　"),
                    r.unit,
                    cell_value(r, r.last_year),
                    cell_value(r, r.this_year),
                    r.change_display,
                ]
            )
            if r.kind == FEN:
                for column in ("C", "D"):
                    sheet[f"{column}{sheet.max_row}"].number_format = "#,##0.00"
        sheet.column_dimensions["A"].width = 34
        for column in ("B", "C", "D", "E"):
            sheet.column_dimensions[column].width = 18
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
