"""Manager pages (管理端): open, overdue and supervised hazards, one hazard, charts."""

from __future__ import annotations

import hmac
import secrets
import uuid
from datetime import date, datetime
from typing import Any
from urllib.parse import urlencode

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    g,
    redirect,
    render_template,
    request,
    send_file,
    session,
    stream_with_context,
    url_for,
)
from flask.typing import ResponseReturnValue

from server.domain import hazards as lifecycle
from server.domain import permissions, visits
from server.domain.enterprises import INDUSTRIES, RISK_GRADES
from server.domain.errors import DomainError, Forbidden, TooManyRequests, Unauthorized
from server.domain.hazards import ACTION_LABELS, ESCALATION_LABELS, OPEN, SORTS, STATUS_LABELS
from server.domain.inspections import KIND_LABELS as INSPECTION_KIND_LABELS
from server.domain.money import format_fen
from server.domain.numbering import DOCUMENT_TITLES
from server.domain.permissions import ROLE_LABELS
from server.render.downloads import download
from server.schemas.fields import in_service_range, reporting_zone
from server.services import attachments, enterprises, escalation, web_sessions
from server.services.hazards.aggregates import aggregates, open_vs_closed
from server.services.hazards.common import READ_HAZARDS, HazardFilters, agency_of, local_today
from server.services.hazards.detail import hazard_detail, inspectors, later_evidence
from server.services.hazards.lists import export_csv, list_hazards
from server.services.hazards.steps import take_step
from server.services.paging import Page
from server.web import charts, messages

bp = Blueprint("manager", __name__, url_prefix="/manage", template_folder="templates")

_PUBLIC_ENDPOINTS = {"manager.login"}
_PAGE = 30


# --- session, CSRF and headers ---------------------------------------------------------------


def _query(**extra: str) -> dict[str, Any]:
    """This request's query arguments with ``extra`` set: for a link to the same listing."""
    return {**request.args.to_dict(), **extra}


def _csrf_token() -> str:
    token = session.get("csrf")
    if not token:
        token = session["csrf"] = secrets.token_urlsafe(32)
    return token


@bp.app_context_processor
def _template_helpers() -> dict[str, Any]:
    return {
        "csrf_token": _csrf_token,
        "STATUS_LABELS": STATUS_LABELS,
        "LEVEL_LABELS": lifecycle.LEVEL_LABELS,
        "INDUSTRIES": INDUSTRIES,
        "RISK_LABELS": RISK_GRADES,
        "ACTION_LABELS": ACTION_LABELS,
        "ESCALATION_LABELS": ESCALATION_LABELS,
        "ROLE_LABELS": ROLE_LABELS,
        "nav_items": nav_items,
        "may": may,
    }


# The office's sections, each shown to the roles that may use it (server/domain/permissions.py).
NAV = (
    ("manager.dashboard", "总览", READ_HAZARDS),
    ("manager.hazard_list", "隐患清单", READ_HAZARDS),
    ("manager.overdue", "逾期隐患", READ_HAZARDS),
    ("manager.supervised", "挂牌督办", READ_HAZARDS),
    ("manager.draw_plans", "双随机抽查", permissions.MANAGE_DRAWS),
    ("manager.directory", "企业名录", permissions.EDIT_ENTERPRISES),
    ("manager.case_list", "处罚案件", permissions.LEGAL_REVIEW | permissions.PUBLISH_DECISIONS),
    ("manager.publication", "处罚公示", permissions.PUBLISH_DECISIONS),
    ("manager.annual_report", "年度统计", permissions.READ_REPORTS),
    ("manager.visit_feedback", "企业评价与投诉", READ_HAZARDS),
    ("manager.users", "用户管理", permissions.MANAGE_USERS),
    ("manager.devices", "设备管理", permissions.MANAGE_DEVICES),
)


def nav_items() -> list[tuple[str, str]]:
    """The sections the signed-in user's role may open, in menu order."""
    role = g.principal.role if g.get("principal") else None
    return [(endpoint, label) for endpoint, label, roles in NAV if role in roles]


