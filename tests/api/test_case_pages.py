"""Penalty cases on the office pages: legal review, decision, publication deadline, publish."""

from __future__ import annotations

import io
from datetime import date, timedelta

import pytest
from pypdf import PdfReader

from tests.api.test_hazard_pages import csrf, sign_in
from tests.report_support import Bureau


@pytest.fixture
def bureau(world, client, app) -> Bureau:
    bureau = Bureau(world, client, app, code="nankai", name="天津市南开区应急管理局", abbr="南开")
    bureau.import_enterprises(key=0, general=2)
    world.user("boss", agency="nankai", role="manager")
    world.user("duizhang", agency="nankai", role="lead")
    return bureau


def test_a_manager_reviews_decides_and_publishes_a_major_case_from_its_page(bureau, app) -> None:
    today = date.today()
    case = bureau.case(today - timedelta(days=3), summary="未按规定开展安全生产教育培训")
    browser, _ = sign_in(app, "boss")
    listing = browser.get("/manage/cases").get_data(as_text=True)
    assert f'href="/manage/cases/{case["id"]}"' in listing and "办理中" in listing
    token = csrf(browser, f"/manage/cases/{case['id']}")
    decision_form = {
        "csrf_token": token,
        "decided_on": today.isoformat(),
        "entity_fine_yuan": "80000",
        "facts": "未按规定开展安全生产教育培训",
        "basis": "《安全生产法》第九十七条",
    }
    # 80,000 yuan on an entity is a major decision: legal review first.
    refused = browser.post(f"/manage/cases/{case['id']}/decision", data=decision_form)
    assert refused.status_code == 409
    assert "法制审核通过后才能作出" in refused.get_data(as_text=True)
    reviewed = browser.post(
        f"/manage/cases/{case['id']}/legal-review",
        data={"csrf_token": token, "reviewed_on": today.isoformat(), "opinion": "approved"},
    )
    assert reviewed.status_code == 302
    decided = browser.post(f"/manage/cases/{case['id']}/decision", data=decision_form)
    assert decided.status_code == 302
    page = browser.get(f"/manage/cases/{case['id']}").get_data(as_text=True)
    stored = bureau.client.get(f"/api/v1/cases/{case['id']}", headers=bureau.manager).get_json()
    decision = stored["decision"]
    assert decision["entity_fine_fen"] == 8_000_000
    assert decision["number"] in page and decision["publication"]["deadline"] in page
    assert 'id="publish-form"' in page and "待公示" in page
    pdf = browser.get(f"/manage/penalty-decisions/{decision['id']}.pdf")
    assert pdf.status_code == 200
    assert "行政处罚决定书" in PdfReader(io.BytesIO(pdf.data)).pages[0].extract_text()
    published = browser.post(f"/manage/cases/{case['id']}/publish", data={"csrf_token": token})
    assert published.status_code == 302
    after = browser.get(f"/manage/cases/{case['id']}").get_data(as_text=True)
    assert "已公示" in after and 'id="publish-form"' not in after


def test_a_lead_reads_cases_but_neither_reviews_nor_decides(bureau, app) -> None:
    case = bureau.case(date.today() - timedelta(days=1))
    browser, _ = sign_in(app, "duizhang")
    page = browser.get(f"/manage/cases/{case['id']}").get_data(as_text=True)
    assert 'id="review-form"' not in page and 'id="decision-form"' not in page
    token = csrf(browser, f"/manage/cases/{case['id']}")
    refused = browser.post(
        f"/manage/cases/{case['id']}/legal-review",
        data={"csrf_token": token, "reviewed_on": date.today().isoformat(), "opinion": "approved"},
    )
    assert refused.status_code == 403
    assert browser.post(f"/manage/cases/{case['id']}/legal-review", data={}).status_code == 400
    bad = sign_in(app, "boss")[0]
    wrong = bad.post(
        f"/manage/cases/{case['id']}/decision",
        data={"csrf_token": csrf(bad, "/manage/cases"), "decided_on": "soon"},
    )
    assert wrong.status_code == 422 and "decided_on" in wrong.get_data(as_text=True)
