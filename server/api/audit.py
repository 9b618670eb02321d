"""The audit trail of applied changes."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask.views import MethodView

from server.api.parsing import Blueprint
from server.api.security import current_principal
from server.schemas.common import PageQuerySchema, page_schema
from server.schemas.fields import LocalDateTime
from server.services import audit

blp = Blueprint("audit", __name__, url_prefix="/api/v1/audit", description="Audit trail")


class AuditQuerySchema(PageQuerySchema):
    entity = ma.fields.String(validate=ma.validate.Length(max=20))
    record_id = ma.fields.UUID()


class AuditEntrySchema(ma.Schema):
    at = LocalDateTime(required=True)
    user_id = ma.fields.UUID(allow_none=True)
    device_id = ma.fields.UUID(allow_none=True)
    op_id = ma.fields.UUID(allow_none=True)
    entity = ma.fields.String(required=True)
    record_id = ma.fields.UUID(required=True)
    action = ma.fields.String(required=True)
    version = ma.fields.Integer(required=True)
    changes = ma.fields.Dict(required=True)


@blp.route("")
class AuditTrail(MethodView):
    @blp.arguments(AuditQuerySchema, location="query")
    @blp.response(200, page_schema(AuditEntrySchema, "AuditPageSchema"))
    def get(self, query: dict[str, Any]) -> Any:
        """Every applied change of your agency's records, newest first (leads, managers)."""
        return audit.audit_trail(current_principal(), **query)
