"""Simultaneous runs of one plan make one draw: the database decides (PostgreSQL)."""

from __future__ import annotations

import multiprocessing
import threading
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from server.domain.permissions import Principal
from server.extensions import db
from server.models import Draw, DrawPlan, DrawSeed, Task, User
from server.schemas.draws import DrawPlanInputSchema
from server.services.draws import running
from server.services.draws.plans import create_plan
from server.services.draws.running import build_pool
from tests.draw_support import make_field, plan_payload, tick_in_own_process

SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def postgres(app) -> None:
    with app.app_context():
        if db.engine.dialect.name != "postgresql":
            pytest.skip("needs PostgreSQL (TEST_DATABASE_URL): SQLite runs writers one by one")


def test_two_simultaneous_runs_make_exactly_one_draw(
    app, postgres, world, client, monkeypatch
) -> None:
    world.agency()
    f = make_field(world, client)
    plan = f.create_plan()
    # Both runs have read "no draw yet" before either writes: the race the constraint settles.
    both_read = threading.Barrier(2, timeout=10)
    real_build_pool = build_pool

    def build_pool_together(*args, **kwargs):
        pool = real_build_pool(*args, **kwargs)
        both_read.wait()
        return pool

    monkeypatch.setattr(running, "build_pool", build_pool_together)
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


def test_two_scheduler_processes_ticking_at_once_make_one_draw(
    app, postgres, database_url, world, client
) -> None:
    world.agency()
    make_field(world, client)
    created = datetime(2024, 1, 10, 10, tzinfo=SHANGHAI).astimezone(UTC)
    with app.app_context():
        lead = db.session.scalar(sa.select(User).where(User.role == "lead"))
        principal = Principal(lead.id, lead.agency_id, lead.role, lead.username)
        body = DrawPlanInputSchema().load(plan_payload(cron="0 9 1 * *", period="month"))
        plan_id = create_plan(principal, body, now=created).id
    fire = datetime(2024, 2, 1, 9, 0, 20, tzinfo=SHANGHAI).astimezone(UTC)

    spawn = multiprocessing.get_context("spawn")
    together = spawn.Barrier(2, timeout=60)
    results = spawn.Queue()
    schedulers = [
        spawn.Process(
            target=tick_in_own_process,
            args=(database_url, fire.isoformat(), together, results),
        )
        for _ in range(2)
    ]
    for process in schedulers:
        process.start()
    outcomes = [results.get(timeout=120) for _ in schedulers]
    for process in schedulers:
        process.join(timeout=30)
        assert process.exitcode == 0

    assert sorted(outcomes) == [[("already_drawn", "2024-02")], [("drawn", "2024-02")]]
    with app.app_context():
        (draw,) = db.session.scalars(sa.select(Draw))
        assert (draw.period_key, draw.trigger) == ("2024-02", "schedule")
        tasks = db.session.scalars(sa.select(Task.draw_id))
        assert list(tasks) == [draw.id] * draw.drawn_count
        seeds = {s.period_key: s for s in db.session.scalars(sa.select(DrawSeed))}
        # The draw used February's commitment; March's was made once, by one of the two.
        assert set(seeds) == {"2024-02", "2024-03"}
        assert seeds["2024-02"].used_by_draw_id == draw.id
        assert seeds["2024-03"].used_by_draw_id is None
        plan = db.session.get(DrawPlan, plan_id)
        assert plan.last_fire_at == datetime(2024, 2, 1, 9, tzinfo=SHANGHAI)
        assert plan.last_error is None
