"""Server-rendered pages: public disclosure and managers' views."""

from __future__ import annotations

from flask import Flask

from server.web import (
    devices,  # noqa: F401 - its routes join manager.bp when imported
    draws,
    enterprise,
    field,
    manager,
    penalties,
    public,
    supervisor,
    verify,
    visit_feedback,  # noqa: F401 - its routes join manager.bp when imported
)


def init_app(app: Flask) -> None:
    app.register_blueprint(public.bp)
    app.register_blueprint(manager.bp)
    app.register_blueprint(draws.bp)
    app.register_blueprint(penalties.public_bp)
    app.register_blueprint(enterprise.bp)
    app.register_blueprint(supervisor.bp)
    app.register_blueprint(verify.bp)
    app.register_blueprint(field.bp)
