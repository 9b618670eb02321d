"""What each office role sees and may do: leads, managers and the admin differ."""

from __future__ import annotations

import re

import pytest

from tests.api.test_hazard_pages import csrf, sign_in
from tests.conftest import PASSWORD
from tests.hazard_support import Site, make_site


@pytest.fixture
def site(world, client) -> Site:
    site = make_site(world, client)
    world.user("root", role="admin", full_name="系统管理员", cert_no=None)
    return site


def nav(html: str) -> list[str]:
    menu = html.split('<nav class="top"')[1].split("</nav>")[0]
    return re.findall(r'<a href="[^"]+" class="[^"]*">([^<]+)</a>', menu)


def test_each_role_gets_its_own_menu(site, app) -> None:
    menus = {}
    for username in ("lead1", "boss", "root"):
        browser, signed_in = sign_in(app, username)
        assert signed_in.status_code == 302
        landing = browser.get(signed_in.headers["Location"], follow_redirects=True)
        menus[username] = nav(landing.get_data(as_text=True))
    assert "双随机抽查" in menus["lead1"] and "用户管理" not in menus["lead1"]
    assert "年度统计" in menus["boss"] and "用户管理" not in menus["boss"]
    assert "用户管理" in menus["root"]
    assert "隐患清单" not in menus["root"] and "双随机抽查" not in menus["root"]
    assert "设备管理" in menus["root"]


def test_the_admin_lands_on_users_and_may_not_open_hazard_or_draw_pages(site, app) -> None:
    browser, signed_in = sign_in(app, "root")
    landing = browser.get("/manage/")
    assert landing.status_code == 302 and landing.headers["Location"].endswith("/manage/users")
    for path in ("/manage/hazards", "/manage/draws", "/manage/reports/annual"):
        refused = browser.get(path)
        assert refused.status_code == 403, path
        assert "您的角色无权进行此项操作" in refused.get_data(as_text=True)


def test_leads_and_managers_may_not_manage_users(site, app) -> None:
    for username in ("lead1", "boss"):
        browser, _ = sign_in(app, username)
        assert browser.get("/manage/users").status_code == 403


def test_only_a_manager_sees_the_sign_off_form(site, app) -> None:
    hazard = site.hazard(level="major")
    site.order(hazard)
    site.reinspect(hazard, outcome="pass")
    lead, _ = sign_in(app, "lead1")
    boss, _ = sign_in(app, "boss")
    assert 'id="sign-off"' not in lead.get(f"/manage/hazards/{hazard['id']}").get_data(as_text=True)
    assert 'id="sign-off"' in boss.get(f"/manage/hazards/{hazard['id']}").get_data(as_text=True)


def test_the_admin_adds_a_user_disables_resets_and_enables_them(site, app, client) -> None:
    browser, _ = sign_in(app, "root")
    token = csrf(browser, "/manage/users")
    added = browser.post(
        "/manage/users",
        data={
            "csrf_token": token,
            "username": "chen",
            "full_name": "陈刚",
            "role": "inspector",
            "unit": "执法一大队",
            "cert_no": "12010420077",
            "cert_valid_until": "2030-12-31",
            "password": PASSWORD,
        },
    )
    assert added.status_code == 302
    page = browser.get("/manage/users").get_data(as_text=True)
    row = page.split('data-user="chen"')[1].split("</tr>")[0]
    assert "陈刚" in row and "执法人员" in row and "执法一大队" in row and "正常" in row
    phone = client.post(
        "/api/v1/auth/login",
        json={"username": "chen", "password": PASSWORD, "device_id": "p-chen"},
    )
    headers = {"Authorization": f"Bearer {phone.get_json()['access_token']}"}
    user_id = re.search(r"/manage/users/([0-9a-f-]+)/disable", row).group(1)

    assert (
        browser.post(f"/manage/users/{user_id}/disable", data={"csrf_token": token}).status_code
        == 302
    )
    assert client.get("/api/v1/me", headers=headers).status_code == 401
    again = client.post(
        "/api/v1/auth/login", json={"username": "chen", "password": PASSWORD, "device_id": "p-chen"}
    )
    assert again.status_code == 401
    browser.post(f"/manage/users/{user_id}/enable", data={"csrf_token": token})
    browser.post(
        f"/manage/users/{user_id}/password",
        data={"csrf_token": token, "password": "new-password-2024"},
    )
    old = client.post(
        "/api/v1/auth/login", json={"username": "chen", "password": PASSWORD, "device_id": "p-chen"}
    )
    assert old.status_code == 401
    new = client.post(
        "/api/v1/auth/login",
        json={"username": "chen", "password": "new-password-2024", "device_id": "p-chen"},
    )
    assert new.status_code == 200

    duplicate = browser.post(
        "/manage/users",
        data={"csrf_token": token, "username": "chen", "role": "inspector", "password": PASSWORD},
    )
    assert duplicate.status_code == 422
    assert "用户名已存在" in duplicate.get_data(as_text=True)
    assert browser.post("/manage/users", data={"username": "x"}).status_code == 400


def test_the_admin_cannot_disable_themselves_nor_touch_another_agencys_users(
    site, app, world
) -> None:
    world.agency("hexi", "天津市河西区应急管理局", "河西")
    stranger = world.user("hexi-wang", agency="hexi")
    browser, _ = sign_in(app, "root")
    token = csrf(browser, "/manage/users")
    page = browser.get("/manage/users").get_data(as_text=True)
    assert "hexi-wang" not in page
    own = page.split('data-user="root"')[1].split("</tr>")[0]
    assert "当前用户" in own and "<button" not in own
    refused = browser.post(f"/manage/users/{stranger.id}/disable", data={"csrf_token": token})
    assert refused.status_code == 404
