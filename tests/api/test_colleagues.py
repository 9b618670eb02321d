"""``GET /api/v1/users``: the people an inspector may put on a team, from the phone."""

from __future__ import annotations

import sqlalchemy as sa

from server.extensions import db
from server.models import User


def test_an_inspector_lists_the_active_people_of_their_own_agency_only(world, client, app) -> None:
    world.agency()
    world.agency("heping", name="天津市和平区应急管理局", abbr="和平")
    wang = world.user("wang", full_name="王伟", cert_no="12010420001", unit="执法一大队")
    li = world.user("li", full_name="李娜", cert_no="12010420002")
    gone = world.user("gone", full_name="赵退休")
    world.user("other", agency="heping", full_name="和平区的人")
    with app.app_context():
        db.session.execute(sa.update(User).where(User.id == gone.id).values(active=False))
        db.session.commit()

    response = client.get("/api/v1/users", headers=world.login("wang"))

    assert response.status_code == 200
    people = {p["id"]: p for p in response.get_json()}
    assert set(people) == {str(wang.id), str(li.id)}
    assert people[str(wang.id)]["cert_no"] == "12010420001"
    assert people[str(wang.id)]["unit"] == "执法一大队"
    assert people[str(li.id)]["full_name"] == "李娜"
    assert "password_hash" not in people[str(li.id)]


def test_the_people_list_wants_a_token(client) -> None:
    response = client.get("/api/v1/users")
    assert response.status_code == 401
    assert response.get_json()["error"]["code"]
