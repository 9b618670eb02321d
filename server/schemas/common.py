"""Schemas every resource shares: the error envelope and pagination."""

from __future__ import annotations

from typing import Any

import marshmallow as ma


class ErrorBodySchema(ma.Schema):
    code = ma.fields.String(required=True, metadata={"description": "stable snake_case code"})
    message = ma.fields.String(required=True)
    # ``fields`` on the wire; a Schema's own ``fields`` attribute holds its declared fields.
    field_messages = ma.fields.Dict(
        data_key="fields", metadata={"description": "per-field messages"}
    )
    details = ma.fields.Dict()


class ErrorSchema(ma.Schema):
    error = ma.fields.Nested(ErrorBodySchema, required=True)


def partial_update(schema_cls: type[ma.Schema]) -> ma.Schema:
    """``schema_cls`` for a partial update: any top-level field may be left out, and a nested
    object that is given is checked whole, as on create. (``partial=True`` reaches into nested
    schemas too, and an object missing a required member would pass to the service.)"""
    return schema_cls(partial=tuple(schema_cls._declared_fields))


class PageQuerySchema(ma.Schema):
    page = ma.fields.Integer(load_default=1, validate=ma.validate.Range(min=1, max=1_000_000))
    per_page = ma.fields.Integer(load_default=50, validate=ma.validate.Range(min=1, max=500))


def page_schema(item_schema: type[ma.Schema], name: str) -> type[ma.Schema]:
    """A ``{"items", "page", "per_page", "total"}`` envelope around ``item_schema``."""
    attrs: dict[str, Any] = {
        "items": ma.fields.List(ma.fields.Nested(item_schema), required=True),
        "page": ma.fields.Integer(required=True),
        "per_page": ma.fields.Integer(required=True),
        "total": ma.fields.Integer(required=True),
    }
    return type(name, (ma.Schema,), attrs)
