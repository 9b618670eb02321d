"""Penalty cases through the API: legal review, numbering, publication, revocation, exemptions."""

from __future__ import annotations

import io
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from pypdf import PdfReader

from server.models.types import utcnow
from server.services.cases.publication import flag_late_publications


def today() -> str:
    return datetime.now(ZoneInfo("Asia/Shanghai")).date().isoformat()


class Office:
    def __init__(self, world, client) -> None:
        self.world = world
        self.client = client
        world.agency()
        self.manager = world.headers("manager")
        self.lead = world.headers("lead")
        self.inspector = world.headers("inspector")
        self.enterprise = world.enterprise(self.manager)

    def open_case(self, headers=None, **overrides) -> dict:
        body = {"enterprise_id": self.enterprise["id"], "opened_on": "2024-03-01"}
        body.update(overrides)
        response = self.client.post("/api/v1/cases", json=body, headers=headers or self.inspector)
        assert response.status_code == 201, response.get_json()
        return response.get_json()

    def post(self, path: str, headers=None, **body):
        return self.client.post(path, json=body, headers=headers or self.manager)

    def review(self, case: dict, opinion: str = "approved", on: str = "2024-03-10", **kw):
        return self.post(
            f"/api/v1/cases/{case['id']}/legal-reviews", reviewed_on=on, opinion=opinion, **kw
        )

    def decide(self, case: dict, on: str = "2024-03-15", **kw):
        kw.setdefault("entity_fine_fen", 2_000_000)
        return self.post(f"/api/v1/cases/{case['id']}/decision", decided_on=on, **kw)


@pytest.fixture
def office(world, client) -> Office:
    return Office(world, client)


def test_a_major_decision_is_refused_until_its_legal_review_is_recorded(office) -> None:
    case = office.open_case(source="accident")
    refused = office.decide(case, entity_fine_fen=30_000_000)
    assert refused.status_code == 409
    assert refused.get_json()["error"]["code"] == "legal_review_required"
    returned = office.review(case, "returned", note="事实认定证据不足")
    assert returned.status_code == 201
    assert office.decide(case, entity_fine_fen=30_000_000).status_code == 409
    assert office.review(case, on="2024-03-12").status_code == 201

    issued = office.decide(
        case,
        entity_fine_fen=30_000_000,
        individuals=[{"name": "张建国", "title": "总经理", "fine_fen": 8_495_802}],
        facts="未落实安全生产责任制，导致一般生产安全事故",
        basis="《中华人民共和国安全生产法》第一百一十四条",
    )
    assert issued.status_code == 201, issued.get_json()
    decision = issued.get_json()
    assert decision["number"] == "（南开）应急罚〔2024〕1号"
    assert decision["major"] and decision["accident"]
    assert decision["total_fine_fen"] == 38_495_802
    assert decision["publication"]["deadline"] == "2024-03-26"  # Friday + 7 working days
    again = office.decide(case)
    assert again.status_code == 409 and again.get_json()["error"]["code"] == "case_not_open"

    got = office.client.get(f"/api/v1/cases/{case['id']}", headers=office.inspector).get_json()
    assert got["status"] == "decided" and [r["opinion"] for r in got["reviews"]] == [
        "returned",
        "approved",
    ]


def test_decision_numbers_run_per_year_and_a_refusal_leaves_no_gap(office) -> None:
    numbers = []
    for fine in (100_000, 0, 200_000, 300_000):
        response = office.decide(office.open_case(), entity_fine_fen=fine)
        if fine:
            numbers.append(response.get_json()["number"])
        else:
            assert response.status_code == 422
    earlier = office.decide(office.open_case(opened_on="2023-12-01"), on="2023-12-28")
    assert numbers == [f"（南开）应急罚〔2024〕{n}号" for n in (1, 2, 3)]
    assert earlier.get_json()["number"] == "（南开）应急罚〔2023〕1号"


def test_only_managers_decide_and_review_and_inspectors_cannot(office) -> None:
    case = office.open_case()
    assert office.decide(case, headers=office.inspector).status_code == 403
    assert office.review(case, headers=office.lead).status_code == 403
    assert office.client.get("/api/v1/cases", headers=office.inspector).get_json()["total"] == 1


