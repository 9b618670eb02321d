"""The office's hazard steps as forms: order, report, re-inspect, supervise, each with its
documents, the document numbers linking to their PDFs."""

from __future__ import annotations

import io
from datetime import date, timedelta

import pytest
from pypdf import PdfReader

from tests.api.test_hazard_pages import csrf, png, sign_in
from tests.hazard_support import Site, make_site


@pytest.fixture
def site(world, client) -> Site:
    return make_site(world, client)


def later(days: int) -> str:
    return (date.today() + timedelta(days=days)).isoformat()


def detail(site: Site, hazard_id: str) -> dict:
    return site.get(f"/api/v1/hazards/{hazard_id}").get_json()


def step(browser, hazard_id: str, action: str, **form):
    token = csrf(browser, f"/manage/hazards/{hazard_id}")
    return browser.post(
        f"/manage/hazards/{hazard_id}/steps/{action}",
        data={"csrf_token": token, **form},
        content_type="multipart/form-data",
    )


def document_of(site: Site, hazard_id: str, action: str) -> dict:
    history = detail(site, hazard_id)["history"]
    (event,) = [e for e in history if e["action"] == action][-1:]
    (document,) = event["documents"]
    return document


def test_a_lead_orders_a_hazard_and_its_numbered_order_opens_as_pdf(site, app) -> None:
    hazard = site.hazard(description="消防通道堵塞")
    browser, _ = sign_in(app, "lead1")
    page = browser.get(f"/manage/hazards/{hazard['id']}").get_data(as_text=True)
    assert 'id="step-order"' in page and 'id="sign-off"' not in page
    done = step(browser, hazard["id"], "order", deadline=later(15), note="立即清理")
    assert done.status_code == 302
    state = detail(site, hazard["id"])
    assert state["status"] == "ordered" and state["deadline"] == later(15)
    order = document_of(site, hazard["id"], "order")
    assert order["number"].startswith("（南开）应急责改〔")
    page = browser.get(f"/manage/hazards/{hazard['id']}").get_data(as_text=True)
    assert f'href="/manage/documents/{order["id"]}.pdf"' in page
    pdf = browser.get(f"/manage/documents/{order['id']}.pdf")
    text = PdfReader(io.BytesIO(pdf.data)).pages[0].extract_text()
    assert "责令限期整改指令书" in text and "消防通道堵塞" in text


def test_the_enterprises_report_with_photos_then_a_passed_reinspection_closes_it(site, app) -> None:
    hazard = site.hazard()
    site.order(hazard)
    browser, _ = sign_in(app, "lead1")
    photo = png("green")
    reported = step(
        browser,
        hazard["id"],
        "report_done",
        description="已加锁并张贴警示标识",
        reported_at=f"{date.today().isoformat()}T00:00",
        evidence=(io.BytesIO(photo), "after.png", "image/png"),
    )
    assert reported.status_code == 302, reported.get_data(as_text=True)
    state = detail(site, hazard["id"])
    assert state["status"] == "reported"
    report = [e for e in state["history"] if e["action"] == "report_done"][0]
    assert len(report["evidence"]) == 1
    photo_page = browser.get(f"/manage/attachments/{report['evidence'][0]}")
    assert photo_page.status_code == 200 and photo_page.data == photo

    passed = step(browser, hazard["id"], "reinspect", outcome="pass", note="整改到位")
    assert passed.status_code == 302
    assert detail(site, hazard["id"])["status"] == "closed"
    opinion = document_of(site, hazard["id"], "reinspect")
    assert opinion["number"].startswith("（南开）应急复查〔")
    pdf = browser.get(f"/manage/documents/{opinion['id']}.pdf")
    assert "整改复查意见书" in PdfReader(io.BytesIO(pdf.data)).pages[0].extract_text()


def test_a_report_without_photos_is_refused_in_chinese_and_changes_nothing(site, app) -> None:
    hazard = site.hazard()
    site.order(hazard)
    browser, _ = sign_in(app, "lead1")
    refused = step(browser, hazard["id"], "report_done", description="已整改")
    assert refused.status_code == 422
    assert "此项操作需要先上传证据" in refused.get_data(as_text=True)
    past = step(browser, hazard["id"], "reinspect", outcome="fail", deadline="2020-01-01")
    assert past.status_code == 422
    assert detail(site, hazard["id"])["status"] == "ordered"


def test_a_manager_supervises_a_major_hazard_with_its_plan_in_yuan(site, app) -> None:
    hazard = site.hazard(level="major", description="冲压机光电保护装置失效")
    browser, _ = sign_in(app, "boss")
    done = step(
        browser,
        hazard["id"],
        "supervise",
        responsible_person="张厂长",
        measures="更换光电保护装置",
        funds_yuan="12500.50",
        deadline=later(60),
        emergency_arrangements="停用该冲压机",
    )
    assert done.status_code == 302
    state = detail(site, hazard["id"])
    assert state["supervised"] is True
    assert state["lifecycle"]["plan"]["funds_fen"] == 1_250_050
    listed = browser.get("/manage/hazards/supervised").get_data(as_text=True)
    assert "冲压机光电保护装置失效" in listed


def test_steps_need_the_role_the_token_and_a_known_action(site, app) -> None:
    hazard = site.hazard(level="major")
    site.order(hazard)
    site.reinspect(hazard, outcome="pass")
    lead, _ = sign_in(app, "lead1")
    refused = step(lead, hazard["id"], "sign_off", note="同意")
    assert refused.status_code == 403
    assert "您的角色无权进行此项操作" in refused.get_data(as_text=True)
    assert detail(site, hazard["id"])["status"] == "pending_sign_off"
    no_token = lead.post(f"/manage/hazards/{hazard['id']}/steps/order", data={"deadline": later(5)})
    assert no_token.status_code == 400
    assert step(lead, hazard["id"], "fly").status_code == 404
    boss, _ = sign_in(app, "boss")
    assert step(boss, hazard["id"], "sign_off", note="同意销号").status_code == 302
    assert detail(site, hazard["id"])["status"] == "closed"
