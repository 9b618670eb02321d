"""Server-rendered pages: public disclosure and managers' views."""

from __future__ import annotations

from flask import Flask

from server.web import (
    apidocs,
    cases,  # noqa: F401 - its routes join manager.bp when imported
    devices,  # noqa: F401 - its routes join manager.bp when imported
    draw_office,  # noqa: F401 - its routes join manager.bp when imported
    draws,
    enterprise,
    enterprises,  # noqa: F401 - its routes join manager.bp when imported
    field,
    hazard_steps,  # noqa: F401 - its routes join manager.bp when imported
    manager,
    penalties,
    public,
    supervisor,
    users,  # noqa: F401 - its routes join manager.bp when imported
    verify,
    visit_feedback,  # noqa: F401 - its routes join manager.bp when imported
)


def init_app(app: Flask) -> None:
    app.register_blueprint(public.bp)
    app.register_blueprint(apidocs.bp)
    app.register_blueprint(manager.bp)
    app.register_blueprint(draws.bp)
    app.register_blueprint(penalties.public_bp)
    app.register_blueprint(enterprise.bp)
    app.register_blueprint(supervisor.bp)
    app.register_blueprint(verify.bp)
    app.register_blueprint(field.bp)
