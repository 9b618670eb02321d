"""Devices (设备管理) for leads and managers: which phones and browsers hold tokens, revoke a
lost one at once, reinstate one found again.

Routes of ``manager.bp``: they share its sign-in, CSRF check, headers, error pages and layout.
"""

from __future__ import annotations

from flask import g, redirect, render_template, url_for
from flask.typing import ResponseReturnValue

from server.domain.permissions import DEVICE_REINSTATED, DEVICE_REVOKED
from server.services import accounts
from server.web.manager import bp as manager_bp

ACTION_LABELS = {DEVICE_REVOKED: "停用", DEVICE_REINSTATED: "恢复"}


@manager_bp.get("/devices")
def devices() -> ResponseReturnValue:
    """The agency's devices, the most recently used first, with every revocation."""
    listed = accounts.list_devices(g.principal)
    return render_template(
        "manager/devices.html",
        devices=listed,
        people=accounts.people_of(listed),
        actions=ACTION_LABELS,
    )


@manager_bp.post("/devices/<string:device_id>/revoke")
def revoke_device(device_id: str) -> ResponseReturnValue:
    """Stop every token of a lost phone now."""
    accounts.revoke_device(g.principal, device_id)
    return redirect(url_for("manager.devices"))


@manager_bp.post("/devices/<string:device_id>/reinstate")
def reinstate_device(device_id: str) -> ResponseReturnValue:
    """Let a found phone log in again (with a password; its old tokens stay dead)."""
    accounts.reinstate_device(g.principal, device_id)
    return redirect(url_for("manager.devices"))
