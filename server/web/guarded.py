"""What the enterprise's and the supervisor's pages share: CSRF on every form, strict headers."""

from __future__ import annotations

import hmac
import secrets

from flask import Blueprint, Response, abort, request, session


def csrf_token() -> str:
    token = session.get("csrf")
    if not token:
        token = session["csrf"] = secrets.token_urlsafe(32)
    return token


def check_csrf() -> None:
    if request.method == "POST":
        sent = request.form.get("csrf_token", "")
        expected = session.get("csrf", "")
        if not expected or not hmac.compare_digest(sent.encode(), expected.encode()):
            abort(400, description="表单已过期，请刷新页面后重试")


def strict_headers(response: Response) -> Response:
    # Pages hold enforcement data: not cached, not framed, no scripts at all.
    response.headers.setdefault("Cache-Control", "no-store")
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "same-origin"
    response.headers.setdefault(
        "Content-Security-Policy",
        "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; "
        "form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    )
    return response


def guard(bp: Blueprint) -> None:
    bp.before_request(check_csrf)
    bp.after_request(strict_headers)
