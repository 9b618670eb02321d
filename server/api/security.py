"""Bearer-token authentication for every /api/v1 route, in one hook."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from flask import Flask, current_app, g, request

from server.database import read_phase
from server.domain.errors import Unauthorized
from server.domain.permissions import Principal
from server.services import accounts

F = TypeVar("F", bound=Callable[..., Any])
API_PREFIX = "/api/v1"


def public(view: F) -> F:
    """Mark a view as reachable without a token (login)."""
    view._public = True  # type: ignore[attr-defined]
    return view


def current_principal() -> Principal:
    principal = g.get("principal")
    if principal is None:  # a view forgot @public or the hook did not run
        raise Unauthorized("authentication required", code="unauthorized")
    return principal


def _authenticate() -> None:
    if not request.path.startswith(API_PREFIX + "/") or request.endpoint is None:
        return
    view = current_app.view_functions.get(request.endpoint)
    view_class = getattr(view, "view_class", None)
    if view_class is not None:
        view = getattr(view_class, request.method.lower(), None)
    if view is not None and getattr(view, "_public", False):
        return
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized(
            "send Authorization: Bearer <token>; log in at /api/v1/auth/login",
            code="unauthorized",
        )
    # Authentication only reads: end its transaction at once so that, on SQLite, a write
    # request does not hold the write lock while its body is parsed and validated.
    with read_phase():
        principal = accounts.authenticate(token.strip())
    g.principal = principal


def init_app(app: Flask) -> None:
    app.before_request(_authenticate)
