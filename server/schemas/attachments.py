"""Attachments: what the server has of one, as answered to a PUT."""

from __future__ import annotations

import marshmallow as ma


class AttachmentSchema(ma.Schema):
    sha256 = ma.fields.String(required=True)
    complete = ma.fields.Boolean(
        required=True, metadata={"description": "stored completely and verified"}
    )
    received_bytes = ma.fields.Integer(
        required=True, metadata={"description": "bytes received; equals size when complete"}
    )
    size = ma.fields.Integer(
        allow_none=True, metadata={"description": "total size (declared, while partial)"}
    )
    content_type = ma.fields.String(allow_none=True)
