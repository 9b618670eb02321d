"""The printable annual report page: the year it opens on and its charts."""

from __future__ import annotations

import re
from datetime import date

import pytest

from tests.api.test_hazard_pages import sign_in
from tests.report_support import Bureau


@pytest.fixture
def bureau(world, client, app) -> Bureau:
    bureau = Bureau(world, client, app, code="nankai", name="天津市南开区应急管理局", abbr="南开")
    bureau.import_enterprises(key=1, general=2)
    world.user("boss", agency="nankai", role="manager")
    return bureau


def heading_year(html: str) -> int:
    return int(re.search(r"<br>(\d{4})年行政执法工作统计", html).group(1))


def test_the_report_opens_on_the_latest_year_that_holds_records(bureau, app) -> None:
    browser, _ = sign_in(app)
    assert heading_year(browser.get("/manage/reports/annual").get_data(as_text=True)) == (
        date.today().year
    )  # nothing recorded: this year
    bureau.inspect(2022, bureau.enterprises["general"][0], "random")
    bureau.flush()
    case = bureau.case(date(2023, 3, 1))
    bureau.decide(case, date(2023, 3, 6), entity=50_000)
    html = browser.get("/manage/reports/annual").get_data(as_text=True)
    assert heading_year(html) == 2023
    assert 'href="/manage/reports/annual.xlsx?year=2023"' in html
    asked = browser.get("/manage/reports/annual?year=2022").get_data(as_text=True)
    assert heading_year(asked) == 2022


def test_charts_carry_visible_titles_and_no_empty_bars(bureau, app) -> None:
    browser, _ = sign_in(app)
    empty = browser.get("/manage/reports/annual?year=2024").get_data(as_text=True)
    assert 'id="no-comparison"' in empty and 'id="no-plan"' in empty
    assert "<svg" not in empty

    bureau.plan(2024, {bureau.enterprises["key"][0]: 2}, general=4, caps={})
    bureau.inspect(2024, bureau.enterprises["key"][0], "key")
    bureau.inspect(2024, bureau.enterprises["general"][0], "random")
    bureau.flush()
    html = browser.get("/manage/reports/annual?year=2024").get_data(as_text=True)
    titles = re.findall(r'class="chart-title">([^<]+)</text>', html)
    assert titles == ["2024年与2023年主要执法数据对比", "年度计划完成率（%）"]
    completion = html.split('id="completion-chart"')[1].split("</figure>")[0]
    assert re.findall(r'class="value">(\d+)</text>', completion) == ["50", "25"]


def test_report_figures_link_to_their_records_and_the_list_is_as_long(bureau, app) -> None:
    for n in range(3):
        case = bureau.case(date(2024, 3, 1 + n))
        bureau.decide(case, date(2024, 3, 4 + n), entity=100_000 + n)
    bureau.inspect(2024, bureau.enterprises["general"][0], "random")
    bureau.flush()
    browser, _ = sign_in(app)
    html = browser.get("/manage/reports/annual?year=2024").get_data(as_text=True)
    pattern = r'href="([^"]+)" class="figure" data-figure="(decisions|fines)" data-year="2024"'
    links = dict(re.findall(pattern, html))
    assert set(links.values()) == {"decisions", "fines"}
    assert 'id="year-rule"' in html and "rate" not in "".join(
        re.findall(r'data-figure="([^"]+)"', html)
    )
    by_figure = {figure: url for url, figure in links.items()}
    listed = browser.get(by_figure["decisions"].replace("&amp;", "&")).get_data(as_text=True)
    assert listed.count('class="record"') == 3 and "共 <strong>3</strong> 条记录" in listed
    fines = browser.get(by_figure["fines"].replace("&amp;", "&")).get_data(as_text=True)
    assert 'id="figure-amount">3,000.03</strong>' in fines
    csv_link = re.search(r'href="([^"]+)" id="records-csv"', listed).group(1)
    body = browser.get(csv_link.replace("&amp;", "&"))
    assert body.status_code == 200 and body.data.decode("utf-8-sig").count("\n") == 4
    assert browser.get("/manage/reports/annual/figures/key_rate?year=2024").status_code == 404


def test_every_count_on_the_overview_leads_to_a_list_as_long(world, client, app) -> None:
    from tests.hazard_support import make_site

    site = make_site(world, client)
    chem = site.enterprise("chem", industry="hazardous_chemicals")
    works = site.enterprise("works", industry="machinery")
    late = site.hazard(chem)
    site.order(late, deadline="2024-05-20")
    site.hazard(chem)
    done = site.hazard(works)
    site.order(done, deadline="2024-05-20")
    site.reinspect(done, outcome="pass")
    browser, _ = sign_in(app, "boss")
    html = browser.get("/manage/?year=2024").get_data(as_text=True)
    counts = re.findall(r'<a class="count" href="([^"]+)">(\d+)</a>', html)
    assert len(counts) >= 6 and any(int(n) > 0 for _, n in counts)
    for href, n in counts:
        listed = browser.get(href.replace("&amp;", "&")).get_data(as_text=True)
        assert f'id="total">共 {n} 处' in listed, href
