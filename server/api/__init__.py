"""Thin flask-smorest blueprints, one module per resource."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask import Flask

from server.api import (
    agency,
    annual_plans,
    attachments,
    audit,
    auth,
    calendar,
    cases,
    documents,
    draws,
    enterprises,
    entry_codes,
    guards,
    hazards,
    health,
    parties,
    reports,
    security,
    sync,
)
from server.api.converters import (
    SHA256_PATTERN,
    DayConverter,
    Sha256Converter,
    StrictUUIDConverter,
)
from server.api.errors import ApiWithErrors, register_error_handlers
from server.api.parsing import Blueprint
from server.schemas.sync import OP_DOC_SCHEMAS

api = ApiWithErrors()


def _decimal_strings(self: Any, field: ma.fields.Field, **kwargs: Any) -> dict[str, Any]:
    """A Decimal sent as a string ("12.5", exact) is documented as one, not as a number."""
    if isinstance(field, ma.fields.Decimal) and field.as_string:
        return {"type": "string", "pattern": r"^-?[0-9]+(\.[0-9]+)?$"}
    return {}


def init_app(app: Flask) -> None:
    app.url_map.converters["uuid"] = StrictUUIDConverter
    app.url_map.converters["sha256"] = Sha256Converter
    app.url_map.converters["day"] = DayConverter
    api.init_app(app)
    api.ma_plugin.converter.add_attribute_function(_decimal_strings)
    api.register_converter(StrictUUIDConverter, lambda _c: {"type": "string", "format": "uuid"})
    api.register_converter(
        Sha256Converter, lambda _c: {"type": "string", "pattern": SHA256_PATTERN}
    )
    api.register_converter(DayConverter, lambda _c: {"type": "string", "format": "date"})
    register_error_handlers(app)
    guards.init_app(app)
    security.init_app(app)
    app.register_blueprint(health.bp)
    for blueprint in (
        auth.blp,
        enterprises.blp,
        entry_codes.blp,
        sync.blp,
        attachments.blp,
        documents.blp,
        audit.blp,
        hazards.blp,
        agency.blp,
        draws.blp,
        cases.blp,
        calendar.blp,
        annual_plans.blp,
        reports.blp,
        parties.blp,
    ):
        # Bodies must be read by the strict parser, whoever adds the next resource.
        if not isinstance(blueprint, Blueprint):
            raise TypeError(f"{blueprint.name}: use server.api.parsing.Blueprint")
        api.register_blueprint(blueprint)
    # Push ops are read one by one, not through the push schema: their shapes are added here.
    for name, schema in OP_DOC_SCHEMAS.items():
        if name not in api.spec.components.schemas:
            api.spec.components.schema(name, schema=schema)
