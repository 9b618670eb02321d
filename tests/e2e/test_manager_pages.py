"""Manager pages in real headless Chromium: sign in, filter, open a hazard, sign it off.

Needs Debian's ``chromium`` (/usr/bin/chromium) and the ``playwright`` Python package; never
``playwright install``. Screenshots go to pytest's temporary directory, not the repository.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.api.test_hazard_pages import png, upload_image
from tests.conftest import PASSWORD
from tests.hazard_support import Site, make_site

pytestmark = pytest.mark.browser

LAPTOP = {"width": 1366, "height": 900}
TABLET = {"width": 820, "height": 1180}


@pytest.fixture
def site(world, client) -> Site:
    return make_site(world, client)


@pytest.fixture
def field(site: Site) -> dict[str, Any]:
    """A chemical plant with an overdue hazard, a machinery works with a major one to sign off."""
    chem = site.enterprise("chem", name="天津渤海化工有限公司", industry="hazardous_chemicals")
    works = site.enterprise("works", name="天津宏达机械制造有限公司", industry="machinery")
    photo = upload_image(site, png("orange"))
    late = site.hazard(chem, description="储罐区未设置可燃气体报警器", photos=[photo])
    site.order(late, deadline="2024-05-20")
    major = site.hazard(works, level="major", description="冲压机光电保护装置失效")
    site.order(major, deadline="2024-05-30")
    site.reinspect(major, outcome="pass")
    site.hazard(works, description="配电箱未上锁")
    site.world.user("zhou", role="inspector", cert_no="12010420009", full_name="周强")
    return {"late": late, "major": major, "photo": photo, "chem": chem}


def sign_in(page: Any, base: str, username: str = "boss") -> None:
    page.goto(f"{base}/manage/hazards")
    assert "/manage/login" in page.url
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/manage/hazards")


def test_a_manager_signs_in_filters_and_opens_an_overdue_hazard(
    chromium, live_server, field, tmp_path
) -> None:
    context = chromium.new_context(viewport=LAPTOP, locale="zh-CN")
    page = context.new_page()
    try:
        sign_in(page, live_server)
        assert page.locator("#total").inner_text().startswith("共 3 处")

        page.select_option("select[name=industry]", "hazardous_chemicals")
        page.click("#filters button[type=submit]")
        page.wait_for_url("**industry=hazardous_chemicals**")
        rows = page.locator("#hazard-table tr[data-hazard]")
        assert rows.count() == 1
        assert "储罐区未设置可燃气体报警器" in rows.first.inner_text()
        assert "逾期" in rows.first.inner_text()
        page.screenshot(path=str(tmp_path / "filtered.png"), full_page=True)

        # Nobody but the phone's team found anything: another inspector's list is empty.
        page.select_option("select[name=inspector_id]", label="周强")
        page.click("#filters button[type=submit]")
        page.wait_for_url("**inspector_id=**")
        assert page.locator("#hazard-table tr[data-hazard]").count() == 0
        page.select_option("select[name=inspector_id]", label="王伟")
        page.click("#filters button[type=submit]")
        page.wait_for_url("**inspector_id=**")
        rows = page.locator("#hazard-table tr[data-hazard]")
        assert rows.count() == 1

        rows.first.locator("a.hazard-link").click()
        page.wait_for_url(f"**/manage/hazards/{field['late']['id']}")
        assert page.locator("#hazard-status").inner_text() == "限期整改中"
        assert "已逾期" in page.locator("#overdue-days").inner_text()
        history = page.locator("#history li")
        assert [history.nth(i).get_attribute("data-action") for i in range(history.count())] == [
            "find",
            "order",
        ]
        assert "王伟" in history.nth(1).inner_text()
        assert "（南开）应急责改〔2024〕1号" in history.nth(1).inner_text()
        image = page.locator("#photos img").first
        image.wait_for()
        assert page.evaluate("(img) => img.naturalWidth", image.element_handle()) == 32
        page.screenshot(path=str(tmp_path / "hazard.png"), full_page=True)
    finally:
        context.close()


def test_the_overdue_list_and_dashboard_charts_on_a_tablet(
    chromium, live_server, field, tmp_path
) -> None:
    context = chromium.new_context(viewport=TABLET, locale="zh-CN", has_touch=True)
    page = context.new_page()
    try:
        sign_in(page, live_server)
        page.click("text=逾期隐患")
        page.wait_for_url("**/manage/hazards/overdue")
        rows = page.locator("#hazard-table tr[data-hazard]")
        assert rows.count() == 1
        assert rows.first.get_attribute("data-hazard") == field["late"]["id"]

        page.goto(f"{live_server}/manage/?year=2024")
        summary = page.locator("#rectification-summary").inner_text()
        assert summary.startswith("2024年共排查发现隐患3处，其中重大事故隐患1处")
        assert page.locator("svg.chart").count() == 2
        box = page.locator("svg.chart").first.bounding_box()
        assert box is not None and 0 < box["width"] <= TABLET["width"]
        # Nothing on the page is wider than the tablet's screen.
        scroll = page.evaluate("document.documentElement.scrollWidth")
        assert scroll <= TABLET["width"]
        assert page.locator("#tile-overdue .n").inner_text() == "1"
        page.screenshot(path=str(tmp_path / "dashboard-tablet.png"), full_page=True)
    finally:
        context.close()


def test_a_manager_signs_off_a_major_hazard_and_it_leaves_the_open_list(
    chromium, live_server, field
) -> None:
    context = chromium.new_context(viewport=LAPTOP, locale="zh-CN")
    page = context.new_page()
    try:
        sign_in(page, live_server)
        page.goto(f"{live_server}/manage/hazards?status=pending_sign_off")
        page.locator("a.hazard-link", has_text="冲压机光电保护装置失效").click()
        page.wait_for_url(f"**/manage/hazards/{field['major']['id']}")
        page.fill("#sign-off textarea[name=note]", "整改到位，同意销号。")
        page.click("#sign-off button[type=submit]")
        page.wait_for_load_state()
        assert page.locator("#hazard-status").inner_text() == "已销号"
        assert page.locator("#sign-off").count() == 0
        last = page.locator("#history li").last
        assert last.get_attribute("data-action") == "sign_off"
        assert "赵局长" in last.inner_text()
        page.goto(f"{live_server}/manage/hazards")
        assert page.locator("#total").inner_text().startswith("共 2 处")
        page.click("nav.top button[type=submit]")
        page.wait_for_url("**/manage/login")
        page.goto(f"{live_server}/manage/hazards")
        assert "/manage/login" in page.url
    finally:
        context.close()
