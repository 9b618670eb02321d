"""The office in real headless Chromium: where one lands, the API docs, and each role's jobs.

Needs Debian's ``chromium`` and the ``playwright`` Python package (see test_manager_pages).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlparse

import pytest

from tests.conftest import PASSWORD
from tests.e2e.test_manager_pages import LAPTOP

pytestmark = pytest.mark.browser


def sign_in_from_root(page: Any, base: str, username: str) -> None:
    """Open the bare address, as a newcomer would, and sign in there."""
    page.goto(base + "/")
    page.wait_for_url("**/manage/login**")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/manage/")


def test_the_bare_address_opens_the_chinese_sign_in_and_then_the_overview(
    chromium,  # noqa: F811
    live_server,  # noqa: F811
    world,
) -> None:
    world.agency()
    world.user("boss", role="manager", full_name="赵局长")
    context = chromium.new_context(viewport=LAPTOP, locale="zh-CN")
    page = context.new_page()
    try:
        page.goto(live_server + "/")
        page.wait_for_url("**/manage/login**")
        assert page.locator("html").get_attribute("lang") == "zh-CN"
        assert "登录" in page.locator("body").inner_text()
        sign_in_from_root(page, live_server, "boss")
        assert "boss" in page.locator("nav.top").inner_text()
    finally:
        context.close()


def test_the_api_docs_render_with_nothing_fetched_from_another_host(
    chromium,  # noqa: F811
    live_server,  # noqa: F811
) -> None:
    context = chromium.new_context(viewport=LAPTOP)
    page = context.new_page()
    hosts: set[str] = set()
    page.on("request", lambda request: hosts.add(urlparse(request.url).netloc))
    try:
        page.goto(live_server + "/docs")
        title = page.locator(".swagger-ui .info .title")
        title.wait_for(timeout=15_000)
        assert "Field enforcement service" in title.inner_text()
        page.locator(".opblock-tag", has_text="draws").first.wait_for()
        assert hosts == {urlparse(live_server).netloc}
    finally:
        context.close()


def test_a_lead_finds_an_enterprise_downloads_its_poster_and_the_qr_decodes(
    chromium,  # noqa: F811
    live_server,  # noqa: F811
    world,
    client,
) -> None:
    import io

    from pypdf import PdfReader

    from tests.hazard_support import make_site
    from tests.qr_support import qr_texts

    site = make_site(world, client)
    works = site.enterprise("works", name="天津宏达机械制造有限公司", industry="machinery")
    site.enterprise("chem", name="天津渤海化工有限公司", industry="hazardous_chemicals")
    context = chromium.new_context(viewport=LAPTOP, locale="zh-CN", accept_downloads=True)
    page = context.new_page()
    try:
        sign_in_from_root(page, live_server, "lead1")
        page.click("nav.top >> text=企业名录")
        page.wait_for_url("**/manage/enterprises")
        page.fill("input[name=q]", "宏达")
        page.click("#filters button[type=submit]")
        page.wait_for_url("**q=**")
        rows = page.locator("#enterprise-table tr[data-enterprise]")
        assert rows.count() == 1
        link = rows.first.locator("a.poster-link")
        poster = context.request.get(live_server + link.get_attribute("href"))
        assert poster.status == 200 and poster.headers["content-type"] == "application/pdf"
        pdf_page = PdfReader(io.BytesIO(poster.body())).pages[0]
        assert works["name"] in pdf_page.extract_text()
        (url,) = qr_texts(pdf_page.images[0].image)
        assert url.startswith("https://enforce.example.cn/e/")
        # The enterprise's page: its facts, visits, documents and scans, its hazards.
        page.goto(f"{live_server}/manage/enterprises/{works['id']}")
        for section in ("#enterprise-facts", "#enterprise-visits", "#enterprise-documents",
                        "#enterprise-scans", "#enterprise-hazards"):
            assert page.locator(section).is_visible(), section
        assert "尚无检查记录" in page.locator("#enterprise-visits").inner_text()
        # The code leads a camera user to the public page naming the enterprise.
        page.goto(live_server + url.removeprefix("https://enforce.example.cn"))
        assert works["name"] in page.locator("body").inner_text()
    finally:
        context.close()


def test_a_lead_plans_a_draw_runs_it_redraws_and_opens_the_published_page(
    chromium,  # noqa: F811
    live_server,  # noqa: F811
    world,
    client,
) -> None:
    from tests.draw_support import make_field

    world.agency()
    make_field(world, client, good=4, poor=2, key=1)
    world.user("duizhang", role="lead", full_name="孙队长")
    context = chromium.new_context(viewport=LAPTOP, locale="zh-CN")
    page = context.new_page()
    try:
        sign_in_from_root(page, live_server, "duizhang")
        page.click("nav.top >> text=双随机抽查")
        page.click("#new-plan")
        page.fill("input[name=name]", "2024年第二季度一般企业抽查")
        page.fill("input[data-stratum='risk:good']", "50")
        page.fill("input[data-stratum='risk:poor']", "100")
        page.click("#plan-form button[type=submit]")
        page.wait_for_url("**/manage/draw-plans/*")
        assert page.locator("#plan-name").inner_text() == "2024年第二季度一般企业抽查"
        assert "风险等级好 50%" in page.locator("#plan-rates").inner_text()

        page.click("#run-form button[type=submit]")
        page.wait_for_url("**/manage/draws/*")
        drawn = int(page.locator("#drawn-count").inner_text())
        teams = page.locator("#teams tr[data-enterprise]")
        assert drawn == teams.count() > 0
        for i in range(teams.count()):
            assert teams.nth(i).locator("td.team").inner_text().count("（") >= 2
        first_url = page.url

        page.fill("#redraw-form textarea[name=redraw_reason]", "原抽中企业已注销，重新抽取")
        page.click("#redraw-form button[type=submit]")
        page.wait_for_url(lambda url: "/manage/draws/" in url and url != first_url)
        assert page.locator("#redraw-reason").inner_text() == "原抽中企业已注销，重新抽取"
        page.click("#public-page")
        page.wait_for_url("**/public/draws/*")
        assert "原抽中企业已注销，重新抽取" in page.locator("body").inner_text()
        page.goto(first_url)
        assert page.locator("#superseded").count() == 1
    finally:
        context.close()


def test_a_lead_orders_a_hazard_on_its_page_and_opens_the_order_pdf(
    chromium,  # noqa: F811
    live_server,  # noqa: F811
    world,
    client,
    tmp_path,
) -> None:
    import io
    from datetime import date, timedelta

    from pypdf import PdfReader

    from tests.hazard_support import make_site

    site = make_site(world, client)
    hazard = site.hazard(description="消防通道堵塞，杂物堆放")
    deadline = (date.today() + timedelta(days=15)).isoformat()
    context = chromium.new_context(viewport=LAPTOP, locale="zh-CN")
    page = context.new_page()
    try:
        sign_in_from_root(page, live_server, "lead1")
        page.goto(f"{live_server}/manage/hazards")
        page.locator("a.hazard-link", has_text="消防通道堵塞").click()
        page.wait_for_url(f"**/manage/hazards/{hazard['id']}")
        page.fill("#step-order input[name=deadline]", deadline)
        page.fill("#step-order input[name=note]", "立即清理消防通道")
        page.click("#step-order button[type=submit]")
        page.wait_for_url(f"**/manage/hazards/{hazard['id']}#history")
        assert page.locator("#hazard-status").inner_text() == "限期整改中"
        assert page.locator("#hazard-deadline").inner_text().startswith(deadline)
        link = page.locator("#history li[data-action=order] a.document-link")
        number = link.inner_text()
        assert number.startswith("（南开）应急责改〔") and number.endswith("号")
        page.screenshot(path=str(tmp_path / "ordered.png"), full_page=True)
        pdf = context.request.get(live_server + link.get_attribute("href"))
        assert pdf.status == 200 and pdf.headers["content-type"] == "application/pdf"
        text = PdfReader(io.BytesIO(pdf.body())).pages[0].extract_text()
        assert "责令限期整改指令书" in text and "消防通道堵塞" in text
        assert number in text.replace(" ", "").replace("\n", "")
    finally:
        context.close()


def test_each_role_signs_in_and_sees_its_own_menu_and_the_admin_adds_a_user(
    chromium,  # noqa: F811
    live_server,  # noqa: F811
    world,
    client,
) -> None:
    from tests.hazard_support import make_site

    make_site(world, client)
    world.user("root", role="admin", full_name="系统管理员", cert_no=None)
    menus = {}
    for username in ("lead1", "boss", "root"):
        context = chromium.new_context(viewport=LAPTOP, locale="zh-CN")
        page = context.new_page()
        try:
            page.goto(live_server + "/")
            page.fill("input[name=username]", username)
            page.fill("input[name=password]", PASSWORD)
            page.click("button[type=submit]")
            page.wait_for_load_state()
            links = page.locator("nav.top a")
            menus[username] = [links.nth(i).inner_text() for i in range(links.count())]
            if username == "root":
                assert page.url.endswith("/manage/users")
                page.fill("#user-form input[name=username]", "chen")
                page.fill("#user-form input[name=full_name]", "陈刚")
                page.select_option("#user-form select[name=role]", "inspector")
                page.fill("#user-form input[name=password]", "chen-pass-2024")
                page.click("#user-form button[type=submit]")
                page.wait_for_load_state()
                assert "陈刚" in page.locator("#users tr[data-user=chen]").inner_text()
                page.goto(live_server + "/manage/hazards")
                assert "您的角色无权进行此项操作" in page.locator("#error").inner_text()
        finally:
            context.close()
    assert "双随机抽查" in menus["lead1"] and "用户管理" not in menus["lead1"]
    assert "总览" in menus["boss"] and "用户管理" not in menus["boss"]
    assert "用户管理" in menus["root"] and "隐患清单" not in menus["root"]
    login = client.post(
        "/api/v1/auth/login",
        json={"username": "chen", "password": "chen-pass-2024", "device_id": "p-chen"},
    )
    assert login.status_code == 200


def _overlap(a: dict[str, float], b: dict[str, float]) -> bool:
    return not (
        a["x"] + a["width"] <= b["x"]
        or b["x"] + b["width"] <= a["x"]
        or a["y"] + a["height"] <= b["y"]
        or b["y"] + b["height"] <= a["y"]
    )


def test_the_annual_report_opens_on_its_year_with_titled_charts_whose_labels_stay_apart(
    chromium,  # noqa: F811
    live_server,  # noqa: F811
    world,
    client,
    app,
) -> None:
    from datetime import date

    from tests.report_support import Bureau

    bureau = Bureau(world, client, app, code="nankai", name="天津市南开区应急管理局", abbr="南开")
    bureau.import_enterprises(key=1, general=2)
    world.user("boss", agency="nankai", role="manager")
    bureau.plan(2024, {bureau.enterprises["key"][0]: 2}, general=4, caps={})
    for n in range(3):
        bureau.inspect(2024, bureau.enterprises["general"][n % 2], "random")
    bureau.flush()
    bureau.decide(bureau.case(date(2024, 3, 1)), date(2024, 3, 6), entity=50_000)
    context = chromium.new_context(viewport=LAPTOP, locale="zh-CN")
    page = context.new_page()
    try:
        sign_in_from_root(page, live_server, "boss")
        page.click("nav.top >> text=年度统计")
        page.wait_for_url("**/manage/reports/annual")
        assert "2024年行政执法工作统计" in page.locator("h1").inner_text()
        titles = page.locator("text.chart-title")
        assert titles.count() == 2
        for i in range(2):
            assert titles.nth(i).is_visible()
            box = titles.nth(i).bounding_box()
            assert box is not None and box["height"] >= 10
        labels = page.locator("#comparison-chart text.axis-label")
        boxes = [labels.nth(i).bounding_box() for i in range(labels.count())]
        assert len(boxes) == 10
        for i, a in enumerate(boxes):
            for b in boxes[i + 1 :]:
                assert not _overlap(a, b)
        bars = page.locator("#completion-chart svg").bounding_box()
        assert bars is not None and bars["width"] <= 480
    finally:
        context.close()


def test_a_manager_follows_report_figures_down_to_their_records_and_counts_them(
    chromium,  # noqa: F811
    live_server,  # noqa: F811
    world,
    client,
    app,
) -> None:
    from datetime import date

    from tests.report_support import Bureau

    bureau = Bureau(world, client, app, code="nankai", name="天津市南开区应急管理局", abbr="南开")
    bureau.import_enterprises(key=1, general=3)
    world.user("boss", agency="nankai", role="manager")
    for n in range(4):
        bureau.inspect(2024, bureau.enterprises["general"][n % 3], "random")
    bureau.flush()
    for n in range(2):
        bureau.decide(bureau.case(date(2024, 4, 1 + n)), date(2024, 4, 5 + n), entity=20_000)
    bureau.case(date(2024, 6, 1))
    context = chromium.new_context(viewport=LAPTOP, locale="zh-CN")
    page = context.new_page()
    try:
        sign_in_from_root(page, live_server, "boss")
        page.goto(f"{live_server}/manage/reports/annual?year=2024")
        followed = 0
        for figure in ("inspections", "decisions", "cases_opened"):
            link = page.locator(f"a.figure[data-figure={figure}][data-year='2024']").first
            shown = int(link.inner_text())
            link.click()
            page.wait_for_url(f"**/figures/{figure}?year=2024")
            assert page.locator("tr.record").count() == shown > 0
            assert page.locator("#figure-total strong").first.inner_text() == str(shown)
            followed += 1
            page.go_back()
        assert followed == 3
    finally:
        context.close()


def test_a_manager_reviews_and_decides_a_case_and_sees_its_publication_deadline(
    chromium,  # noqa: F811
    live_server,  # noqa: F811
    world,
    client,
    app,
) -> None:
    from datetime import date, timedelta

    from tests.report_support import Bureau

    bureau = Bureau(world, client, app, code="nankai", name="天津市南开区应急管理局", abbr="南开")
    bureau.import_enterprises(key=0, general=1)
    world.user("boss", agency="nankai", role="manager")
    today = date.today()
    bureau.case(today - timedelta(days=2), summary="未按规定配备安全生产管理人员")
    context = chromium.new_context(viewport=LAPTOP, locale="zh-CN")
    page = context.new_page()
    try:
        sign_in_from_root(page, live_server, "boss")
        page.click("nav.top >> text=处罚案件")
        page.click("a.case-link")
        page.fill("#review-form input[name=reviewed_on]", today.isoformat())
        page.click("#review-form button[type=submit]")
        page.wait_for_load_state()
        assert "同意" in page.locator("#reviews").inner_text()
        page.fill("#decision-form input[name=decided_on]", today.isoformat())
        page.fill("#decision-form input[name=entity_fine_yuan]", "60000")
        page.click("#decision-form button[type=submit]")
        page.wait_for_load_state()
        assert page.locator("#case-status").inner_text() == "已作出处罚决定"
        assert page.locator("#decision-number").inner_text().endswith("号")
        assert "7个工作日内" in page.locator("#publication-deadline").inner_text()
        page.click("#publish-form button[type=submit]")
        page.wait_for_load_state()
        assert page.locator("#publication-state").inner_text().startswith("已公示")
    finally:
        context.close()
