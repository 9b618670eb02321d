"""Two runs of the same plan at the same moment make one draw: the database decides (PostgreSQL)."""

from __future__ import annotations

import threading

import pytest
import sqlalchemy as sa

from server.extensions import db
from server.models import Draw, Task
from server.services import draws
from tests.draw_support import make_field


def test_two_simultaneous_runs_make_exactly_one_draw(app, world, client, monkeypatch) -> None:
    with app.app_context():
        if db.engine.dialect.name != "postgresql":
            pytest.skip("needs PostgreSQL (TEST_DATABASE_URL): SQLite runs writers one by one")
    world.agency()
    f = make_field(world, client)
    plan = f.create_plan()
    # Both runs have read "no draw yet" before either writes: the race the constraint settles.
    both_read = threading.Barrier(2, timeout=10)
    real_build_pool = draws.build_pool

    def build_pool_together(*args, **kwargs):
        pool = real_build_pool(*args, **kwargs)
        both_read.wait()
        return pool

    monkeypatch.setattr(draws, "build_pool", build_pool_together)
    statuses: list[int] = []
    bodies: list[dict] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            response = app.test_client().post(
                f"/api/v1/draw-plans/{plan['id']}/run", json={}, headers=f.lead
            )
            statuses.append(response.status_code)
            bodies.append(response.get_json())
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not errors, errors
    assert sorted(statuses) == [201, 409], bodies
    loser = next(b for b in bodies if "error" in b)
    assert loser["error"]["code"] == "draw_exists"
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Draw.id))) == 1
        winner = next(b for b in bodies if "id" in b)
        tasks = db.session.scalar(sa.select(sa.func.count(Task.id)))
        assert tasks == winner["drawn_count"]
