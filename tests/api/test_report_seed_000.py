"""Seed 000 (南开区, 2024, section one) rebuilt through the API and read back from the report."""

from __future__ import annotations

import io
import re
from datetime import UTC, date, datetime, timedelta

import pytest
from openpyxl import load_workbook

from tests.conftest import PASSWORD
from tests.report_support import Bureau, at_moment, rows

YEAR = 2024


@pytest.fixture
def nankai(world, client, app) -> Bureau:
    bureau = Bureau(world, client, app, code="nankai", name="天津市南开区应急管理局", abbr="南开")
    bureau.import_enterprises(key=122, general=60)
    key, general = bureau.enterprises["key"], bureau.enterprises["general"]
    # The plan: 122 key enterprises, 237 planned key inspections; 157 planned general ones.
    bureau.plan(YEAR, {e: (1 if n < 7 else 2) for n, e in enumerate(key)}, 157, {"risk:good": 4})

    # 255 key inspections (every key enterprise twice, 11 a third time), 178 general ones of
    # which 12 joint checks with other departments: 433 in all.
    visits = [(e, "key") for e in key * 2 + key[:11]]
    visits += [(general[n % 60], "joint" if n < 12 else "random") for n in range(178)]
    inspections = [(bureau.inspect(YEAR, e, kind), e) for e, kind in visits]
    # 355 hazards, 5 major; all fixed on the spot, the major ones signed off by the manager.
    majors = [bureau.hazard(inspections[n], level="major") for n in range(5)]
    for n in range(350):
        bureau.hazard(inspections[(n * 7) % len(inspections)])
    bureau.flush()
    # Signed off before the year's end: a hazard closed later is not rectified in 2024.
    with at_moment(datetime(YEAR, 12, 20, 2, 0, tzinfo=UTC)):
        for hazard_id in majors:
            bureau.sign_off(hazard_id)

    # 51 decisions: 31 ordinary (7 on individuals) for 365,000.00 yuan, of which 82,000.00 on
    # individuals; 20 accident penalties (16 on individuals) for 2,799,580.26 yuan, of which
    # 849,580.26 on individuals. Each went through legal review, and so did 4 exemptions: 55.
    day = date(YEAR, 2, 1)
    plans: list[tuple[bool, int, tuple[int, ...]]] = []
    plans += [(False, 1_200_000 if n < 23 else 700_000, ()) for n in range(24)]
    plans += [(False, 0, (2_200_000 if n == 0 else 1_000_000,)) for n in range(7)]
    plans += [(True, 9_750_000, (9_958_026 if n == 0 else 5_000_000,)) for n in range(16)]
    plans += [(True, 9_750_000, ()) for _ in range(4)]
    for n, (accident, entity, individuals) in enumerate(plans):
        opened = day + timedelta(days=n * 5)
        case = bureau.case(opened, enterprise_id=general[n % 60], accident=accident)
        bureau.review(case, opened + timedelta(days=2))
        bureau.decide(case, opened + timedelta(days=3), entity=entity, individuals=individuals)
    for n, party in enumerate(("entity", "entity", "individual", "individual")):
        opened = date(YEAR, 9 if n < 2 else 11, 10 + n)
        case = bureau.case(opened, enterprise_id=general[n])
        bureau.review(case, opened + timedelta(days=1))
        bureau.exempt(case, opened + timedelta(days=2), party=party, amount=500_000)
    return bureau


