"""A batch's ledger entries, audit trail and members are written in one statement a table on
PostgreSQL (one JSON document of rows): what is stored is what the ops and the service said,
whatever the values, on both databases."""

from __future__ import annotations

import uuid
from datetime import UTC

import pytest
import sqlalchemy as sa

from server.extensions import db
from server.models import AuditEntry, RecordMember
from server.models.sync import SyncOp
from tests.api.test_sync_push import field  # noqa: F401 - the fixture
from tests.sync_support import inspection_op


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
