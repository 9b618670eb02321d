"""Every figure of the annual report leads to the records it counts, and they add up to it."""

from __future__ import annotations

import csv
import io

import pytest

from server.services import report_records, reports
from tests.api.test_report_seed_002 import xiangxiang  # noqa: F401 - the seed 002 bureau
from tests.report_support import rows


def drill(bureau, key: str, year: int, **query) -> dict:
    response = bureau.client.get(
        f"/api/v1/reports/annual/figures/{key}/records",
        query_string={"year": year, **query},
        headers=bureau.manager,
    )
    assert response.status_code == 200, (key, response.get_json())
    return response.get_json()


def test_every_counted_figure_of_seed_002_lists_exactly_its_records(
    xiangxiang,  # noqa: F811
) -> None:
    report = xiangxiang.report(2024)
    checked = 0
    for table in ("overview", "case_data", "enterprise"):
        for key, row in rows(report, table).items():
            if key in report_records.NOT_RECORDS:
                assert key not in report_records.FIGURES
                continue
            for year, figure in ((2024, row["this_year"]), (2023, row["last_year"])):
                listed = drill(xiangxiang, key, year, per_page=500)
                sections = listed["sections"]
                # Each section shows its first 500 records; their number is the section's.
                assert all(len(s["items"]) == min(s["total"], 500) for s in sections)
                if row["kind"] == reports.FEN:
                    assert listed["amount_fen"] == figure, (key, year)
                    assert all(s["total"] <= 500 for s in sections)
                    assert sum(i["amount_fen"] for s in sections for i in s["items"]) == figure
                else:
                    assert listed["total"] == figure, (key, year)
                    assert sum(s["total"] for s in sections) == figure
                checked += 1
    assert checked >= 2 * 40

    # Pages cover the list once; the CSV holds every record of every source.
    first = drill(xiangxiang, "rectification_orders", 2024, per_page=100)
    assert first["total"] == 277 and len(first["sections"][0]["items"]) == 100
    last = drill(xiangxiang, "rectification_orders", 2024, per_page=100, page=3)
    assert len(last["sections"][0]["items"]) == 77
    seen = {
        i["id"]
        for p in (1, 2, 3)
        for s in drill(xiangxiang, "rectification_orders", 2024, per_page=100, page=p)["sections"]
        for i in s["items"]
    }
    assert len(seen) == 277
    body = xiangxiang.client.get(
        "/api/v1/reports/annual/figures/enterprise_inspections/records",
        query_string={"year": 2024, "format": "csv"},
        headers=xiangxiang.manager,
    )
    assert body.status_code == 200 and body.data.startswith("\ufeff".encode())
    lines = list(csv.reader(io.StringIO(body.data.decode("utf-8-sig"))))
    assert len(lines) - 1 == 874


@pytest.mark.parametrize(
    ("figure", "code"), [("key_rate", "not_from_records"), ("no_such", "unknown_figure")]
)
def test_rates_plans_and_unknown_figures_have_no_list(world, client, figure, code) -> None:
    world.agency()
    manager = world.headers("manager")
    response = client.get(
        f"/api/v1/reports/annual/figures/{figure}/records?year=2024", headers=manager
    )
    assert response.status_code == 404 and response.get_json()["error"]["code"] == code
    inspector = world.headers("inspector")
    refused = client.get(
        "/api/v1/reports/annual/figures/decisions/records?year=2024", headers=inspector
    )
    assert refused.status_code == 403


def test_a_figures_records_are_only_the_agencys_own(world, client, app) -> None:
    from datetime import date

    from tests.report_support import Bureau

    ours = Bureau(world, client, app, code="nankai", name="天津市南开区应急管理局", abbr="南开")
    theirs = Bureau(world, client, app, code="hexi", name="天津市河西区应急管理局", abbr="河西")
    for bureau, n in ((ours, 1), (theirs, 3)):
        bureau.import_enterprises(key=0, general=1)
        for _ in range(n):
            case = bureau.case(date(2024, 3, 1))
            bureau.decide(case, date(2024, 3, 4), entity=10_000)
    listed = drill(ours, "decisions", 2024)
    assert listed["total"] == 1
    assert rows(ours.report(2024), "overview")["decisions"]["this_year"] == 1


