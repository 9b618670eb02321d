"""``insert_rows`` writes a batch's rows in one statement a table on PostgreSQL (a JSON
document the server expands): it refuses what the driver's path refuses, and the rows read
back as the ORM would have written them."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from server.database import insert_rows, row_of
from server.extensions import db
from server.models import Agency, Scan
from server.models.sync import AuditEntry


def _audit_row(agency_id: uuid.UUID, at: datetime) -> dict:
    return {
        "agency_id": agency_id,
        "at": at,
        "user_id": None,
        "device_id": None,
        "op_id": uuid.uuid4(),
        "entity": "inspection",
        "record_id": uuid.uuid4(),
        "action": "create",
        "version": 1,
        "changes": {"findings": [None, "x"]},
    }


def _agency() -> uuid.UUID:
    agency = Agency(code=f"t{uuid.uuid4().hex[:6]}", name="测试局", abbr="测")
    db.session.add(agency)
    db.session.flush()
    return agency.id


def test_a_naive_time_is_refused_on_every_database(app) -> None:
    with app.app_context():
        agency_id = _agency()
        rows = [_audit_row(agency_id, datetime.now(UTC)) for _ in range(3)]
        rows[1]["at"] = datetime(2025, 3, 3, 9, 0)
        with pytest.raises((ValueError, sa.exc.StatementError), match="naive datetime"):
            insert_rows(db.session.connection(), AuditEntry.__table__, rows)
        db.session.rollback()


def test_times_with_any_offset_are_stored_as_the_same_moment(app) -> None:
    east = timezone(timedelta(hours=8))
    moment = datetime(2025, 3, 3, 9, 0, 0, 250000, tzinfo=east)
    with app.app_context():
        agency_id = _agency()
        rows = [_audit_row(agency_id, moment) for _ in range(3)]
        insert_rows(db.session.connection(), AuditEntry.__table__, rows)
        stored = db.session.scalars(
            sa.select(AuditEntry.at).where(AuditEntry.op_id.in_([r["op_id"] for r in rows]))
        ).all()
        db.session.rollback()
    assert stored == [moment] * 3
    assert all(at.utcoffset() == timedelta(0) for at in stored)


def test_a_new_objects_row_carries_its_columns_python_defaults_and_so_does_the_object(
    app,
) -> None:
    with app.app_context():
        scan = Scan(id=uuid.uuid4(), code_version=1, latitude=None)
        row = row_of(scan)
    assert set(row) == {c.key for c in Scan.__table__.columns}
    assert row["code_version"] == 1 and row["latitude"] is None and row["longitude"] is None
    assert row["version"] == 1 and row["inspector_ids"] == [] and row["warnings"] == []
    assert row["created_at"] is not None and row["created_at"].tzinfo is not None
    for key, value in row.items():
        assert getattr(scan, key) == value


def test_a_new_object_without_its_key_is_not_written_as_a_row(app) -> None:
    with app.app_context(), pytest.raises(ValueError, match="needs its id"):
        row_of(Scan(code_version=1))
