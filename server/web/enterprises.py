"""The enterprise directory for the office (名录库): find enterprises, print their gate codes.

Routes of ``manager.bp``: they share its sign-in, CSRF check, headers, error pages and layout.
Gate codes, posters and document PDFs are the API's files (``server/render/downloads.py``),
answered here to the signed-in browser; the session is fenced to the user's agency as the
API's is, so another agency's enterprise or document is a 404 here too.
"""

from __future__ import annotations

import uuid
from typing import Any

import marshmallow as ma
from flask import (
    Response,
    abort,
    current_app,
    g,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.typing import ResponseReturnValue

from server.domain.enterprises import CREDIT_RATINGS, INDUSTRIES, RISK_GRADES
from server.domain.errors import ValidationFailed
from server.render import downloads
from server.schemas.enterprises import EnterprisePatchSchema
from server.services import enterprise_import, enterprises, entry_codes
from server.web.manager import _page_links, _page_number
from server.web.manager import bp as manager_bp

_PAGE = 50
# A batch of posters is one request: the API allows 1,000 a request, the page as many.
_MAX_POSTERS = 1000


def _directory_filters() -> dict[str, Any]:
    args = request.args
    key = {"1": True, "0": False}.get(args.get("is_key", ""))
    return {
        "q": args.get("q", "").strip()[:100] or None,
        "industry": args.get("industry") if args.get("industry") in INDUSTRIES else None,
        "risk_grade": args.get("risk_grade") if args.get("risk_grade") in RISK_GRADES else None,
        "credit_rating": (
            args.get("credit_rating") if args.get("credit_rating") in CREDIT_RATINGS else None
        ),
        "is_key": key,
    }


def _file(response: Response) -> Response:
    # A file, not a page: the browser's own PDF viewer and image view must be allowed to run.
    response.headers["Content-Security-Policy"] = "frame-ancestors 'none'"
    return response


@manager_bp.get("/enterprises")
def directory() -> ResponseReturnValue:
    """The directory with search and filters, and the posters of what is listed."""
    filters = _directory_filters()
    page = enterprises.list_enterprises(**filters, page=_page_number(), per_page=_PAGE)
    shown = {k: ("1" if v is True else "0" if v is False else v) for k, v in filters.items()}
    chosen: dict[str, Any] = {k: v for k, v in shown.items() if v is not None}
    return render_template(
        "manager/enterprises.html",
        page=page,
        links=_page_links(page),
        filters=filters,
        RISK_GRADES=RISK_GRADES,
        CREDIT_RATINGS=CREDIT_RATINGS,
        posters=url_for("manager.entry_code_posters", **chosen),
        max_posters=_MAX_POSTERS,
    )


STATUS_LABELS = {"created": "新增", "updated": "更新", "unchanged": "无变化", "error": "有误"}


@manager_bp.route("/enterprises/import", methods=["GET", "POST"])
def import_directory() -> ResponseReturnValue:
    """Upload a CSV or XLSX sheet of the directory; every row's outcome as a table."""
    report = None
    if request.method == "POST":
        upload = request.files.get("file")
        if upload is None or not upload.filename:
            raise ValidationFailed("choose a file", fields={"file": ["请选择CSV或XLSX文件"]})
        report = enterprise_import.import_enterprises(
            g.principal,
            upload.filename,
            upload.read(),
            max_rows=current_app.config["MAX_IMPORT_ROWS"],
        )
    return render_template("manager/import.html", report=report, STATUS_LABELS=STATUS_LABELS), (
        200 if report is None or not report.failed else 422
    )


_EDITABLE = (
    "name",
    "address",
    "region",
    "industry",
    "legal_representative",
    "contact_phone",
    "risk_grade",
    "credit_rating",
)


@manager_bp.route("/enterprises/<uuid:enterprise_id>/edit", methods=["GET", "POST"])
def edit_enterprise(enterprise_id: uuid.UUID) -> ResponseReturnValue:
    """Change an enterprise's facts; loaded by the API's schema, checked by the service."""
    enterprise = enterprises.get_enterprise(enterprise_id)
    errors = None
    if request.method == "POST":
        form = request.form
        body: dict[str, Any] = {name: form.get(name, "").strip() for name in _EDITABLE}
        body["risk_grade"] = body["risk_grade"] or None
        body["credit_rating"] = body["credit_rating"] or None
        body["is_key"] = form.get("is_key") == "1"
        body["seriously_dishonest"] = form.get("seriously_dishonest") == "1"
        try:
            changes = EnterprisePatchSchema(partial=True).load(body)
            enterprises.update_enterprise(g.principal, enterprise_id, changes)
        except ma.ValidationError as exc:
            errors = [f"{k}: {'；'.join(v)}" for k, v in exc.messages.items()]  # type: ignore[union-attr]
        else:
            return redirect(url_for("manager.enterprise_hazards", enterprise_id=enterprise_id))
    return render_template(
        "manager/enterprise_form.html",
        enterprise=enterprise,
        errors=errors,
        RISK_GRADES=RISK_GRADES,
        CREDIT_RATINGS=CREDIT_RATINGS,
    ), (422 if errors else 200)


@manager_bp.post("/enterprises/<uuid:enterprise_id>/entry-code/rotate")
def rotate_entry_code(enterprise_id: uuid.UUID) -> ResponseReturnValue:
    """Issue a new gate code (managers): older posters stop working at once."""
    entry_codes.rotate(g.principal, enterprise_id)
    return redirect(url_for("manager.enterprise_hazards", enterprise_id=enterprise_id))


@manager_bp.get("/enterprises/<uuid:enterprise_id>/entry-code.<fmt>")
def entry_code(enterprise_id: uuid.UUID, fmt: str) -> ResponseReturnValue:
    """The gate QR code (扫码入企) of one enterprise, PNG or SVG."""
    if fmt not in downloads.IMAGE_FORMATS:
        abort(404)
    return _file(downloads.entry_code_image(enterprise_id, fmt))


@manager_bp.get("/enterprises/<uuid:enterprise_id>/entry-code/poster.pdf")
def entry_code_poster(enterprise_id: uuid.UUID) -> ResponseReturnValue:
    """The A4 poster to put up at the enterprise's gate."""
    return _file(downloads.entry_code_poster(enterprise_id))


@manager_bp.get("/enterprises/entry-code-posters.pdf")
def entry_code_posters() -> ResponseReturnValue:
    """One poster a page for every enterprise the directory's filters select."""
    page = enterprises.list_enterprises(**_directory_filters(), per_page=_MAX_POSTERS)
    return _file(downloads.entry_code_posters(page.items))


@manager_bp.get("/documents/<uuid:document_id>.pdf")
def document_pdf(document_id: uuid.UUID) -> ResponseReturnValue:
    """An enforcement document as printed and handed to the enterprise."""
    return _file(downloads.document_pdf(document_id))


def document_link(document_id: uuid.UUID | str) -> str:
    """Where a page links a document number to."""
    return url_for("manager.document_pdf", document_id=document_id)


@manager_bp.app_context_processor
def _helpers() -> dict[str, Any]:
    return {"document_link": document_link}
