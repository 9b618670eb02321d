"""亮码: an inspector's short-lived signed code and the public page a phone camera opens."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa

from server.domain import inspector_codes as codes
from server.extensions import db
from server.models import User
from tests.draw_support import plan_payload
from tests.party_support import ok

T = datetime(2024, 5, 6, 9, 0, tzinfo=UTC)


def _path(url: str) -> str:
    return "/" + url.split("/", 3)[3]


@pytest.fixture
def team(world, client):
    world.agency()
    wang = world.user(
        "wang",
        cert_no="12010420001",
        full_name="王伟",
        unit="执法一大队",
        cert_valid_until=date(2099, 12, 31),
    )
    world.user("li", cert_no="12010420002", full_name="李娜")
    lead = world.headers("lead")
    world.enterprise(lead, risk_grade="good")
    plan = ok(
        client.post(
            "/api/v1/draw-plans",
            json=plan_payload(
                rates={"risk:good": "1"}, default_rate="1", name="2024年第二季度双随机抽查"
            ),
            headers=lead,
        )
    )
    draw = ok(client.post(f"/api/v1/draw-plans/{plan['id']}/run", json={}, headers=lead))
    [task] = ok(client.get(f"/api/v1/draws/{draw['id']}/tasks", headers=lead), 200)["tasks"]
    return {"wang": wang, "task": task, "lead": lead, "world": world}


def _team_member(team) -> dict[str, str]:
    member = next(u for u in ("wang", "li") if _user_id(team, u) in team["task"]["inspector_ids"])
    return team["world"].login(member)


def _user_id(team, username: str) -> str:
    with team["world"].app.app_context():
        return str(db.session.scalar(sa.select(User.id).where(User.username == username)))


def test_a_camera_opens_the_page_with_the_inspector_and_the_tasks_legal_basis(team, client) -> None:
    headers = _team_member(team)
    issued = ok(
        client.get(f"/api/v1/tasks/{team['task']['id']}/inspector-code", headers=headers), 200
    )
    assert issued["url"].startswith("https://enforce.example.cn/v/")
    page = client.get(_path(issued["url"]))
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "身份有效" in text and "执法证号" in text
    assert "《中华人民共和国安全生产法》第六十五条" in text
    assert team["task"]["title"] in text and "2024年第二季度双随机抽查" in text


def test_a_code_without_a_task_names_the_general_legal_basis(team, client) -> None:
    headers = team["world"].login("wang")
    issued = ok(client.get("/api/v1/inspector-code", headers=headers), 200)
    text = client.get(_path(issued["url"])).get_data(as_text=True)
    assert "王伟" in text and "执法一大队" in text and "12010420001" in text
    assert "2099-12-31" in text and codes.DEFAULT_LEGAL_BASIS in text


def test_only_the_tasks_team_gets_a_code_for_it(team, client) -> None:
    outsider = team["world"].headers("inspector", cert_no="12010420009")
    refused = client.get(f"/api/v1/tasks/{team['task']['id']}/inspector-code", headers=outsider)
    assert refused.status_code == 403 and refused.get_json()["error"]["code"] == "not_on_team"


def test_a_forged_or_altered_code_shows_a_clear_warning(team, client, app) -> None:
    headers = team["world"].login("wang")
    token = ok(client.get("/api/v1/inspector-code", headers=headers), 200)["token"]
    altered = token[:-2] + ("AA" if token[-2:] != "AA" else "BB")
    wrong_key = codes.issue(codes.derive_key("another deployment"), team["wang"].id, None, T)
    for forged in (altered, wrong_key, "not-a-code", "x" * 500):
        page = client.get(f"/v/{forged}")
        assert page.status_code == 404
        text = page.get_data(as_text=True)
        assert "核验未通过" in text and "可能被伪造或篡改" in text and "王伟" not in text


def test_an_expired_code_shows_a_warning(team, client, app) -> None:
    key = codes.derive_key(app.config["SECRET_KEY"])
    old = codes.issue(key, team["wang"].id, None, datetime.now(UTC) - codes.LIFETIME)
    text = client.get(f"/v/{old}").get_data(as_text=True)
    assert "此码已过期" in text and "王伟" not in text


def test_a_lapsed_certificate_shows_a_warning_with_who_it_is(team, client, app) -> None:
    with app.app_context():
        user = db.session.get(User, team["wang"].id)
        user.cert_valid_until = date.today() - timedelta(days=1)
        db.session.commit()
    key = codes.derive_key(app.config["SECRET_KEY"])
    token = codes.issue(key, team["wang"].id, None, datetime.now(UTC))
    page = client.get(f"/v/{token}")
    text = page.get_data(as_text=True)
    assert "执法证已过期或无效" in text and "王伟" in text and "身份有效" not in text


def test_a_deactivated_inspectors_code_is_refused(team, client, app) -> None:
    key = codes.derive_key(app.config["SECRET_KEY"])
    token = codes.issue(key, team["wang"].id, None, datetime.now(UTC))
    with app.app_context():
        db.session.get(User, team["wang"].id).active = False
        db.session.commit()
    text = client.get(f"/v/{token}").get_data(as_text=True)
    assert "查无此执法人员或账号已停用" in text and "王伟" not in text


def test_a_code_lasts_five_minutes() -> None:
    key = codes.derive_key("k")
    token = codes.issue(key, codes.uuid.uuid4(), None, T)
    assert codes.read(key, token, T + timedelta(minutes=4, seconds=59)).status == codes.VALID
    assert codes.read(key, token, T + timedelta(minutes=5)).status == codes.EXPIRED
