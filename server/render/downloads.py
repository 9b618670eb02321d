"""The files handed out of the service as HTTP answers: gate QR images, posters, document PDFs.

The API (bearer token) and the office pages (signed-in browser) answer with the same bytes and
headers; both call these. Look-ups go through the caller's agency-fenced session, so another
agency's enterprise or document is not found, as everywhere else.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Any

from flask import Response, current_app

from server.domain import entry_codes as codes
from server.domain.errors import NotFound
from server.models import Enterprise
from server.services import documents, entry_codes

IMAGE_FORMATS = ("png", "svg")
CSV = "text/csv"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def download(body: Any, filename: str, mimetype: str = CSV) -> Response:
    """A file the browser saves (CSV, XLSX): ``body`` as bytes, text or chunks to stream."""
    return Response(
        body,
        mimetype=mimetype,
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


def _key() -> bytes:
    return codes.derive_key(current_app.config["SECRET_KEY"])


def _font() -> Any:
    from server.render.fonts import cjk_font

    return cjk_font(current_app.config.get("PDF_FONT_PATH"))


def _base_url() -> str:
    return current_app.config["PUBLIC_BASE_URL"]


def _pdf(body: bytes, filename: str) -> Response:
    return Response(
        body,
        mimetype="application/pdf",
        headers={"Content-Disposition": f'inline; filename="{filename}"'},
    )


def entry_code_image(enterprise_id: uuid.UUID, fmt: str = "png") -> Response:
    """The gate QR code of one enterprise; it encodes <PUBLIC_BASE_URL>/e/<signed token>."""
    from server.render import qr

    code = entry_codes.code_for(enterprise_id, _key(), _base_url())
    if fmt == "svg":
        body, mimetype = qr.qr_svg(code.url), "image/svg+xml"
    else:
        body, mimetype = qr.qr_png(code.url), "image/png"
    response = Response(body, mimetype=mimetype)
    response.headers["X-Entry-Code-Version"] = str(code.enterprise.entry_code_version)
    response.headers["Cache-Control"] = "private, no-cache"
    return response


def entry_code_poster(enterprise_id: uuid.UUID) -> Response:
    """A printable A4 poster: enterprise name, its code, one line of instructions."""
    from server.render.posters import render_entry_poster

    code = entry_codes.code_for(enterprise_id, _key(), _base_url())
    pdf = render_entry_poster(entry_codes.poster_data(code), font=_font())
    return _pdf(pdf, f"entry-code-{enterprise_id}.pdf")


def entry_code_posters(enterprises: Iterable[Enterprise]) -> Response:
    """One poster per page for a list of enterprises; none is a 404 ``no_enterprises``."""
    from server.render.posters import render_entry_posters

    listed = list(enterprises)
    if not listed:
        raise NotFound("no enterprise matches these filters", code="no_enterprises")
    cards = (entry_codes.poster_data(c) for c in entry_codes.codes_for(listed, _key(), _base_url()))
    return _pdf(render_entry_posters(cards), "entry-code-posters.pdf")


def document_pdf(document_id: uuid.UUID) -> Response:
    """The printable PDF (Chinese text, A4) of one enforcement document."""
    document, pdf = documents.document_pdf(document_id, font=_font())
    return _pdf(pdf, f"document-{document.id}.pdf")
