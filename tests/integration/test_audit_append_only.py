"""The audit trail is append-only: in the ORM and in the database itself, on both databases."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from server.extensions import db
from server.models import AuditEntry
from server.services.audit import AuditTrailIsAppendOnly
from tests.sync_support import Device, hazard_op, inspection_op


@pytest.fixture
def trail(world, client, app):
    """An agency whose sync left a few audit entries."""
    world.agency()
    wang = world.user("wang", role="inspector", cert_no="12010420001")
    li = world.user("li", role="inspector", cert_no="12010420002")
    enterprise = world.enterprise(world.headers("lead"))
    device = Device(client, world.login("wang", device_id="phone-wang"), "phone-wang")
    inspection = inspection_op(enterprise["id"], [str(wang.id), str(li.id)])
    results = device.push([inspection, hazard_op(inspection["id"], enterprise["id"])])
    assert [r["status"] for r in results] == ["applied", "applied"]
    with app.app_context():
        return db.session.scalars(sa.select(AuditEntry.id)).all()


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_entries SET action = 'forged'",
        "UPDATE audit_entries SET changes = '{}' WHERE id = {id}",
        "DELETE FROM audit_entries WHERE id = {id}",
        "DELETE FROM audit_entries",
    ],
)
def test_the_database_refuses_to_change_or_delete_audit_entries(trail, app, statement) -> None:
    with app.app_context():
        with pytest.raises(sa.exc.IntegrityError, match="append-only"):
            with db.engine.begin() as conn:
                conn.exec_driver_sql(statement.replace("{id}", str(trail[0])))
        with db.engine.connect() as conn:
            rows = conn.execute(sa.select(AuditEntry.id, AuditEntry.action)).all()
    assert sorted(r.id for r in rows) == sorted(trail)
    assert {r.action for r in rows} == {"create"}


def test_the_orm_refuses_to_flush_a_changed_or_deleted_entry(trail, app) -> None:
    with app.app_context():
        entry = db.session.get(AuditEntry, trail[0])
        entry.action = "forged"
        with pytest.raises(AuditTrailIsAppendOnly):
            db.session.flush()
        db.session.rollback()
        db.session.delete(db.session.get(AuditEntry, trail[0]))
        with pytest.raises(AuditTrailIsAppendOnly):
            db.session.flush()
        db.session.rollback()
        for statement in (
            sa.update(AuditEntry).values(action="forged"),
            sa.delete(AuditEntry).where(AuditEntry.id == trail[0]),
        ):
            with pytest.raises(AuditTrailIsAppendOnly):
                db.session.execute(statement)
            db.session.rollback()
        assert db.session.scalar(sa.select(sa.func.count(AuditEntry.id))) == len(trail)


def test_entries_are_still_appended(trail, app) -> None:
    with app.app_context():
        entry = db.session.get(AuditEntry, trail[0])
        db.session.add(
            AuditEntry(
                agency_id=entry.agency_id,
                at=entry.at,
                user_id=entry.user_id,
                entity=entry.entity,
                record_id=entry.record_id,
                action="note",
                version=entry.version,
                changes={},
            )
        )
        db.session.commit()
        assert db.session.scalar(sa.select(sa.func.count(AuditEntry.id))) == len(trail) + 1
