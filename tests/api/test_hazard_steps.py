"""Steps that change what a hazard is: reclassification, office orders and opinions, deadlines."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime

import pytest
import sqlalchemy as sa

from server.domain.workdays import WorkCalendar
from server.extensions import db
from server.models import Document, Hazard
from tests.hazard_support import Site, make_site
from tests.sync_support import document_op, op

# Monday 30 September 2024, 09:00 in Beijing: the National Day holiday runs 1-7 October and
# Saturday 12 October is a make-up working day.
BEFORE_NATIONAL_DAY = datetime(2024, 9, 30, 1, 0, tzinfo=UTC)


@pytest.fixture
def site(world, client) -> Site:
    return make_site(world, client)


def _set(site: Site, **hazards) -> None:
    response = site.client.patch(
        "/api/v1/agency/settings", json={"hazards": hazards}, headers=site.manager
    )
    assert response.status_code == 200, response.get_json()


def test_a_device_can_no_longer_change_a_hazards_level(site) -> None:
    hazard = site.hazard()
    edit = op("hazard", {"level": "major"}, record_id=hazard["id"], base_version=1)
    (result,) = site.device.push([edit])
    assert result["status"] == "rejected"
    assert result["errors"]["code"] == "immutable_field"
    assert site.get(f"/api/v1/hazards/{hazard['id']}").get_json()["level"] == "general"


def test_a_hazard_reclassified_major_closes_only_with_a_managers_sign_off(site) -> None:
    hazard = site.hazard()
    site.order(hazard, deadline="2024-05-20")
    inspector = site.step(hazard["id"], headers=site.inspector, action="reclassify", level="major")
    assert inspector.status_code == 403
    no_reason = site.step(hazard["id"], headers=site.lead, action="reclassify", level="major")
    assert no_reason.status_code == 422
    response = site.step(
        hazard["id"], headers=site.lead, action="reclassify", level="major", reason="涉及重大危险源"
    )
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert (body["level"], body["status"], body["lifecycle"]["level"]) == (
        "major",
        "ordered",
        "major",
    )
    step = body["history"][-1]
    assert (step["action"], step["label"], step["note"]) == (
        "reclassify",
        "重新认定隐患等级",
        "涉及重大危险源",
    )
    assert step["details"] == {"from_level": "general", "to_level": "major"}
    assert site.get("/api/v1/hazards", level="major").get_json()["total"] == 1
    assert site.get("/api/v1/hazards/aggregates").get_json()["by_level"]["major"] == 1

    site.reinspect(hazard, outcome="pass")
    detail = site.get(f"/api/v1/hazards/{hazard['id']}").get_json()
    assert detail["status"] == "pending_sign_off"  # not closed: it is major now
    assert site.step(hazard["id"], headers=site.lead, action="sign_off").status_code == 403
    assert site.step(hazard["id"], action="sign_off").get_json()["status"] == "closed"


def test_a_supervised_major_hazard_is_not_reclassified_general(site) -> None:
    hazard = site.hazard(level="major")
    plan = {
        "responsible_person": "厂长",
        "measures": "更换储罐",
        "funds_fen": 100,
        "deadline": site.get("/api/v1/hazards/aggregates").get_json()["as_of"],
        "emergency_arrangements": "设警戒区",
    }
    assert site.step(hazard["id"], action="supervise", **plan).status_code == 200
    response = site.step(hazard["id"], action="reclassify", level="general", reason="误判")
    assert response.status_code == 409
    assert "reclassify" not in response.get_json()["error"]["details"]["allowed"]


def test_an_office_order_issues_its_numbered_order_document(site) -> None:
    hazard = site.hazard()
    response = site.step(hazard["id"], headers=site.lead, action="order", period_days=15)
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["status"] == "ordered"
    (document,) = body["history"][-1]["documents"]
    assert document["type"] == "rectification_order"
    assert document["number"].startswith("（南开）应急责改〔")
    pdf = site.client.get(f"/api/v1/documents/{document['id']}/pdf", headers=site.manager)
    assert pdf.status_code == 200
    shown = site.client.get(f"/api/v1/documents/{document['id']}", headers=site.manager)
    assert shown.get_json()["body"]["deadline"] == body["deadline"]
    # The inspectors' phones learn of it like of any document.
    site.device.pull_all()
    assert ("document", document["id"]) in site.device.state


def test_an_office_reinspection_cites_an_opinion_on_this_hazard_or_issues_one(site) -> None:
    hazard = site.hazard()
    other = site.hazard()
    site.order(hazard)
    order_id = site.order(other)
    wrong_type = site.step(
        hazard["id"], action="reinspect", outcome="pass", opinion_document_id=order_id
    )
    assert wrong_type.status_code == 422
    assert wrong_type.get_json()["error"]["code"] == "wrong_document_type"
    others_opinion = site.reinspect(other, outcome="fail", deadline="2024-06-30")
    not_this = site.step(
        hazard["id"], action="reinspect", outcome="pass", opinion_document_id=others_opinion
    )
    assert not_this.get_json()["error"]["code"] == "document_mismatch"
    # The other hazard's opinion already re-inspected it: it cannot do so a second time.
    reused = site.step(
        other["id"], action="reinspect", outcome="pass", opinion_document_id=others_opinion
    )
    assert reused.get_json()["error"]["code"] == "document_already_used"
    order_again = site.step(
        other["id"], action="order", deadline="2024-06-30", document_id=order_id
    )
    assert order_again.status_code in (409, 422)

    issued = site.step(hazard["id"], action="reinspect", outcome="pass")
    assert issued.status_code == 200, issued.get_json()
    assert issued.get_json()["status"] == "closed"
    (document,) = issued.get_json()["history"][-1]["documents"]
    assert document["type"] == "reinspection_opinion"
    assert document["number"].startswith("（南开）应急复查〔")


def test_a_device_order_counts_working_days_across_the_national_day_holiday(site) -> None:
    hazard = site.hazard()
    _set(site, deadline_unit="working")
    order = document_op(
        "rectification_order",
        hazard["inspection_id"],
        [hazard["id"]],
        at=BEFORE_NATIONAL_DAY,
        period_days=5,
    )
    (result,) = site.device.push([order])
    assert result["status"] == "applied", result
    detail = site.get(f"/api/v1/hazards/{hazard['id']}").get_json()
    assert detail["deadline"] == "2024-10-12"  # 8, 9, 10, 11 and the make-up Saturday
    document = site.client.get(f"/api/v1/documents/{order['id']}", headers=site.manager).get_json()
    assert document["body"]["deadline"] == "2024-10-12"
    assert document["body"]["period_days"] == 5

    _set(site, deadline_unit="calendar")
    again = site.hazard()
    calendar_order = document_op(
        "rectification_order",
        again["inspection_id"],
        [again["id"]],
        at=BEFORE_NATIONAL_DAY,
        period_days=5,
    )
    site.device.push([calendar_order])
    assert site.get(f"/api/v1/hazards/{again['id']}").get_json()["deadline"] == "2024-10-05"


def test_an_office_order_in_working_days_uses_the_agencys_calendar(site) -> None:
    hazard = site.hazard()
    _set(site, deadline_unit="working")
    response = site.step(hazard["id"], action="order", period_days=10)
    assert response.status_code == 200, response.get_json()
    today = date.fromisoformat(site.get("/api/v1/hazards/aggregates").get_json()["as_of"])
    expected = WorkCalendar().add_days(today, 10, "working")
    assert response.get_json()["deadline"] == expected.isoformat()


@pytest.mark.parametrize(
    ("fields", "code"),
    [
        ({"deadline": "2025-06-30"}, "deadline_too_far"),
        ({"period_days": 400}, "deadline_too_far"),
        ({"deadline": "2024-06-30", "period_days": 10}, "deadline_ambiguous"),
        ({}, "deadline_required"),
    ],
)
def test_a_device_order_beyond_the_agencys_longest_deadline_is_refused(site, fields, code) -> None:
    hazard = site.hazard()
    order = document_op("rectification_order", hazard["inspection_id"], [hazard["id"]], **fields)
    (result,) = site.device.push([order])
    assert result["status"] == "rejected"
    assert result["errors"]["code"] == code
    _set(site, max_general_deadline_months=None)
    if code == "deadline_too_far":
        (result,) = site.device.push([{**order, "op_id": str(uuid.uuid4())}])
        assert result["status"] == "applied", result


def test_a_pass_opinion_takes_no_period(site) -> None:
    hazard = site.hazard()
    site.order(hazard)
    opinion = document_op(
        "reinspection_opinion",
        hazard["inspection_id"],
        [hazard["id"]],
        outcome="pass",
        period_days=5,
    )
    (result,) = site.device.push([opinion])
    assert result["errors"]["code"] == "period_not_applicable"


def test_a_stored_deadline_at_the_end_of_the_calendar_does_not_break_the_lists(site, app) -> None:
    hazard = site.hazard()
    site.order(hazard)
    with app.app_context():
        db.session.execute(
            sa.update(Hazard)
            .where(Hazard.id == uuid.UUID(hazard["id"]))
            .values(deadline=date(9999, 12, 30))
        )
        row = db.session.get(Hazard, uuid.UUID(hazard["id"]))
        row.lifecycle = {**row.lifecycle, "deadline": "9999-12-30"}
        db.session.commit()
    assert site.get("/api/v1/hazards").status_code == 200
    assert site.get("/api/v1/hazards", format="csv").status_code == 200
    assert site.get(f"/api/v1/hazards/{hazard['id']}").status_code == 200
    assert site.get("/api/v1/hazards/aggregates").status_code == 200


def test_the_statistics_count_hazards_by_the_finding_teams_unit(site, world) -> None:
    wang = site.team[0]  # the phone's owner, in no unit
    first = world.user("zhao", role="inspector", cert_no="12010420011", unit="执法一大队")
    second = world.user("sun", role="inspector", cert_no="12010420013", unit="执法二大队")
    site.team = [wang, str(first.id)]
    site.hazard()
    site.hazard()
    site.team = [wang, str(first.id), str(second.id)]
    site.order(site.hazard(), deadline="2024-05-20")
    teams = site.get("/api/v1/hazards/aggregates").get_json()["by_team"]
    assert teams == [
        {"unit": "", "label": "未设科室（大队）", "total": 3, "open": 3},
        {"unit": "执法一大队", "label": "执法一大队", "total": 3, "open": 3},
        {"unit": "执法二大队", "label": "执法二大队", "total": 1, "open": 1},
    ]


def test_a_document_issued_from_the_office_is_numbered_without_gaps(site, app) -> None:
    first, second = site.hazard(), site.hazard()
    assert site.step(first["id"], action="order", deadline="2099-01-01").status_code == 422
    assert site.step(first["id"], action="order", period_days=10).status_code == 200
    assert site.step(second["id"], action="order", period_days=10).status_code == 200
    with app.app_context():
        serials = db.session.scalars(
            sa.select(Document.serial).where(Document.type == "rectification_order")
        ).all()
    assert sorted(serials) == [1, 2]