def may(permission: str) -> bool:
    """Whether the signed-in user's role is in ``permissions.<permission>``, for a page to
    show only the buttons the service would accept."""
    allowed = getattr(permissions, permission)
    return bool(g.get("principal")) and g.principal.role in allowed


def home() -> str:
    """Where a user lands after signing in: the overview, else the accounts (the admin)."""
    allowed = [endpoint for endpoint, _ in nav_items()]
    for endpoint in ("manager.dashboard", "manager.users", *allowed):
        if endpoint in allowed:
            return url_for(endpoint)
    return url_for("manager.login")


@bp.app_template_filter("local_time")
def _local_time(moment: datetime | None) -> str:
    return moment.astimezone(reporting_zone()).strftime("%Y-%m-%d %H:%M") if moment else "—"


@bp.app_template_filter("local_date")
def _local_date(moment: datetime | None) -> str:
    return moment.astimezone(reporting_zone()).strftime("%Y-%m-%d") if moment else "—"


@bp.app_template_filter("fen")
def _fen(value: Any) -> str:
    return format_fen(int(value)) if isinstance(value, int) else "—"


@bp.before_request
def _authenticate() -> ResponseReturnValue | None:
    g.principal = None
    if request.method == "POST":
        sent = request.form.get("csrf_token", "")
        expected = session.get("csrf", "")
        if not expected or not hmac.compare_digest(sent.encode(), expected.encode()):
            abort(400, description="表单已过期，请刷新页面后重试")
    token = session.get("token")
    if token:
        try:
            g.principal = web_sessions.principal_for(token)
            g.timezone = agency_of(g.principal).timezone
        except (Unauthorized, Forbidden):
            session.pop("token", None)
    if g.principal is None and request.endpoint not in _PUBLIC_ENDPOINTS:
        return redirect(url_for("manager.login", next=request.full_path.rstrip("?")))
    return None


