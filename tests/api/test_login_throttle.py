"""Failed sign-ins are limited per user name and per address, on every host alike."""

from __future__ import annotations

from datetime import timedelta

from server.domain import throttle
from tests.conftest import PASSWORD

USER_LIMIT = throttle.LIMITS[throttle.USER].failures
ADDRESS_LIMIT = throttle.LIMITS[throttle.ADDRESS].failures


def _login(client, username: str, password: str, address: str = "10.1.2.3"):
    return client.post(
        "/api/v1/auth/login",
        json={"username": username, "password": password, "device_id": "p1", "device_name": "x"},
        environ_base={"REMOTE_ADDR": address},
    )


def test_a_user_name_guessed_too_often_must_wait_even_with_the_right_password(
    world, client
) -> None:
    world.agency()
    world.user("wang", cert_no="12010420001")
    for _ in range(USER_LIMIT):
        assert _login(client, "wang", "guess").status_code == 401
    refused = _login(client, "wang", PASSWORD)
    assert refused.status_code == 429
    body = refused.get_json()["error"]
    assert body["code"] == "too_many_attempts"
    wait = int(refused.headers["Retry-After"])
    assert 0 < wait <= throttle.LIMITS[throttle.USER].window.total_seconds()
    # From another address too: the user name is what is limited.
    assert _login(client, "wang", PASSWORD, address="10.9.9.9").status_code == 429
    # Another user is not affected.
    world.user("li", cert_no="12010420002")
    assert _login(client, "li", PASSWORD, address="10.9.9.9").status_code == 200


def test_the_limit_lifts_when_its_window_is_over_and_a_success_clears_it(
    world, client, app
) -> None:
    from server.extensions import db
    from server.models import LoginThrottle

    world.agency()
    world.user("wang", cert_no="12010420001")
    for _ in range(USER_LIMIT):
        _login(client, "wang", "guess")
    assert _login(client, "wang", PASSWORD).status_code == 429
    with app.app_context():  # the window started a quarter-hour ago
        for row in db.session.scalars(db.select(LoginThrottle)):
            row.window_started_at -= throttle.LIMITS[throttle.USER].window + timedelta(seconds=1)
        db.session.commit()
    assert _login(client, "wang", "guess").status_code == 401  # a new window: one failure
    assert _login(client, "wang", PASSWORD).status_code == 200
    with app.app_context():
        rows = db.session.scalars(db.select(LoginThrottle)).all()
        assert [(r.scope, r.key) for r in rows] == [("address", "10.1.2.3")]


def test_one_address_trying_many_user_names_must_wait(world, client) -> None:
    world.agency()
    world.user("wang", cert_no="12010420001")
    for n in range(ADDRESS_LIMIT):
        assert _login(client, f"nobody{n}", "guess", address="10.6.6.6").status_code == 401
    assert _login(client, "wang", PASSWORD, address="10.6.6.6").status_code == 429
    assert _login(client, "wang", PASSWORD, address="10.7.7.7").status_code == 200


def test_the_office_sign_in_page_is_limited_too_and_says_so_in_chinese(world, app) -> None:
    from tests.api.test_hazard_pages import csrf

    world.agency()
    world.user("boss", role="manager", cert_no=None)
    browser = app.test_client()
    token = csrf(browser, "/manage/login")

    def sign_in(password: str):
        return browser.post(
            "/manage/login",
            data={"username": "boss", "password": password, "csrf_token": token, "next": ""},
        )

    for _ in range(USER_LIMIT):
        assert "用户名或密码错误" in sign_in("guess").get_data(as_text=True)
    refused = sign_in(PASSWORD)
    assert refused.status_code != 302
    assert "登录失败次数过多" in refused.get_data(as_text=True)
    assert browser.get("/manage/").status_code == 302  # still signed out
