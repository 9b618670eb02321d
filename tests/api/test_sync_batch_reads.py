"""What an op reads sees the earlier ops of its own batch, flushed or not."""

from __future__ import annotations

import threading
from datetime import timedelta

import sqlalchemy as sa

from tests.sync_support import T0, document_op, hazard_op, inspection_op, scan_op


def test_a_second_scan_in_the_same_batch_warns_of_the_first(gate) -> None:
    first = scan_op(gate["code"], gate["team"], at=T0)
    second = scan_op(gate["code"], gate["team"], at=T0 + timedelta(days=2))
    results = gate["device"].push([first, second])
    assert [r["status"] for r in results] == ["applied", "applied"]
    assert results[0]["warnings"] == []
    assert [w["code"] for w in results[1]["warnings"]] == ["repeat_visit"]


def test_the_card_shows_what_the_batch_recorded_before_the_scan(gate) -> None:
    ent = gate["enterprise"]
    inspection = inspection_op(ent["id"], gate["team"], at=T0 - timedelta(days=30))
    hazard = hazard_op(inspection["id"], ent["id"])
    scan = scan_op(gate["code"], gate["team"], at=T0)
    results = gate["device"].push([inspection, hazard, scan])
    assert [r["status"] for r in results] == ["applied"] * 3, results
    card = results[2]["card"]
    assert [h["id"] for h in card["open_hazards"]] == [hazard["id"]]
    assert [i["id"] for i in card["last_inspections"]] == [inspection["id"]]
    # Credit A is capped at one inspection a year: the batch's own inspection reaches it.
    assert [w["code"] for w in results[2]["warnings"]] == ["yearly_cap_reached"]


def test_a_hazard_fixed_on_the_spot_in_the_batch_is_not_open_on_the_card(gate) -> None:
    ent, device = gate["enterprise"], gate["device"]
    photo = device.upload(b"\x89PNG fixed on the spot")
    inspection = inspection_op(ent["id"], gate["team"], at=T0 - timedelta(days=30))
    fixed = hazard_op(inspection["id"], ent["id"], fixed_on_spot=True, photos=[photo])
    still_open = hazard_op(inspection["id"], ent["id"])
    scan = scan_op(gate["code"], gate["team"], at=T0)
    results = device.push([inspection, fixed, still_open, scan])
    assert [r["status"] for r in results] == ["applied"] * 4, results
    assert [h["id"] for h in results[3]["card"]["open_hazards"]] == [still_open["id"]]


def test_an_order_and_its_reinspection_in_one_batch(gate) -> None:
    ent = gate["enterprise"]
    inspection = inspection_op(ent["id"], gate["team"])
    hazard = hazard_op(inspection["id"], ent["id"])
    order = document_op(
        "rectification_order", inspection["id"], [hazard["id"]], deadline="2024-05-20"
    )
    opinion = document_op("reinspection_opinion", inspection["id"], [hazard["id"]], outcome="pass")
    results = gate["device"].push([inspection, hazard, order, opinion])
    assert [r["status"] for r in results] == ["applied"] * 4, results


def test_a_full_card_closing_one_of_its_hazards_shows_the_next_stored_one(gate) -> None:
    ent, device = gate["enterprise"], gate["device"]
    inspection = inspection_op(ent["id"], gate["team"], at=T0 - timedelta(days=30))
    hazards = [hazard_op(inspection["id"], ent["id"]) for _ in range(51)]
    assert {r["status"] for r in device.push([inspection, *hazards])} == {"applied"}
    # All found at once: the card lists them by id, highest first, and the highest closes.
    newest_first = sorted((h["id"] for h in hazards), reverse=True)
    closing = newest_first[0]
    order = document_op("rectification_order", inspection["id"], [closing], deadline="2024-05-20")
    opinion = document_op("reinspection_opinion", inspection["id"], [closing], outcome="pass")
    scan = scan_op(gate["code"], gate["team"], at=T0)
    results = device.push([order, opinion, scan])
    assert [r["status"] for r in results] == ["applied"] * 3, results
    card = results[2]["card"]
    assert [h["id"] for h in card["open_hazards"]] == newest_first[1:]


def test_a_batch_reads_its_scans_history_while_other_writers_go_on(gate, app, monkeypatch) -> None:
    """The history scans answer with is read before the batch waits for the writer lock
    (SQLite has one writer): another writer commits while it is being read."""
    from server.extensions import db
    from server.services.sync import arrival

    wrote: list[bool] = []
    real = arrival.preload

    def preload_beside_a_writer(*args, **kwargs):
        def write() -> None:
            with app.app_context(), db.engine.begin() as conn:
                conn.execute(sa.text("UPDATE agencies SET name = name"))
            wrote.append(True)

        writer = threading.Thread(target=write, daemon=True)
        writer.start()
        writer.join(timeout=10)
        return real(*args, **kwargs)

    monkeypatch.setattr(arrival, "preload", preload_beside_a_writer)
    results = gate["device"].push([scan_op(gate["code"], gate["team"], at=T0)])
    assert [r["status"] for r in results] == ["applied"]
    assert wrote == [True]
