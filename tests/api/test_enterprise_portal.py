"""The enterprise's side: activation, sign-in limits, its visits across agencies, ratings,
complaints and rectification reports from its phone pages."""

from __future__ import annotations

import io
from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from server.extensions import db
from server.models import EnterpriseAccount, Hazard, Rectification, User, VisitEvaluation
from tests.party_support import ENTERPRISE_PASSWORD, activate, csrf, make_party


@pytest.fixture
def party(world, client):
    return make_party(world, client)


def _sign_in(app, uscc: str, password: str):
    browser = app.test_client()
    token = csrf(browser, "/enterprise/login")
    return browser, browser.post(
        "/enterprise/login", data={"csrf_token": token, "uscc": uscc, "password": password}
    )


def test_the_activation_code_is_shown_once_and_only_its_hash_is_kept(party, app) -> None:
    with app.app_context():
        account = db.session.scalar(sa.select(EnterpriseAccount))
        assert account.uscc == party.uscc
        assert party.code not in (account.activation_code_hash or "")
        assert account.password_hash is None


def test_an_inspector_may_not_issue_activation_codes(party, client) -> None:
    refused = client.post(
        f"/api/v1/enterprises/{party.nankai['id']}/activation-code", headers=party.device.headers
    )
    assert refused.status_code == 403


def test_an_enterprise_activates_once_then_signs_in_with_its_uscc(party, app) -> None:
    browser = activate(app, party.uscc, party.code)
    assert "天津市宏达机械制造有限公司" in browser.get("/enterprise/").get_data(as_text=True)
    # The code is used up.
    again = app.test_client()
    token = csrf(again, "/enterprise/activate")
    reused = again.post(
        "/enterprise/activate",
        data={
            "csrf_token": token,
            "uscc": party.uscc,
            "code": party.code,
            "password": "another-password",
            "password2": "another-password",
        },
    )
    assert reused.status_code == 422
    _, signed_in = _sign_in(app, party.uscc, ENTERPRISE_PASSWORD)
    assert signed_in.status_code == 302 and signed_in.headers["Location"] == "/enterprise/"
    _, wrong = _sign_in(app, party.uscc, "not-the-password")
    assert wrong.status_code == 401


def test_five_wrong_passwords_lock_the_account_even_against_the_right_one(party, app) -> None:
    activate(app, party.uscc, party.code)
    for _ in range(5):
        assert _sign_in(app, party.uscc, "guess-guess")[1].status_code == 401
    _, locked = _sign_in(app, party.uscc, ENTERPRISE_PASSWORD)
    assert locked.status_code == 401 and "15 分钟" in locked.get_data(as_text=True)


def test_pages_need_a_signed_in_enterprise_and_forms_need_the_csrf_token(party, app) -> None:
    anonymous = app.test_client().get("/enterprise/")
    assert anonymous.status_code == 302 and anonymous.headers["Location"] == "/enterprise/login"
    browser = activate(app, party.uscc, party.code)
    forged = browser.post(
        f"/enterprise/visits/{party.visits['scanned']}/evaluation", data={"rating": "5"}
    )
    assert forged.status_code == 400
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(VisitEvaluation.id))) == 0


def test_the_enterprise_sees_every_agencys_visits_with_who_came_and_what_was_found(
    party, app
) -> None:
    browser = activate(app, party.uscc, party.code)
    page = browser.get("/enterprise/").get_data(as_text=True)
    for inspection_id in party.visits.values():
        assert f'data-visit="{inspection_id}"' in page
    assert "天津市南开区应急管理局" in page and "天津市河西区应急管理局" in page
    assert "王伟（执法一大队，执法证 12010420001）" in page
    assert "发现隐患 1 处" in page and "未扫码登记" in page
    detail = browser.get(f"/enterprise/visits/{party.visits['scanned']}").get_data(as_text=True)
    assert "责令限期整改指令书" in detail and "应急责改" in detail
    assert "配电箱未上锁" in detail


