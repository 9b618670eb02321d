"""Yearly caps come from one place: the year's annual plan when there is one, else settings."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from server.extensions import db
from server.models import Agency
from tests.draw_support import make_field
from tests.sync_support import T0, Device, inspection_op, scan_op


def plan(client, lead, year: int, caps: dict[str, int]) -> None:
    response = client.put(f"/api/v1/annual-plans/{year}", json={"yearly_caps": caps}, headers=lead)
    assert response.status_code == 200, response.get_json()


def warnings(gate, at: datetime) -> list[str]:
    (result,) = gate["device"].push([scan_op(gate["code"], gate["team"], at=at)])
    assert result["status"] == "applied", result
    return [w["code"] for w in result["warnings"]]


def test_the_plans_caps_replace_the_settings_caps_for_that_year(gate, client) -> None:
    ent = gate["enterprise"]
    gate["device"].push([inspection_op(ent["id"], gate["team"], at=T0 - timedelta(days=60))])
    # Settings (the default): credit A is capped at 1 a year, so a second visit warns.
    assert warnings(gate, T0) == ["yearly_cap_reached"]
    plan(client, gate["lead"], 2024, {"credit:A": 3})
    assert warnings(gate, T0 + timedelta(days=30)) == []
    # Another year without a plan falls back to the settings.
    gate["device"].push([inspection_op(ent["id"], gate["team"], at=T0 + timedelta(days=300))])
    assert warnings(gate, T0 + timedelta(days=330)) == ["yearly_cap_reached"]


def test_a_plan_refuses_caps_keyed_otherwise_than_the_visit_policy(gate, client) -> None:
    response = client.put(
        "/api/v1/annual-plans/2024", json={"yearly_caps": {"good": 1}}, headers=gate["lead"]
    )
    assert response.status_code == 422


def test_an_inspection_without_a_scan_is_a_recent_visit_too(gate) -> None:
    ent = gate["enterprise"]
    gate["device"].push([inspection_op(ent["id"], gate["team"], at=T0 - timedelta(days=2))])
    assert "repeat_visit" in warnings(gate, T0)


def test_inspections_of_a_later_year_do_not_count_against_this_years_cap(gate) -> None:
    # A scan that reaches the server late, after next year's inspection was recorded.
    ent = gate["enterprise"]
    gate["device"].push([inspection_op(ent["id"], gate["team"], at=T0 + timedelta(days=365))])
    assert warnings(gate, T0) == []


def test_draws_and_the_plans_over_cap_list_use_the_plans_caps(world, client, app, monkeypatch):

    world.agency()
    field = make_field(world, client)
    fixed_now = datetime(2026, 6, 15, 2, 0, tzinfo=UTC)
    monkeypatch.setattr("server.services.draws.plans.utcnow", lambda: fixed_now)
    monkeypatch.setattr("server.services.draws.running.utcnow", lambda: fixed_now)
    monkeypatch.setattr("server.services.draws.reading.utcnow", lambda: fixed_now)
    wang = field.inspectors["wang"].username
    device = Device(client, world.login(wang, device_id="phone-w"), "phone-w")
    team = field.ids("wang", "li")
    twice = field.enterprises["good1"]
    for days in (90, 60):
        device.push([inspection_op(twice["id"], team, at=fixed_now - timedelta(days=days))])
    with app.app_context():
        agency = db.session.scalar(db.select(Agency))
        agency.settings = {"visits": {"yearly_caps": {"credit:A": 5}}}
        db.session.commit()
    plan(client, field.lead, 2026, {"credit:A": 2})

    draw_plan = field.create_plan(rates={"risk:good": "1", "risk:poor": "1"})
    draw = field.run(draw_plan["id"])
    assert twice["id"] not in {a["enterprise_id"] for a in draw["assignments"]}
    assert draw["parameters"]["excluded"]["yearly_cap_reached"] == 1

    plan(client, field.lead, 2026, {"credit:A": 1})
    completion = client.get("/api/v1/annual-plans/2026/completion", headers=field.lead).get_json()
    assert [(o["enterprise_id"], o["done"], o["cap"]) for o in completion["over_cap"]] == [
        (twice["id"], 2, 1)
    ]
