"""Manager pages without a browser: sign-in, CSRF, what each page lists, sign-off by form."""

from __future__ import annotations

import io
import re

import pytest
from PIL import Image

from tests.conftest import PASSWORD
from tests.hazard_support import Site, make_site
from tests.sync_support import op


@pytest.fixture
def site(world, client) -> Site:
    return make_site(world, client)


def png(colour: str = "red") -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (32, 24), colour).save(buffer, format="PNG")
    return buffer.getvalue()


def upload_image(site: Site, content: bytes) -> str:
    from tests.sync_support import sha256

    digest = sha256(content)
    response = site.client.put(
        f"/api/v1/attachments/{digest}",
        data=content,
        headers={**site.device.headers, "Content-Type": "image/png"},
    )
    assert response.status_code in (200, 201)
    return digest


def csrf(client, path: str) -> str:
    page = client.get(path).get_data(as_text=True)
    match = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert match, page
    return match.group(1)


def sign_in(app, username: str = "boss"):
    browser = app.test_client()
    token = csrf(browser, "/manage/login")
    response = browser.post(
        "/manage/login",
        data={"username": username, "password": PASSWORD, "csrf_token": token, "next": ""},
    )
    return browser, response


def test_pages_need_a_signed_in_lead_or_manager(site, app) -> None:
    anonymous = app.test_client().get("/manage/hazards?status=open")
    assert anonymous.status_code == 302
    assert anonymous.headers["Location"].startswith("/manage/login?next=")
    _, wrong = sign_in(app, "nobody")
    assert wrong.status_code == 401 and "用户名或密码错误" in wrong.get_data(as_text=True)
    _, inspector = sign_in(app, "wang")
    assert inspector.status_code == 401
    assert "执法大队负责人和局领导" in inspector.get_data(as_text=True)
    browser, ok = sign_in(app, "boss")
    assert ok.status_code == 302 and ok.headers["Location"] == "/manage/"
    cookie = ok.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    page = browser.get("/manage/")
    assert page.status_code == 200
    assert "frame-ancestors 'none'" in page.headers["Content-Security-Policy"]
    assert page.headers["Cache-Control"] == "no-store"


def test_a_form_without_its_csrf_token_is_refused(site, app) -> None:
    browser, _ = sign_in(app)
    hazard = site.hazard()
    refused = browser.post(f"/manage/hazards/{hazard['id']}/sign-off", data={"note": "x"})
    assert refused.status_code == 400
    refused = browser.post("/manage/logout", data={"csrf_token": "forged"})
    assert refused.status_code == 400
    assert browser.get("/manage/").status_code == 200


def test_signing_out_revokes_the_token_behind_the_cookie(site, app) -> None:
    browser, _ = sign_in(app)
    stolen = app.test_client()
    cookie = browser.get_cookie("session")
    stolen.set_cookie("session", cookie.value)
    assert stolen.get("/manage/").status_code == 200
    browser.post("/manage/logout", data={"csrf_token": csrf(browser, "/manage/")})
    assert stolen.get("/manage/").status_code == 302


def test_the_lists_show_open_overdue_and_supervised_hazards(site, app) -> None:
    chem = site.enterprise("chem", name="天津化工有限公司", industry="hazardous_chemicals")
    late = site.hazard(chem, description="储罐区无可燃气体报警器")
    site.order(late, deadline="2024-05-20")
    site.hazard(description="消防通道堆放杂物")
    browser, _ = sign_in(app)
    listing = browser.get("/manage/hazards").get_data(as_text=True)
    assert "储罐区无可燃气体报警器" in listing and "消防通道堆放杂物" in listing
    chemicals = browser.get("/manage/hazards?industry=hazardous_chemicals").get_data(as_text=True)
    assert "储罐区无可燃气体报警器" in chemicals and "消防通道堆放杂物" not in chemicals
    overdue = browser.get("/manage/hazards/overdue").get_data(as_text=True)
    assert "储罐区无可燃气体报警器" in overdue and "消防通道堆放杂物" not in overdue
    assert "建议立案" in overdue
    assert "没有符合条件的隐患" in browser.get("/manage/hazards/supervised").get_data(as_text=True)
    export = browser.get("/manage/hazards.csv?overdue=1")
    assert export.mimetype == "text/csv" and "储罐区无可燃气体报警器" in export.data.decode()