def test_another_enterprises_visit_is_not_found(party, world, client, app) -> None:
    other = world.enterprise(party.lead, name="天津市另一家有限公司")
    from tests.sync_support import inspection_op

    theirs = inspection_op(other["id"], party.team)
    assert party.device.push([theirs])[0]["status"] == "applied"
    browser = activate(app, party.uscc, party.code)
    assert browser.get(f"/enterprise/visits/{theirs['id']}").status_code == 404
    token = csrf(browser, "/enterprise/")
    rated = browser.post(
        f"/enterprise/visits/{theirs['id']}/evaluation", data={"csrf_token": token, "rating": "1"}
    )
    assert rated.status_code == 404


def test_a_visit_is_rated_once(party, app) -> None:
    browser = activate(app, party.uscc, party.code)
    path = f"/enterprise/visits/{party.visits['scanned']}"
    token = csrf(browser, path)
    for rating in ("4", "1"):
        browser.post(
            f"{path}/evaluation", data={"csrf_token": token, "rating": rating, "comment": "规范"}
        )
    with app.app_context():
        ratings = db.session.scalars(sa.select(VisitEvaluation.rating)).all()
    assert ratings == [4]
    assert "这次检查已评价过" in browser.get(path).get_data(as_text=True)


@pytest.mark.parametrize("rating", ["0", "6", "", "五"])
def test_a_rating_outside_one_to_five_is_refused(party, app, rating) -> None:
    browser = activate(app, party.uscc, party.code)
    path = f"/enterprise/visits/{party.visits['scanned']}"
    token = csrf(browser, path)
    browser.post(f"{path}/evaluation", data={"csrf_token": token, "rating": rating})
    assert "评分为 1 到 5 星" in browser.get(path).get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(VisitEvaluation.id))) == 0


def test_a_complaint_with_a_photo_reaches_the_agency_with_an_answer_deadline(
    party, app, client
) -> None:
    browser = activate(app, party.uscc, party.code)
    path = f"/enterprise/visits/{party.visits['scanned']}"
    token = csrf(browser, path)
    photo = b"\x89PNG\r\n\x1a\n complaint photo"
    browser.post(
        f"{path}/complaints",
        data={
            "csrf_token": token,
            "text": "检查人员未出示执法证",
            "photos": (io.BytesIO(photo), "gate.png", "image/png"),
        },
        content_type="multipart/form-data",
    )
    listed = client.get("/api/v1/visit-complaints", headers=party.lead).get_json()
    assert [c["text"] for c in listed] == ["检查人员未出示执法证"]
    made = date.fromisoformat(listed[0]["created_at"][:10])
    assert listed[0]["status"] == "open"
    assert date.fromisoformat(listed[0]["answer_due"]) - made == timedelta(days=15)
    assert "account_id" not in listed[0]
    # The photo is the agency's attachment now, readable by its users.
    sha = listed[0]["photo_attachments"][0]
    assert client.get(f"/api/v1/attachments/{sha}", headers=party.lead).data == photo
    # The other agency sees nothing of it.
    assert client.get("/api/v1/visit-complaints", headers=party.hexi_lead).get_json() == []
    replied = client.post(
        f"/api/v1/visit-complaints/{listed[0]['id']}/replies",
        json={"text": "已核实，执法人员出示了执法证，附执法记录仪录像。"},
        headers=party.lead,
    )
    assert replied.status_code == 201
    assert "检查单位说明：已核实" in browser.get(path).get_data(as_text=True)


def test_an_empty_complaint_is_refused(party, app, client) -> None:
    browser = activate(app, party.uscc, party.code)
    path = f"/enterprise/visits/{party.visits['scanned']}"
    token = csrf(browser, path)
    browser.post(f"{path}/complaints", data={"csrf_token": token, "text": "  "})
    assert "请写明投诉内容" in browser.get(path).get_data(as_text=True)
    assert client.get("/api/v1/visit-complaints", headers=party.lead).get_json() == []


