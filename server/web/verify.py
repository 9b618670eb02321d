"""The public page behind an inspector's code (亮码): who is at the gate, and may they be."""

from __future__ import annotations

from flask import Blueprint, current_app, render_template
from flask.typing import ResponseReturnValue

from server.domain import inspector_codes as codes
from server.models.types import utcnow
from server.services import inspector_codes
from server.web.guarded import strict_headers

bp = Blueprint("verify", __name__, template_folder="templates")
bp.after_request(strict_headers)


@bp.get(f"/{codes.URL_PATH_SEGMENT}/<token>")
def inspector(token: str) -> ResponseReturnValue:
    """Name, department, certificate and legal basis, or a warning in plain words."""
    key = codes.derive_key(current_app.config["SECRET_KEY"])
    found = inspector_codes.shown(token, key=key, now=utcnow())
    status = 200 if found.status in (codes.VALID, codes.CERT_LAPSED) else 404
    return render_template("verify.html", code=found, VALID=codes.VALID), status
