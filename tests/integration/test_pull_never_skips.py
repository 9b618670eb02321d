"""Concurrent pushes commit in any order; a reader paging the feed meanwhile misses nothing."""

from __future__ import annotations

import random
import threading
import time

from server.services.sync import feed
from tests.sync_support import Device, hazard_op, inspection_op


def test_a_reader_paging_during_concurrent_pushes_misses_no_change(
    app, world, client, monkeypatch
) -> None:
    world.agency()
    people = [world.user(f"insp{i}", role="inspector", cert_no=f"1201{i:04d}") for i in range(6)]
    lead = world.headers("lead")
    enterprise = world.enterprise(lead)
    real_advance = feed._advance_clock
    rng = random.Random(7)

    def slow_advance(session, agency_id, n):
        # Widen the window between taking feed positions and committing, where a naive
        # sequence would let a later position become visible before an earlier one.
        last = real_advance(session, agency_id, n)
        time.sleep(rng.random() * 0.02)
        return last

    monkeypatch.setattr(feed, "_advance_clock", slow_advance)
    created: set[str] = set()
    lock = threading.Lock()
    errors: list[BaseException] = []

    def writer(index: int) -> None:
        try:
            a, b = people[index], people[(index + 1) % len(people)]
            device = Device(
                app.test_client(), world.login(a.username, device_id=f"w{index}"), f"w{index}"
            )
            for _ in range(8):
                inspection = inspection_op(enterprise["id"], [str(a.id), str(b.id)])
                hazard = hazard_op(inspection["id"], enterprise["id"])
                results = device.push([inspection, hazard])
                assert [r["status"] for r in results] == ["applied", "applied"], results
                with lock:
                    created.update({inspection["id"], hazard["id"]})
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    reader = Device(app.test_client(), lead, "reader")
    threads = [threading.Thread(target=writer, args=(i,)) for i in range(len(people))]
    for thread in threads:
        thread.start()
    while any(t.is_alive() for t in threads):
        reader.pull_all(limit=7)
        time.sleep(0.005)
    for thread in threads:
        thread.join()
    assert not errors, errors
    reader.pull_all(limit=7)
    seen = {rid for (entity, rid) in reader.state if entity in {"inspection", "hazard"}}
    assert seen == created
    # Nothing seen by the incremental reader differs from a fresh full pull.
    fresh = Device(app.test_client(), lead, "fresh")
    fresh.pull_all(limit=1000)
    assert fresh.state == reader.state
