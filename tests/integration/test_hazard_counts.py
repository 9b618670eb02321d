"""The monthly hazard counts stay in step with the hazards, and answer as the hazards would."""

from __future__ import annotations

import threading
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
import sqlalchemy.orm as so
from flask_migrate import downgrade, upgrade
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from server.extensions import db
from server.models import (
    Agency,
    Enterprise,
    Hazard,
    HazardCount,
    HazardFinderCount,
    HazardUnitCount,
    User,
)
from server.services import hazard_counts
from tests.hazard_support import Site, make_site
from tests.sync_support import op

# 00:30 on 1 January 2024 in Beijing, 23:59 on 31 January: the months are the agency's.
NEW_YEAR = datetime(2023, 12, 31, 16, 30, tzinfo=UTC)
END_OF_JANUARY = datetime(2024, 1, 31, 15, 59, tzinfo=UTC)


@pytest.fixture
def site(world, client) -> Site:
    return make_site(world, client)


def _counts() -> dict[str, dict[tuple[Any, ...], tuple[int, ...]]]:
    """The three tables' rows that count something, keyed by their primary key."""
    out = {}
    for model in (HazardCount, HazardFinderCount, HazardUnitCount):
        table = model.__table__
        keys = [c for c in table.primary_key.columns]
        values = [c for c in table.columns if c.name.startswith("n")]
        out[table.name] = {
            tuple(row[: len(keys)]): tuple(row[len(keys) :])
            for row in db.session.execute(sa.select(*keys, *values))
            if any(row[len(keys) :])
        }
    return out


def assert_in_step(app) -> None:
    """The kept counts are what a recount from the hazards gives; the copies are current."""
    with app.app_context():
        kept = _counts()
        for agency_id in db.session.scalars(sa.select(Agency.id)):
            hazard_counts.recount(agency_id)
        rebuilt = _counts()
        stale = db.session.scalar(
            sa.select(sa.func.count())
            .select_from(Hazard)
            .join(Enterprise, Enterprise.id == Hazard.enterprise_id)
            .where(Hazard.industry != Enterprise.industry)
        )
        db.session.rollback()
    assert kept == rebuilt
    assert stale == 0


def _from_the_hazards(monkeypatch) -> None:
    """Make the statistics count every day of a period from the hazards themselves."""

    def whole_period(start: date | None, end: date | None) -> hazard_counts.Coverage:
        return hazard_counts.Coverage(months=False, edges=((start, end),))

    monkeypatch.setattr(hazard_counts, "coverage", whole_period)


def _spread(site: Site) -> dict[str, dict[str, str]]:
    """Hazards over several months and industries, at every stage of their lifecycle."""
    chem = site.enterprise("chem", name="天津化工有限公司", industry="hazardous_chemicals")
    mine = site.enterprise("mine", name="蓟州矿业有限公司", industry="mining")
    made = {
        "new_year": site.hazard(at=NEW_YEAR),
        "end_of_january": site.hazard(chem, at=END_OF_JANUARY),
        "fixed": site.hazard(
            mine,
            fixed_on_spot=True,
            photos=[site.device.upload(b"fixed")],
            at=datetime(2024, 3, 20, 2, tzinfo=UTC),
        ),
        "ordered": site.hazard(chem, at=datetime(2024, 4, 2, 3, tzinfo=UTC)),
        "closed": site.hazard(at=datetime(2024, 4, 30, 17, tzinfo=UTC)),
        "failed": site.hazard(mine, at=datetime(2024, 5, 6, 9, tzinfo=UTC)),
        "major": site.hazard(chem, level="major", at=datetime(2024, 6, 10, 1, tzinfo=UTC)),
        "reclassified": site.hazard(at=datetime(2024, 7, 1, 0, tzinfo=UTC)),
    }
    site.order(made["ordered"])
    site.order(made["closed"])
    site.reinspect(made["closed"], outcome="pass")
    site.order(made["failed"])
    site.reinspect(made["failed"], outcome="fail", period_days=10)
    site.order(made["major"])
    plan = {
        "responsible_person": "厂长",
        "measures": "更换储罐",
        "funds_fen": 100,
        "deadline": site.get("/api/v1/hazards/aggregates").get_json()["as_of"],
        "emergency_arrangements": "设警戒区",
    }
    assert site.step(made["major"]["id"], action="supervise", **plan).status_code == 200
    response = site.step(
        made["reclassified"]["id"],
        headers=site.lead,
        action="reclassify",
        level="major",
        reason="涉及重大危险源",
    )
    assert response.status_code == 200, response.get_json()
    return made


def test_the_monthly_counts_follow_every_step_of_a_hazard(site, app) -> None:
    made = _spread(site)
    assert_in_step(app)
    site.reinspect(made["major"], outcome="pass")
    assert site.step(made["major"]["id"], action="sign_off").status_code == 200
    assert_in_step(app)
    with app.app_context():
        january = db.session.scalars(
            sa.select(HazardCount.n).where(HazardCount.month == date(2024, 1, 1))
        ).all()
    # Found at 00:30 on 1 January and 23:59 on 31 January, Beijing time.
    assert sum(january) == 2