def test_the_enterprises_rectification_report_is_the_devices_record_marked_as_its_own(
    party, app, client
) -> None:
    browser = activate(app, party.uscc, party.code)
    page = browser.get("/enterprise/").get_data(as_text=True)
    assert f'data-hazard="{party.hazard}"' in page and "2024-05-20" in page
    token = csrf(browser, "/enterprise/")
    photo = b"\x89PNG\r\n\x1a\n fixed the box"
    done = browser.post(
        f"/enterprise/hazards/{party.hazard}/rectification",
        data={
            "csrf_token": token,
            "description": "已加锁并张贴警示标识",
            "photos": (io.BytesIO(photo), "fixed.png", "image/png"),
        },
        content_type="multipart/form-data",
    )
    assert done.status_code == 302
    with app.app_context():
        report = db.session.scalar(sa.select(Rectification))
        hazard = db.session.get(Hazard, report.hazard_id)
        author = db.session.get(User, report.created_by)
        assert hazard.status == "reported"
        assert report.description == "已加锁并张贴警示标识"
        assert author.full_name == "企业自行上报" and not author.active
    # The inspectors' phones receive it like any other report.
    pulled = party.device.pull_all()
    reports = [c for c in pulled if c["entity"] == "rectification"]
    assert [r["data"]["description"] for r in reports] == ["已加锁并张贴警示标识"]
    # Reported already: a second report is refused by the lifecycle, nothing is recorded.
    browser.post(
        f"/enterprise/hazards/{party.hazard}/rectification",
        data={"csrf_token": token, "photos": (io.BytesIO(photo), "again.png", "image/png")},
        content_type="multipart/form-data",
    )
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Rectification.id))) == 1


def test_the_agency_sees_no_rating_summary_under_five_ratings(party, app, client) -> None:
    browser = activate(app, party.uscc, party.code)
    for name in ("scanned", "unscanned"):
        path = f"/enterprise/visits/{party.visits[name]}"
        token = csrf(browser, path)
        browser.post(f"{path}/evaluation", data={"csrf_token": token, "rating": "2"})
    summary = client.get("/api/v1/visit-ratings", headers=party.lead).get_json()
    assert summary == {"shown": False, "count": None, "average": None, "minimum_ratings": 5}


def test_a_drawn_enterprise_sees_its_task_only_where_the_plan_gives_notice(
    party, app, client
) -> None:
    from tests.draw_support import plan_payload

    plan = client.post(
        "/api/v1/draw-plans",
        json=plan_payload(rates={"risk:good": "1"}, default_rate="1", name="第二季度双随机抽查"),
        headers=party.lead,
    ).get_json()
    drawn = client.post(f"/api/v1/draw-plans/{plan['id']}/run", json={}, headers=party.lead)
    assert drawn.status_code == 201, drawn.get_json()
    browser = activate(app, party.uscc, party.code)
    assert 'id="notices"' not in browser.get("/enterprise/").get_data(as_text=True)
    refused = client.post(
        f"/api/v1/draw-plans/{plan['id']}/advance-notice",
        json={"advance_notice": True},
        headers=party.device.headers,
    )
    assert refused.status_code == 403
    done = client.post(
        f"/api/v1/draw-plans/{plan['id']}/advance-notice",
        json={"advance_notice": True},
        headers=party.lead,
    )
    assert done.status_code == 200 and done.get_json()["advance_notice"] is True
    page = browser.get("/enterprise/").get_data(as_text=True)
    notices = page.split('id="notices"')[1].split("</div>")[0]
    assert "第二季度双随机抽查" in notices and "天津市南开区应急管理局" in notices
    assert notices.count("data-task=") == 1


def test_the_agency_sets_how_long_a_complaint_may_wait_for_its_answer(
    party, app, client, world
) -> None:
    manager = world.headers("manager")
    too_long = client.patch(
        "/api/v1/agency/settings",
        json={"supervision": {"complaint_answer_days": 90}},
        headers=manager,
    )
    assert too_long.status_code == 422
    changed = client.patch(
        "/api/v1/agency/settings",
        json={"supervision": {"complaint_answer_days": 5}},
        headers=manager,
    )
    assert changed.status_code == 200, changed.get_json()
    assert changed.get_json()["supervision"] == {"complaint_answer_days": 5}
    browser = activate(app, party.uscc, party.code)
    path = f"/enterprise/visits/{party.visits['scanned']}"
    browser.post(f"{path}/complaints", data={"csrf_token": csrf(browser, path), "text": "拖延"})
    [complaint] = client.get("/api/v1/visit-complaints", headers=party.lead).get_json()
    made = date.fromisoformat(complaint["created_at"][:10])
    assert date.fromisoformat(complaint["answer_due"]) - made == timedelta(days=5)
