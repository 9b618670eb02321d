"""Thin flask-smorest blueprints, one module per resource."""

from __future__ import annotations

from flask import Flask

from server.api import (
    annual_plans,
    attachments,
    audit,
    auth,
    cases,
    documents,
    draws,
    enterprises,
    entry_codes,
    guards,
    hazards,
    health,
    reports,
    security,
    sync,
)
from server.api.converters import StrictUUIDConverter
from server.api.errors import ApiWithErrors, register_error_handlers
from server.api.parsing import Blueprint

api = ApiWithErrors()


def init_app(app: Flask) -> None:
    app.url_map.converters["uuid"] = StrictUUIDConverter
    api.init_app(app)
    api.register_converter(StrictUUIDConverter, lambda _c: {"type": "string", "format": "uuid"})
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
        draws.blp,
        cases.blp,
        annual_plans.blp,
        reports.blp,
    ):
        # Bodies must be read by the strict parser, whoever adds the next resource.
        if not isinstance(blueprint, Blueprint):
            raise TypeError(f"{blueprint.name}: use server.api.parsing.Blueprint")
        api.register_blueprint(blueprint)
