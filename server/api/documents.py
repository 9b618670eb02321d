"""Enforcement documents: read one, download the printable PDF."""

from __future__ import annotations

import uuid
from typing import Any

import marshmallow as ma
from flask import Response
from flask.views import MethodView

from server.api.parsing import Blueprint
from server.render import downloads
from server.schemas.fields import LocalDateTime
from server.services import documents

blp = Blueprint(
    "documents",
    __name__,
    url_prefix="/api/v1/documents",
    description="Enforcement documents (执法文书)",
)


class DocumentSchema(ma.Schema):
    id = ma.fields.UUID(required=True)
    type = ma.fields.String(required=True)
    number = ma.fields.String(required=True)
    provisional_number = ma.fields.String(required=True)
    inspection_id = ma.fields.UUID(required=True)
    enterprise_id = ma.fields.UUID(required=True)
    hazard_ids = ma.fields.List(ma.fields.String(), required=True)
    issued_at = LocalDateTime(required=True)
    body = ma.fields.Dict(required=True)
    version = ma.fields.Integer(required=True)


@blp.route("/<uuid:document_id>")
class DocumentItem(MethodView):
    @blp.response(200, DocumentSchema)
    def get(self, document_id: uuid.UUID) -> Any:
        """One document of your agency, with its server-assigned number."""
        return documents.get_document(document_id)


@blp.route("/<uuid:document_id>/pdf")
class DocumentPdf(MethodView):
    @blp.response(
        200,
        content_type="application/pdf",
        description="The document as printed and handed to the enterprise",
    )
    @blp.alt_response(404, description="no such document in your agency")
    def get(self, document_id: uuid.UUID) -> Response:
        """The printable PDF (Chinese text, A4) of one document."""
        return downloads.document_pdf(document_id)
