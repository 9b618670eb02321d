"""On SQLite a batch of new records is applied on a read-only snapshot and written once it
holds the writer lock, if nothing it read changed meanwhile; otherwise it runs again as the
writer. Here another device commits between the two, at the worst moment."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest
import sqlalchemy as sa

from tests.sync_support import Device, document_op, hazard_op, inspection_op, scan_op


@pytest.fixture
def sqlite_only(database_url):
    if not database_url.startswith("sqlite"):
        pytest.skip("needs SQLite: PostgreSQL batches run side by side and lock rows")


@pytest.fixture
def between_snapshot_and_write(app, monkeypatch, sqlite_only):
    """Run a callable in another thread (another request) just before the next batch, done
    on its snapshot, becomes the writer."""
    from server.services.sync import push

    real = push.become_writer
    pending: list[Callable[[], None]] = []
    ran: list[bool] = []

    def meanwhile(session):
        def run(job: Callable[[], None]) -> None:
            job()
            ran.append(True)

        while pending:
            worker = threading.Thread(target=run, args=(pending.pop(),), daemon=True)
            worker.start()
            worker.join(timeout=20)
        return real(session)

    monkeypatch.setattr(push, "become_writer", meanwhile)
    return pending, ran


def test_a_parent_that_arrives_meanwhile_releases_the_op_instead_of_leaving_it_held(
    gate, app, between_snapshot_and_write
) -> None:
    pending, ran = between_snapshot_and_write
    world, ent = gate["world"], gate["enterprise"]
    li = Device(app.test_client(), world.login("li", device_id="phone-li"), "phone-li")
    inspection = inspection_op(ent["id"], gate["team"])
    hazard = hazard_op(inspection["id"], ent["id"])
    # On wang's snapshot the inspection is not there yet: his hazard would be held. li's
    # inspection commits before wang's batch is written, and nothing would release it.
    pending.append(lambda: li.push([inspection]))
    results = gate["device"].push([hazard])
    assert ran == [True]
    assert [r["status"] for r in results] == ["applied"], results
    again = li.push([inspection])
    assert again[0]["status"] == "duplicate"


def test_the_same_batch_committed_meanwhile_answers_as_duplicates(
    gate, app, between_snapshot_and_write
) -> None:
    """A device re-sent a batch while the first send was still being applied."""
    from server.extensions import db
    from server.models import Scan

    pending, ran = between_snapshot_and_write
    device = gate["device"]
    other = Device(app.test_client(), device.headers, device.device_id)
    ops = [scan_op(gate["code"], gate["team"])]
    first: list[dict] = []
    pending.append(lambda: first.extend(other.push(ops)))
    results = device.push(ops)
    assert ran == [True]
    assert [r["status"] for r in first] == ["applied"]
    assert [r["status"] for r in results] == ["duplicate"], results
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Scan)) == 1


def test_an_op_held_meanwhile_for_the_batchs_record_is_released_by_it(
    gate, app, between_snapshot_and_write
) -> None:
    pending, ran = between_snapshot_and_write
    world, ent = gate["world"], gate["enterprise"]
    li = Device(app.test_client(), world.login("li", device_id="phone-li"), "phone-li")
    inspection = inspection_op(ent["id"], gate["team"])
    hazard = hazard_op(inspection["id"], ent["id"])
    held: list[dict] = []
    # li's hazard arrives before wang's inspection is written, and is held for it.
    pending.append(lambda: held.extend(li.push([hazard])))
    results = gate["device"].push([inspection])
    assert ran == [True]
    assert [r["status"] for r in held] == ["held"]
    assert [r["status"] for r in results] == ["applied"], results
    settled = li.client.get(f"/api/v1/sync/ops/{hazard['op_id']}", headers=li.headers)
    assert settled.status_code == 200
    assert settled.get_json()["status"] == "applied"


def test_a_visit_of_new_records_is_written_from_its_snapshot(gate, monkeypatch, sqlite_only):
    """The common batch (a scan, its inspection, hazards, documents naming them, the next
    visit on top of what the first stored) passes the check and is not applied twice: what
    the check reads back compares equal to what the snapshot read."""
    from server.services.sync import push

    again: list[bool] = []
    real = push._push_as_writer

    def as_writer(*args, **kwargs):
        again.append(True)
        return real(*args, **kwargs)

    monkeypatch.setattr(push, "_push_as_writer", as_writer)
    ent, team, device = gate["enterprise"], gate["team"], gate["device"]
    for _ in range(2):
        scan = scan_op(gate["code"], team)
        inspection = inspection_op(ent["id"], team, scan_id=scan["id"])
        hazards = [hazard_op(inspection["id"], ent["id"]) for _ in range(3)]
        order = document_op(
            "rectification_order",
            inspection["id"],
            [h["id"] for h in hazards],
            deadline="2024-05-20",
        )
        results = device.push([scan, inspection, *hazards, order])
        assert [r["status"] for r in results] == ["applied"] * 6, results
    assert again == []
