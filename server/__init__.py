"""Field enforcement service: the Flask application factory."""

from __future__ import annotations

from typing import Any

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from server.config import instance_path, load_config
from server.extensions import db, migrate


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Build the app; ``config`` overrides settings read from the environment."""
    app = Flask(__name__, instance_path=instance_path(), instance_relative_config=True)
    app.config.from_mapping(load_config(app.instance_path, config))
    app.json.ensure_ascii = False  # type: ignore[attr-defined]

    from server import cli, database, observability, web

    observability.configure_logging(app.config["LOG_FORMAT"])
    if app.config["PROXY_HOPS"]:
        # Behind a load balancer: the client's address (login limits, logs) and scheme come
        # from the X-Forwarded-* headers of that many trusted proxies.
        hops = app.config["PROXY_HOPS"]
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops
        )
    from server.api import init_app as init_api
    from server.models import scoping
    from server.services import audit, hazard_counts
    from server.services.sync import feed

    db.init_app(app)
    migrate.init_app(
        app, db, directory=str(_migrations_dir()), render_as_batch=True, compare_type=True
    )
    database.init_app(app)
    scoping.install()
    feed.install()
    hazard_counts.install()
    audit.install()
    observability.init_app(app)
    init_api(app)
    web.init_app(app)
    cli.init_app(app)
    if app.config["SCHEDULER_ENABLED"]:
        from server import scheduler

        scheduler.start_in_process(app)
    return app


def _migrations_dir() -> Any:
    from pathlib import Path

    return Path(__file__).resolve().parent / "migrations"
