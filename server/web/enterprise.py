"""The enterprise's phone pages (企业端): activate, sign in, its visits, hazards, say its piece."""

from __future__ import annotations

import secrets
import uuid
from typing import Any

from flask import (
    Blueprint,
    abort,
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

from server.domain import parties
from server.domain.errors import DomainError, Forbidden, NotFound, Unauthorized
from server.domain.hazards import STATUS_LABELS
from server.domain.numbering import DOCUMENT_TITLES
from server.services import enterprise_portal as portal
from server.web.guarded import csrf_token, guard

bp = Blueprint("enterprise", __name__, url_prefix="/enterprise", template_folder="templates")
guard(bp)

_PUBLIC = {"enterprise.login", "enterprise.activate"}
_SESSION_KEY = "enterprise"


@bp.context_processor
def _helpers() -> dict[str, Any]:
    return {
        "csrf_token": csrf_token,
        "STATUS_LABELS": STATUS_LABELS,
        "DOCUMENT_LABELS": DOCUMENT_TITLES,
        "COMPLAINT_STATUS_LABELS": parties.COMPLAINT_STATUS_LABELS,
        "flashes": get_flashed_messages,
    }


@bp.before_request
def _authenticate() -> ResponseReturnValue | None:
    g.account = None
    held = session.get(_SESSION_KEY)
    if isinstance(held, dict):
        try:
            g.account = portal.account_for_session(str(held.get("id")), int(held.get("epoch", -1)))
        except Unauthorized:
            session.pop(_SESSION_KEY, None)
    if g.account is None and request.endpoint not in _PUBLIC:
        return redirect(url_for("enterprise.login"))
    return None


@bp.errorhandler(NotFound)
def _not_found(exc: NotFound) -> ResponseReturnValue:
    return render_template("enterprise/error.html", message=exc.message), 404


@bp.errorhandler(400)
@bp.errorhandler(404)
@bp.errorhandler(413)
def _http_error(exc: Any) -> ResponseReturnValue:
    status = getattr(exc, "code", 400) or 400
    messages = {404: "页面不存在", 413: "上传的照片太大"}
    message = messages.get(status) or exc.description or "请求有误"
    return render_template("enterprise/error.html", message=message), status


def _start_session(account: Any) -> None:
    # A fresh form token too: one planted before sign-in is worth nothing after it.
    session[_SESSION_KEY] = {"id": str(account.id), "epoch": account.session_epoch}
    session["csrf"] = secrets.token_urlsafe(32)


@bp.route("/login", methods=["GET", "POST"])
def login() -> ResponseReturnValue:
    """Sign in with the USCC and the password."""
    error = None
    if request.method == "POST":
        try:
            account = portal.sign_in(request.form.get("uscc", ""), request.form.get("password", ""))
        except (Unauthorized, Forbidden) as exc:
            error = exc.message
        else:
            _start_session(account)
            return redirect(url_for("enterprise.home"))
    return render_template("enterprise/login.html", error=error), 401 if error else 200


@bp.route("/activate", methods=["GET", "POST"])
def activate() -> ResponseReturnValue:
    """Activate the account (or set a new password) with the code the agency handed over."""
    error = None
    if request.method == "POST":
        form = request.form
        try:
            account = portal.activate(
                form.get("uscc", ""),
                form.get("code", ""),
                form.get("password", ""),
                form.get("password2", ""),
            )
        except DomainError as exc:
            error = exc.message
        else:
            _start_session(account)
            flash("账号已激活")
            return redirect(url_for("enterprise.home"))
    status = 200 if error is None else 422
    return render_template("enterprise/activate.html", error=error), status


@bp.post("/logout")
def logout() -> ResponseReturnValue:
    """Sign out."""
    session.pop(_SESSION_KEY, None)
    return redirect(url_for("enterprise.login"))


@bp.get("/")
def home() -> ResponseReturnValue:
    """Every registered entry into the enterprise, by every agency."""
    return render_template(
        "enterprise/home.html",
        registrations=portal.registrations(g.account),
        visits=portal.visits(g.account),
        hazards=portal.open_hazards(g.account),
        notices=portal.notices(g.account),
    )


@bp.get("/visits/<uuid:inspection_id>")
def visit(inspection_id: uuid.UUID) -> ResponseReturnValue:
    """One visit: who came, what was found, the documents; rate it or complain."""
    return render_template("enterprise/visit.html", v=portal.visit(g.account, inspection_id))


def _photos() -> list[portal.Photo]:
    return [
        portal.Photo(f.read(), f.mimetype)
        for f in request.files.getlist("photos")
        if f and f.filename
    ]


@bp.post("/visits/<uuid:inspection_id>/evaluation")
def evaluate(inspection_id: uuid.UUID) -> ResponseReturnValue:
    """Rate the visit (1–5) with a comment."""
    try:
        rating = int(request.form.get("rating", ""))
    except ValueError:
        rating = 0
    try:
        portal.evaluate(g.account, inspection_id, rating, request.form.get("comment", ""))
    except NotFound:
        raise
    except DomainError as exc:
        flash(exc.message, "error")
    else:
        flash("评价已提交")
    return redirect(url_for("enterprise.visit", inspection_id=inspection_id))


@bp.post("/visits/<uuid:inspection_id>/complaints")
def complain(inspection_id: uuid.UUID) -> ResponseReturnValue:
    """Complain about the visit, with photos."""
    try:
        portal.complain(g.account, inspection_id, request.form.get("text", ""), _photos())
    except NotFound:
        raise
    except DomainError as exc:
        flash(exc.message, "error")
    else:
        flash("投诉已提交，监督机构将在期限内答复")
    return redirect(url_for("enterprise.visit", inspection_id=inspection_id))


@bp.post("/hazards/<uuid:hazard_id>/rectification")
def rectify(hazard_id: uuid.UUID) -> ResponseReturnValue:
    """Report a hazard fixed, with photos of the result."""
    try:
        portal.report_rectification(
            g.account, hazard_id, request.form.get("description", ""), _photos()
        )
    except NotFound:
        abort(404)
    except DomainError as exc:
        flash(exc.message, "error")
    else:
        flash("整改情况已上报，等待执法人员复查")
    return redirect(url_for("enterprise.home") + "#hazards")