def test_the_report_reproduces_seed_000_section_one_to_the_fen(nankai) -> None:
    report = nankai.report(YEAR)
    figures = {k: r["this_year"] for k, r in rows(report, "overview").items()}
    assert figures["key_enterprises"] == 122
    assert figures["key_enterprises_covered"] == 122 and figures["key_coverage_rate"] == "100.0"
    assert (figures["key_planned"], figures["key_done"], figures["key_rate"]) == (237, 255, "107.6")
    assert (figures["general_planned"], figures["general_done"]) == (157, 178)
    assert figures["general_rate"] == "113.4"
    assert figures["inspections"] == 433
    assert (figures["hazards_found"], figures["major_hazards"]) == (355, 5)
    assert (figures["hazards_rectified"], figures["major_rectified"]) == (355, 5)
    assert figures["rectification_rate"] == "100.0"
    assert figures["decisions"] == 51
    assert figures["fines"] == 316_458_026
    assert rows(report, "overview")["fines"]["this_year_display"] == "3,164,580.26"
    assert (figures["ordinary_decisions"], figures["ordinary_on_individuals"]) == (31, 7)
    assert (figures["ordinary_fines"], figures["ordinary_individual_fines"]) == (
        36_500_000,
        8_200_000,
    )
    assert (figures["accident_decisions"], figures["accident_on_individuals"]) == (20, 16)
    assert (figures["accident_fines"], figures["accident_individual_fines"]) == (
        279_958_026,
        84_958_026,
    )
    assert figures["decisions_on_individuals"] == 23
    assert figures["legal_reviews"] == 55
    assert (figures["exempted_entities"], figures["exempted_individuals"]) == (2, 2)
    assert (figures["published_on_time"], figures["publication_late"]) == (51, 0)
    # Nothing was recorded for 2023: every non-zero figure is new, not a percentage of zero.
    assert rows(report, "overview")["decisions"]["change"]["display"] == "新增"
    assert rows(report, "overview")["key_rate"]["last_year"] is None

    completion = nankai.client.get(
        f"/api/v1/annual-plans/{YEAR}/completion", headers=nankai.lead
    ).get_json()
    assert completion["key"] == {"planned": 237, "done": 255, "rate": "107.6"}
    assert completion["general"] == {"planned": 157, "done": 178, "rate": "113.4"}
    assert completion["overall"] == {"planned": 394, "done": 433, "rate": "109.9"}
    assert completion["key_enterprises_covered"] == 122
    assert {r["planned"] for r in completion["rows"]} == {1, 2}
    assert completion["over_cap"] == []  # 178 general visits over 60 enterprises: at most 3 each

    # The same figures as files (the year is built once: it is the slow part).
    csv_body = nankai.report(YEAR, "csv").data
    assert csv_body.startswith("\ufeff".encode())
    text = csv_body.decode("utf-8-sig")
    assert text.splitlines()[0] == "表,项目,单位,2023年,2024年,同比增减"
    assert '罚款金额,元,0.00,"3,164,580.26",新增' in text

    book = load_workbook(io.BytesIO(nankai.report(YEAR, "xlsx").data))
    sheet = book["年度执法基本情况"]
    values = {row[0]: row for row in sheet.iter_rows(min_row=3, values_only=True)}
    assert values["实际重点检查"][3] == 255
    assert str(values["罚款金额"][3]) == "3164580.26"


def test_the_printable_page_draws_its_charts_on_the_server(world, client, app) -> None:
    bureau = Bureau(world, client, app, code="nankai", name="天津市南开区应急管理局", abbr="南开")
    bureau.import_enterprises(key=2, general=2)
    bureau.plan(YEAR, {e: 1 for e in bureau.enterprises["key"]}, 2, {})
    for e in bureau.enterprises["key"]:
        bureau.inspect(YEAR, e, "key")
    bureau.flush()
    case = bureau.case(date(YEAR, 3, 1))
    bureau.decide(case, date(YEAR, 3, 4), entity=3_164_526)
    world.user("nk-manager", agency="nankai", role="manager")
    login = client.get("/manage/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', login).group(1)
    client.post(
        "/manage/login",
        data={"username": "nk-manager", "password": PASSWORD, "csrf_token": token, "next": ""},
    )
    page = client.get(f"/manage/reports/annual?year={YEAR}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert html.count("<svg") == 2 and "31,645.26" in html and "新增" in html
    assert "<script" not in html


def test_the_report_page_sends_a_stranger_to_sign_in(client) -> None:
    response = client.get("/manage/reports/annual?year=2024")
    assert response.status_code == 302 and "/manage/login" in response.headers["Location"]
