"""Draw plans and runs through the API: rules, one draw per period, redraws, verification."""

from __future__ import annotations

import uuid

import pytest
import sqlalchemy as sa

from server.extensions import db
from server.models import Draw
from tests.draw_support import make_field, plan_payload


@pytest.fixture
def field(world, client):
    world.agency()
    return make_field(world, client)


def test_a_lead_creates_a_plan_with_exact_rates_and_reads_it_back(field) -> None:
    plan = field.create_plan(rates={"risk:good": "0.10", "risk:poor": "1.0"}, cron="0 9 1 */3 *")
    assert plan["rates"] == {"risk:good": "0.1", "risk:poor": "1"}
    assert plan["team_size"] == 2
    assert plan["next_run_at"] is not None
    # A scheduled plan publishes the SHA-256 of its next seed at once; never the seed.
    assert len(plan["upcoming"]["seed_commitment"]) == 64
    assert "seed" not in plan["upcoming"]
    assert field.get(f"/api/v1/draw-plans/{plan['id']}")["name"] == plan["name"]
    assert [p["id"] for p in field.get("/api/v1/draw-plans")] == [plan["id"]]


def test_an_inspector_may_neither_plan_nor_run_nor_read_draws(world, field, client) -> None:
    plan = field.create_plan()
    inspector = world.login(field.inspectors["wang"].username)
    response = client.post("/api/v1/draw-plans", json={"name": "x"}, headers=inspector)
    assert response.status_code in (403, 422)
    response = client.post(f"/api/v1/draw-plans/{plan['id']}/run", json={}, headers=inspector)
    assert response.status_code == 403
    assert response.get_json()["error"]["code"] == "role_not_allowed"
    assert client.get("/api/v1/draw-plans", headers=inspector).status_code == 403


@pytest.mark.parametrize(
    ("overrides", "field_name", "words"),
    [
        ({"team_size": 1}, "team_size", "2"),
        ({"team_size": 7}, "team_size", "only 6"),
        ({"rates": {"risk:good": "1.5"}}, "rates", "1"),
        ({"rates": {"risk:good": "0.1.2"}}, "rates", "decimal"),
        ({"rates": {"credit:A": "0.1"}}, "rates.credit:A", "not a stratum"),
        ({"cron": "0 9 1 13 *"}, "cron", "cron"),
        ({"cron": "every monday"}, "cron", "five fields"),
        ({"min_targets": 5, "max_targets": 2}, "min_targets", "above max_targets"),
        ({"outside_per_team": 1}, "outside_per_team", "outside"),
    ],
)
def test_an_impossible_plan_is_refused_naming_the_rule(field, overrides, field_name, words) -> None:
    body = field.create_plan(expect=422, **overrides)
    error = body["error"]
    fields = error.get("fields", {})
    assert any(k.startswith(field_name) for k in fields), error
    text = error["message"] + " " + str(fields)
    assert words in text


def test_inspector_ids_must_be_active_users_of_the_agency(field) -> None:
    body = field.create_plan(expect=422, inspector_ids=[str(uuid.uuid4()), *field.ids("wang")])
    assert body["error"]["code"] == "unknown_inspector"


def test_a_run_draws_full_certified_teams_and_never_a_key_enterprise(field) -> None:
    plan = field.create_plan()
    draw = field.run(plan["id"])
    assert draw["attempt"] == 1 and draw["trigger"] == "manual"
    assert draw["algorithm"] == "sr-draw/2"
    assert len(draw["seed"]) == 64 and len(draw["fingerprint"]) == 64
    # good: ceil(0.5 * 6) = 3; poor: 1 * 2 = 2; the key enterprise is never in the pool.
    assert draw["pool_size"] == 8
    assert draw["drawn_count"] == 5
    names = {a["enterprise_name"] for a in draw["assignments"]}
    assert not any("重点" in n for n in names)
    for a in draw["assignments"]:
        assert len(a["inspectors"]) == 2
        assert all(p["certificate_no"] for p in a["inspectors"])
        assert a["task_id"] is not None
    progress = field.get(f"/api/v1/draws/{draw['id']}/tasks")
    assert progress["total"] == 5 and progress["open"] == 5 and progress["done"] == 0


