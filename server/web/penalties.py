"""Published penalty decisions (public) and the printable annual report (managers, leads)."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import Blueprint, g, jsonify, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue

from server.domain.errors import Forbidden, Unauthorized
from server.domain.reporting import completion_rate
from server.extensions import db
from server.models import Agency
from server.services import cases, reports, web_sessions
from server.web import charts

public_bp = Blueprint("penalties_public", __name__, template_folder="templates")
report_bp = Blueprint(
    "annual_report", __name__, url_prefix="/manage/reports", template_folder="templates"
)


def _decision_json(d: cases.PublicDecision) -> dict[str, Any]:
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


@public_bp.get("/public/penalties")
def penalties() -> ResponseReturnValue:
    """行政处罚决定公示: published decisions that were not revoked, newest first."""
    agency = request.args.get("agency") or None
    found = cases.public_decisions(agency)
    return render_template("penalties_public.html", decisions=found, agency=agency)


@public_bp.get("/public/penalties.json")
def penalties_json() -> ResponseReturnValue:
    """The same list as JSON, for the portal and the credit platform (信用平台)."""
    found = cases.public_decisions(request.args.get("agency") or None)
    return jsonify({"decisions": [_decision_json(d) for d in found]})


@report_bp.before_request
def _signed_in() -> ResponseReturnValue | None:
    token = session.get("token")
    g.principal = None
    if token:
        try:
            g.principal = web_sessions.principal_for(token)
        except (Unauthorized, Forbidden):
            session.pop("token", None)
    if g.principal is None:
        return redirect(url_for("manager.login", next=request.full_path.rstrip("?")))
    agency = db.session.get(Agency, g.principal.agency_id)
    g.timezone = agency.timezone if agency else None
    return None


@report_bp.after_request
def _headers(response: Any) -> Any:
    response.headers.setdefault("Cache-Control", "no-store")
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers.setdefault(
        "Content-Security-Policy",
        "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; frame-ancestors 'none'",
    )
    return response


@report_bp.get("/annual")
def annual() -> ResponseReturnValue:
    """The annual report, printable, with two charts drawn on the server."""
    try:
        year = int(request.args.get("year", ""))
    except ValueError:
        year = date.today().year - 1
    year = min(max(year, 2000), 2100)
    report = reports.annual_report(g.principal, year)
    case_rows = [r for r in report.table("case_data").rows if r.kind == reports.COUNT]
    comparison = charts.bars_and_line(
        [r.label.split("（")[0] for r in case_rows],
        [
            charts.Series(f"{report.last_year}年", "#9aa5b1", [r.last_year for r in case_rows]),
            charts.Series(f"{report.year}年", "#b42318", [r.this_year for r in case_rows]),
        ],
        None,
        title=f"{report.year}年与{report.last_year}年主要执法数据对比",
        width=900,
    )
    overview = report.figures("overview")
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
    ]
    completion = charts.horizontal_bars(plan, title="年度计划完成率（%）")
    return render_template(
        "report_annual.html", report=report, comparison=comparison, completion=completion
    )
