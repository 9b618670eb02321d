"""The national calendar's override table: CLI, admin API, and the deadlines that depend on it."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tests.report_support import at_moment


@pytest.fixture
def desk(world, client):
    world.agency()
    manager = world.headers("manager")
    enterprise = world.enterprise(manager)
    admin = world.headers("admin")

    def decide(on: str, **kw) -> dict:
        case = client.post(
            "/api/v1/cases",
            json={"enterprise_id": enterprise["id"], "opened_on": on},
            headers=manager,
        ).get_json()
        response = client.post(
            f"/api/v1/cases/{case['id']}/decision",
            json={"decided_on": on, "entity_fine_fen": 100_000, **kw},
            headers=manager,
        )
        assert response.status_code == 201, response.get_json()
        return response.get_json()

    def decision(d: dict) -> dict:
        return client.get(f"/api/v1/penalty-decisions/{d['id']}", headers=manager).get_json()

    return {"manager": manager, "admin": admin, "decide": decide, "decision": decision}


def test_a_day_set_off_moves_the_deadline_of_every_agencys_new_decisions(desk, client) -> None:
    set_off = client.put(
        "/api/v1/calendar/days/2024-03-18",
        json={"is_working_day": False, "note": "地方调整"},
        headers=desk["admin"],
    )
    assert set_off.status_code == 200, set_off.get_json()
    assert desk["decide"]("2024-03-15")["publication"]["deadline"] == "2024-03-27"
    listing = client.get("/api/v1/calendar?year=2024", headers=desk["manager"]).get_json()
    assert [(d["day"], d["is_working_day"]) for d in listing["days"]] == [("2024-03-18", False)]
    assert listing["library_years"]["first"] <= 2024 <= listing["library_years"]["last"]


def test_only_an_admin_changes_the_calendar(desk, client) -> None:
    for verb in (client.put, client.delete):
        response = verb(
            "/api/v1/calendar/days/2024-03-18",
            json={"is_working_day": False},
            headers=desk["manager"],
        )
        assert response.status_code == 403
    bad = client.put(
        "/api/v1/calendar/days/2024-02-30", json={"is_working_day": False}, headers=desk["admin"]
    )
    # Like a malformed id in a path: the request is refused before anything is looked up.
    assert bad.status_code == 400, bad.get_json()
    assert "date" in bad.get_json()["error"]["message"]


def test_a_pending_deadline_is_recounted_when_the_calendar_changes_a_published_one_is_not(
    desk, client
) -> None:
    with at_moment(datetime(2024, 3, 15, 2, 0, tzinfo=UTC)):
        pending = desk["decide"]("2024-03-15")
        published = desk["decide"]("2024-03-15")
        response = client.post(
            f"/api/v1/penalty-decisions/{published['id']}/publish", json={}, headers=desk["manager"]
        )
        assert response.status_code == 200
    assert pending["publication"]["deadline"] == "2024-03-26"
    changed = client.put(
        "/api/v1/calendar/days/2024-03-20", json={"is_working_day": False}, headers=desk["admin"]
    )
    assert changed.get_json()["moved_deadlines"] == 1
    assert desk["decision"](pending)["publication"]["deadline"] == "2024-03-27"
    assert desk["decision"](published)["publication"]["deadline"] == "2024-03-26"
    removed = client.delete("/api/v1/calendar/days/2024-03-20", headers=desk["admin"])
    assert removed.get_json() == {"day": "2024-03-20", "moved_deadlines": 1}
    assert desk["decision"](pending)["publication"]["deadline"] == "2024-03-26"


def test_a_deadline_in_a_year_nobody_entered_is_flagged_as_an_estimate(desk, client) -> None:
    with at_moment(datetime(2099, 6, 1, 2, 0, tzinfo=UTC)):
        decision = desk["decide"]("2099-06-01")
    assert decision["publication"]["deadline_estimated"] is True
    entered = client.put(
        "/api/v1/calendar/years/2099", json={"complete": True}, headers=desk["admin"]
    )
    assert entered.status_code == 200 and entered.get_json()["complete_years"] == [2099]
    assert desk["decision"](decision)["publication"]["deadline_estimated"] is False


def test_the_command_line_sets_and_lists_overrides(runner, desk) -> None:
    result = runner.invoke(
        args=["calendar", "set", "2099-01-02", "--holiday", "--note", "元旦 国办发明电"]
    )
    assert result.exit_code == 0, result.output
    assert runner.invoke(args=["calendar", "set", "2099-01-03", "--workday"]).exit_code == 0
    assert runner.invoke(args=["calendar", "complete", "2099"]).exit_code == 0
    listed = runner.invoke(args=["calendar", "list", "--year", "2099"])
    assert listed.exit_code == 0
    assert "2099-01-02  holiday  元旦 国办发明电" in listed.output
    assert "2099-01-03  workday" in listed.output
    assert "years entered in full: 2099" in listed.output
    assert runner.invoke(args=["calendar", "set", "2099-01-02"]).exit_code != 0
    unset = runner.invoke(args=["calendar", "unset", "2099-01-03"])
    assert unset.exit_code == 0
    assert "2099-01-03" not in runner.invoke(args=["calendar", "list"]).output
