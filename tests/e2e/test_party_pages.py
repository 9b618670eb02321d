"""The enterprise's phone pages and the supervisor's alert pages in real headless Chromium.

Needs Debian's ``chromium`` (/usr/bin/chromium) and the ``playwright`` Python package; never
``playwright install``. Screenshots go to pytest's temporary directory.
"""

from __future__ import annotations

from typing import Any

import pytest

from server.services import supervision
from tests.party_support import ENTERPRISE_PASSWORD, make_party

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
LAPTOP = {"width": 1366, "height": 900}
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360f8cfc0f01f0005000201e2b4d4a70000000049454e44ae426082"
)


@pytest.fixture
def party(world, client):
    return make_party(world, client)


def _phone(chromium: Any) -> Any:  # noqa: F811 - the fixture's value
    return chromium.new_context(
        viewport=PHONE, locale="zh-CN", is_mobile=True, has_touch=True, device_scale_factor=2
    )


def test_an_enterprise_activates_sees_a_visit_rates_it_and_complains_from_its_phone(
    chromium,  # noqa: F811
    live_server,  # noqa: F811
    party,
    tmp_path,
) -> None:
    context = _phone(chromium)
    page = context.new_page()
    try:
        page.goto(f"{live_server}/enterprise/")
        assert "/enterprise/login" in page.url
        page.click("text=用激活码设置密码")
        page.fill("input[name=uscc]", party.uscc)
        page.fill("input[name=code]", party.code.lower().replace("-", ""))
        page.fill("input[name=password]", ENTERPRISE_PASSWORD)
        page.fill("input[name=password2]", ENTERPRISE_PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(f"{live_server}/enterprise/")
        assert "账号已激活" in page.inner_text("body")
        visits = page.locator("#visits li[data-visit]")
        assert visits.count() == 3
        # Phone-sized: nothing wider than the screen.
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        page.screenshot(path=str(tmp_path / "visits.png"), full_page=True)

        page.click(f"li[data-visit='{party.visits['scanned']}'] a")
        page.wait_for_url(f"**/enterprise/visits/{party.visits['scanned']}")
        assert "王伟（执法一大队，执法证 12010420001）" in page.inner_text("#officers")
        assert "责令限期整改指令书" in page.inner_text("#documents")

        page.check("#evaluation input[name=rating][value='4']")
        page.fill("#evaluation textarea[name=comment]", "检查规范，讲解清楚")
        page.click("#evaluation button[type=submit]")
        page.wait_for_load_state()
        assert "您已评价：4 星" in page.inner_text("#evaluation")

        page.fill("#complaints textarea[name=text]", "检查人员未出示执法证")
        photo = tmp_path / "gate.png"
        photo.write_bytes(PNG)
        page.set_input_files("#complaints input[name=photos]", str(photo))
        page.click("#complaints button[type=submit]")
        page.wait_for_load_state()
        complaint = page.locator("#complaints [data-complaint]")
        assert complaint.count() == 1
        assert "检查人员未出示执法证" in complaint.inner_text()
        assert "待答复" in complaint.inner_text()
        page.screenshot(path=str(tmp_path / "visit.png"), full_page=True)

        # Sign out and back in with the USCC and the new password.
        page.click("nav.top button[type=submit]")
        page.wait_for_url("**/enterprise/login")
        page.fill("input[name=uscc]", party.uscc)
        page.fill("input[name=password]", ENTERPRISE_PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(f"{live_server}/enterprise/")
    finally:
        context.close()


def test_an_enterprise_reports_a_hazard_fixed_with_a_photo(
    chromium,  # noqa: F811
    live_server,  # noqa: F811
    party,
    app,
    tmp_path,
) -> None:
    from tests.party_support import activate

    activate(app, party.uscc, party.code)  # activated already: sign in with the password
    context = _phone(chromium)
    page = context.new_page()
    try:
        page.goto(f"{live_server}/enterprise/login")
        page.fill("input[name=uscc]", party.uscc)
        page.fill("input[name=password]", ENTERPRISE_PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(f"{live_server}/enterprise/")
        hazard = page.locator(f"li[data-hazard='{party.hazard}']")
        assert "2024-05-20" in hazard.inner_text()
        photo = tmp_path / "fixed.png"
        photo.write_bytes(PNG)
        hazard.locator("textarea[name=description]").fill("已加锁并张贴警示标识")
        hazard.locator("input[name=photos]").set_input_files(str(photo))
        hazard.locator("button[type=submit]").click()
        page.wait_for_load_state()
        assert "整改情况已上报" in page.inner_text("body")
        assert "已报整改待复查" in page.locator(f"li[data-hazard='{party.hazard}']").inner_text()
    finally:
        context.close()


def test_a_supervisor_filters_alerts_opens_the_entries_behind_one_and_answers_a_complaint(
    chromium,  # noqa: F811
    live_server,  # noqa: F811
    party,
    app,
    tmp_path,
) -> None:
    from tests.party_support import activate, csrf

    browser = activate(app, party.uscc, party.code)
    path = f"/enterprise/visits/{party.visits['hexi']}"
    token = csrf(browser, path)
    browser.post(
        f"{path}/evaluation", data={"csrf_token": token, "rating": "1", "comment": "态度生硬"}
    )
    browser.post(f"{path}/complaints", data={"csrf_token": token, "text": "重复检查，影响生产"})
    with app.app_context():
        supervision.create_supervisor("jiandu", "jiandu-mima-2024", "孙监督", "天津市司法局")
    context = chromium.new_context(viewport=LAPTOP, locale="zh-CN")
    page = context.new_page()
    try:
        page.goto(f"{live_server}/supervise/")
        page.fill("input[name=username]", "jiandu")
        page.fill("input[name=password]", "jiandu-mima-2024")
        page.click("button[type=submit]")
        page.wait_for_url(f"{live_server}/supervise/")
        page.fill("#since-form input[name=since]", "2024-01-01")
        page.click("#since-form button[type=submit]")
        page.wait_for_url("**since=2024-01-01")
        kinds = {
            row.get_attribute("data-alert")
            for row in page.locator("#alert-table tr[data-alert]").all()
        }
        assert kinds == {"no_scan", "multi_department", "high_frequency", "low_rating"}
        page.screenshot(path=str(tmp_path / "alerts.png"), full_page=True)

        page.click("#kinds a[data-kind=multi_department]")
        page.wait_for_url("**kind=multi_department**")
        rows = page.locator("#alert-table tr[data-alert]")
        assert rows.count() == 1 and "多头检查" in rows.first.inner_text()
        with page.expect_download() as download:
            page.click("#export")
        exported = download.value.path().read_text(encoding="utf-8-sig")
        assert "多头检查" in exported and party.visits["hexi"] in exported

        rows.first.locator("a", has_text="记录2").click()
        page.wait_for_url(f"**/supervise/entries/{party.visits['hexi']}")
        assert "天津市河西区应急管理局" in page.inner_text("body")
        assert "态度生硬" in page.inner_text("body")

        page.click("text=重复检查，影响生产")
        page.fill("textarea[name=text]", "已约谈检查单位，今后统筹联合检查。")
        page.check("input[name=close]")
        page.click("form button[type=submit]:has-text('提交答复')")
        page.wait_for_load_state()
        assert page.inner_text("#complaint-status") == "已办结"
        assert "已约谈检查单位" in page.inner_text("#messages")
    finally:
        context.close()


def test_an_enterprise_scans_an_inspectors_code_and_sees_who_is_at_the_gate(
    chromium,  # noqa: F811
    live_server,  # noqa: F811
    party,
    client,
    tmp_path,
) -> None:
    issued = client.get("/api/v1/inspector-code", headers=party.device.headers).get_json()
    path = "/" + issued["url"].split("/", 3)[3]
    context = _phone(chromium)
    page = context.new_page()
    try:
        page.goto(f"{live_server}{path}")
        assert page.inner_text("#inspector-name") == "王伟"
        assert page.inner_text("#cert-no") == "12010420001"
        assert "安全生产法" in page.inner_text("#legal-basis")
        page.screenshot(path=str(tmp_path / "verified.png"), full_page=True)
        forged = path[:-3] + ("AAA" if not path.endswith("AAA") else "BBB")
        page.goto(f"{live_server}{forged}")
        assert "可能被伪造或篡改" in page.inner_text("#warning")
        assert page.locator("#inspector-name").count() == 0
    finally:
        context.close()


def test_a_lead_issues_a_code_in_the_office_and_the_enterprise_activates_with_it(
    chromium,  # noqa: F811
    live_server,  # noqa: F811
    party,
    world,
) -> None:
    from tests.conftest import PASSWORD

    world.user("zhang", role="lead", full_name="张强")
    office = chromium.new_context(viewport=LAPTOP, locale="zh-CN")
    phone = _phone(chromium)
    try:
        page = office.new_page()
        page.goto(f"{live_server}/manage/feedback")
        page.fill("input[name=username]", "zhang")
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(f"{live_server}/manage/feedback")
        page.fill("#activation input[name=uscc]", party.uscc)
        page.click("#activation button[type=submit]")
        code = page.inner_text("#activation-code")

        mobile = phone.new_page()
        mobile.goto(f"{live_server}/enterprise/activate")
        mobile.fill("input[name=uscc]", party.uscc)
        mobile.fill("input[name=code]", code)
        mobile.fill("input[name=password]", ENTERPRISE_PASSWORD)
        mobile.fill("input[name=password2]", ENTERPRISE_PASSWORD)
        mobile.click("button[type=submit]")
        mobile.wait_for_url(f"{live_server}/enterprise/")
        assert mobile.locator("#visits li[data-visit]").count() == 3
    finally:
        office.close()
        phone.close()
