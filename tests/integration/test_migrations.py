"""The Alembic migrations build exactly the schema the models describe."""

from __future__ import annotations

from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory

from server.extensions import db


def test_migrations_produce_the_models_schema(app) -> None:
    with app.app_context(), db.engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "render_as_batch": True}
        )
        differences = compare_metadata(context, db.metadata)
    assert differences == []


def test_the_migrations_form_one_line_so_a_plain_upgrade_works() -> None:
    # `flask db upgrade` (scripts/serve, the Docker image) refuses a tree with several heads.
    directory = Path(__file__).resolve().parents[2] / "server" / "migrations"
    config = Config(str(directory / "alembic.ini"))
    config.set_main_option("script_location", str(directory))
    assert len(ScriptDirectory.from_config(config).get_heads()) == 1
