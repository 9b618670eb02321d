"""Accounts (用户管理) for the agency's admin: create, disable, enable, set a new password.

Routes of ``manager.bp``: they share its sign-in, CSRF check, headers, error pages and layout.
"""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from flask import g, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from server.domain.errors import DomainError
from server.domain.permissions import ROLES
from server.services import accounts
from server.web import messages
from server.web.manager import bp as manager_bp


def _page(errors: Any = None, values: Any = None, status: int = 200) -> ResponseReturnValue:
    return render_template(
        "manager/users.html",
        users=accounts.list_users(g.principal),
        roles=ROLES,
        errors=errors,
        values=values or {},
    ), status


def _day(text: str) -> date | None:
    try:
        return date.fromisoformat(text) if text else None
    except ValueError:
        return None


@manager_bp.route("/users", methods=["GET", "POST"])
def users() -> ResponseReturnValue:
    """The agency's accounts, and the form that adds one."""
    if request.method == "GET":
        return _page()
    form = request.form
    try:
        accounts.add_user(
            g.principal,
            username=form.get("username", "").strip()[:64],
            role=form.get("role", ""),
            password=form.get("password", ""),
            full_name=form.get("full_name", "").strip()[:100],
            cert_no=form.get("cert_no", "").strip()[:40] or None,
            cert_valid_until=_day(form.get("cert_valid_until", "")),
            unit=form.get("unit", "").strip()[:100],
        )
    except DomainError as exc:
        if exc.code == "role_not_allowed":
            raise
        lines = [f"{k}: {'；'.join(v)}" for k, v in exc.fields.items()] or [exc.message]
        return _page(errors=(messages.message_for(exc), lines), values=form, status=422)
    return redirect(url_for("manager.users"))


@manager_bp.post("/users/<uuid:user_id>/disable")
def disable_user(user_id: uuid.UUID) -> ResponseReturnValue:
    """Disable an account: its phones and browsers are signed out at once."""
    accounts.set_user_active(g.principal, user_id, False)
    return redirect(url_for("manager.users"))


@manager_bp.post("/users/<uuid:user_id>/enable")
def enable_user(user_id: uuid.UUID) -> ResponseReturnValue:
    """Enable a disabled account again."""
    accounts.set_user_active(g.principal, user_id, True)
    return redirect(url_for("manager.users"))


@manager_bp.post("/users/<uuid:user_id>/password")
def set_password(user_id: uuid.UUID) -> ResponseReturnValue:
    """Give an account a new password (its sessions end)."""
    accounts.set_password(g.principal, user_id, request.form.get("password", ""))
    return redirect(url_for("manager.users"))
