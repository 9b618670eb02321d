"""Published double-random draws (双随机抽查结果公示): HTML pages and the same as JSON."""

from __future__ import annotations

import uuid
from typing import Any

from flask import Blueprint, Response, jsonify, render_template, request, url_for
from flask.typing import ResponseReturnValue

from server.domain.errors import NotFound
from server.services import draw_publication
from server.services.paging import Page

bp = Blueprint("public_draws", __name__, template_folder="templates")


def _agency_filter() -> str | None:
    code = (request.args.get("agency") or "").strip()
    return code[:32] or None


def _draw_id(text: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(text)
    except ValueError:
        return None


def _page_number() -> int:
    try:
        return max(1, min(int(request.args.get("page", "1")), 100_000))
    except ValueError:
        return 1


def _listing() -> tuple[Page, dict[str, str | None], list[dict[str, object]]]:
    agency = _agency_filter()
    page = draw_publication.list_draws(
        agency, page=_page_number(), per_page=draw_publication.PER_PAGE
    )
    def link(endpoint: str, n: int) -> str:
        values: dict[str, Any] = {**request.args.to_dict(), "page": n}
        return url_for(endpoint, **values)

    links: dict[str, str | None] = {
        "prev": link(request.endpoint or "", page.page - 1) if page.page > 1 else None,
        "next": link(request.endpoint or "", page.page + 1) if page.page < page.pages else None,
    }
    return page, links, draw_publication.upcoming(agency)


@bp.get("/public/draws")
def draw_list() -> ResponseReturnValue:
    """Published draws, a page at a time, and the scheduled ones with their commitments."""
    page, links, upcoming = _listing()
    return render_template(
        "draws.html", page=page, pages=page.pages, links=links, draws=page.items, upcoming=upcoming
    )


@bp.get("/public/draws.json")
def draw_list_json() -> ResponseReturnValue:
    """The list page as JSON, paged the same way (``?page=``)."""
    page, links, upcoming = _listing()
    return jsonify(
        {
            "draws": page.items,
            "page": page.page,
            "per_page": page.per_page,
            "total": page.total,
            "next": links["next"],
            "prev": links["prev"],
            "upcoming": upcoming,
        }
    )


@bp.get("/public/draws/<ref>")
def draw_page(ref: str) -> ResponseReturnValue:
    """One draw: plan, time, seed and its commitment, fingerprint, teams, task results.

    ``<id>.json`` is the same as JSON: the verifiable document (``scripts/verify_draw.py``
    reads it as it is) with the page's content under ``publication``.
    """
    as_json = ref.endswith(".json")
    draw_id = _draw_id(ref[: -len(".json")] if as_json else ref)
    try:
        if draw_id is None:
            raise NotFound("no such draw")
        if as_json:
            return jsonify(draw_publication.publication_json(draw_id))
        return render_template("draw.html", draw=draw_publication.publication(draw_id))
    except NotFound:
        if as_json:
            return jsonify({"error": {"code": "not_found", "message": "no such draw"}}), 404
        return render_template("draw.html", draw=None), 404


@bp.get("/public/draws/<ref>/document.json")
def draw_document(ref: str) -> ResponseReturnValue:
    """The draw's public document byte for byte as stored (canonical JSON)."""
    draw_id = _draw_id(ref)
    try:
        if draw_id is None:
            raise NotFound("no such draw")
        body = draw_publication.document(draw_id)
    except NotFound:
        return jsonify({"error": {"code": "not_found", "message": "no such draw"}}), 404
    return Response(body, mimetype="application/json")
