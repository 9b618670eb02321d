"""An agency's settings: read and changed validated, by API and CLI; bad stored rows never 500."""

from __future__ import annotations

import json
import logging

import pytest
import sqlalchemy as sa

from server.extensions import db
from server.models import Agency
from tests.hazard_support import Site, make_site


@pytest.fixture
def site(world, client) -> Site:
    return make_site(world, client)


def _store(app, settings: dict) -> None:
    with app.app_context():
        db.session.execute(sa.update(Agency).values(settings=settings))
        db.session.commit()


def test_a_manager_changes_the_hazard_policy_and_reads_it_back(site) -> None:
    before = site.get("/api/v1/agency/settings").get_json()
    assert before["hazards"]["reinspection_days"] == 10
    assert before["hazards"]["max_general_deadline_months"] == 12
    assert before["visits"]["yearly_caps"]["credit:A"] == 1
    response = site.client.patch(
        "/api/v1/agency/settings",
        json={
            "hazards": {"reinspection_days": 7, "deadline_unit": "working"},
            "visits": {"yearly_caps": {"credit:A": 2, "risk:poor": 6}},
        },
        headers=site.manager,
    )
    assert response.status_code == 200, response.get_json()
    after = site.get("/api/v1/agency/settings", headers=site.lead).get_json()
    assert after["hazards"]["reinspection_days"] == 7
    assert after["hazards"]["deadline_unit"] == "working"
    assert after["hazards"]["escalate_after_days"] == 10  # untouched keys keep their value
    assert after["visits"]["yearly_caps"] == {"credit:A": 2, "risk:poor": 6}
    assert after["ignored"] == []


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"hazards": {"reinspection_dayz": 7}}, "hazards"),
        ({"hazards": {"reinspection_days": "7"}}, "hazards"),
        ({"hazards": {"escalate_after_days": 40, "penalty_case_after_days": 30}}, "hazards"),
        ({"hazards": {"deadline_unit": "lunar"}}, "hazards"),
        ({"visits": {"yearly_caps": {"grade:A": 1}}}, "visits"),
        ({"visits": {"yearly_caps": {"credit:A": -1}}}, "visits"),
        ({"penalties": {}}, "penalties"),
    ],
)
def test_a_setting_that_makes_no_sense_is_refused_and_nothing_changes(site, body, field) -> None:
    response = site.client.patch("/api/v1/agency/settings", json=body, headers=site.manager)
    assert response.status_code == 422, response.get_json()
    assert field in response.get_json()["error"]["fields"]
    assert site.get("/api/v1/agency/settings").get_json()["hazards"]["reinspection_days"] == 10


def test_leads_read_settings_managers_change_them_inspectors_neither(site) -> None:
    change = {"hazards": {"reinspection_days": 5}}
    assert site.get("/api/v1/agency/settings", headers=site.inspector).status_code == 403
    lead = site.client.patch("/api/v1/agency/settings", json=change, headers=site.lead)
    assert lead.status_code == 403


def test_a_typo_in_stored_settings_is_ignored_rather_than_failing_every_page(site, app) -> None:
    hazard = site.hazard()
    _store(
        app,
        {
            "hazards": {
                "reinspection_dayz": 7,
                "escalate_after_days": "ten",
                "max_stop_months": 3,
            },
            "visits": {"repeat_visit_days": "a week"},
            "calendar_overrides": {"2024-05-11": True},
        },
    )
    assert site.get("/api/v1/hazards").status_code == 200
    assert site.get(f"/api/v1/hazards/{hazard['id']}").status_code == 200
    site.order(hazard)  # a device's order reads the policy too
    settings = site.get("/api/v1/agency/settings").get_json()
    assert settings["hazards"]["max_stop_months"] == 3  # the valid stored value stays in force
    assert settings["hazards"]["escalate_after_days"] == 10
    assert len(settings["ignored"]) == 3
    # Fixing one section keeps the other parts of the settings as they were.
    response = site.client.patch(
        "/api/v1/agency/settings", json={"hazards": {"reinspection_days": 8}}, headers=site.manager
    )
    assert response.status_code == 200, response.get_json()
    with app.app_context():
        stored = db.session.scalar(sa.select(Agency.settings))
    assert stored["hazards"] == {"max_stop_months": 3, "reinspection_days": 8}
    assert stored["calendar_overrides"] == {"2024-05-11": True}


def test_the_cli_prints_and_changes_an_agencys_settings(site, runner) -> None:
    result = runner.invoke(
        args=[
            "agencies",
            "settings",
            "nankai",
            "--set",
            "hazards.reinspection_days=12",
            "--set",
            "hazards.deadline_unit=working",
            "--set",
            "visits.yearly_caps.credit:B=3",
        ]
    )
    assert result.exit_code == 0, result.output
    shown = json.loads(result.output)
    assert shown["hazards"]["reinspection_days"] == 12
    assert shown["hazards"]["deadline_unit"] == "working"
    assert shown["visits"]["yearly_caps"]["credit:B"] == 3
    assert shown["visits"]["yearly_caps"]["credit:A"] == 1
    bad = runner.invoke(args=["agencies", "settings", "nankai", "--set", "hazards.nope=1"])
    assert bad.exit_code != 0 and "invalid_settings" in bad.output
    plain = runner.invoke(args=["agencies", "settings", "nankai"])
    assert json.loads(plain.output)["hazards"]["reinspection_days"] == 12


def test_an_ignored_stored_setting_is_logged(monkeypatch, caplog) -> None:
    from server.services import agency_settings

    # Alembic's logging set-up (run by the app fixture) disables loggers that existed before.
    monkeypatch.setattr(logging.getLogger(agency_settings.__name__), "disabled", False)
    with caplog.at_level(logging.WARNING):
        policy = agency_settings.hazard_policy(
            {"hazards": {"reinspection_dayz": 9, "max_stop_months": 2}}, "Asia/Shanghai"
        )
    assert policy.max_stop_months == 2 and policy.reinspection_days == 10
    assert "hazards.reinspection_dayz: unknown setting" in caplog.text