def test_an_enterprises_history_shows_its_photos(site, app) -> None:
    photo = upload_image(site, png())
    hazard = site.hazard(photos=[photo])
    browser, _ = sign_in(app)
    page = browser.get(f"/manage/enterprises/{site.enterprise()['id']}/hazards")
    assert f"/manage/attachments/{photo}" in page.get_data(as_text=True)
    image = browser.get(f"/manage/attachments/{photo}")
    assert image.status_code == 200 and image.mimetype == "image/png"
    detail = browser.get(f"/manage/hazards/{hazard['id']}").get_data(as_text=True)
    assert f"/manage/attachments/{photo}" in detail and "发现隐患" in detail


def test_an_enterprises_history_shows_rectification_evidence_beside_the_finding(site, app) -> None:
    found = upload_image(site, png("red"))
    repaired = upload_image(site, png("green"))
    hazard = site.hazard(photos=[found])
    site.order(hazard)
    rectification = op(
        "rectification",
        {
            "hazard_id": hazard["id"],
            "reported_at": "2024-05-10T10:00:00+08:00",
            "description": "已更换配电箱锁具",
            "evidence_attachments": [repaired],
        },
    )
    assert site.device.push([rectification])[0]["status"] == "applied"
    browser, _ = sign_in(app)
    page = browser.get(f"/manage/enterprises/{site.enterprise()['id']}/hazards")
    text = page.get_data(as_text=True)
    finding, later = text.split("整改及复查照片")
    assert f"/manage/attachments/{found}" in finding
    assert f"/manage/attachments/{repaired}" in later
    assert f"/manage/attachments/{found}" not in later


def test_the_list_filters_by_inspector(site, app, world) -> None:
    site.hazard(description="王伟组发现的隐患")
    zhou = world.user("zhou", role="inspector", cert_no="12010420009", full_name="周强")
    browser, _ = sign_in(app)
    everyone = browser.get("/manage/hazards").get_data(as_text=True)
    assert "王伟组发现的隐患" in everyone and "周强" in everyone  # offered in the filter
    mine = browser.get(f"/manage/hazards?inspector_id={site.team[0]}").get_data(as_text=True)
    assert "王伟组发现的隐患" in mine
    theirs = browser.get(f"/manage/hazards?inspector_id={zhou.id}").get_data(as_text=True)
    assert "王伟组发现的隐患" not in theirs
    assert browser.get("/manage/hazards?inspector_id=nonsense").status_code == 200


def test_a_manager_signs_off_a_major_hazard_on_its_page(site, app) -> None:
    hazard = site.hazard(level="major")
    site.order(hazard)
    site.reinspect(hazard)
    browser, _ = sign_in(app)
    path = f"/manage/hazards/{hazard['id']}"
    assert "同意销号" in browser.get(path).get_data(as_text=True)
    response = browser.post(
        f"{path}/sign-off", data={"csrf_token": csrf(browser, path), "note": "同意销号"}
    )
    assert response.status_code == 302
    page = browser.get(path).get_data(as_text=True)
    assert "已销号" in page and "领导审批销号" in page
    again = browser.post(f"{path}/sign-off", data={"csrf_token": csrf(browser, path)})
    assert again.status_code == 409 and "closed" in again.get_data(as_text=True)


def test_another_agencys_hazard_page_is_not_found(site, app, world) -> None:
    hazard = site.hazard()
    world.agency("hexi", "天津市河西区应急管理局", "河西")
    world.user("hexi-boss", agency="hexi", role="manager")
    browser, _ = sign_in(app, "hexi-boss")
    assert browser.get(f"/manage/hazards/{hazard['id']}").status_code == 404


def test_the_dashboard_shows_the_years_rate_and_charts(site, app) -> None:
    hazard = site.hazard()
    site.order(hazard)
    browser, _ = sign_in(app)
    page = browser.get("/manage/?year=2024").get_data(as_text=True)
    assert "2024年共排查发现隐患1处，其中重大事故隐患0处，已整改0处，整改率0.0%" in page
    assert page.count("<svg") == 2
    assert "未销号隐患账龄" in page
