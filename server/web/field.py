"""The inspectors' field app: the static files npm builds, served under /field/.

The shell (``index.html``, ``sw.js``, ``manifest.webmanifest``) is revalidated on every load
so a new build reaches phones at their next visit; the bundles carry their content hash in
their names and are cached for a year. Everything else the app needs comes from /api/v1.
"""

from __future__ import annotations

import mimetypes
import re
from pathlib import Path

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    redirect,
    request,
    send_from_directory,
)
from flask.typing import ResponseReturnValue

bp = Blueprint("field", __name__, url_prefix="/field")

# app-3F2A9C1D.js, app-3F2A9C1D.css: content-hashed by the build, never change under a name.
_HASHED = re.compile(r"-[A-Z0-9]{8}\.(js|css|wasm)$")
_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' blob: data:; "
    "media-src 'self' blob: mediastream:; connect-src 'self' blob:; worker-src 'self'; "
    "manifest-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'; "
    "object-src 'none'"
)


def _folder() -> Path:
    folder = Path(current_app.config["FIELD_APP_DIR"])
    if not (folder / "index.html").is_file():
        current_app.logger.error("the field app is not built in %s (npm run build)", folder)
        abort(404)
    return folder


@bp.route("")
def root() -> ResponseReturnValue:
    """The app lives in a folder: its service worker's scope is /field/."""
    return redirect("/field/", code=308)


@bp.route("/", defaults={"name": "index.html"})
@bp.route("/<path:name>")
def asset(name: str) -> Response:
    """One file of the built app; any other path under /field/ is the shell."""
    folder = _folder()
    if not (folder / name).is_file() or name.startswith("."):
        name = "index.html"
    if "gzip" in request.accept_encodings and (folder / f"{name}.gz").is_file():
        # The build's compressed twin: a slow link carries a third of the bytes.
        mimetype = mimetypes.guess_type(name)[0] or "application/octet-stream"
        if name.endswith(".webmanifest"):
            mimetype = "application/manifest+json"
        response = send_from_directory(folder, f"{name}.gz", max_age=0, mimetype=mimetype)
        response.headers["Content-Encoding"] = "gzip"
    else:
        response = send_from_directory(folder, name, max_age=0)
    response.vary.add("Accept-Encoding")
    if _HASHED.search(name):
        response.cache_control.max_age = 31536000
        response.cache_control.public = True
        response.cache_control.immutable = True
    else:
        response.cache_control.no_cache = True
        response.cache_control.max_age = 0
    if name == "sw.js":
        response.headers["Service-Worker-Allowed"] = "/field/"
    response.headers["Content-Security-Policy"] = _CSP
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "same-origin"
    return response
