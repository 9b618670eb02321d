"""Request checks every route shares, before any view runs."""

from __future__ import annotations

from flask import Flask, request

from server.domain.errors import BadRequest


def _reject_nul_characters() -> None:
    # PostgreSQL cannot store U+0000 in text; refuse it up front rather than fail later.
    if b"%00" in request.query_string or b"\x00" in request.query_string:
        raise BadRequest("the query string contains a NUL character", code="nul_character")
    if request.is_json and request.content_length and request.content_length < 10_000_000:
        body = request.get_data(cache=True)
        if b"\\u0000" in body or b"\x00" in body:
            raise BadRequest("the JSON body contains a NUL character", code="nul_character")


def init_app(app: Flask) -> None:
    app.before_request(_reject_nul_characters)
