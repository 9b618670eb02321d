"""Gate codes, posters and document PDFs from a signed-in office browser, as the API serves them."""

from __future__ import annotations

import io

import pytest
from pypdf import PdfReader

from tests.api.test_hazard_pages import sign_in
from tests.hazard_support import Site, make_site
from tests.qr_support import decode_png, qr_texts


@pytest.fixture
def site(world, client) -> Site:
    return make_site(world, client)


def test_a_lead_finds_an_enterprise_and_downloads_its_gate_code_and_poster(site, app) -> None:
    works = site.enterprise("works", name="天津宏达机械制造有限公司", industry="machinery")
    site.enterprise("chem", name="天津渤海化工有限公司", industry="hazardous_chemicals")
    browser, _ = sign_in(app, "lead1")
    listing = browser.get("/manage/enterprises?q=宏达").get_data(as_text=True)
    assert listing.count("data-enterprise=") == 1 and works["id"] in listing
    assert 'href="/manage/enterprises"' in listing  # in the navigation

    api_png = site.client.get(f"/api/v1/enterprises/{works['id']}/entry-code", headers=site.lead)
    png = browser.get(f"/manage/enterprises/{works['id']}/entry-code.png")
    assert png.status_code == 200 and png.mimetype == "image/png"
    assert decode_png(png.data) == decode_png(api_png.data)
    assert decode_png(png.data).startswith("https://enforce.example.cn/e/")
    svg = browser.get(f"/manage/enterprises/{works['id']}/entry-code.svg")
    assert svg.status_code == 200 and svg.mimetype == "image/svg+xml"
    assert browser.get(f"/manage/enterprises/{works['id']}/entry-code.gif").status_code == 404

    poster = browser.get(f"/manage/enterprises/{works['id']}/entry-code/poster.pdf")
    assert poster.status_code == 200 and poster.mimetype == "application/pdf"
    page = PdfReader(io.BytesIO(poster.data)).pages[0]
    assert works["name"] in page.extract_text()
    assert qr_texts(page.images[0].image) == [decode_png(png.data)]


def test_the_batch_poster_pdf_follows_the_directory_filters(site, app) -> None:
    for n in range(3):
        site.enterprise(f"m{n}", name=f"机械厂{n}", industry="machinery")
    site.enterprise("chem", name="化工厂", industry="hazardous_chemicals")
    browser, _ = sign_in(app)
    listing = browser.get("/manage/enterprises?industry=machinery").get_data(as_text=True)
    assert 'href="/manage/enterprises/entry-code-posters.pdf?industry=machinery"' in listing
    batch = browser.get("/manage/enterprises/entry-code-posters.pdf?industry=machinery")
    assert batch.status_code == 200
    assert len(PdfReader(io.BytesIO(batch.data)).pages) == 3
    none = browser.get("/manage/enterprises/entry-code-posters.pdf?industry=tobacco")
    assert none.status_code == 404 and "没有符合筛选条件的企业" in none.get_data(as_text=True)


def test_a_document_number_on_the_hazard_page_opens_its_pdf(site, app) -> None:
    hazard = site.hazard(description="配电箱未上锁")
    order_id = site.order(hazard)
    browser, _ = sign_in(app)
    html = browser.get(f"/manage/hazards/{hazard['id']}").get_data(as_text=True)
    link = f'href="/manage/documents/{order_id}.pdf"'
    assert link in html and "（南开）应急责改〔2024〕1号</a>" in html
    pdf = browser.get(f"/manage/documents/{order_id}.pdf")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    assert "责令限期整改指令书" in PdfReader(io.BytesIO(pdf.data)).pages[0].extract_text()


def test_files_need_a_session_and_stay_inside_the_agency(site, world, app) -> None:
    works = site.enterprise("works")
    hazard = site.hazard(works)
    order_id = site.order(hazard)
    world.agency("hexi", "天津市河西区应急管理局", "河西")
    world.user("hexi-boss", agency="hexi", role="manager")
    anonymous = app.test_client()
    for path in (
        f"/manage/enterprises/{works['id']}/entry-code.png",
        f"/manage/enterprises/{works['id']}/entry-code/poster.pdf",
        f"/manage/documents/{order_id}.pdf",
        "/manage/enterprises/entry-code-posters.pdf",
    ):
        answer = anonymous.get(path)
        assert answer.status_code == 302 and "/manage/login" in answer.headers["Location"]
    stranger, _ = sign_in(app, "hexi-boss")
    for path in (
        f"/manage/enterprises/{works['id']}/entry-code.png",
        f"/manage/enterprises/{works['id']}/entry-code/poster.pdf",
        f"/manage/documents/{order_id}.pdf",
        "/manage/enterprises/entry-code-posters.pdf",
    ):
        assert stranger.get(path).status_code == 404, path
    assert works["id"] not in stranger.get("/manage/enterprises").get_data(as_text=True)


