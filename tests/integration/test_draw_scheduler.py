"""The draw scheduler with an injected clock: on time, once per period, missed runs fire once."""

from __future__ import annotations

import hashlib
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from apscheduler.schedulers.background import BackgroundScheduler

from server import scheduler
from server.domain.draw.algorithm import verify
from server.domain.permissions import Principal
from server.domain.workdays import DEFAULT_CALENDAR
from server.extensions import db
from server.models import Draw, DrawPlan, DrawSeed, Task, User
from server.services import calendar, draw_publication, draw_schedule
from server.services.draws.plans import create_plan, update_plan
from server.services.draws.running import execute
from tests.draw_support import make_field, plan_payload

SHANGHAI = ZoneInfo("Asia/Shanghai")
# 2024-01-10 10:00 in Shanghai; the plan draws at 09:00 on the 1st of every month.
CREATED = datetime(2024, 1, 10, 10, 0, tzinfo=SHANGHAI).astimezone(UTC)
MONTHLY = "0 9 1 * *"


def _at(month: int, day: int, hour: int, minute: int = 0, year: int = 2024) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=SHANGHAI).astimezone(UTC)


@pytest.fixture
def plan_id(app, world, client):
    world.agency()
    make_field(world, client)
    with app.app_context():
        lead = db.session.scalar(sa.select(User).where(User.role == "lead"))
        principal = Principal(lead.id, lead.agency_id, lead.role, lead.username)
        body = plan_payload(cron=MONTHLY, period="month")
        from server.schemas.draws import DrawPlanInputSchema

        plan = create_plan(principal, DrawPlanInputSchema().load(body), now=CREATED)
        return plan.id


def _draws(app) -> list[Draw]:
    with app.app_context():
        rows = list(db.session.scalars(sa.select(Draw).order_by(Draw.drawn_at)))
        for row in rows:
            db.session.expunge(row)
        return rows


def _tick(app, now: datetime):
    with app.app_context():
        return draw_schedule.tick(now)


def test_nothing_runs_before_the_first_fire_time(app, plan_id) -> None:
    assert _tick(app, _at(1, 31, 23, 59)) == []
    assert _draws(app) == []


def test_a_plan_draws_at_its_fire_time_with_the_seed_committed_beforehand(app, plan_id) -> None:
    with app.app_context():
        seed = db.session.scalar(sa.select(DrawSeed).where(DrawSeed.plan_id == plan_id))
        assert seed.period_key == "2024-02"
        assert seed.planned_for == _at(2, 1, 9)
        commitment = seed.commitment
    runs = _tick(app, _at(2, 1, 9, 0) + timedelta(seconds=20))
    assert [r.outcome for r in runs] == ["drawn"]
    (draw,) = _draws(app)
    assert draw.period_key == "2024-02"
    assert draw.trigger == "schedule" and draw.operator_id is None
    assert draw.seed_commitment == commitment
    assert hashlib.sha256(bytes.fromhex(draw.seed)).hexdigest() == commitment
    assert draw.committed_at == CREATED < draw.drawn_at
    # The next period's seed is committed as soon as this one is used.
    with app.app_context():
        keys = set(db.session.scalars(sa.select(DrawSeed.period_key)))
    assert keys == {"2024-02", "2024-03"}


def test_ticking_again_in_the_same_minute_or_period_draws_nothing_more(app, plan_id) -> None:
    _tick(app, _at(2, 1, 9, 0))
    assert _tick(app, _at(2, 1, 9, 1)) == []
    assert _tick(app, _at(2, 20, 12)) == []
    assert len(_draws(app)) == 1


def test_missed_runs_fire_once_on_start_up_for_the_latest_period(app, plan_id) -> None:
    # The scheduler was down from January until mid-May: February to May were missed.
    runs = _tick(app, _at(5, 15, 8))
    assert [(r.outcome, r.period_key) for r in runs] == [("drawn", "2024-05")]
    assert [d.period_key for d in _draws(app)] == ["2024-05"]
    # A restart a minute later does not draw again.
    assert _tick(app, _at(5, 15, 8, 1)) == []
    assert len(_draws(app)) == 1


