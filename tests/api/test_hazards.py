"""The manager's hazards API: lists, export, history, office steps and the statistics."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

import pytest

from tests.hazard_support import Site, make_site


@pytest.fixture
def site(world, client) -> Site:
    return make_site(world, client)


def test_the_list_filters_by_status_level_industry_and_overdue(site) -> None:
    chem = site.enterprise("chem", name="天津化工有限公司", industry="hazardous_chemicals")
    late = site.hazard()
    site.order(late, deadline="2024-05-20")
    major = site.hazard(chem, level="major")
    site.hazard(chem)

    body = site.get("/api/v1/hazards").get_json()
    assert body["total"] == 3

    overdue = site.get("/api/v1/hazards", overdue="true").get_json()
    assert [h["id"] for h in overdue["items"]] == [late["id"]]
    assert overdue["items"][0]["overdue"] and overdue["items"][0]["days_overdue"] > 30
    assert overdue["items"][0]["escalation"] == 3

    majors = site.get("/api/v1/hazards", level="major").get_json()
    assert [h["id"] for h in majors["items"]] == [major["id"]]
    chemicals = site.get("/api/v1/hazards", industry="hazardous_chemicals").get_json()
    assert chemicals["total"] == 2
    assert {h["enterprise_name"] for h in chemicals["items"]} == {"天津化工有限公司"}
    found = site.get("/api/v1/hazards", status="found").get_json()
    assert found["total"] == 2
    assert site.get("/api/v1/hazards", status="open").get_json()["total"] == 3
    by_enterprise = site.get("/api/v1/hazards", enterprise_id=chem["id"]).get_json()
    assert by_enterprise["total"] == 2


def test_the_list_filters_by_inspector_and_period_and_pages(site, world) -> None:
    for _ in range(3):
        site.hazard()
    wang = site.team[0]
    assert site.get("/api/v1/hazards", inspector_id=wang).get_json()["total"] == 3
    stranger = world.user("zhou", role="inspector", cert_no="12010420009")
    assert site.get("/api/v1/hazards", inspector_id=str(stranger.id)).get_json()["total"] == 0
    in_may = site.get("/api/v1/hazards", found_from="2024-05-01", found_to="2024-05-06")
    assert in_may.get_json()["total"] == 3
    assert site.get("/api/v1/hazards", found_from="2024-05-07").get_json()["total"] == 0
    page = site.get("/api/v1/hazards", per_page=2, page=2, sort="found_at").get_json()
    assert (page["total"], len(page["items"])) == (3, 1)
    backwards = site.get("/api/v1/hazards", found_from="2024-06-01", found_to="2024-05-01")
    assert backwards.status_code == 422


def test_the_csv_export_opens_in_excel_with_chinese_headers(site) -> None:
    hazard = site.hazard(description='=HYPERLINK("http://evil")')
    response = site.get("/api/v1/hazards", format="csv")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert response.data.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))
    assert rows[0][:4] == ["隐患编号", "企业名称", "统一社会信用代码", "行业"]
    assert rows[1][0] == hazard["id"]
    assert rows[1][4] == "一般隐患" and rows[1][8] == "待处理"
    # A description that looks like a formula stays text.
    assert rows[1][5].startswith("'=")


def test_the_list_and_export_keep_their_orders_with_hazards_without_a_deadline(site) -> None:
    first = site.hazard()
    second = site.hazard()
    later = site.hazard(at=datetime(2024, 6, 1, 2, tzinfo=UTC))
    site.order(second, deadline="2024-05-20")
    site.order(first, deadline="2024-05-30")

    def ids(**query) -> list[str]:
        return [h["id"] for h in site.get("/api/v1/hazards", **query).get_json()["items"]]

    same_day = sorted([first["id"], second["id"]], reverse=True)
    assert ids() == [later["id"], *same_day]
    assert ids(sort="found_at") == [*reversed(same_day), later["id"]]
    # No deadline yet: last, whichever way the deadlines run.
    assert ids(sort="deadline") == [second["id"], first["id"], later["id"]]
    assert ids(sort="-deadline") == [first["id"], second["id"], later["id"]]
    rows = list(csv.reader(io.StringIO(site.get("/api/v1/hazards", format="csv").data.decode())))
    assert [r[0] for r in rows[1:]] == ids()


def test_an_inspector_may_list_but_not_export_or_count(site) -> None:
    site.hazard()
    assert site.get("/api/v1/hazards", headers=site.inspector).status_code == 200
    csv_response = site.get("/api/v1/hazards", headers=site.inspector, format="csv")
    assert csv_response.status_code == 403
    assert site.get("/api/v1/hazards/aggregates", headers=site.inspector).status_code == 403


def test_a_hazards_history_says_who_when_from_which_device_with_what(site) -> None:
    hazard = site.hazard()
    order_id = site.order(hazard)
    detail = site.get(f"/api/v1/hazards/{hazard['id']}").get_json()
    assert detail["status"] == "ordered" and detail["deadline"] == "2024-05-20"
    actions = [(s["action"], s["from_status"], s["to_status"]) for s in detail["history"]]
    assert actions == [("find", None, "found"), ("order", "found", "ordered")]
    order = detail["history"][1]
    assert order["by"]["name"] == "王伟"
    assert order["device"]["name"] == "test phone"
    assert order["documents"][0]["id"] == order_id
    assert order["documents"][0]["number"] == "（南开）应急责改〔2024〕1号"
    assert order["label"] == "责令限期整改"
    assert detail["lifecycle"]["order_count"] == 1
    assert "report_done" in detail["allowed_actions"]


def test_a_manager_signs_off_a_major_hazard_from_the_office(site) -> None:
    hazard = site.hazard(level="major")
    site.order(hazard)
    site.reinspect(hazard, outcome="pass")
    pending = site.get(f"/api/v1/hazards/{hazard['id']}").get_json()
    assert pending["status"] == "pending_sign_off"
    assert pending["allowed_actions"] == ["sign_off"]

    refused = site.step(hazard["id"], headers=site.lead, action="sign_off")
    assert refused.status_code == 403 and refused.get_json()["error"]["code"] == "role_not_allowed"

    response = site.step(hazard["id"], action="sign_off", note="整改到位，同意销号")
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["status"] == "closed" and body["closed_at"]
    last = body["history"][-1]
    assert (last["action"], last["by"]["name"], last["note"]) == (
        "sign_off",
        "赵局长",
        "整改到位，同意销号",
    )
    assert last["device"] is not None  # the manager's logged-in device
    pulled = site.device.pull_all()
    assert any(c["entity"] == "hazard" and c["data"]["status"] == "closed" for c in pulled)


def test_an_illegal_step_is_409_naming_the_status_and_the_possible_steps(site) -> None:
    hazard = site.hazard()
    response = site.step(hazard["id"], action="sign_off")
    assert response.status_code == 409
    error = response.get_json()["error"]
    assert error["code"] == "illegal_transition"
    assert error["details"]["status"] == "found"
    assert error["details"]["allowed"] == ["fix_on_spot", "order", "reclassify"]
    assert "found" in error["message"]


def test_a_supervised_major_hazard_needs_a_complete_plan(site) -> None:
    hazard = site.hazard(level="major")
    incomplete = site.step(hazard["id"], action="supervise", responsible_person="张厂长")
    assert incomplete.status_code == 422
    assert incomplete.get_json()["error"]["code"] == "invalid_rectification_plan"
    plan = {
        "responsible_person": "张厂长",
        "measures": "更换储罐阀门，增设可燃气体报警器",
        "funds_fen": 12_000_000,
        "deadline": "2099-01-01",
        "emergency_arrangements": "停用储罐区，设置警戒",
    }
    too_far = site.step(hazard["id"], action="supervise", **plan)
    assert too_far.status_code == 422
    from datetime import date, timedelta

    plan["deadline"] = (date.today() + timedelta(days=90)).isoformat()
    response = site.step(hazard["id"], action="supervise", **plan)
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["supervised"] is True
    assert response.get_json()["lifecycle"]["plan"]["funds_fen"] == 12_000_000
    listed = site.get("/api/v1/hazards", supervised="true").get_json()
    assert [h["id"] for h in listed["items"]] == [hazard["id"]]
    again = site.step(hazard["id"], action="supervise", **plan)
    assert again.status_code == 409


def test_an_office_report_for_the_enterprise_needs_uploaded_evidence(site) -> None:
    hazard = site.hazard()
    site.order(hazard, deadline="2024-05-20")
    missing = site.step(hazard["id"], action="report_done", evidence_attachments=["a" * 64])
    assert missing.status_code == 422
    assert missing.get_json()["error"]["code"] == "attachment_missing"
    photo = site.device.upload(b"photo of the repaired switchboard")
    response = site.step(
        hazard["id"],
        headers=site.inspector,
        action="report_done",
        evidence_attachments=[photo],
        reported_at="2024-05-18T10:00:00+08:00",
        description="已更换配电箱锁具",
    )
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["status"] == "reported"
    assert body["history"][-1]["evidence"] == [photo]


def test_an_unknown_document_or_action_is_refused(site) -> None:
    hazard = site.hazard()
    bad_doc = site.step(
        hazard["id"],
        action="order",
        deadline="2099-01-01",
        document_id="00000000-0000-4000-8000-000000000000",
    )
    assert bad_doc.status_code == 422
    assert bad_doc.get_json()["error"]["code"] == "unknown_document"
    assert site.step(hazard["id"], action="teleport").status_code == 422
    assert site.step(hazard["id"], action="order", colour="red").status_code == 422


def test_another_agencys_hazard_is_not_found(site, world) -> None:
    hazard = site.hazard()
    world.agency("hexi", "天津市河西区应急管理局", "河西")
    stranger = world.headers("manager", agency="hexi")
    assert site.get(f"/api/v1/hazards/{hazard['id']}", headers=stranger).status_code == 404
    assert site.step(hazard["id"], headers=stranger, action="order").status_code == 404
    assert site.get("/api/v1/hazards", headers=stranger).get_json()["total"] == 0


def test_the_years_statistics_say_how_many_were_found_and_rectified(site) -> None:
    chem = site.enterprise("chem", name="天津化工有限公司", industry="hazardous_chemicals")
    closed = site.hazard(fixed_on_spot=True, photos=[site.device.upload(b"fixed")])
    major = site.hazard(chem, level="major")
    site.order(major)
    site.reinspect(major, outcome="pass")
    assert site.step(major["id"], action="sign_off").status_code == 200

    # The major one was signed off today, after 2024 ended: the year's own figure stays what
    # it was on 31 December; as_of asks for it as of today.
    at_year_end = site.get("/api/v1/hazards/aggregates", year=2024).get_json()["rectification"]
    assert (at_year_end["as_of"], at_year_end["closed"], at_year_end["rate"]) == (
        "2024-12-31",
        1,
        "50.0",
    )
    assert [h["id"] for h in at_year_end["blocking"]] == [major["id"]]
    assert at_year_end["summary"] == (
        "2024年共排查发现隐患2处，其中重大事故隐患1处，已整改1处，整改率50.0%"
    )
    today = site.get("/api/v1/hazards/aggregates").get_json()["as_of"]
    year = site.get("/api/v1/hazards/aggregates", year=2024, as_of=today).get_json()
    rect = year["rectification"]
    assert (rect["found"], rect["major"], rect["closed"], rect["rate"]) == (2, 1, 2, "100.0")
    y, m, d = (int(p) for p in today.split("-"))
    assert rect["summary"] == (
        f"2024年（截至{y}年{m}月{d}日）共排查发现隐患2处，其中重大事故隐患1处，"
        "已整改2处，整改率100.0%"
    )
    assert rect["blocking"] == []

    still_open = site.hazard(chem)
    year = site.get("/api/v1/hazards/aggregates", year=2024, as_of=today).get_json()
    rect = year["rectification"]
    assert (rect["found"], rect["closed"], rect["rate"]) == (3, 2, "66.7")
    assert [h["id"] for h in rect["blocking"]] == [still_open["id"]]
    assert year["by_status"]["closed"] == 2 and year["by_status"]["found"] == 1
    assert year["by_level"] == {"general": 2, "major": 1}
    industries = {i["industry"]: i for i in year["by_industry"]}
    assert industries["hazardous_chemicals"]["total"] == 2
    assert industries["hazardous_chemicals"]["open"] == 1
    assert industries["hazardous_chemicals"]["label"] == "危险化学品"
    assert {i["name"] for i in year["by_inspector"]} == {"王伟", "李娜"}
    assert sum(year["age_buckets"].values()) == 1 and year["age_buckets"][">365"] == 1
    assert len(year["open_vs_closed"]) == 12
    empty = site.get("/api/v1/hazards/aggregates", year=2023).get_json()
    assert empty["rectification"]["rate"] is None
    assert empty["rectification"]["rate_display"] == "—"
    assert closed["id"]
