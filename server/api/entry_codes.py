"""扫码入企 gate codes: the QR image, printable posters, rotation."""

from __future__ import annotations

import uuid
from typing import Any

import marshmallow as ma
from flask import Response
from flask.views import MethodView

from server.api.parsing import Blueprint
from server.api.security import current_principal
from server.render import downloads
from server.schemas.enterprises import EnterpriseQuerySchema, EnterpriseSchema
from server.services import enterprises, entry_codes

blp = Blueprint(
    "entry_codes", __name__, url_prefix="/api/v1/enterprises", description="Gate codes (扫码入企)"
)


class ImageQuerySchema(ma.Schema):
    format = ma.fields.String(
        load_default="png", validate=ma.validate.OneOf(downloads.IMAGE_FORMATS)
    )


class PostersQuerySchema(EnterpriseQuerySchema):
    # About 15 ms a poster: 1,000 fit well inside a request; page through larger districts.
    per_page = ma.fields.Integer(load_default=500, validate=ma.validate.Range(min=1, max=1000))


@blp.route("/<uuid:enterprise_id>/entry-code")
class EntryCodeImage(MethodView):
    @blp.arguments(ImageQuerySchema, location="query")
    @blp.response(
        200,
        content_type="image/png",
        description="The QR image (PNG, or SVG with format=svg) for the gate",
    )
    @blp.alt_response(404, description="no such enterprise in your agency")
    def get(self, query: dict[str, Any], enterprise_id: uuid.UUID) -> Response:
        """The gate QR code: it encodes <PUBLIC_BASE_URL>/e/<signed token>."""
        return downloads.entry_code_image(enterprise_id, query["format"])


@blp.route("/<uuid:enterprise_id>/entry-code/poster.pdf")
class EntryCodePoster(MethodView):
    @blp.response(200, content_type="application/pdf", description="A4 poster for the gate")
    @blp.alt_response(404, description="no such enterprise in your agency")
    def get(self, enterprise_id: uuid.UUID) -> Response:
        """A printable A4 poster: enterprise name, its code, one line of instructions."""
        return downloads.entry_code_poster(enterprise_id)


@blp.route("/entry-code-posters.pdf")
class EntryCodePosters(MethodView):
    @blp.arguments(PostersQuerySchema, location="query")
    @blp.response(
        200,
        content_type="application/pdf",
        description="One poster per page for a filtered list of enterprises",
    )
    @blp.alt_response(404, description="no enterprise matches these filters (`no_enterprises`)")
    def get(self, query: dict[str, Any]) -> Response:
        """Posters of a filtered list (same filters as the enterprise list), to print at once."""
        return downloads.entry_code_posters(enterprises.list_enterprises(**query).items)


@blp.route("/<uuid:enterprise_id>/entry-code/rotate")
class RotateEntryCode(MethodView):
    @blp.response(200, EnterpriseSchema)
    @blp.alt_response(403, description="managers and admins rotate codes")
    @blp.alt_response(404, description="no such enterprise in your agency")
    def post(self, enterprise_id: uuid.UUID) -> Any:
        """Issue a new code version; scans of older versions are refused from now on."""
        return entry_codes.rotate(current_principal(), enterprise_id)