def test_a_second_run_of_the_period_is_refused_unless_a_reason_is_given(field) -> None:
    plan = field.create_plan()
    first = field.run(plan["id"])
    refused = field.run(plan["id"], expect=409)
    assert refused["error"]["code"] == "draw_exists"
    assert refused["error"]["details"]["draw_id"] == first["id"]
    again = field.run(plan["id"], redraw_reason="抽中企业已注销，重新抽取")
    assert again["attempt"] == 2
    assert again["redraw_reason"] == "抽中企业已注销，重新抽取"
    assert field.get(f"/api/v1/draws/{first['id']}")["superseded_by"] == again["id"]
    old = field.get(f"/api/v1/draws/{first['id']}/tasks")
    assert old["cancelled"] == old["total"] and old["open"] == 0
    assert field.get(f"/api/v1/draws/{again['id']}/tasks")["open"] == again["drawn_count"]


def test_a_redraw_reason_without_an_earlier_draw_is_refused(field) -> None:
    plan = field.create_plan()
    body = field.run(plan["id"], expect=422, redraw_reason="重抽")
    assert body["error"]["code"] == "nothing_to_redraw"


def test_an_inactive_plan_does_not_run(field, client) -> None:
    plan = field.create_plan(active=False)
    assert field.run(plan["id"], expect=409)["error"]["code"] == "plan_inactive"


def test_expired_and_missing_certificates_are_never_drawn(world, client) -> None:
    world.agency()
    f = make_field(world, client, inspectors=["wang", "li", "zhao"])
    world.user("expired", role="inspector", cert_no="99", cert_valid_until=_date("2020-01-01"))
    world.user("nocert", role="inspector", cert_no=None)
    plan = f.create_plan(rates={"risk:good": "1", "risk:poor": "1"})
    draw = f.run(plan["id"])
    drawn = {p["id"] for a in draw["assignments"] for p in a["inspectors"]}
    assert drawn <= set(f.ids("wang", "li", "zhao"))


def test_a_plan_whose_certificates_have_all_lapsed_is_refused_when_saved(world, client) -> None:
    world.agency()
    lead = world.headers("lead")
    for name in ("old1", "old2", "old3"):
        world.user(name, role="inspector", cert_no="99", cert_valid_until=_date("2020-01-01"))
    world.user("nocert", role="inspector", cert_no=None)
    world.enterprise(lead, risk_grade="good")
    response = client.post("/api/v1/draw-plans", json=plan_payload(), headers=lead)
    assert response.status_code == 422, response.get_json()
    error = response.get_json()["error"]
    assert error["code"] == "invalid_draw_plan"
    assert "only 0 of the pool's 4 inspectors hold a certificate valid" in error["message"]
    outside = [
        {
            "name": "市场监管1",
            "department": "市场监管局",
            "certificate_no": "SC1",
            "certificate_valid_until": "2020-06-30",
        },
        {"name": "市场监管2", "department": "市场监管局", "certificate_no": None},
    ]
    world.user("new1", role="inspector", cert_no="1")
    world.user("new2", role="inspector", cert_no="2")
    response = client.post(
        "/api/v1/draw-plans",
        json=plan_payload(outside_inspectors=outside, outside_per_team=1),
        headers=lead,
    )
    assert response.status_code == 422, response.get_json()
    fields = response.get_json()["error"]["fields"]
    assert set(fields) == {"outside_per_team"}


def test_a_recusal_is_never_broken_and_an_impossible_one_is_explained(world, client) -> None:
    world.agency()
    f = make_field(world, client, good=1, poor=1, key=0, inspectors=["wang", "li", "zhao"])
    target = f.enterprises["poor0"]
    for name in ("wang", "li"):
        response = client.post(
            "/api/v1/recusals",
            json={
                "inspector_id": str(f.inspectors[name].id),
                "enterprise_id": target["id"],
                "source": "conflict",
                "reason": "近亲属在该企业任职",
            },
            headers=f.lead,
        )
        assert response.status_code == 201, response.get_json()
    plan = f.create_plan(rates={"risk:good": "1", "risk:poor": "1"})
    body = f.run(plan["id"], expect=422)
    error = body["error"]
    assert error["code"] == "draw_infeasible"
    assert error["details"]["rule"] == "recusal"
    assert target["name"] in error["message"]
    assert error["details"]["enterprises"][0]["enterprise_id"] == target["id"]
    # Drop one recusal: now a full team exists, and it never includes the other recused one.
    recusals = f.get(f"/api/v1/recusals?enterprise_id={target['id']}")
    assert len(recusals) == 2
    li = next(r for r in recusals if r["inspector_id"] == str(f.inspectors["li"].id))
    assert client.delete(f"/api/v1/recusals/{li['id']}", headers=f.lead).status_code == 204
    draw = f.run(plan["id"])
    team = next(a for a in draw["assignments"] if a["enterprise_id"] == target["id"])
    assert str(f.inspectors["wang"].id) not in {p["id"] for p in team["inspectors"]}


