"""The enterprise directory (企业名录库)."""

from __future__ import annotations

import uuid
from typing import Any

import marshmallow as ma
from flask import current_app
from flask.views import MethodView
from flask_smorest.fields import Upload

from server.api.parsing import Blueprint
from server.api.security import current_principal
from server.schemas.common import partial_update
from server.schemas.enterprises import (
    EnterpriseInputSchema,
    EnterprisePageSchema,
    EnterprisePatchSchema,
    EnterpriseQuerySchema,
    EnterpriseSchema,
    ImportReportSchema,
)
from server.services import enterprise_import, enterprises

blp = Blueprint(
    "enterprises", __name__, url_prefix="/api/v1/enterprises", description="Enterprise directory"
)


class ImportFileSchema(ma.Schema):
    file = Upload(required=True, metadata={"description": "CSV (UTF-8 or GB18030) or XLSX"})


@blp.route("")
class EnterpriseCollection(MethodView):
    @blp.arguments(EnterpriseQuerySchema, location="query")
    @blp.response(200, EnterprisePageSchema)
    def get(self, query: dict[str, Any]) -> Any:
        """List the agency's enterprises, filtered and paginated."""
        return enterprises.list_enterprises(**query)

    @blp.arguments(EnterpriseInputSchema)
    @blp.response(201, EnterpriseSchema)
    @blp.alt_response(409, description="the USCC is already in the directory")
    def post(self, data: dict[str, Any]) -> Any:
        """Add an enterprise to the directory."""
        return enterprises.create_enterprise(current_principal(), data)


@blp.route("/import")
class EnterpriseImport(MethodView):
    @blp.arguments(ImportFileSchema, location="files")
    @blp.response(200, ImportReportSchema)
    @blp.alt_response(413, description="the file is larger than the upload limit")
    def post(self, files: dict[str, Any]) -> Any:
        """Import a CSV or XLSX sheet; every row is reported, bad rows do not stop good ones."""
        upload = files["file"]
        return enterprise_import.import_enterprises(
            current_principal(),
            upload.filename or "",
            upload.read(),
            max_rows=current_app.config["MAX_IMPORT_ROWS"],
        )


@blp.route("/<uuid:enterprise_id>")
class EnterpriseItem(MethodView):
    @blp.response(200, EnterpriseSchema)
    def get(self, enterprise_id: uuid.UUID) -> Any:
        """One enterprise of the agency."""
        return enterprises.get_enterprise(enterprise_id)

    @blp.arguments(partial_update(EnterprisePatchSchema))
    @blp.response(200, EnterpriseSchema)
    @blp.alt_response(409, description="the new USCC is already in the directory")
    def patch(self, changes: dict[str, Any], enterprise_id: uuid.UUID) -> Any:
        """Change some fields of an enterprise."""
        return enterprises.update_enterprise(current_principal(), enterprise_id, changes)