def test_a_period_drawn_by_hand_is_not_drawn_again_by_the_schedule(app, plan_id) -> None:
    with app.app_context():
        plan = db.session.get(DrawPlan, plan_id)
        execute(plan, now=_at(2, 1, 8), operator_id=None, trigger="manual")
    runs = _tick(app, _at(2, 1, 9))
    assert [r.outcome for r in runs] == ["already_drawn"]
    assert len(_draws(app)) == 1


def test_a_failed_run_is_recorded_and_not_retried_every_minute(app, plan_id) -> None:
    with app.app_context():
        db.session.execute(sa.update(User).where(User.role == "inspector").values(active=False))
        db.session.commit()
    runs = _tick(app, _at(2, 1, 9))
    assert [r.outcome for r in runs] == ["failed"]
    assert "team_size" in runs[0].error
    assert _tick(app, _at(2, 1, 9, 1)) == []
    with app.app_context():
        plan = db.session.get(DrawPlan, plan_id)
        assert plan.last_error and plan.last_fire_at == _at(2, 1, 9)
    assert _draws(app) == []


def test_two_schedulers_ticking_together_make_one_draw(app, plan_id) -> None:
    first = _tick(app, _at(2, 1, 9))
    second = _tick(app, _at(2, 1, 9))
    assert [r.outcome for r in first] == ["drawn"] and second == []
    with app.app_context():
        # Even a scheduler that lost track of the fire time makes no second draw.
        db.session.execute(sa.update(DrawPlan).values(last_fire_at=None))
        db.session.commit()
    again = _tick(app, _at(2, 1, 9))
    assert [r.outcome for r in again] == ["already_drawn"]
    assert len(_draws(app)) == 1


def test_a_new_plan_is_picked_up_without_a_restart(app, plan_id) -> None:
    with app.app_context():
        lead = db.session.scalar(sa.select(User).where(User.role == "lead"))
        principal = Principal(lead.id, lead.agency_id, lead.role, lead.username)
        from server.schemas.draws import DrawPlanInputSchema

        body = plan_payload(name="第二个计划", cron="30 9 * * 1", period="year")
        create_plan(principal, DrawPlanInputSchema().load(body), now=_at(1, 20, 0))
    runs = _tick(app, _at(2, 1, 10))
    # Plan 1 fires on 1 February; plan 2 fired on Monday 29 January for 2024.
    assert sorted(r.period_key for r in runs) == ["2024", "2024-02"]
    weekly = next(r for r in runs if r.period_key == "2024")
    assert weekly.fire_at == _at(1, 29, 9, 30)


def test_the_draw_job_runs_every_minute_and_once_at_start_up(app) -> None:
    sched = scheduler.configure(app, BackgroundScheduler(timezone="Asia/Shanghai"))
    job = sched.get_job("draw_plans")
    assert job is not None
    assert str(job.trigger).startswith("cron[")
    assert "draw_plans" in scheduler.AT_START


def test_task_due_dates_count_the_days_off_of_the_override_table(app, plan_id) -> None:
    with app.app_context():
        plan = db.session.get(DrawPlan, plan_id)
        # A day off the installed calendar library does not know about.
        calendar.set_day(date(2024, 3, 19), False, "临时调整")
        draw = execute(plan, now=_at(3, 18, 10), operator_id=None, trigger="manual")
        due = {
            t.due_date for t in db.session.scalars(sa.select(Task).where(Task.draw_id == draw.id))
        }
    national = DEFAULT_CALENDAR.add_days(date(2024, 3, 18), 20, "working")
    assert due == {DEFAULT_CALENDAR.add_days(national, 1, "working")}


def _principal() -> Principal:
    lead = db.session.scalar(sa.select(User).where(User.role == "lead"))
    return Principal(lead.id, lead.agency_id, lead.role, lead.username)


