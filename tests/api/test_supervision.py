"""The supervisor's side: sign-in, alerts with the entries behind them, complaints answered
and closed, the CSV export and the monthly report."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest
from openpyxl import load_workbook

from server.services import supervision
from tests.party_support import activate, csrf, make_party
from tests.qr_support import decode_png
from tests.sync_support import T0, inspection_op, scan_op

PASSWORD = "jiandu-mima-2024"
# The fixture's visits are of May 2024; the alert list starts at the start of last year.
SINCE = "2024-01-01"


@pytest.fixture
def party(world, client):
    return make_party(world, client)


@pytest.fixture
def supervisor(app):
    with app.app_context():
        supervision.create_supervisor("jiandu", PASSWORD, "孙监督", "天津市司法局")
    browser = app.test_client()
    signed_in = browser.post(
        "/supervise/login",
        data={
            "csrf_token": csrf(browser, "/supervise/login"),
            "username": "jiandu",
            "password": PASSWORD,
        },
    )
    assert signed_in.status_code == 302
    return browser


def _rows(page: str, marker: str) -> list[str]:
    return [chunk.split("</tr>")[0] for chunk in page.split(marker)[1:]]


def test_supervisor_pages_need_a_signed_in_supervisor(app, party) -> None:
    anonymous = app.test_client().get("/supervise/")
    assert anonymous.status_code == 302 and anonymous.headers["Location"] == "/supervise/login"
    # An enterprise's session is not a supervisor's.
    browser = activate(app, party.uscc, party.code)
    assert browser.get("/supervise/").status_code == 302


def test_five_wrong_passwords_lock_a_supervisor_out(app) -> None:
    with app.app_context():
        supervision.create_supervisor("jiandu", PASSWORD)
    browser = app.test_client()
    for _ in range(5):
        token = csrf(browser, "/supervise/login")
        wrong = browser.post(
            "/supervise/login", data={"csrf_token": token, "username": "jiandu", "password": "x"}
        )
        assert wrong.status_code == 401
    token = csrf(browser, "/supervise/login")
    locked = browser.post(
        "/supervise/login",
        data={"csrf_token": token, "username": "jiandu", "password": PASSWORD},
    )
    assert locked.status_code == 401 and "15 分钟" in locked.get_data(as_text=True)


def test_alerts_name_the_entries_behind_them(party, supervisor, client) -> None:
    page = supervisor.get(f"/supervise/?since={SINCE}").get_data(as_text=True)
    rows = {kind: [] for kind in ("no_scan", "multi_department", "high_frequency")}
    for row in _rows(page, 'data-alert="'):
        kind = row.split('"', 1)[0]
        rows.setdefault(kind, []).append(row)
    # 南开's second visit and 河西's had no scan.
    unscanned = {party.visits["unscanned"], party.visits["hexi"]}
    assert {row.split("/supervise/entries/")[1][:36] for row in rows["no_scan"]} == unscanned
    # 河西 came two days after 南开: several departments within the week.
    [multi] = rows["multi_department"]
    assert party.visits["hexi"] in multi and party.visits["scanned"] in multi
    assert "天津市南开区应急管理局" in multi
    # A credit-A enterprise may be inspected once a year: 南开's second visit is one too many.
    [frequent] = rows["high_frequency"]
    assert "本年度第 2 次入企，年度上限 1 次" in frequent
    assert party.visits["unscanned"] in frequent and party.visits["scanned"] in frequent
    only = supervisor.get(f"/supervise/?kind=multi_department&since={SINCE}").get_data(as_text=True)
    assert len(_rows(only, 'data-alert="')) == 1


def test_a_scan_after_the_visit_began_is_flagged_as_late(party, supervisor, client) -> None:
    png = client.get(
        f"/api/v1/enterprises/{party.nankai['id']}/entry-code?format=png", headers=party.lead
    )
    began = T0 + timedelta(days=40)
    scan = scan_op(decode_png(png.data), party.team, at=began + timedelta(minutes=45))
    visit = inspection_op(party.nankai["id"], party.team, scan_id=scan["id"], at=began)
    assert [r["status"] for r in party.device.push([scan, visit])] == ["applied"] * 2
    page = supervisor.get(f"/supervise/?kind=late_scan&since={SINCE}").get_data(as_text=True)
    [late] = _rows(page, 'data-alert="')
    assert "检查开始 45 分钟后才扫码" in late and visit["id"] in late


def test_low_ratings_and_overdue_complaints_are_alerts(party, app, supervisor) -> None:
    browser = activate(app, party.uscc, party.code)
    path = f"/enterprise/visits/{party.visits['scanned']}"
    token = csrf(browser, path)
    browser.post(
        f"{path}/evaluation", data={"csrf_token": token, "rating": "1", "comment": "态度差"}
    )
    browser.post(f"{path}/complaints", data={"csrf_token": token, "text": "检查时索要材料过多"})
    page = supervisor.get(f"/supervise/?kind=low_rating&since={SINCE}").get_data(as_text=True)
    [low] = _rows(page, 'data-alert="')
    assert "评分 1 星：态度差" in low
    with app.app_context():
        now = datetime.now(UTC)
        assert not supervision.alerts(now, "overdue_complaint")
        later = supervision.alerts(now + timedelta(days=16), "overdue_complaint")
        assert [a.inspection_ids for a in later] == [(party.visits["scanned"],)]
    evaluations = supervisor.get("/supervise/evaluations").get_data(as_text=True)
    assert "态度差" in evaluations and "天津市宏达机械制造有限公司" in evaluations


def test_alerts_export_as_csv_with_their_entries(party, supervisor) -> None:
    response = supervisor.get(f"/supervise/alerts.csv?kind=no_scan&since={SINCE}")
    assert response.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[0] == supervision.ALERT_CSV_HEADER
    assert [r[0] for r in rows[1:]] == ["未扫码", "未扫码"]
    assert {r[2] for r in rows[1:]} == {party.uscc}
    assert {(r[1], r[6]) for r in rows[1:]} == {
        ("天津市南开区应急管理局", party.visits["unscanned"]),
        ("天津市河西区应急管理局", party.visits["hexi"]),
    }


def test_the_supervisor_answers_and_closes_a_complaint_and_the_agency_may_reply_until_then(
    party, app, supervisor, client
) -> None:
    browser = activate(app, party.uscc, party.code)
    path = f"/enterprise/visits/{party.visits['scanned']}"
    browser.post(
        f"{path}/complaints", data={"csrf_token": csrf(browser, path), "text": "未出示执法证"}
    )
    [complaint] = client.get("/api/v1/visit-complaints", headers=party.lead).get_json()
    page = f"/supervise/complaints/{complaint['id']}"
    token = csrf(supervisor, page)
    supervisor.post(f"{page}/answer", data={"csrf_token": token, "text": "已转检查单位核实"})
    reply = client.post(
        f"/api/v1/visit-complaints/{complaint['id']}/replies",
        json={"text": "执法人员已出示执法证，有执法记录仪录像"},
        headers=party.lead,
    )
    assert reply.status_code == 201 and reply.get_json()["status"] == "answered"
    supervisor.post(
        f"{page}/answer",
        data={"csrf_token": token, "text": "经核实，执法人员已出示执法证，办结。", "close": "1"},
    )
    shown = supervisor.get(page).get_data(as_text=True)
    assert "已办结" in shown and "检查单位说明" in shown and "<textarea" not in shown
    late = client.post(
        f"/api/v1/visit-complaints/{complaint['id']}/replies",
        json={"text": "补充说明"},
        headers=party.lead,
    )
    assert late.status_code == 409
    seen = browser.get(path).get_data(as_text=True)
    assert "监督机构答复：经核实" in seen and "已办结" in seen


def test_the_monthly_report_counts_one_agencys_month(party, supervisor, app) -> None:
    with app.app_context():
        agencies = {a.code: a.id for a in supervision.agencies()}
    query = f"agency={agencies['nankai']}&month=2024-05"
    page = supervisor.get(f"/supervise/report?{query}").get_data(as_text=True)
    assert "入企检查（次）</td><td>2" in page
    book = load_workbook(io.BytesIO(supervisor.get(f"/supervise/report.xlsx?{query}").data))
    figures = {row[0]: row[1] for row in book["月报"].iter_rows(min_row=3, values_only=True)}
    assert figures["入企检查（次）"] == "2" and figures["扫码入企（次）"] == "1"
    assert figures["预警：未扫码"] == "1" and figures["预警：多头检查"] == "0"
    details = list(book["预警明细"].iter_rows(min_row=2, values_only=True))
    assert {d[0] for d in details} == {"未扫码", "高频入企"}
    hexi = f"agency={agencies['hexi']}&month=2024-05"
    body = supervisor.get(f"/supervise/report.csv?{hexi}").get_data(as_text=True)
    assert "入企检查（次）,1" in body and "预警：多头检查,1" in body and "预警：未扫码,1" in body
    assert supervisor.get(f"/supervise/report.pdf?{query}").status_code == 404


def test_the_supervisor_sees_the_photos_of_a_complaint_and_no_other_file(
    party, app, supervisor, client
) -> None:
    browser = activate(app, party.uscc, party.code)
    path = f"/enterprise/visits/{party.visits['scanned']}"
    photo = b"\x89PNG\r\n\x1a\n blocked exit"
    browser.post(
        f"{path}/complaints",
        data={
            "csrf_token": csrf(browser, path),
            "text": "检查人员拍照时拍到了商业秘密",
            "photos": (io.BytesIO(photo), "exit.png", "image/png"),
        },
        content_type="multipart/form-data",
    )
    [complaint] = client.get("/api/v1/visit-complaints", headers=party.lead).get_json()
    [sha] = complaint["photo_attachments"]
    page = supervisor.get(f"/supervise/complaints/{complaint['id']}").get_data(as_text=True)
    assert f"/supervise/complaints/{complaint['id']}/photos/{sha}" in page
    shown = supervisor.get(f"/supervise/complaints/{complaint['id']}/photos/{sha}")
    assert shown.status_code == 200 and shown.data == photo and shown.mimetype == "image/png"
    # Another of the agency's attachments is not reachable through the complaint.
    other = party.device.upload(b"\x89PNG\r\n\x1a\n another photo")
    missing = supervisor.get(f"/supervise/complaints/{complaint['id']}/photos/{other}")
    assert missing.status_code == 404


def test_the_alert_list_starts_at_the_start_of_last_year_unless_asked_for_earlier(
    party, supervisor
) -> None:
    default = supervisor.get("/supervise/").get_data(as_text=True)
    assert 'data-alert="no_scan"' not in default
    assert f'name="since" value="{datetime.now(UTC).year - 1}-01-01"' in default
    earlier = supervisor.get(f"/supervise/?since={SINCE}").get_data(as_text=True)
    assert 'data-alert="no_scan"' in earlier
    assert f"/supervise/alerts.csv?since={SINCE}" in earlier
    nonsense = supervisor.get("/supervise/?since=1200-13-45")
    assert nonsense.status_code == 200


def test_a_long_alert_list_comes_in_pages(party, supervisor, monkeypatch) -> None:
    from server.web import supervisor as pages

    monkeypatch.setattr(pages, "_ALERTS_PER_PAGE", 2)
    seen = []
    # Two without a scan, one of several departments, one beyond the yearly cap.
    for n in (1, 2):
        page = supervisor.get(f"/supervise/?since={SINCE}&page={n}").get_data(as_text=True)
        seen += _rows(page, 'data-alert="')
        assert f"第 {n} / 2 页，共 4 条" in page
    assert len(seen) == 4 and len(set(seen)) == 4
    last = supervisor.get(f"/supervise/?since={SINCE}&page=99").get_data(as_text=True)
    assert "第 2 / 2 页" in last
