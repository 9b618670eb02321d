"""The devices page: a lead stops a lost phone and lets it back in once found."""

from __future__ import annotations

from tests.api.test_hazard_pages import csrf, sign_in
from tests.conftest import PASSWORD


def test_a_lead_revokes_a_lost_phone_and_reinstates_it_from_the_page(world, client, app) -> None:
    world.agency()
    world.user("wang", full_name="王伟")
    phone = world.login("wang", device_id="phone-wang")
    world.user("zhang", role="lead", full_name="张强")
    browser, signed_in = sign_in(app, "zhang")
    assert signed_in.status_code == 302
    page = browser.get("/manage/devices").get_data(as_text=True)
    assert 'href="/manage/devices"' in page  # in the navigation
    row = page.split('data-device="phone-wang"')[1].split("</tr>")[0]
    assert "王伟" in row and "正常" in row and "停用</button>" in row
    own = page.split('data-device="web:zhang"')[1].split("</tr>")[0]
    assert "当前会话" in own and "<button" not in own  # no button that signs oneself out

    token = csrf(browser, "/manage/devices")
    done = browser.post("/manage/devices/phone-wang/revoke", data={"csrf_token": token})
    assert done.status_code == 302 and done.headers["Location"] == "/manage/devices"
    assert client.get("/api/v1/me", headers=phone).status_code == 401
    row = browser.get("/manage/devices").get_data(as_text=True)
    row = row.split('data-device="phone-wang"')[1].split("</tr>")[0]
    assert "已停用" in row and "停用 · 张强" in row and "恢复</button>" in row

    browser.post("/manage/devices/phone-wang/reinstate", data={"csrf_token": token})
    again = client.post(
        "/api/v1/auth/login",
        json={"username": "wang", "password": PASSWORD, "device_id": "phone-wang"},
    )
    assert again.status_code == 200
    row = browser.get("/manage/devices").get_data(as_text=True)
    row = row.split('data-device="phone-wang"')[1].split("</tr>")[0]
    assert "正常" in row and "停用 · 张强" in row and "恢复 · 张强" in row
    refused = browser.post("/manage/devices/phone-wang/revoke", data={})
    assert refused.status_code == 400  # no CSRF token, nothing done
    assert (
        client.get(
            "/api/v1/me", headers={"Authorization": f"Bearer {again.get_json()['access_token']}"}
        ).status_code
        == 200
    )
    missing = browser.post("/manage/devices/no-such-phone/revoke", data={"csrf_token": token})
    assert missing.status_code == 404