def test_publication_due_late_published_then_revoked_and_withdrawn(office, client) -> None:
    late = office.decide(office.open_case()).get_json()
    fresh = office.decide(
        office.open_case(opened_on=today()),
        on=today(),
        entity_fine_fen=0,
        individuals=[{"name": "李四", "title": "安全员", "fine_fen": 500_000}],
    ).get_json()
    watch = client.get("/api/v1/penalty-decisions/publication", headers=office.lead).get_json()
    assert [d["number"] for d in watch["late"]] == [late["number"]]
    assert [d["number"] for d in watch["due"]] == [fresh["number"]]
    assert watch["due"][0]["publication"]["days_left"] == 7

    published = office.post(f"/api/v1/penalty-decisions/{fresh['id']}/publish", headers=office.lead)
    assert (
        published.status_code == 200 and published.get_json()["publication"]["state"] == "published"
    )
    twice = office.post(f"/api/v1/penalty-decisions/{fresh['id']}/publish", headers=office.lead)
    assert twice.status_code == 409
    page = client.get("/public/penalties")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert fresh["number"] in text and "李某" in text and "李四" not in text
    listed = client.get("/public/penalties.json").get_json()["decisions"]
    assert [d["number"] for d in listed] == [fresh["number"]]
    assert (
        office.client.get("/api/v1/penalty-decisions/publication", headers=office.lead).get_json()[
            "due"
        ]
        == []
    )

    no_reason = office.post(f"/api/v1/penalty-decisions/{fresh['id']}/revoke", reason="")
    assert no_reason.status_code == 422
    revoked = office.post(
        f"/api/v1/penalty-decisions/{fresh['id']}/revoke", reason="行政复议决定撤销原处罚决定"
    ).get_json()
    assert revoked["publication"]["state"] == "withdrawn"
    assert revoked["revoke_reason"] == "行政复议决定撤销原处罚决定"
    assert revoked["withdrawn_on"] == today() and revoked["withdrawal_deadline"] > today()
    assert client.get("/public/penalties.json").get_json()["decisions"] == []


def test_the_daily_check_flags_a_late_decision_once(office, app) -> None:
    late = office.decide(office.open_case()).get_json()
    with app.app_context():
        assert flag_late_publications(utcnow()) == 1
        assert flag_late_publications(utcnow()) == 0
    got = office.client.get(f"/api/v1/penalty-decisions/{late['id']}", headers=office.manager)
    assert got.get_json()["late_flagged_on"] == today()


def test_an_exemption_is_recorded_with_its_list_item_and_closes_the_case(office) -> None:
    case = office.open_case()
    missing_item = office.post(f"/api/v1/cases/{case['id']}/exemption", decided_on="2024-03-05")
    assert missing_item.status_code == 422
    exempted = office.post(
        f"/api/v1/cases/{case['id']}/exemption",
        decided_on="2024-03-05",
        list_item="《湖南省安全生产领域轻微违法行为不予行政处罚清单》第5项",
        amount_not_imposed_fen=300_000,
    ).get_json()
    assert exempted["status"] == "exempted"
    assert exempted["exemption"]["amount_not_imposed_fen"] == 300_000
    assert office.decide(case).status_code == 409


def test_complaints_and_transfers_to_the_judiciary_are_recorded(office) -> None:
    complaint = office.post(
        "/api/v1/complaints",
        headers=office.inspector,
        received_on="2024-04-01",
        channel="phone",
        summary="群众举报某企业夜间违规动火作业",
        enterprise_id=office.enterprise["id"],
    ).get_json()
    assert complaint["handled_on"] is None
    handled = office.client.patch(
        f"/api/v1/complaints/{complaint['id']}",
        json={"handled_on": "2024-04-03", "outcome": "立案查处"},
        headers=office.inspector,
    )
    assert handled.get_json()["handled_on"] == "2024-04-03"
    case = office.open_case(complaint_id=complaint["id"], opened_on="2024-04-03")
    assert case["source"] == "complaint"
    moved = office.post(
        f"/api/v1/cases/{case['id']}/transfer",
        transferred_on="2024-04-20",
        transferred_to="湘乡市公安局",
        reason="涉嫌重大责任事故罪",
    )
    assert moved.status_code == 201 and moved.get_json()["transferred_on"] == "2024-04-20"
    assert (
        office.post(
            f"/api/v1/cases/{case['id']}/transfer", transferred_on="2024-04-21", transferred_to="x"
        ).status_code
        == 409
    )


def test_the_decision_prints_as_a_pdf(office) -> None:
    decision = office.decide(office.open_case(), facts="未按规定开展安全生产教育培训").get_json()
    response = office.client.get(
        f"/api/v1/penalty-decisions/{decision['id']}/pdf", headers=office.manager
    )
    assert response.status_code == 200
    assert response.mimetype == "application/pdf" and response.data.startswith(b"%PDF")


def test_the_printed_decision_writes_its_date_in_chinese_without_leading_zeros(office) -> None:
    decision = office.decide(office.open_case(), on="2024-03-05").get_json()
    response = office.client.get(
        f"/api/v1/penalty-decisions/{decision['id']}/pdf", headers=office.manager
    )
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(response.data)).pages)
    assert "2024年3月5日" in text
    assert "2024年03月05日" not in text and "2024-03-05" not in text


def test_another_agencys_case_is_not_found(office, world, client) -> None:
    case = office.open_case()
    world.agency("xiangxiang", "湘乡市应急管理局", "湘乡")
    other = world.headers("manager", agency="xiangxiang")
    assert client.get(f"/api/v1/cases/{case['id']}", headers=other).status_code == 404


