"""Public pages (no login): what a person who scans a gate code with a camera sees."""

from __future__ import annotations

from flask import Blueprint, current_app, redirect, render_template, url_for
from flask.typing import ResponseReturnValue

from server.domain import entry_codes as codes
from server.services import entry_codes

bp = Blueprint("public", __name__, template_folder="templates")


@bp.get("/")
def home() -> ResponseReturnValue:
    """The site's root leads to the office pages (their sign-in when nobody is signed in)."""
    return redirect(url_for("manager.dashboard"))


@bp.get("/e/<token>")
def entry(token: str) -> ResponseReturnValue:
    """The page behind a gate QR code: which enterprise, which bureau, what the code is for."""
    key = codes.derive_key(current_app.config["SECRET_KEY"])
    try:
        found = entry_codes.public_entry(token, key)
    except codes.EntryCodeError:
        return render_template("entry.html", entry=None), 404
    return render_template("entry.html", entry=found)
