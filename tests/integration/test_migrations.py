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


def test_devices_revoked_before_their_events_were_kept_get_their_revocation(
    world, client, app
) -> None:
    import sqlalchemy as sa
    from flask_migrate import downgrade, upgrade

    from server.models import DeviceEvent

    world.agency()
    world.user("wang")
    world.login("wang", device_id="lost-phone")
    world.login("wang", device_id="kept-phone")
    lead = world.headers("lead")
    revoked = client.post("/api/v1/devices/lost-phone/revoke", headers=lead).get_json()
    directory = str(Path(__file__).resolve().parents[2] / "server" / "migrations")
    with app.app_context():
        db.session.remove()
        downgrade(directory=directory, revision="0011")
        try:
            assert not sa.inspect(db.engine).has_table("device_events")
        finally:
            upgrade(directory=directory, revision="head")
        (event,) = db.session.scalars(sa.select(DeviceEvent)).all()
        assert event.action == "revoke" and event.user_id is not None
    (listed,) = [
        d
        for d in client.get("/api/v1/devices", headers=lead).get_json()
        if d["device_id"] == "lost-phone"
    ]
    assert listed["events"] == revoked["events"]
