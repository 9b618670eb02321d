"""Liveness and database reachability."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, jsonify
from flask.typing import ResponseReturnValue

from server.api.errors import error_response
from server.extensions import db

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz() -> ResponseReturnValue:
    """Report whether the service and its database answer."""
    try:
        db.session.execute(sa.text("SELECT 1"))
    except sa.exc.SQLAlchemyError:
        db.session.rollback()
        # The error envelope, beside the status fields a load balancer reads on success.
        return error_response(
            503,
            "database_unavailable",
            "the database does not answer; retry later",
            extra={"status": "degraded", "db": "unreachable"},
        )
    return jsonify({"status": "ok", "db": "ok"})