def test_a_draw_after_months_of_downtime_uses_the_earliest_commitment(app, plan_id) -> None:
    client = app.test_client()
    with app.app_context():
        february = db.session.scalar(sa.select(DrawSeed).where(DrawSeed.plan_id == plan_id))
        assert february.period_key == "2024-02"
        # While the scheduler is down, an edit of the plan commits April's seed as well.
        update_plan(_principal(), plan_id, {"name": "改名后的计划"}, now=_at(3, 5, 10))
        commitments = {s.period_key: s.commitment for s in db.session.scalars(sa.select(DrawSeed))}
    assert set(commitments) == {"2024-02", "2024-04"}
    with app.app_context():
        listed = draw_publication.upcoming(now=_at(3, 5, 10))
    assert [(u["period_key"], u["overdue"]) for u in listed] == [
        ("2024-02", True),
        ("2024-04", False),
    ]

    # Back up on 15 May: one draw, for May, with the seed committed on 10 January.
    runs = _tick(app, _at(5, 15, 8))
    assert [(r.outcome, r.period_key) for r in runs] == [("drawn", "2024-05")]
    (draw,) = _draws(app)
    assert draw.trigger == "schedule" and draw.period_key == "2024-05"
    assert draw.seed_commitment == commitments["2024-02"]
    assert draw.committed_at == CREATED < draw.drawn_at
    with app.app_context():
        seeds = {s.planned_period_key: s for s in db.session.scalars(sa.select(DrawSeed))}
        assert seeds["2024-02"].period_key == "2024-05"
        assert seeds["2024-02"].used_by_draw_id == draw.id
        # April's time went by unused: it lapsed; June's is the one upcoming now.
        assert seeds["2024-04"].lapsed_at == _at(5, 15, 8)
        assert seeds["2024-04"].used_by_draw_id is None
        assert seeds["2024-06"].committed_at == _at(5, 15, 8)
        listed = draw_publication.upcoming(now=_at(5, 15, 8))
    assert [u["period_key"] for u in listed] == ["2024-06"]
    assert commitments["2024-04"] not in client.get("/public/draws").get_data(as_text=True)

    page = client.get(f"/public/draws/{draw.id}").get_data(as_text=True)
    assert "定时自动抽取" in page and "人工发起" not in page
    assert "2024-02-01 09:00" in page and "2024年2月" in page and "沿用该承诺" in page
    body = client.get(f"/public/draws/{draw.id}.json").get_json()
    commitment = body["publication"]["commitment"]
    assert commitment["carried_over"] is True and commitment["period_key"] == "2024-02"
    assert commitment["planned_for"].startswith("2024-02-01T09:00:00+08:00")
    assert verify(body).matches


def test_a_scheduled_draw_on_time_says_its_seed_was_published_beforehand(app, plan_id) -> None:
    _tick(app, _at(2, 1, 9))
    (draw,) = _draws(app)
    page = app.test_client().get(f"/public/draws/{draw.id}").get_data(as_text=True)
    assert "定时自动抽取" in page and "早于抽取时间预先公布" in page
    assert "人工发起" not in page and "补抽说明" not in page


def test_a_scheduled_draw_without_a_commitment_says_so(app, plan_id) -> None:
    with app.app_context():
        db.session.execute(sa.delete(DrawSeed))
        db.session.commit()
    _tick(app, _at(2, 1, 9))
    (draw,) = _draws(app)
    assert draw.committed_at is None
    page = app.test_client().get(f"/public/draws/{draw.id}").get_data(as_text=True)
    assert "本次定时抽取没有预先公布的种子承诺" in page and "人工发起" not in page


def test_a_manual_run_never_takes_another_periods_commitment(app, plan_id) -> None:
    with app.app_context():
        plan = db.session.get(DrawPlan, plan_id)
        # February's commitment is overdue, but a lead drawing May by hand does not take it.
        draw = execute(plan, now=_at(5, 10, 10), operator_id=None, trigger="manual")
        assert draw.committed_at is None
        february = db.session.scalar(sa.select(DrawSeed).where(DrawSeed.plan_id == plan_id))
        assert february.used_by_draw_id is None
    # The scheduler then finds May drawn; February's commitment lapses.
    assert [r.outcome for r in _tick(app, _at(5, 15, 8))] == ["already_drawn"]
    with app.app_context():
        february = db.session.get(DrawSeed, february.id)
        assert february.lapsed_at is not None
