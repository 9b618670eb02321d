"""The caller's agency: its settings (hazard policy, visit rules)."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView

from server.api.parsing import Blueprint
from server.api.security import current_principal
from server.schemas.agency import AgencySettingsPatchSchema, AgencySettingsSchema
from server.services import agency_settings

blp = Blueprint(
    "agency", __name__, url_prefix="/api/v1/agency", description="Your agency's settings"
)


@blp.route("/settings")
class AgencySettings(MethodView):
    @blp.response(200, AgencySettingsSchema)
    @blp.alt_response(403, description="leads, managers and administrators only")
    def get(self) -> Any:
        """The settings in force: the hazard policy and the visit rules, defaults filled in."""
        return agency_settings.read(current_principal())

    @blp.arguments(AgencySettingsPatchSchema)
    @blp.response(200, AgencySettingsSchema)
    @blp.alt_response(403, description="managers and administrators only")
    @blp.alt_response(422, description="`invalid_settings`: `fields` says which and why")
    def patch(self, patch: dict[str, Any]) -> Any:
        """Change some settings: each section named is merged key by key, then checked whole."""
        return agency_settings.update(current_principal(), patch)
