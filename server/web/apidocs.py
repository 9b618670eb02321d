"""The API's browsable documentation (Swagger UI) served from the package's own files.

Bureaus run on intranets: nothing of ``/docs`` may come from a CDN.
"""

from __future__ import annotations

from flask import Blueprint, send_from_directory
from flask.typing import ResponseReturnValue
from swagger_ui_bundle import swagger_ui_path

bp = Blueprint("apidocs", __name__)

# flask-smorest's /docs page loads swagger-ui.css, swagger-ui-bundle.js and
# swagger-ui-standalone-preset.js from OPENAPI_SWAGGER_UI_URL, which points here.
ASSETS_URL = "/docs/ui/"


@bp.get(ASSETS_URL + "<path:filename>")
def asset(filename: str) -> ResponseReturnValue:
    """A file of Swagger UI as shipped by the swagger-ui-bundle package."""
    return send_from_directory(swagger_ui_path, filename, max_age=86400)
