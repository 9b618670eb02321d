"""Pages for penalties: the public list by pages, the managers' publication watch, downloads."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime

import pytest
from openpyxl import load_workbook

from tests.api.test_hazard_pages import csrf, sign_in
from tests.report_support import Bureau, at_moment

YEAR = date.today().year


@pytest.fixture
def bureau(world, client, app) -> Bureau:
    bureau = Bureau(world, client, app, code="nankai", name="天津市南开区应急管理局", abbr="南开")
    bureau.import_enterprises(key=0, general=3)
    world.user("boss", agency="nankai", role="manager")
    return bureau


def test_the_public_list_pages_through_every_published_decision(bureau, client) -> None:
    for n in range(5):
        case = bureau.case(date(2024, 3, 1 + n))
        bureau.decide(case, date(2024, 3, 4 + n), entity=100_000 + n)
    first = client.get("/public/penalties.json?per_page=2").get_json()
    assert (first["total"], first["page"], len(first["decisions"])) == (5, 1, 2)
    numbers = [d["number"] for d in first["decisions"]]
    page = first
    while page["next"]:
        page = client.get(page["next"]).get_json()
        numbers += [d["number"] for d in page["decisions"]]
    assert len(numbers) == len(set(numbers)) == 5
    html = client.get("/public/penalties?per_page=2&page=3").get_data(as_text=True)
    assert "第 3/3 页" in html and 'id="prev-page"' in html and 'id="next-page"' not in html
    assert html.count("<h2>") == 1


def test_managers_see_late_and_due_decisions_and_publish_from_the_page(bureau, app) -> None:
    now = datetime(YEAR, 6, 15, 2, 0, tzinfo=UTC)
    with at_moment(now):
        late = bureau.decide(
            bureau.case(date(YEAR, 5, 6)), date(YEAR, 5, 6), entity=100_000, publish_after_days=None
        )
        due = bureau.decide(
            bureau.case(date(YEAR, 6, 14)),
            date(YEAR, 6, 14),
            entity=200_000,
            publish_after_days=None,
        )
    browser, _ = sign_in(app)
    with at_moment(now):
        page = browser.get("/manage/penalties/publication")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    late_part, due_part = html.split('id="due"')
    assert late["number"] in late_part.split('id="late"')[1] and due["number"] in due_part
    assert 'href="/manage/penalties/publication"' in html  # the nav link

    token = csrf(browser, "/manage/penalties/publication")
    with at_moment(now):
        done = browser.post(
            f"/manage/penalty-decisions/{late['id']}/publish", data={"csrf_token": token}
        )
        assert done.status_code == 302
        after = browser.get("/manage/penalties/publication").get_data(as_text=True)
    published_late = after.split('id="published-late"')[1]
    assert late["number"] in published_late
    refused = browser.post(f"/manage/penalty-decisions/{due['id']}/publish", data={})
    assert refused.status_code == 400


def test_the_printable_report_downloads_work_in_a_signed_in_browser(bureau, app) -> None:
    bureau.decide(bureau.case(date(2024, 3, 1)), date(2024, 3, 4), entity=3_164_526)
    browser, _ = sign_in(app)
    page = browser.get("/manage/reports/annual?year=2024").get_data(as_text=True)
    assert "/manage/reports/annual.xlsx?year=2024" in page
    assert "/manage/reports/annual.csv?year=2024" in page
    assert "/api/v1/" not in page
    csv_file = browser.get("/manage/reports/annual.csv?year=2024")
    assert csv_file.status_code == 200 and csv_file.mimetype == "text/csv"
    assert '罚款金额,元,0.00,"31,645.26",新增' in csv_file.data.decode("utf-8-sig")
    xlsx = browser.get("/manage/reports/annual.xlsx?year=2024")
    assert xlsx.status_code == 200
    assert "年度执法基本情况" in load_workbook(io.BytesIO(xlsx.data)).sheetnames
    stranger = app.test_client().get("/manage/reports/annual.csv?year=2024")
    assert stranger.status_code == 302 and "/manage/login" in stranger.headers["Location"]
