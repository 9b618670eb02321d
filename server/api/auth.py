"""Login and device revocation."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import current_app, request
from flask.views import MethodView

from server.api.parsing import Blueprint
from server.api.security import current_principal, public
from server.schemas.accounts import (
    ColleagueSchema,
    DeviceSchema,
    LoginResultSchema,
    LoginSchema,
    UserSchema,
)
from server.services import accounts

blp = Blueprint("auth", __name__, url_prefix="/api/v1", description="Accounts and devices")


@blp.route("/auth/login")
class Login(MethodView):
    @public
    @blp.doc(security=[])
    @blp.arguments(LoginSchema)
    @blp.response(200, LoginResultSchema)
    @blp.alt_response(401, description="wrong username or password")
    @blp.alt_response(403, description="the device was revoked")
    @blp.alt_response(429, description="too many failed sign-ins; wait Retry-After seconds")
    def post(self, data: dict[str, Any]) -> Any:
        """Log in from a device and receive a bearer token bound to it."""
        result = accounts.login(
            username=data["username"],
            password=data["password"],
            device_key=data["device_id"],
            device_name=data["device_name"],
            ttl=timedelta(hours=current_app.config["TOKEN_TTL_HOURS"]),
            address=request.remote_addr,
        )
        return {
            "access_token": result.access_token,
            "expires_at": result.expires_at,
            "user": result.user,
        }


@blp.route("/devices")
class Devices(MethodView):
    @blp.response(200, DeviceSchema(many=True))
    @blp.alt_response(403, description="only leads, managers and admins see the devices")
    def get(self) -> Any:
        """The agency's devices, the most recently seen first."""
        return accounts.list_devices(current_principal())


@blp.route("/devices/<string:device_id>/revoke")
class RevokeDevice(MethodView):
    @blp.response(200, DeviceSchema)
    @blp.alt_response(403, description="only leads, managers and admins revoke devices")
    @blp.alt_response(404, description="no such device in your agency")
    def post(self, device_id: str) -> Any:
        """Revoke every token of a device at once (a lost phone)."""
        return accounts.revoke_device(current_principal(), device_id)


@blp.route("/devices/<string:device_id>/reinstate")
class ReinstateDevice(MethodView):
    @blp.response(200, DeviceSchema)
    @blp.alt_response(403, description="only leads, managers and admins reinstate devices")
    @blp.alt_response(404, description="no such device in your agency")
    def post(self, device_id: str) -> Any:
        """Let a revoked device log in again (found, with records still to sync); its old
        tokens stay revoked."""
        return accounts.reinstate_device(current_principal(), device_id)


@blp.route("/users")
class Colleagues(MethodView):
    @blp.response(200, ColleagueSchema(many=True))
    def get(self) -> Any:
        """The active people of your agency with their certificates: whom to put on a team."""
        return accounts.list_colleagues()


@blp.route("/me")
class Me(MethodView):
    @blp.response(200, UserSchema)
    def get(self) -> Any:
        """The account behind the token."""
        return accounts.get_user(current_principal().user_id)