def test_an_enterprise_changing_industry_takes_its_hazards_along(site, app) -> None:
    chem = site.enterprise("chem", name="天津化工有限公司", industry="hazardous_chemicals")
    first, second = site.hazard(chem), site.hazard(chem)
    site.order(first)
    response = site.client.patch(
        f"/api/v1/enterprises/{chem['id']}", json={"industry": "mining"}, headers=site.lead
    )
    assert response.status_code == 200, response.get_json()
    assert site.get("/api/v1/hazards", industry="hazardous_chemicals").get_json()["total"] == 0
    mining = site.get("/api/v1/hazards", industry="mining").get_json()
    assert {h["id"] for h in mining["items"]} == {first["id"], second["id"]}
    stats = site.get("/api/v1/hazards/aggregates").get_json()
    assert [(i["industry"], i["total"]) for i in stats["by_industry"]] == [("mining", 2)]
    assert_in_step(app)


def test_an_import_changing_industries_takes_the_hazards_along(site, app) -> None:
    import io

    chem = site.enterprise("chem", name="天津化工有限公司", industry="hazardous_chemicals")
    site.hazard(chem)
    sheet = f"uscc,name,industry\n{chem['uscc']},天津化工有限公司,fireworks\n".encode()
    response = site.client.post(
        "/api/v1/enterprises/import",
        data={"file": (io.BytesIO(sheet), "directory.csv")},
        headers=site.lead,
        content_type="multipart/form-data",
    )
    assert response.get_json()["updated"] == 1, response.get_json()
    assert site.get("/api/v1/hazards", industry="fireworks").get_json()["total"] == 1
    assert_in_step(app)


def test_an_inspection_changing_team_moves_its_hazards_to_the_new_members(site, app, world) -> None:
    zhao = world.user("zhao", role="inspector", cert_no="12010420011", unit="执法一大队")
    hazard = site.hazard()
    site.hazard()
    wang, li = site.team
    edit = op(
        "inspection",
        {"inspector_ids": [wang, str(zhao.id)]},
        record_id=hazard["inspection_id"],
        base_version=1,
    )
    (result,) = site.device.push([edit])
    assert result["status"] == "applied", result
    stats = site.get("/api/v1/hazards/aggregates").get_json()
    assert {p["name"]: p["total"] for p in stats["by_inspector"]} == {
        "王伟": 2,
        "李娜": 1,
        "zhao": 1,
    }
    assert {t["unit"]: t["total"] for t in stats["by_team"]} == {"": 2, "执法一大队": 1}
    assert_in_step(app)


def test_a_user_changing_unit_moves_the_counts_of_their_teams(site, app) -> None:
    site.hazard()
    site.hazard()
    with app.app_context():
        li = db.session.get(User, uuid.UUID(site.team[1]))
        li.unit = "执法二大队"
        db.session.commit()
    teams = site.get("/api/v1/hazards/aggregates").get_json()["by_team"]
    assert {t["unit"]: t["total"] for t in teams} == {"": 2, "执法二大队": 2}
    assert_in_step(app)


def test_an_agency_changing_zone_has_its_months_counted_again(site, app) -> None:
    site.hazard(at=NEW_YEAR)
    with app.app_context():
        agency = db.session.scalars(sa.select(Agency)).one()
        agency.timezone = "UTC"
        db.session.commit()
        months = db.session.scalars(sa.select(HazardCount.month).where(HazardCount.n > 0)).all()
    assert months == [date(2023, 12, 1)]
    assert_in_step(app)


def test_the_twelve_months_found_agree_with_the_list(site) -> None:
    now = datetime.now(UTC)
    for days in (1, 20, 45, 200, 400):
        site.hazard(at=now - timedelta(days=days))
    series = site.get("/api/v1/hazards/aggregates").get_json()["open_vs_closed"]
    for month in series:
        first = date.fromisoformat(month["month"] + "-01")
        last = hazard_counts.add_month(first) - timedelta(days=1)
        listed = site.get("/api/v1/hazards", found_from=first, found_to=last).get_json()
        assert month["found"] == listed["total"]
    # The one found 400 days ago is still open too.
    assert series[-1]["open"] == 5


