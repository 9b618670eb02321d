"""Request checks every route shares, before any view runs."""

from __future__ import annotations

from flask import Flask, request

from server.domain.errors import BadRequest

_FORM_TYPES = frozenset({"application/x-www-form-urlencoded", "multipart/form-data"})


def _reject_nul_characters() -> None:
    # PostgreSQL cannot store U+0000 in text; refuse it up front rather than fail later.
    # JSON bodies are checked where they are parsed (server/api/parsing.py), whatever their
    # transfer encoding; uploaded files may hold any bytes and are checked by their readers.
    if "\x00" in request.path:
        raise BadRequest("the path contains a NUL character", code="nul_character")
    if b"%00" in request.query_string or b"\x00" in request.query_string:
        raise BadRequest("the query string contains a NUL character", code="nul_character")
    if request.mimetype in _FORM_TYPES and any("\x00" in v for v in request.form.values()):
        raise BadRequest("a form field contains a NUL character", code="nul_character")


def init_app(app: Flask) -> None:
    app.before_request(_reject_nul_characters)
