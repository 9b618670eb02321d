"""The supervisor's pages (监督端): alerts with the entries behind them, every agency's entries
read-only, evaluations, complaints to answer and close, the monthly report."""

from __future__ import annotations

import secrets
import uuid
from datetime import date
from typing import Any

from flask import (
    Blueprint,
    Response,
    flash,
    g,
    get_flashed_messages,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.typing import ResponseReturnValue

from server.domain import parties, supervision
from server.domain.errors import DomainError, Forbidden, NotFound, Unauthorized
from server.domain.hazards import STATUS_LABELS
from server.domain.numbering import DOCUMENT_TITLES
from server.models.types import utcnow
from server.render.downloads import XLSX, download
from server.schemas.fields import in_service_range
from server.services import enterprise_portal, supervision_report
from server.services import supervision as service
from server.services.paging import page_count, page_of
from server.web.guarded import csrf_token, guard

bp = Blueprint("supervisor", __name__, url_prefix="/supervise", template_folder="templates")
guard(bp)

_PUBLIC = {"supervisor.login"}
_ALERTS_PER_PAGE = 200
_SESSION_KEY = "supervisor"


@bp.context_processor
def _helpers() -> dict[str, Any]:
    return {
        "csrf_token": csrf_token,
        "ALERT_LABELS": supervision.ALERT_LABELS,
        "COMPLAINT_STATUS_LABELS": parties.COMPLAINT_STATUS_LABELS,
        "STATUS_LABELS": STATUS_LABELS,
        "DOCUMENT_LABELS": DOCUMENT_TITLES,
        "flashes": get_flashed_messages,
    }


@bp.before_request
def _authenticate() -> ResponseReturnValue | None:
    g.supervisor = None
    held = session.get(_SESSION_KEY)
    if held:
        try:
            g.supervisor = service.supervisor_for_session(str(held))
        except Unauthorized:
            session.pop(_SESSION_KEY, None)
    if g.supervisor is None and request.endpoint not in _PUBLIC:
        return redirect(url_for("supervisor.login"))
    return None


@bp.errorhandler(NotFound)
def _not_found(exc: NotFound) -> ResponseReturnValue:
    return render_template("supervisor/error.html", message=exc.message), 404


@bp.errorhandler(400)
@bp.errorhandler(404)
def _http_error(exc: Any) -> ResponseReturnValue:
    status = getattr(exc, "code", 400) or 400
    message = "页面不存在" if status == 404 else (exc.description or "请求有误")
    return render_template("supervisor/error.html", message=message), status


@bp.route("/login", methods=["GET", "POST"])
def login() -> ResponseReturnValue:
    """Sign in with username and password."""
    error = None
    if request.method == "POST":
        try:
            found = service.sign_in(
                request.form.get("username", "").strip(), request.form.get("password", "")
            )
        except (Unauthorized, Forbidden) as exc:
            error = exc.message
        else:
            session[_SESSION_KEY] = str(found.id)
            session["csrf"] = secrets.token_urlsafe(32)
            return redirect(url_for("supervisor.alerts"))
    return render_template("supervisor/login.html", error=error), 401 if error else 200


@bp.post("/logout")
def logout() -> ResponseReturnValue:
    """Sign out."""
    session.pop(_SESSION_KEY, None)
    return redirect(url_for("supervisor.login"))


def _kind() -> str | None:
    kind = request.args.get("kind", "")
    return kind if kind in supervision.ALERT_KINDS else None


def _since() -> date:
    """From which day alerts are listed: ``?since=``, else the start of last year."""
    try:
        day = date.fromisoformat(request.args.get("since", ""))
    except ValueError:
        day = None
    if day is None or not in_service_range(day):
        today = utcnow().astimezone(service.ZONE).date()
        day = date(today.year - 1, 1, 1)
    return day


def _alerts() -> tuple[list[Any], date]:
    since = _since()
    found = service.alerts(utcnow(), since=service.alerts_since(since))
    return [a for a in found if a.at.astimezone(service.ZONE).date() >= since], since


@bp.get("/")
def alerts() -> ResponseReturnValue:
    """Alerts over every agency, newest first, each with the entries behind it."""
    kind = _kind()
    every, since = _alerts()
    found = [a for a in every if a.kind == kind] if kind else every
    counts = {k: sum(1 for a in every if a.kind == k) for k in supervision.ALERT_KINDS}
    try:
        page = max(1, int(request.args.get("page", "1")))
    except ValueError:
        page = 1
    pages = page_count(len(found), _ALERTS_PER_PAGE)
    page = min(page, pages)
    shown = page_of(found, page, _ALERTS_PER_PAGE)
    return render_template(
        "supervisor/alerts.html",
        alerts=shown,
        total=len(found),
        page=page,
        pages=pages,
        kind=kind,
        counts=counts,
        since=since,
    )


@bp.get("/alerts.csv")
def alerts_csv() -> ResponseReturnValue:
    """The alerts listed, as CSV."""
    every, _ = _alerts()
    kind = _kind()
    body = service.alerts_csv([a for a in every if a.kind == kind] if kind else every)
    return download(body, "supervision-alerts.csv")


def _agency_arg() -> uuid.UUID | None:
    try:
        return uuid.UUID(request.args.get("agency", ""))
    except ValueError:
        return None


@bp.get("/entries")
def entries() -> ResponseReturnValue:
    """Every agency's registered entries, read-only."""
    agency_id = _agency_arg()
    return render_template(
        "supervisor/entries.html",
        rows=service.entries(agency_id=agency_id, limit=500),
        agencies=service.agencies(),
        agency_id=agency_id,
    )


@bp.get("/entries/<uuid:inspection_id>")
def entry(inspection_id: uuid.UUID) -> ResponseReturnValue:
    """One entry in full: who, when, what for, what was found, documents, what was said."""
    visit = enterprise_portal.any_visit(inspection_id)
    return render_template(
        "supervisor/entry.html",
        v=visit,
        evaluations=service.evaluations(inspection_id=inspection_id),
        complaints=service.complaints(inspection_id=inspection_id),
    )


@bp.get("/evaluations")
def evaluations() -> ResponseReturnValue:
    """Every rating, with who rated."""
    return render_template("supervisor/evaluations.html", rows=service.evaluations())


@bp.get("/complaints")
def complaints() -> ResponseReturnValue:
    """Complaints, open ones first."""
    rows = service.complaints()
    rows.sort(key=lambda r: (r.complaint.status != parties.COMPLAINT_OPEN, r.complaint.answer_due))
    today = utcnow().astimezone(service.ZONE).date()
    return render_template("supervisor/complaints.html", rows=rows, today=today)


@bp.get("/complaints/<uuid:complaint_id>")
def complaint(complaint_id: uuid.UUID) -> ResponseReturnValue:
    """One complaint, its answers and replies, and the form to answer or close it."""
    today = utcnow().astimezone(service.ZONE).date()
    return render_template(
        "supervisor/complaint.html", row=service.complaint(complaint_id), today=today
    )


@bp.get("/complaints/<uuid:complaint_id>/photos/<sha256>")
def complaint_photo(complaint_id: uuid.UUID, sha256: str) -> ResponseReturnValue:
    """A photo the enterprise sent with the complaint."""
    content, content_type = service.complaint_photo(complaint_id, sha256)
    response = Response(content, mimetype=content_type)
    response.headers["Cache-Control"] = "private, max-age=86400"
    response.headers["Content-Security-Policy"] = "sandbox; default-src 'none'"
    return response


@bp.post("/complaints/<uuid:complaint_id>/answer")
def answer(complaint_id: uuid.UUID) -> ResponseReturnValue:
    """Answer a complaint, and close it if asked."""
    try:
        service.answer_complaint(
            g.supervisor,
            complaint_id,
            request.form.get("text", ""),
            close=request.form.get("close") == "1",
            now=utcnow(),
        )
    except NotFound:
        raise
    except DomainError as exc:
        flash(exc.message, "error")
    else:
        flash("已答复")
    return redirect(url_for("supervisor.complaint", complaint_id=complaint_id))


def _month() -> date:
    raw = request.args.get("month", "")
    try:
        year, month = (int(x) for x in raw.split("-", 1))
        return date(year, month, 1)
    except ValueError:
        today = utcnow().astimezone(service.ZONE).date()
        return date(today.year, today.month, 1)


@bp.get("/report")
def report() -> ResponseReturnValue:
    """The monthly supervision report of one agency (entries, alerts, ratings, complaints)."""
    month = _month()
    agency_id = _agency_arg()
    agencies = service.agencies()
    if agency_id is None and agencies:
        agency_id = agencies[0].id
    data = supervision_report.monthly(agency_id, month, utcnow()) if agency_id else None
    return render_template(
        "supervisor/report.html", data=data, agencies=agencies, agency_id=agency_id, month=month
    )


@bp.get("/report.<fmt>")
def report_file(fmt: str) -> ResponseReturnValue:
    """The monthly report as CSV or XLSX."""
    agency_id = _agency_arg()
    if fmt not in ("csv", "xlsx") or agency_id is None:
        raise NotFound("没有这份报表")
    month = _month()
    data = supervision_report.monthly(agency_id, month, utcnow())
    name = f"supervision-{month:%Y-%m}.{fmt}"
    if fmt == "csv":
        return download(supervision_report.to_csv(data), name)
    return download(supervision_report.to_xlsx(data), name, XLSX)
