"""Published penalty decisions (public); for managers and leads, the publication watch and the
printable annual report with its downloads.

The manager pages are routes of ``manager.bp``: they share its sign-in, CSRF check, headers,
error pages and layout rather than repeating them.
"""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, Response, g, jsonify, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from server.domain.reporting import completion_rate
from server.domain.reporting_years import YEAR_RULE_TEXT
from server.models.types import utcnow
from server.render.downloads import XLSX, download
from server.services import report_records, reports
from server.services.cases.public_list import (
    PUBLIC_PER_PAGE,
    PublicDecision,
    public_decisions,
)
from server.services.cases.publication import publication_watch, publish
from server.services.paging import Page, page_count
from server.web import charts
from server.web.manager import bp as manager_bp

public_bp = Blueprint("penalties_public", __name__, template_folder="templates")

_MAX_PUBLIC_PAGE = 100


# --- public -----------------------------------------------------------------------------------


def _decision_json(d: PublicDecision) -> dict[str, Any]:
    return {
        "number": d.number,
        "agency_name": d.agency_name,
        "enterprise_name": d.enterprise_name,
        "enterprise_uscc": d.enterprise_uscc,
        "decided_on": d.decided_on.isoformat(),
        "published_on": d.published_on.isoformat(),
        "facts": d.facts,
        "basis": d.basis,
        "penalty": d.penalty,
        "fine_fen": d.fine_fen,
    }


def _int_arg(name: str, default: int, low: int, high: int) -> int:
    try:
        value = int(request.args.get(name, default))
    except ValueError:
        return default
    return min(max(value, low), high)


def _public_page() -> tuple[str | None, Page]:
    agency = request.args.get("agency") or None
    page = public_decisions(
        agency,
        page=_int_arg("page", 1, 1, 1_000_000),
        per_page=_int_arg("per_page", PUBLIC_PER_PAGE, 1, _MAX_PUBLIC_PAGE),
    )
    return agency, page


def _public_links(page: Page, endpoint: str) -> dict[str, str | None]:
    args = {k: v for k, v in request.args.items() if k in {"agency", "per_page"}}

    def link(n: int) -> str:
        return url_for(endpoint) + "?" + urlencode({**args, "page": n})

    return {
        "prev": link(page.page - 1) if page.page > 1 else None,
        "next": link(page.page + 1) if page.page < page.pages else None,
    }


@public_bp.get("/public/penalties")
def penalties() -> ResponseReturnValue:
    """行政处罚决定公示: published decisions that were not revoked, newest first, by pages."""
    agency, page = _public_page()
    return render_template(
        "penalties_public.html",
        page=page,
        decisions=page.items,
        agency=agency,
        links=_public_links(page, "penalties_public.penalties"),
    )


@public_bp.get("/public/penalties.json")
def penalties_json() -> ResponseReturnValue:
    """The same list as JSON, for the portal and the credit platform (信用平台)."""
    _agency, page = _public_page()
    links = _public_links(page, "penalties_public.penalties_json")
    return jsonify(
        {
            "decisions": [_decision_json(d) for d in page.items],
            "page": page.page,
            "per_page": page.per_page,
            "total": page.total,
            "next": links["next"],
        }
    )


# --- managers: publication ----------------------------------------------------------------------


@manager_bp.get("/penalties/publication")
def publication() -> ResponseReturnValue:
    """Decisions waiting for publication, those past the 7-working-day deadline, and this
    year's published late."""
    watch = publication_watch(g.principal, utcnow())
    return render_template("manager/publication.html", watch=watch)


@manager_bp.post("/penalty-decisions/<uuid:decision_id>/publish")
def publish_decision(decision_id: uuid.UUID) -> ResponseReturnValue:
    """Publish a decision today (公示) from the watch list."""
    publish(g.principal, decision_id, {}, utcnow())
    return redirect(url_for("manager.publication"))


# --- managers: the annual report ----------------------------------------------------------------


def _report_year() -> int:
    """The year asked for, else the latest year holding records (not an empty one)."""
    if "year" in request.args:
        return _int_arg("year", date.today().year, 2000, 2100)
    return reports.latest_year(g.principal, utcnow())


@manager_bp.get("/reports/annual")
def annual_report() -> ResponseReturnValue:
    """The annual report, printable, with two charts drawn on the server."""
    report = reports.annual_report(g.principal, _report_year(), utcnow())
    case_rows = [r for r in report.table("case_data").rows if r.kind == reports.COUNT]
    comparison = None
    if any(r.this_year or r.last_year for r in case_rows):
        comparison = charts.paired_bars(
            [r.label for r in case_rows],
            charts.Series(f"{report.last_year}年", "#9aa5b1", [r.last_year for r in case_rows]),
            charts.Series(f"{report.year}年", "#b42318", [r.this_year for r in case_rows]),
            title=f"{report.year}年与{report.last_year}年主要执法数据对比",
        )
    overview = report.figures("overview")
    # A kind of inspection the year's plan did not plan has no rate: no bar, not a 0% one.
    plan = [
        (
            label,
            int(
                completion_rate(overview[done].this_year, overview[planned].this_year, places=0)
                or 0
            ),
        )
        for label, done, planned in (
            ("重点检查", "key_done", "key_planned"),
            ("一般检查", "general_done", "general_planned"),
        )
        if overview[planned].this_year
    ]
    completion = charts.horizontal_bars(plan, title="年度计划完成率（%）") if plan else None
    return render_template(
        "report_annual.html",
        report=report,
        comparison=comparison,
        completion=completion,
        drillable=report_records.FIGURES,
        rule=YEAR_RULE_TEXT,
    )


def _download(fmt: str) -> Response:
    report = reports.annual_report(g.principal, _report_year(), utcnow())
    name = f"annual-report-{report.year}.{fmt}"
    if fmt == "csv":
        return download(reports.report_csv(report), name)
    return download(reports.report_xlsx(report), name, XLSX)


_RECORDS_PAGE = 100


@manager_bp.get("/reports/annual/figures/<string:figure>")
def figure_records(figure: str) -> ResponseReturnValue:
    """The records behind one figure of the report: as many rows as the figure says."""
    year = _report_year()
    page = _int_arg("page", 1, 1, 1_000_000)
    found = reports.figure_records(
        g.principal, figure, year, utcnow(), page=page, per_page=_RECORDS_PAGE
    )
    largest = max([s.total for s in found.sections] or [0])
    pages = page_count(largest, _RECORDS_PAGE)
    return render_template(
        "manager/figure_records.html",
        found=found,
        label=reports.figure_label(figure),
        pages=pages,
        rule=YEAR_RULE_TEXT,
    )


@manager_bp.get("/reports/annual/figures/<string:figure>/records.csv")
def figure_records_csv(figure: str) -> ResponseReturnValue:
    """Every record behind one figure, as CSV for Excel."""
    year = _report_year()
    body = reports.figure_records_csv(g.principal, figure, year, utcnow())
    return download(body, f"{figure}-{year}.csv")


@manager_bp.get("/reports/annual.csv")
def annual_report_csv() -> ResponseReturnValue:
    """The annual report as CSV (UTF-8 with BOM), for a signed-in browser."""
    return _download("csv")


@manager_bp.get("/reports/annual.xlsx")
def annual_report_xlsx() -> ResponseReturnValue:
    """The annual report as an Excel workbook, for a signed-in browser."""
    return _download("xlsx")
