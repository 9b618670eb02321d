"""A batch's ledger entries, audit trail and members are written in one statement a table on
PostgreSQL (one JSON document of rows): what is stored is what the ops and the service said,
whatever the values, on both databases."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from server.extensions import db
from server.models import AuditEntry, Inspection, RecordMember
from server.models.sync import SyncOp
from tests.api.test_sync_push import field  # noqa: F401 - the fixture
from tests.sync_support import hazard_op, inspection_op


def _ledger(app, op_ids):
    with app.app_context():
        rows = db.session.scalars(sa.select(SyncOp).where(SyncOp.op_id.in_(op_ids))).all()
        return {str(row.op_id): row for row in rows}


def test_a_batchs_ledger_keeps_each_op_and_its_result_as_sent_and_answered(field, app) -> None:  # noqa: F811
    device, team, ent = field["device"], field["team"], field["enterprise"]
    ops = [inspection_op(ent["id"], team) for _ in range(5)]
    ops[2]["data"]["findings"] = 'quote " backslash \\ 换行\n tab\t ☃ 𝄞'
    results = device.push(ops)
    assert [r["status"] for r in results] == ["applied"] * 5
    ledger = _ledger(app, [uuid.UUID(o["op_id"]) for o in ops])
    for sent, result in zip(ops, results, strict=True):
        row = ledger[sent["op_id"]]
        assert row.payload == sent
        assert row.result == result
        assert str(row.record_id) == sent["id"]
        assert row.status == "applied"
        assert row.device_id is not None
        assert row.received_at.tzinfo is not None
        assert row.received_at == row.settled_at
    with app.app_context():
        audit = db.session.scalars(
            sa.select(AuditEntry).where(AuditEntry.record_id.in_([uuid.UUID(o["id"]) for o in ops]))
        ).all()
        members = db.session.execute(
            sa.select(RecordMember.record_id, RecordMember.user_id).where(
                RecordMember.record_id.in_([uuid.UUID(o["id"]) for o in ops])
            )
        ).all()
    assert len(audit) == 5
    by_record = {str(a.record_id): a for a in audit}
    assert by_record[ops[2]["id"]].changes["findings"] == [None, ops[2]["data"]["findings"]]
    assert all(
        a.at.astimezone(UTC) == ledger[o["op_id"]].received_at
        for a, o in zip([by_record[o["id"]] for o in ops], ops, strict=True)
    )
    assert sorted((str(r), str(u)) for r, u in members) == sorted(
        (o["id"], person) for o in ops for person in team
    )


@pytest.mark.parametrize("value", [2**70, -(2**80)])
def test_a_refused_op_holding_an_integer_wider_than_64_bits_is_kept_beside_the_others(
    field,  # noqa: F811
    app,
    value,
) -> None:
    device, team, ent = field["device"], field["team"], field["enterprise"]
    good = inspection_op(ent["id"], team)
    wide = inspection_op(ent["id"], team)
    wide["data"]["place"] = value
    results = device.push([good, wide])
    assert [r["status"] for r in results] == ["applied", "rejected"]
    ledger = _ledger(app, [uuid.UUID(good["op_id"]), uuid.UUID(wide["op_id"])])
    assert ledger[good["op_id"]].payload == good
    assert ledger[wide["op_id"]].payload["data"]["place"] == value
    assert ledger[wide["op_id"]].result == results[1]
    assert device.push([good, wide]) == [
        {**results[0], "status": "duplicate", "original_status": "applied"},
        results[1],  # a refused op is judged again when sent again, and refused again
    ]


def test_a_batchs_inspections_are_stored_as_their_ops_said_and_audited_in_the_same_words(
    field,  # noqa: F811
    app,
) -> None:
    device, team, ent = field["device"], field["team"], field["enterprise"]
    east = datetime(2025, 3, 3, 9, 0, 0, 123456, tzinfo=timezone(timedelta(hours=8)))
    ops = [inspection_op(ent["id"], team, at=east + timedelta(minutes=i)) for i in range(4)]
    ops[1]["data"]["representative"] = None
    ops[2]["data"]["items"] = [{"item": "消防通道 \"堵塞\" \\ ☃ 𝄞", "result": "hazard", "note": ""}]
    assert [r["status"] for r in device.push(ops)] == ["applied"] * 4
    with app.app_context():
        stored = {
            str(i.id): i
            for i in db.session.scalars(
                sa.select(Inspection).where(Inspection.id.in_([uuid.UUID(o["id"]) for o in ops]))
            )
        }
        audit = {
            str(a.record_id): a.changes
            for a in db.session.scalars(
                sa.select(AuditEntry).where(
                    AuditEntry.record_id.in_([uuid.UUID(o["id"]) for o in ops])
                )
            )
        }
    for sent in ops:
        row, data = stored[sent["id"]], sent["data"]
        assert row.version == 1 and row.agency_id is not None and row.created_at is not None
        assert row.started_at == datetime.fromisoformat(data["started_at"])
        assert row.started_at.tzinfo is not None
        assert row.items == data["items"]
        assert row.representative == data["representative"]
        assert row.inspector_ids == data["inspector_ids"]
        assert row.field_versions == {k: 1 for k in data}
        # The audit keeps the values as loaded: times with the offset they were sent with.
        assert audit[sent["id"]]["started_at"] == [None, data["started_at"]]
        assert audit[sent["id"]]["enterprise_id"] == [None, data["enterprise_id"]]
        assert audit[sent["id"]]["items"] == [None, data["items"]]
    device.pull_all()
    assert all(device.state[("inspection", o["id"])]["version"] == 1 for o in ops)


def test_a_record_written_early_in_its_batch_takes_the_batchs_later_edit(
    field,  # noqa: F811
    app,
) -> None:
    # The hazard waits for its inspection; the inspection's arrival releases it, which writes
    # the batch so far; the edit after that must still reach the stored inspection.
    device, team, ent = field["device"], field["team"], field["enterprise"]
    inspection = inspection_op(ent["id"], team)
    hazard = hazard_op(inspection["id"], ent["id"])
    edit = {
        **inspection_op(ent["id"], team),
        "id": inspection["id"],
        "base_version": 1,
        "data": {"findings": "复查后补记"},
    }
    results = device.push([hazard, inspection, edit])
    assert [r["status"] for r in results] == ["held", "applied", "applied"]
    assert results[2]["version"] == 2
    with app.app_context():
        stored = db.session.get(Inspection, uuid.UUID(inspection["id"]))
        assert (stored.version, stored.findings) == (2, "复查后补记")
        actions = db.session.scalars(
            sa.select(AuditEntry.action)
            .where(AuditEntry.record_id == stored.id)
            .order_by(AuditEntry.id)
        ).all()
    assert actions == ["create", "edit"]
    device.pull_all()
    pulled = device.state[("inspection", inspection["id"])]
    assert (pulled["version"], pulled["findings"]) == (2, "复查后补记")
    assert ("hazard", hazard["id"]) in device.state