def test_a_lead_uploads_a_directory_sheet_and_reads_each_rows_outcome(site, app, world) -> None:
    import io as _io

    browser, _ = sign_in(app, "lead1")
    assert 'id="import-link"' in browser.get("/manage/enterprises").get_data(as_text=True)
    good = world.uscc()
    sheet = (
        "统一社会信用代码,企业名称,行业,风险等级,信用等级,重点企业\n"
        f"{good},天津市新开机械有限公司,机械,好,A,否\n"
        "123,坏行,机械,好,A,否\n"
    ).encode("gbk")
    from tests.api.test_hazard_pages import csrf

    token = csrf(browser, "/manage/enterprises/import")
    done = browser.post(
        "/manage/enterprises/import",
        data={"csrf_token": token, "file": (_io.BytesIO(sheet), "名录.csv")},
        content_type="multipart/form-data",
    )
    assert done.status_code == 422  # a row failed: said so, the good one still imported
    html = done.get_data(as_text=True)
    assert 'data-row="2" data-status="created"' in html
    assert 'data-row="3" data-status="error"' in html and "uscc" in html
    listing = browser.get("/manage/enterprises?q=新开").get_data(as_text=True)
    assert listing.count("data-enterprise=") == 1


def test_a_manager_rotates_a_gate_code_and_the_old_poster_stops_working(site, app) -> None:
    from tests.api.test_hazard_pages import csrf
    from tests.qr_support import decode_png

    works = site.enterprise("works")
    boss, _ = sign_in(app, "boss")
    old = decode_png(boss.get(f"/manage/enterprises/{works['id']}/entry-code.png").data)
    lead, _ = sign_in(app, "lead1")
    page = lead.get(f"/manage/enterprises/{works['id']}/hazards").get_data(as_text=True)
    assert 'id="rotate-form"' not in page
    token = csrf(boss, f"/manage/enterprises/{works['id']}/hazards")
    rotated = boss.post(
        f"/manage/enterprises/{works['id']}/entry-code/rotate", data={"csrf_token": token}
    )
    assert rotated.status_code == 302
    new = decode_png(boss.get(f"/manage/enterprises/{works['id']}/entry-code.png").data)
    assert new != old
    from tests.sync_support import scan_op

    stale, fresh = site.device.push([scan_op(old, site.team), scan_op(new, site.team)])
    assert stale["status"] == "rejected" and stale["errors"]["code"] == "entry_code_revoked"
    assert fresh["status"] == "applied"
    refused = lead.post(
        f"/manage/enterprises/{works['id']}/entry-code/rotate",
        data={"csrf_token": csrf(lead, "/manage/enterprises")},
    )
    assert refused.status_code == 403


def test_a_lead_edits_an_enterprises_facts_from_its_page(site, app) -> None:
    from tests.api.test_hazard_pages import csrf

    works = site.enterprise("works", name="天津宏达机械制造有限公司", risk_grade="good")
    browser, _ = sign_in(app, "lead1")
    page = browser.get(f"/manage/enterprises/{works['id']}/hazards").get_data(as_text=True)
    assert "风险等级：好" in page and 'id="edit-enterprise"' in page
    token = csrf(browser, f"/manage/enterprises/{works['id']}/edit")
    form = {
        "csrf_token": token,
        "name": "天津宏达重工有限公司",
        "industry": "machinery",
        "risk_grade": "poor",
        "credit_rating": "C",
        "address": "天津市南开区红旗路100号",
        "is_key": "1",
    }
    done = browser.post(f"/manage/enterprises/{works['id']}/edit", data=form)
    assert done.status_code == 302
    stored = site.client.get(f"/api/v1/enterprises/{works['id']}", headers=site.lead).get_json()
    assert (stored["name"], stored["risk_grade"], stored["credit_rating"], stored["is_key"]) == (
        "天津宏达重工有限公司",
        "poor",
        "C",
        True,
    )
    assert stored["version"] == works["version"] + 1
    refused = browser.post(
        f"/manage/enterprises/{works['id']}/edit", data={**form, "industry": "spaceflight"}
    )
    assert refused.status_code == 422 and 'id="form-errors"' in refused.get_data(as_text=True)


def test_an_enterprise_page_shows_its_visits_documents_and_scans(world, client, app) -> None:
    from tests.api.test_hazard_pages import sign_in
    from tests.hazard_support import make_site
    from tests.sync_support import document_op, hazard_op, inspection_op, scan_op

    site = make_site(world, client)
    enterprise = site.enterprise()
    png = client.get(
        f"/api/v1/enterprises/{enterprise['id']}/entry-code?format=png", headers=site.lead
    )
    from tests.qr_support import decode_png

    scan = scan_op(decode_png(png.data), site.team)
    inspection = inspection_op(
        enterprise["id"], site.team, scan_id=scan["id"], findings="消防通道堵塞"
    )
    hazard = hazard_op(inspection["id"], enterprise["id"], deadline="2024-05-20")
    order = document_op(
        "rectification_order", inspection["id"], [hazard["id"]], deadline="2024-05-20"
    )
    results = site.device.push([scan, inspection, hazard, order])
    assert [r["status"] for r in results] == ["applied"] * 4, results
    browser, _ = sign_in(app, "boss")
    page = browser.get(f"/manage/enterprises/{enterprise['id']}")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert 'id="enterprise-visits"' in text and "消防通道堵塞" in text
    assert results[3]["number"] in text
    assert f"/manage/documents/{order['id']}.pdf" in text
    assert f'data-scan="{scan["id"]}"' in text
    assert "责令限期整改指令书" in text