def test_an_approval_later_returned_does_not_let_a_major_decision_issue(office) -> None:
    case = office.open_case(source="accident")
    assert office.review(case, on="2024-03-05").status_code == 201
    returned = office.review(case, "returned", on="2024-03-08", note="处罚依据引用错误")
    assert returned.status_code == 201
    refused = office.decide(case, entity_fine_fen=30_000_000)
    assert refused.status_code == 409
    assert refused.get_json()["error"]["code"] == "legal_review_required"
    assert office.review(case, on="2024-03-12").status_code == 201
    assert office.decide(case, entity_fine_fen=30_000_000).status_code == 201


def test_an_exemption_or_a_transfer_before_the_case_was_opened_is_refused(office) -> None:
    case = office.open_case(opened_on="2024-03-01")
    early = office.post(
        f"/api/v1/cases/{case['id']}/exemption",
        decided_on="2024-02-28",
        list_item="免罚清单第3项",
    )
    assert early.status_code == 422 and "decided_on" in early.get_json()["error"]["fields"]
    moved = office.post(
        f"/api/v1/cases/{case['id']}/transfer", transferred_on="2024-02-01", transferred_to="公安"
    )
    assert moved.status_code == 422
    dismissed = office.post(
        f"/api/v1/cases/{case['id']}/dismissal", dismissed_on="2024-02-01", reason="证据不足"
    )
    assert dismissed.status_code == 422


def test_a_back_dated_publication_of_a_late_decision_stays_late(office, client) -> None:
    # Decided in March 2024 and published only now, with a date typed in as if on time.
    decision = office.decide(office.open_case()).get_json()
    published = office.post(
        f"/api/v1/penalty-decisions/{decision['id']}/publish",
        headers=office.lead,
        published_on="2024-03-18",
    ).get_json()
    assert published["published_on"] == "2024-03-18" and published["published_at"]
    assert (published["publication"]["state"], published["publication"]["late"]) == (
        "published",
        True,
    )
    report = client.get("/api/v1/reports/annual?year=2024", headers=office.manager).get_json()
    overview = {r["key"]: r["this_year"] for r in report["tables"][0]["rows"]}
    assert (overview["published_on_time"], overview["publication_late"]) == (0, 1)


def test_a_flagged_decision_stays_late_and_an_unflagged_past_deadline_counts_late(
    office, app, client
) -> None:
    flagged = office.decide(office.open_case()).get_json()
    unflagged = office.decide(office.open_case(opened_on="2024-04-01"), on="2024-04-02").get_json()
    with app.app_context():
        flag_late_publications(utcnow())
    # The daily check has not seen this one yet: the report counts it late all the same.
    third = office.decide(office.open_case(opened_on="2024-05-06"), on="2024-05-06").get_json()
    office.post(f"/api/v1/penalty-decisions/{flagged['id']}/publish", headers=office.lead)
    report = client.get("/api/v1/reports/annual?year=2024", headers=office.manager).get_json()
    overview = {r["key"]: r["this_year"] for r in report["tables"][0]["rows"]}
    assert (overview["published_on_time"], overview["publication_late"]) == (0, 3)
    got = office.client.get(f"/api/v1/penalty-decisions/{flagged['id']}", headers=office.lead)
    assert got.get_json()["publication"]["late"] is True
    assert unflagged["publication"]["late"] and third["publication"]["late"]


def test_confiscated_money_is_recorded_and_needs_the_confiscation_penalty(office, client) -> None:
    refused = office.decide(office.open_case(), entity_fine_fen=100_000, confiscated_fen=50_000)
    assert refused.status_code == 422
    assert "confiscated_fen" in refused.get_json()["error"]["fields"]
    issued = office.decide(
        office.open_case(),
        entity_fine_fen=100_000,
        confiscated_fen=50_000,
        other_penalties=["confiscation"],
        lenient=True,
    ).get_json()
    assert issued["confiscated_fen"] == 50_000 and issued["total_fine_fen"] == 100_000
    report = client.get("/api/v1/reports/annual?year=2024", headers=office.manager).get_json()
    tables = {t["key"]: {r["key"]: r["this_year"] for r in t["rows"]} for t in report["tables"]}
    assert tables["overview"]["fines"] == 100_000
    assert tables["case_data"]["forfeitures"] == 150_000
    assert tables["enterprise"]["enterprise_forfeitures"] == 150_000
    assert (tables["enterprise"]["lenient_decisions"], tables["enterprise"]["lenient_fines"]) == (
        1,
        100_000,
    )


def test_listing_cases_takes_the_same_few_queries_for_any_page_size(office, app) -> None:
    import sqlalchemy as sa

    from server.extensions import db

    def queries_for_listing() -> int:
        seen: list[str] = []

        def count(*_args) -> None:
            seen.append("q")

        with app.app_context():
            sa.event.listen(db.engine, "before_cursor_execute", count)
            try:
                response = office.client.get("/api/v1/cases", headers=office.manager)
            finally:
                sa.event.remove(db.engine, "before_cursor_execute", count)
        assert response.status_code == 200
        return len(seen)

    for _ in range(2):
        case = office.open_case()
        office.review(case)
        office.decide(case)
    few = queries_for_listing()
    for _ in range(6):
        case = office.open_case()
        office.review(case)
        office.decide(case)
    assert queries_for_listing() == few