def test_recusals_are_unique_and_fenced_per_agency(world, field, client) -> None:
    payload = {
        "inspector_id": str(field.inspectors["wang"].id),
        "enterprise_id": field.enterprises["good0"]["id"],
        "source": "enterprise_request",
        "reason": "企业申请回避",
    }
    first = client.post("/api/v1/recusals", json=payload, headers=field.lead)
    assert first.status_code == 201
    again = client.post("/api/v1/recusals", json=payload, headers=field.lead)
    assert again.status_code == 409
    assert again.get_json()["error"]["code"] == "duplicate_recusal"
    world.agency("heping", "天津市和平区应急管理局", "和平")
    other = world.headers("lead", agency="heping")
    assert client.get("/api/v1/recusals", headers=other).get_json() == []
    rid = first.get_json()["id"]
    assert client.delete(f"/api/v1/recusals/{rid}", headers=other).status_code == 404
    foreign = client.post("/api/v1/recusals", json=payload, headers=other)
    assert foreign.status_code == 422


def test_plans_and_draws_of_another_agency_are_not_found(world, field, client) -> None:
    plan = field.create_plan()
    draw = field.run(plan["id"])
    world.agency("heping", "天津市和平区应急管理局", "和平")
    other = world.headers("lead", agency="heping")
    for path in (
        f"/api/v1/draw-plans/{plan['id']}",
        f"/api/v1/draws/{draw['id']}",
        f"/api/v1/draws/{draw['id']}/verify",
        f"/api/v1/draws/{draw['id']}/tasks",
    ):
        assert client.get(path, headers=other).status_code == 404, path
    response = client.post(f"/api/v1/draw-plans/{plan['id']}/run", json={}, headers=other)
    assert response.status_code == 404


def test_verify_recomputes_a_stored_draw_and_catches_tampering(app, field) -> None:
    plan = field.create_plan()
    draw = field.run(plan["id"])
    verdict = field.get(f"/api/v1/draws/{draw['id']}/verify")
    assert verdict["matches"] is True and verdict["differences"] == []
    with app.app_context():
        row = db.session.get(Draw, uuid.UUID(draw["id"]))
        forged = row.document.replace(
            draw["assignments"][0]["inspectors"][0]["public_id"], "x" * 32, 1
        )
        db.session.execute(sa.update(Draw).where(Draw.id == row.id).values(document=forged))
        db.session.commit()
    verdict = field.get(f"/api/v1/draws/{draw['id']}/verify")
    assert verdict["matches"] is False and verdict["differences"]


def test_verify_catches_a_published_name_that_is_not_the_one_drawn(app, field) -> None:
    plan = field.create_plan()
    draw = field.run(plan["id"])
    first, second = draw["assignments"][0]["inspectors"]
    other = next(
        p
        for a in draw["assignments"]
        for p in a["inspectors"]
        if p["id"] not in (first["id"], second["id"])
    )
    with app.app_context():
        row = db.session.get(Draw, uuid.UUID(draw["id"]))
        # The document recomputes, but one drawn pseudonym is said to be someone else.
        names = {**row.identities, first["public_id"]: other["id"]}
        db.session.execute(sa.update(Draw).where(Draw.id == row.id).values(identities=names))
        db.session.commit()
    verdict = field.get(f"/api/v1/draws/{draw['id']}/verify")
    assert verdict["matches"] is False
    assert verdict["differences"] == [
        f"{first['public_id']} does not stand for the inspector named"
    ]


