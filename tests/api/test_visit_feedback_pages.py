"""The agency's page of what enterprises said: an average over enough ratings, complaints to
reply to, and activation codes for enterprise accounts."""

from __future__ import annotations

import re

import pytest

from tests.api.test_hazard_pages import csrf, sign_in
from tests.party_support import activate, make_party


@pytest.fixture
def party(world, client):
    party = make_party(world, client)
    world.user("zhang", role="lead", full_name="张强")
    return party


def test_a_lead_issues_an_activation_code_the_enterprise_then_uses(party, app) -> None:
    browser, signed_in = sign_in(app, "zhang")
    assert signed_in.status_code == 302
    token = csrf(browser, "/manage/feedback")
    page = browser.post(
        "/manage/feedback/activation-code", data={"csrf_token": token, "uscc": party.uscc.lower()}
    ).get_data(as_text=True)
    code = re.search(r'id="activation-code">([^<]+)<', page).group(1)
    assert code != party.code  # a new one replaces the fixture's
    assert activate(app, party.uscc, code).get("/enterprise/").status_code == 200
    # Not shown again.
    assert code not in browser.get("/manage/feedback").get_data(as_text=True)
    unknown = browser.post(
        "/manage/feedback/activation-code", data={"csrf_token": token, "uscc": "91120104MA0000000X"}
    )
    assert unknown.status_code == 404


def test_the_agency_replies_to_a_complaint_from_its_page(party, app) -> None:
    enterprise = activate(app, party.uscc, party.code)
    path = f"/enterprise/visits/{party.visits['scanned']}"
    enterprise.post(
        f"{path}/complaints", data={"csrf_token": csrf(enterprise, path), "text": "检查时间过长"}
    )
    browser, _ = sign_in(app, "zhang")
    page = browser.get("/manage/feedback").get_data(as_text=True)
    assert "检查时间过长" in page and "评价不足 5 条，暂不显示" in page
    complaint_id = re.search(r'data-complaint="([^"]+)"', page).group(1)
    token = csrf(browser, "/manage/feedback")
    done = browser.post(
        f"/manage/feedback/complaints/{complaint_id}/reply",
        data={"csrf_token": token, "text": "检查涉及三个车间，已向企业说明"},
    )
    assert done.status_code == 302
    assert "检查单位说明：检查涉及三个车间" in enterprise.get(path).get_data(as_text=True)


def test_the_page_needs_a_lead_or_manager(party, app) -> None:
    anonymous = app.test_client().get("/manage/feedback")
    assert anonymous.status_code == 302 and "/manage/login" in anonymous.headers["Location"]
