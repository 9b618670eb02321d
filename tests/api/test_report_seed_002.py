"""Seed 002 (湘乡市, 2023 and 2024) rebuilt through the API: the year-on-year column.

The figures are those of the seed's two statistics tables wherever the service records what
they count, and the three document counts of its text (589 inspection records, 20 on-site
measures, 277 rectification orders). Where the seed's own column is wrong it is noted: it
prints "+150%" and "+370000%" for rows whose 2023 figure was zero; the service says 新增
(new). 涉企行政检查 (690, 874) is more than the inspection records (463, 589): it also counts
the re-inspections (复查), 227 and 285 here. The seed gives no 2023 order count; 227 is ours.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from tests.report_support import Bureau, moment, rows

# year -> what the bureau recorded that year
YEARS = {
    2023: {
        "inspections": 463,
        "onsite": 12,
        "stops": 5,
        "orders": 227,
        "reinspections": 227,  # every order re-inspected once, passed
        "entity_fines": [1_650_000] * 47 + [1_946_800],  # 794,968 yuan on 48 entities
        "individual_fines": [36_000] * 73 + [52_000],  # 26,800 yuan on 74 individuals
        "reviews": (7, 19),  # of entity decisions, of individual ones
        "transfers": 3,
        "exemptions": [],
        "confiscated": 0,
        "open": 0,
        "complaints": 5,
    },
    2024: {
        "inspections": 589,
        "onsite": 20,
        "stops": 3,
        "orders": 277,
        "reinspections": 285,  # 8 failed the first time and were re-inspected again
        # 925,279 yuan of 罚没 on 32 entities, of which 5,000 yuan confiscated (没收违法所得)
        "entity_fines": [2_900_000] * 31 + [2_627_900],
        "confiscated": 500_000,
        "individual_fines": [220_000] * 47 + [360_400],  # 107,004 yuan on 48 individuals
        "reviews": (10, 39),
        "transfers": 0,
        "exemptions": [250_000] * 14 + [200_000],  # 15 cases, 37,000 yuan not imposed
        "open": 5,
        "complaints": 6,
    },
}


def build_year(bureau: Bureau, year: int, plan: dict) -> None:
    general = bureau.enterprises["general"]
    inspections = [
        (bureau.inspect(year, general[n % len(general)], "random"), general[n % len(general)])
        for n in range(plan["inspections"])
    ]
    failing = plan["reinspections"] - plan["orders"]
    for n in range(plan["orders"]):
        inspection = inspections[n]
        at = moment(year, n)
        deadline = (at.date() + timedelta(days=30)).isoformat()
        hazard = bureau.hazard(inspection, fixed=False, deadline=deadline)
        bureau.document("rectification_order", inspection, [hazard], at, deadline=deadline)
        again = at + timedelta(days=10)
        if n < failing:
            retry = (again.date() + timedelta(days=10)).isoformat()
            bureau.document(
                "reinspection_opinion", inspection, [hazard], again, outcome="fail", deadline=retry
            )
            again += timedelta(days=5)
        bureau.document("reinspection_opinion", inspection, [hazard], again, outcome="pass")
    for n in range(plan["onsite"]):
        inspection = inspections[-1 - n]
        at = moment(year, len(inspections) - 1 - n)
        if n < plan["stops"]:
            # Stops ordered with restraint (包容审慎): for a shorter time than the law allows.
            until = (at.date() + timedelta(days=60)).isoformat()
            bureau.document(
                "onsite_measures",
                inspection,
                [],
                at,
                measures=["stop_production"],
                stop_until=until,
                prudence="shortened_time",
            )
        else:
            bureau.document("onsite_measures", inspection, [], at, measures=["immediate_fix"])
    bureau.flush()

    day = date(year, 1, 10)
    decided: list[tuple[dict, str]] = []
    for n, fine in enumerate(plan["entity_fines"] + plan["individual_fines"]):
        opened = day + timedelta(days=n % 300)
        case = bureau.case(opened, enterprise_id=general[n % len(general)])
        if n == 0 and plan["confiscated"]:
            bureau.decide(
                case,
                opened + timedelta(days=5),
                entity=fine - plan["confiscated"],
                confiscated_fen=plan["confiscated"],
                other_penalties=["confiscation"],
            )
            decided.append((case, "entity"))
        elif n < len(plan["entity_fines"]):
            bureau.decide(case, opened + timedelta(days=5), entity=fine)
            decided.append((case, "entity"))
        else:
            bureau.decide(case, opened + timedelta(days=5), individuals=(fine,))
            decided.append((case, "individual"))
    entity_reviews, individual_reviews = plan["reviews"]
    for case in [c for c, who in decided if who == "entity"][:entity_reviews]:
        bureau.review(case, date.fromisoformat(case["opened_on"]) + timedelta(days=2))
    for case in [c for c, who in decided if who == "individual"][:individual_reviews]:
        bureau.review(case, date.fromisoformat(case["opened_on"]) + timedelta(days=2))
    for n in range(plan["transfers"]):
        bureau.transfer(bureau.case(date(year, 6, 1 + n)), date(year, 6, 10 + n))
    for n, amount in enumerate(plan["exemptions"]):
        bureau.exempt(bureau.case(date(year, 7, 1 + n)), date(year, 7, 5 + n), amount=amount)
    for n in range(plan["open"]):
        bureau.case(date(year, 12, 1 + n))
    for n in range(plan["complaints"]):
        bureau.complaint(date(year, 3, 1 + n), date(year, 3, 5 + n))


@pytest.fixture
def xiangxiang(world, client, app) -> Bureau:
    bureau = Bureau(world, client, app, code="xiangxiang", name="湘乡市应急管理局", abbr="湘乡")
    # This bureau reviews what its own list names; for the statistics, no decision is held up.
    bureau.settings(
        penalties={
            "major_entity_fine_fen": 10**12,
            "major_individual_fine_fen": 10**12,
            "accident_is_major": False,
        }
    )
    bureau.import_enterprises(key=0, general=12)
    for year, plan in YEARS.items():
        build_year(bureau, year, plan)
    return bureau


# (this year, last year, change) of every row of both tables: the seed's figures, and its
# column where it is right.
CASE_DATA = {
    "compulsory": (3, 5, "-40.0%"),
    "inspections": (589, 463, "+27.2%"),
    "decisions": (80, 122, "-34.4%"),
    "complaints": (6, 5, "+20.0%"),
    "legal_reviews": (49, 26, "+88.5%"),
    "forfeitures": (103_228_300, 82_176_800, "+25.6%"),
    "transferred": (0, 3, "-100.0%"),
    "onsite_measures": (20, 12, "+66.7%"),
    "rectification_orders": (277, 227, "+22.0%"),
    "cases_opened": (100, 125, "-20.0%"),
    "exemptions": (15, 0, "新增"),
    "exemption_fines": (3_700_000, 0, "新增"),
}
ENTERPRISE = {
    "enterprise_decisions": (32, 48, "-33.3%"),
    "compulsory": (3, 5, "-40.0%"),
    "enterprise_inspections": (874, 690, "+26.7%"),
    "enterprise_forfeitures": (92_527_900, 79_496_800, "+16.4%"),  # the seed prints 16.4%
    "complaints": (6, 5, "+20.0%"),
    "enterprise_legal_reviews": (10, 7, "+42.9%"),
    "enterprise_exemptions": (15, 0, "新增"),  # the seed prints +150%
    "enterprise_exemption_fines": (3_700_000, 0, "新增"),  # the seed prints +370000%
    "lenient_decisions": (0, 0, "—"),  # the seed prints 0%
    "lenient_fines": (0, 0, "—"),  # the seed prints 0%
    "prudent_compulsory": (3, 5, "-40.0%"),
}


def test_the_year_on_year_column_of_seed_002(xiangxiang) -> None:
    report = xiangxiang.report(2024)
    assert (report["year"], report["last_year"]) == (2024, 2023)
    for table, expected in (("case_data", CASE_DATA), ("enterprise", ENTERPRISE)):
        got = rows(report, table)
        assert set(got) == set(expected), table  # every row the report builds is checked
        for key, (this_year, last_year, shown) in expected.items():
            row = got[key]
            assert (row["this_year"], row["last_year"], row["change"]["display"]) == (
                this_year,
                last_year,
                shown,
            ), (table, key)
    new = rows(report, "case_data")["exemptions"]["change"]
    assert new == {"kind": "new", "percent": None, "display": "新增"}
    assert rows(report, "case_data")["forfeitures"]["this_year_display"] == "1,032,283.00"
    # 罚没 includes the money confiscated; the fines alone are 5,000 yuan less.
    assert rows(report, "overview")["fines"]["this_year"] == 103_228_300 - 500_000

    csv_text = xiangxiang.report(2024, "csv").data.decode("utf-8-sig")
    assert '免罚金额,元,0.00,"37,000.00",新增' in csv_text