def test_recently_inspected_and_capped_enterprises_are_left_out(app, field, monkeypatch) -> None:
    from datetime import UTC, datetime, timedelta

    from server.models import Agency, Inspection

    # Mid-year, so that an inspection of this year can lie outside the 30-day window whatever
    # the day the suite runs.
    fixed_now = datetime(2026, 6, 15, 2, 0, tzinfo=UTC)
    monkeypatch.setattr("server.services.draws.plans.utcnow", lambda: fixed_now)
    monkeypatch.setattr("server.services.draws.running.utcnow", lambda: fixed_now)
    monkeypatch.setattr("server.services.draws.reading.utcnow", lambda: fixed_now)
    recent = field.enterprises["good0"]
    capped = field.enterprises["good1"]
    with app.app_context():
        agency = db.session.scalar(sa.select(Agency))
        agency.settings = {"visits": {"yearly_caps": {"credit:A": 1}}}
        wang = field.inspectors["wang"]
        now = fixed_now
        for enterprise, days_ago in ((recent, 3), (capped, 60)):
            db.session.add(
                Inspection(
                    id=uuid.uuid4(),
                    agency_id=agency.id,
                    enterprise_id=uuid.UUID(enterprise["id"]),
                    kind="random",
                    started_at=now - timedelta(days=days_ago),
                    inspector_ids=[str(wang.id)],
                    created_by=wang.id,
                    version=1,
                    field_versions={},
                )
            )
        db.session.commit()
    plan = field.create_plan(
        rates={"risk:good": "1", "risk:poor": "1"}, exclude_inspected_within_days=30
    )
    draw = field.run(plan["id"])
    drawn = {a["enterprise_id"] for a in draw["assignments"]}
    assert recent["id"] not in drawn
    assert capped["id"] not in drawn
    assert draw["pool_size"] == 6
    assert draw["parameters"]["excluded"]["recently_inspected"] == 1
    assert draw["parameters"]["excluded"]["yearly_cap_reached"] == 1


def test_a_patch_is_checked_like_a_new_plan(field, client) -> None:
    plan = field.create_plan()
    response = client.patch(
        f"/api/v1/draw-plans/{plan['id']}", json={"team_size": 9}, headers=field.lead
    )
    assert response.status_code == 422
    response = client.patch(
        f"/api/v1/draw-plans/{plan['id']}",
        json={"team_size": 3, "cron": "0 9 1 * *", "period": "month"},
        headers=field.lead,
    )
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["team_size"] == 3 and body["version"] == 2 and body["upcoming"]
    draw = field.run(plan["id"])
    assert all(len(a["inspectors"]) == 3 for a in draw["assignments"])


def test_editing_a_plan_keeps_its_published_commitment_unless_the_schedule_changes(
    field, client
) -> None:
    plan = field.create_plan(cron="0 9 1 * *", period="month")
    url = f"/api/v1/draw-plans/{plan['id']}"
    renamed = client.patch(url, json={"name": "改名后的计划"}, headers=field.lead).get_json()
    assert renamed["upcoming"] == plan["upcoming"]
    moved = client.patch(url, json={"cron": "0 10 2 * *"}, headers=field.lead).get_json()
    assert moved["upcoming"]["seed_commitment"] != plan["upcoming"]["seed_commitment"]
    stopped = client.patch(url, json={"active": False}, headers=field.lead).get_json()
    assert stopped["upcoming"] is None and stopped["next_run_at"] is None


def test_joint_checks_add_outside_inspectors_to_every_team(field) -> None:
    outside = [
        {"name": f"市场监管{i}", "department": "市场监管局", "certificate_no": f"SC{i}"}
        for i in range(3)
    ]
    plan = field.create_plan(outside_inspectors=outside, outside_per_team=1)
    assert all(o["id"] for o in plan["outside_inspectors"])
    draw = field.run(plan["id"])
    for a in draw["assignments"]:
        assert len(a["outside_inspectors"]) == 1
        assert a["outside_inspectors"][0]["department"] == "市场监管局"
        assert a["outside_inspectors"][0]["name"].startswith("市场监管")


def _date(text: str):
    from datetime import date

    return date.fromisoformat(text)


def test_no_inspector_goes_back_to_an_enterprise_another_plan_just_sent_them_to(
    world, client
) -> None:
    world.agency()
    f = make_field(world, client, good=0, poor=6, key=0)
    general = f.create_plan(name="一般企业抽查", rates={"risk:poor": "1"})
    campaign = f.create_plan(name="专项抽查", rates={"risk:poor": "1"})
    first = f.run(general["id"])
    before = {a["enterprise_id"]: {p["id"] for p in a["inspectors"]} for a in first["assignments"]}
    second = f.run(campaign["id"])
    assert len(second["assignments"]) == 6
    for a in second["assignments"]:
        assert before[a["enterprise_id"]].isdisjoint(p["id"] for p in a["inspectors"])
    # Published as the previous visits this draw avoided, under this draw's pseudonyms.
    doc = client.get(f"/public/draws/{second['id']}/document.json").get_json()
    assert len(doc["inputs"]["previous_assignments"]) == 12