def test_plain_lists_of_a_years_records_filter_page_and_download(world, client, app) -> None:
    from datetime import date

    from tests.report_support import Bureau

    bureau = Bureau(world, client, app, code="nankai", name="天津市南开区应急管理局", abbr="南开")
    bureau.import_enterprises(key=1, general=2)
    key, general = bureau.enterprises["key"][0], bureau.enterprises["general"]
    bureau.inspect(2024, key, "key")
    for n in range(3):
        bureau.inspect(2024, general[n % 2], "random")
    bureau.inspect(2023, general[0], "random")
    bureau.flush()
    for party in ("entity", "individual"):
        case = bureau.case(date(2024, 5, 1), enterprise_id=general[0])
        bureau.review(case, date(2024, 5, 2))
        bureau.exempt(case, date(2024, 5, 3), party=party, amount=100_000)
    case = bureau.case(date(2024, 6, 1), enterprise_id=general[1])
    bureau.review(case, date(2024, 6, 2))
    bureau.decide(case, date(2024, 6, 5), entity=250_000)

    def listing(what: str, **query):
        response = client.get(
            f"/api/v1/reports/records/{what}",
            query_string={"year": 2024, **query},
            headers=bureau.manager,
        )
        return response.status_code, response.get_json()

    assert listing("inspections")[1]["total"] == 4
    assert listing("inspections", kind="random")[1]["total"] == 3
    assert listing("inspections", enterprise_id=general[0])[1]["total"] == 2
    assert listing("inspections", per_page=3, page=2)[1]["sections"][0]["items"][0]["kind"] == (
        "inspections"
    )
    entity = listing("exemptions", party="entity")[1]
    assert (entity["total"], entity["amount_fen"]) == (1, 100_000)
    reviews = listing("legal_reviews", enterprise_id=general[0])[1]
    assert reviews["total"] == 2 and reviews["sections"][0]["items"][0]["title"] == "同意"
    decisions = listing("decisions", accident="false")[1]
    assert (decisions["total"], decisions["amount_fen"]) == (1, 250_000)
    assert listing("decisions", party="entity")[0] == 422
    assert listing("nothing")[0] == 404
    csv_body = client.get(
        "/api/v1/reports/records/inspections",
        query_string={"year": 2024, "format": "csv", "kind": "random"},
        headers=bureau.manager,
    )
    assert csv_body.data.decode("utf-8-sig").strip().count("\n") == 3


def test_the_report_and_the_hazard_statistics_judge_a_late_closure_alike(
    world, client, app
) -> None:
    from tests.report_support import Bureau

    bureau = Bureau(world, client, app, code="nankai", name="天津市南开区应急管理局", abbr="南开")
    bureau.import_enterprises(key=0, general=1)
    enterprise = bureau.enterprises["general"][0]
    visit = (bureau.inspect(2024, enterprise, "random"), enterprise)
    bureau.hazard(visit, fixed=True)  # fixed on the spot in 2024
    late = bureau.hazard(visit, fixed=False)
    bureau.flush()
    # Ordered and passed from the office today: closed long after 2024 ended.
    for body in (
        {"action": "order", "period_days": 10},
        {"action": "reinspect", "outcome": "pass", "note": "已整改"},
    ):
        done = client.post(f"/api/v1/hazards/{late}/transitions", json=body, headers=bureau.manager)
        assert done.status_code == 200, done.get_json()
    figures = rows(bureau.report(2024), "overview")
    stats = client.get("/api/v1/hazards/aggregates?year=2024", headers=bureau.manager).get_json()[
        "rectification"
    ]
    assert (figures["hazards_found"]["this_year"], stats["found"]) == (2, 2)
    assert (figures["hazards_rectified"]["this_year"], stats["closed"]) == (1, 1)
    listed = drill(bureau, "hazards_rectified", 2024)
    assert listed["total"] == 1