@bp.after_request
def _headers(response: Response) -> Response:
    # Pages hold enforcement data: not cached, not framed, no scripts at all.
    response.headers.setdefault("Cache-Control", "no-store")
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "same-origin"
    response.headers.setdefault(
        "Content-Security-Policy",
        "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; "
        "form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    )
    return response


@bp.errorhandler(DomainError)
def _domain_error(exc: DomainError) -> ResponseReturnValue:
    from server.api.errors import status_for

    status = status_for(exc)
    return render_template(
        "manager/error.html", message=messages.message_for(exc), detail=exc, status=status
    ), status


@bp.errorhandler(400)
@bp.errorhandler(404)
def _http_error(exc: Any) -> ResponseReturnValue:
    status = getattr(exc, "code", 400) or 400
    message = "页面不存在" if status == 404 else (exc.description or "请求有误")
    return render_template("manager/error.html", message=message, status=status), status


def _safe_next(target: str | None) -> str:
    # Only back into these pages: never an open redirect to another site.
    if target and target.startswith("/manage") and not target.startswith("//"):
        return target
    return url_for("manager.dashboard")  # which sends each role on to its own first section


@bp.route("/login", methods=["GET", "POST"])
def login() -> ResponseReturnValue:
    """Sign in with username and password."""
    error = None
    if request.method == "POST":
        username = request.form.get("username", "").strip()
        password = request.form.get("password", "")
        try:
            token = web_sessions.sign_in(
                username,
                password,
                hours=current_app.config["WEB_SESSION_HOURS"],
                address=request.remote_addr,
            )
        except Unauthorized:
            error = "用户名或密码错误"
        except TooManyRequests as exc:
            error = f"登录失败次数过多，请 {-(-exc.details['retry_after'] // 60)} 分钟后再试"
        except Forbidden as exc:
            error = exc.message
        else:
            session.clear()
            session["token"] = token
            session["csrf"] = secrets.token_urlsafe(32)
            return redirect(_safe_next(request.form.get("next")))
    status = 401 if error else 200
    return render_template(
        "manager/login.html", error=error, next=request.values.get("next", "")
    ), status


@bp.post("/logout")
def logout() -> ResponseReturnValue:
    """Sign out; the token behind the cookie is revoked."""
    token = session.pop("token", None)
    if token:
        web_sessions.sign_out(token)
    session.clear()
    return redirect(url_for("manager.login"))


# --- pages -------------------------------------------------------------------------------------


def _bool_arg(name: str) -> bool | None:
    value = request.args.get(name, "")
    return {"1": True, "true": True, "0": False, "false": False}.get(value)


def _date_arg(name: str) -> date | None:
    try:
        day = date.fromisoformat(request.args.get(name, ""))
    except ValueError:
        return None
    return day if in_service_range(day) else None


def _uuid_arg(name: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(request.args.get(name, ""))
    except ValueError:
        return None


def _filters(**fixed: Any) -> HazardFilters:
    args = request.args
    status = args.get("status", "open")
    values: dict[str, Any] = {
        "status": status if status in (*lifecycle.STATUSES, OPEN) else None,
        "level": args.get("level") if args.get("level") in lifecycle.LEVELS else None,
        "industry": args.get("industry") if args.get("industry") in INDUSTRIES else None,
        "overdue": _bool_arg("overdue"),
        "supervised": _bool_arg("supervised"),
        "penalty_case": _bool_arg("penalty_case"),
        "enterprise_id": _uuid_arg("enterprise_id"),
        "inspector_id": _uuid_arg("inspector_id"),
        "found_from": _date_arg("found_from"),
        "found_to": _date_arg("found_to"),
    }
    values.update(fixed)
    return HazardFilters(**values)


def _page_number() -> int:
    try:
        return max(1, min(int(request.args.get("page", "1")), 100_000))
    except ValueError:
        return 1


def _sort() -> str:
    sort = request.args.get("sort", "-found_at")
    return sort if sort.lstrip("-") in SORTS else "-found_at"


def _page_links(page: Page) -> dict[str, str | None]:
    args = request.args.to_dict()
    last = page.pages

    def link(n: int) -> str:
        return "?" + urlencode({**args, "page": n})

    return {
        "prev": link(page.page - 1) if page.page > 1 else None,
        "next": link(page.page + 1) if page.page < last else None,
        "last": str(last),
    }


@bp.get("/")
def dashboard() -> ResponseReturnValue:
    """Where things stand: open, overdue, supervised, this year's rate, and two charts."""
    principal = g.principal
    if principal.role not in READ_HAZARDS:
        return redirect(home())
    agency = agency_of(principal)
    today = local_today(agency)
    try:
        year = int(request.args.get("year", today.year))
    except ValueError:
        year = today.year
    year = min(max(year, 2000), 2099)
    stats = aggregates(principal, year=year, blocking_limit=20)
    everything = aggregates(principal, blocking_limit=0)
    series = open_vs_closed(principal)
    months = [s["month"][2:].replace("-", "/") for s in series]
    trend = charts.bars_and_line(
        months,
        [
            charts.Series("新发现", charts.FOUND_COLOUR, [s["found"] for s in series]),
            charts.Series("已销号", charts.CLOSED_COLOUR, [s["closed"] for s in series]),
        ],
        charts.Series("月末未销号", charts.OPEN_COLOUR, [s["open"] for s in series]),
        title="近12个月隐患发现与销号",
        drawn_title=False,  # the card's heading says it
    )
    ages = charts.horizontal_bars(
        [(f"{b}天", everything["age_buckets"][b]) for b in lifecycle.AGE_BUCKETS],
        title="未销号隐患账龄",
        drawn_title=False,
    )
    return render_template(
        "manager/dashboard.html",
        stats=stats,
        everything=everything,
        year=year,
        years=list(range(today.year, today.year - 6, -1)),
        trend=trend,
        ages=ages,
        series=series,
    )


@bp.get("/hazards")
def hazard_list() -> ResponseReturnValue:
    """Hazards with filters; open ones unless asked otherwise."""
    filters = _filters()
    page = list_hazards(
        g.principal, filters, sort=_sort(), page=_page_number(), per_page=_PAGE
    )
    return render_template(
        "manager/hazards.html",
        page=page,
        links=_page_links(page),
        filters=filters,
        args=request.args,
        heading="隐患清单",
        view="list",
        inspectors=inspectors(g.principal),
        export=url_for("manager.export", **_query()),
    )


@bp.get("/hazards.csv")
def export() -> ResponseReturnValue:
    """The filtered list as a CSV file that Excel opens."""
    body = export_csv(g.principal, _filters(), sort=_sort())
    first = next(body)

    def chunks() -> Any:
        yield first.encode("utf-8")
        for chunk in body:
            yield chunk.encode("utf-8")

    return download(stream_with_context(chunks()), "hazards.csv")


@bp.get("/hazards/overdue")
def overdue() -> ResponseReturnValue:
    """Hazards past their deadline, longest overdue first, and what the job escalated."""
    filters = _filters(status=None, overdue=True)
    page = list_hazards(
        g.principal, filters, sort="deadline", page=_page_number(), per_page=_PAGE
    )
    recent = escalation.list_escalations(g.principal, per_page=20)
    return render_template(
        "manager/hazards.html",
        page=page,
        links=_page_links(page),
        filters=filters,
        args=request.args,
        heading="逾期未整改隐患",
        view="overdue",
        inspectors=inspectors(g.principal),
        escalations=recent.items,
        export=url_for("manager.export", **_query(overdue="1")),
    )


@bp.get("/hazards/supervised")
def supervised() -> ResponseReturnValue:
    """Major hazards on the supervised list (挂牌督办) and their rectification plans."""
    filters = _filters(supervised=True)
    page = list_hazards(
        g.principal, filters, sort="found_at", page=_page_number(), per_page=_PAGE
    )
    return render_template(
        "manager/hazards.html",
        page=page,
        links=_page_links(page),
        filters=filters,
        args=request.args,
        heading="挂牌督办重大事故隐患",
        view="supervised",
        inspectors=inspectors(g.principal),
        export=url_for("manager.export", **_query(supervised="1")),
    )


@bp.get("/hazards/<uuid:hazard_id>")
def hazard(hazard_id: uuid.UUID) -> ResponseReturnValue:
    """One hazard: where it stands, photos, and every step with who, when and from where."""
    detail = hazard_detail(g.principal, hazard_id)
    return render_template("manager/hazard.html", d=detail, h=detail["hazard"])


@bp.post("/hazards/<uuid:hazard_id>/sign-off")
def sign_off(hazard_id: uuid.UUID) -> ResponseReturnValue:
    """A manager signs a major hazard closed (审批销号)."""
    note = request.form.get("note", "").strip()[:2000] or None
    take_step(g.principal, hazard_id, lifecycle.SIGN_OFF, {"note": note})
    return redirect(url_for("manager.hazard", hazard_id=hazard_id))


@bp.get("/enterprises/<uuid:enterprise_id>")
@bp.get("/enterprises/<uuid:enterprise_id>/hazards")
def enterprise_hazards(enterprise_id: uuid.UUID) -> ResponseReturnValue:
    """One enterprise's page: its facts and gate code, its visits, documents and scans, and
    everything ever found there, newest first, with finding and later photos."""
    enterprise = enterprises.get_enterprise(enterprise_id)
    page = list_hazards(
        g.principal,
        HazardFilters(enterprise_id=enterprise_id),
        sort="-found_at",
        page=_page_number(),
        per_page=_PAGE,
    )
    evidence = later_evidence(g.principal, [r.hazard.id for r in page.items])
    return render_template(
        "manager/enterprise.html",
        enterprise=enterprise,
        page=page,
        links=_page_links(page),
        evidence=evidence,
        history=enterprises.history(enterprise_id),
        KIND_LABELS=INSPECTION_KIND_LABELS,
        DOCUMENT_TITLES=DOCUMENT_TITLES,
        WARNING_LABELS=visits.WARNING_LABELS,
    )


@bp.get("/attachments/<sha256>")
def attachment(sha256: str) -> ResponseReturnValue:
    """A photo of the agency's evidence, for the pages above."""
    stored = attachments.open_attachment(g.principal, sha256)
    if not (stored.content_type or "").startswith("image/"):
        abort(404)
    response = send_file(
        stored.path, mimetype=stored.content_type, conditional=True, etag=stored.sha256
    )
    response.headers["Cache-Control"] = "private, max-age=86400"
    response.headers["Content-Security-Policy"] = "sandbox; default-src 'none'"
    return response