DAYS = st.dates(min_value=date(2023, 12, 25), max_value=date(2024, 7, 10))


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    period=st.one_of(
        st.just({}),
        st.builds(lambda y: {"year": y}, st.sampled_from([2023, 2024])),
        st.builds(
            lambda a, b: {k: v for k, v in (("found_from", a), ("found_to", b)) if v},
            st.none() | DAYS,
            st.none() | DAYS,
        ),
    ),
    level=st.none() | st.sampled_from(["general", "major"]),
    industry=st.none() | st.sampled_from(["machinery", "hazardous_chemicals", "mining"]),
    as_of=st.none() | DAYS,
)
def test_the_statistics_of_any_period_are_those_the_hazards_give(
    spread_site, monkeypatch, period, level, industry, as_of
) -> None:
    query: dict[str, Any] = dict(period)
    if "found_from" in query and "found_to" in query and query["found_to"] < query["found_from"]:
        query["found_from"], query["found_to"] = query["found_to"], query["found_from"]
    query.update(
        (k, v) for k, v in (("level", level), ("industry", industry), ("as_of", as_of)) if v
    )
    kept = spread_site.get("/api/v1/hazards/aggregates", **query)
    with monkeypatch.context() as m:
        _from_the_hazards(m)
        counted = spread_site.get("/api/v1/hazards/aggregates", **query)
    assert kept.status_code == counted.status_code == 200, kept.get_json()
    assert kept.get_json() == counted.get_json()


@pytest.fixture
def spread_site(site) -> Site:
    _spread(site)
    return site


def test_the_recount_command_mends_hazards_written_past_the_application(site, app, runner) -> None:
    chem = site.enterprise("chem", name="天津化工有限公司", industry="hazardous_chemicals")
    site.hazard(chem)
    site.hazard()
    with app.app_context():
        db.session.execute(sa.delete(HazardFinderCount))
        db.session.execute(sa.update(HazardCount).values(n=HazardCount.n + 5))
        db.session.execute(sa.update(Hazard).values(industry="other"))
        db.session.commit()
    result = runner.invoke(args=["hazards", "recount"])
    assert result.exit_code == 0, result.output
    assert result.output == "nankai: 2 hazards counted\n"
    assert_in_step(app)
    stats = site.get("/api/v1/hazards/aggregates").get_json()
    assert {i["industry"]: i["total"] for i in stats["by_industry"]} == {
        "hazardous_chemicals": 1,
        "machinery": 1,
    }
    assert {p["name"]: p["total"] for p in stats["by_inspector"]} == {"王伟": 2, "李娜": 2}
    unknown = runner.invoke(args=["hazards", "recount", "nowhere"])
    assert unknown.exit_code != 0 and "no such agency: nowhere" in unknown.output


def test_the_upgrade_counts_the_hazards_already_there(spread_site, app) -> None:
    directory = str(Path(__file__).resolve().parents[2] / "server" / "migrations")
    with app.app_context():
        db.session.remove()
        downgrade(directory=directory, revision="0010")
        try:
            assert not sa.inspect(db.engine).has_table("hazard_counts")
        finally:
            upgrade(directory=directory, revision="head")
    assert_in_step(app)
    with app.app_context():
        assert sum(db.session.scalars(sa.select(HazardCount.n))) == 8


@pytest.fixture
def postgres(app) -> None:
    with app.app_context():
        if db.engine.dialect.name != "postgresql":
            pytest.skip("needs PostgreSQL (TEST_DATABASE_URL): SQLite runs writers one by one")


def _meanwhile(app, first, second) -> None:
    """``first`` flushes in one transaction; ``second`` runs in another and must wait for
    the first to commit (PostgreSQL row locks)."""
    done = threading.Event()
    errors: list[BaseException] = []

    def run_second() -> None:
        try:
            with app.app_context(), so.Session(db.engine) as other:
                second(other)
                other.commit()
            done.set()
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    with app.app_context(), so.Session(db.engine) as session:
        first(session)
        session.flush()
        thread = threading.Thread(target=run_second)
        thread.start()
        waited = not done.wait(1.0)
        session.commit()
    thread.join(10)
    assert not errors and done.is_set()
    assert waited


def _to_mining(enterprise_id: str):
    def change(session: so.Session) -> None:
        session.get(Enterprise, uuid.UUID(enterprise_id)).industry = "mining"

    return change


def test_a_new_hazard_and_its_enterprise_changing_industry_wait_for_each_other(
    site, app, postgres
) -> None:
    chem = site.enterprise("chem", name="天津化工有限公司", industry="hazardous_chemicals")
    first = site.hazard(chem)

    def find_another(session: so.Session) -> None:
        model = session.get(Hazard, uuid.UUID(first["id"]))
        values = {c.key: getattr(model, c.key) for c in sa.inspect(Hazard).column_attrs}
        session.add(Hazard(**{**values, "id": uuid.uuid4(), "industry": None}))

    _meanwhile(app, find_another, _to_mining(chem["id"]))
    assert site.get("/api/v1/hazards", industry="mining").get_json()["total"] == 2
    assert_in_step(app)


def test_a_hazard_closing_and_its_enterprise_changing_industry_wait_for_each_other(
    site, app, postgres
) -> None:
    chem = site.enterprise("chem", name="天津化工有限公司", industry="hazardous_chemicals")
    hazard = site.hazard(chem)

    def close(session: so.Session) -> None:
        session.get(Hazard, uuid.UUID(hazard["id"])).status = "closed"

    _meanwhile(app, close, _to_mining(chem["id"]))
    assert_in_step(app)
