"""Login, device-bound tokens, expiry and revocation, through the HTTP API."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from server.extensions import db
from server.models import ApiToken
from tests.conftest import PASSWORD


def test_login_returns_a_token_bound_to_the_device(world, client) -> None:
    world.agency()
    world.user("wang", role="inspector", cert_no="12010420001")
    response = client.post(
        "/api/v1/auth/login",
        json={
            "username": "wang",
            "password": PASSWORD,
            "device_id": "phone-1",
            "device_name": "Mate",
        },
    )
    assert response.status_code == 200
    body = response.get_json()
    assert body["user"]["role"] == "inspector"
    assert body["user"]["agency"]["abbr"] == "南开"
    assert body["user"]["cert_no"] == "12010420001"
    assert body["expires_at"].endswith("+08:00")
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert me.status_code == 200
    assert me.get_json()["username"] == "wang"


def test_the_token_is_stored_only_as_a_hash(world, client, app) -> None:
    world.agency()
    world.user("wang")
    token = world.login("wang")["Authorization"].split()[1]
    with app.app_context():
        stored = db.session.scalars(sa.select(ApiToken.token_hash)).all()
    assert stored and token not in stored and all(len(h) == 64 for h in stored)


def test_a_wrong_password_or_unknown_user_gets_the_same_401(world, client) -> None:
    world.agency()
    world.user("wang")
    for username, password in (("wang", "wrong password"), ("nobody", PASSWORD)):
        response = client.post(
            "/api/v1/auth/login",
            json={"username": username, "password": password, "device_id": "d"},
        )
        assert response.status_code == 401
        assert response.get_json()["error"]["code"] == "invalid_credentials"


def test_every_api_route_wants_a_token(client) -> None:
    for method, path in (
        ("get", "/api/v1/enterprises"),
        ("post", "/api/v1/enterprises"),
        ("get", "/api/v1/me"),
        ("post", "/api/v1/devices/x/revoke"),
    ):
        response = getattr(client, method)(path)
        assert response.status_code == 401, path
        assert response.get_json()["error"]["code"] == "unauthorized"


def test_a_garbage_token_is_401(client) -> None:
    response = client.get("/api/v1/enterprises", headers={"Authorization": "Bearer not-a-token"})
    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == "invalid_token"


def test_an_expired_token_is_refused(world, client, app) -> None:
    world.agency()
    world.user("wang")
    headers = world.login("wang")
    with app.app_context():
        for token in db.session.scalars(sa.select(ApiToken)):
            token.expires_at = token.issued_at - timedelta(seconds=1)
        db.session.commit()
    response = client.get("/api/v1/me", headers=headers)
    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == "token_expired"


def test_revoking_a_device_stops_all_its_tokens_at_once(world, client) -> None:
    world.agency()
    world.user("wang")
    world.user("li")
    first = world.login("wang", device_id="lost-phone")
    second = world.login("li", device_id="lost-phone")
    other_device = world.login("wang", device_id="tablet")
    lead = world.headers("lead")
    response = client.post("/api/v1/devices/lost-phone/revoke", headers=lead)
    assert response.status_code == 200
    assert response.get_json()["revoked_at"]
    for headers in (first, second):
        refused = client.get("/api/v1/me", headers=headers)
        assert refused.status_code == 401
        assert refused.get_json()["error"]["code"] == "token_revoked"
    assert client.get("/api/v1/me", headers=other_device).status_code == 200
    again = client.post(
        "/api/v1/auth/login",
        json={"username": "wang", "password": PASSWORD, "device_id": "lost-phone"},
    )
    assert again.status_code == 403
    assert again.get_json()["error"]["code"] == "device_revoked"
    # Revoking twice is harmless.
    assert client.post("/api/v1/devices/lost-phone/revoke", headers=lead).status_code == 200


def test_an_inspector_may_not_revoke_devices(world, client) -> None:
    world.agency()
    world.user("wang")
    world.login("wang", device_id="phone")
    response = client.post("/api/v1/devices/phone/revoke", headers=world.headers("inspector"))
    assert response.status_code == 403
    assert response.get_json()["error"]["code"] == "role_not_allowed"


def test_a_lead_cannot_revoke_another_agencys_device(world, client) -> None:
    world.agency()
    world.agency("hexi", "天津市河西区应急管理局", "河西")
    world.user("wang", agency="hexi")
    world.login("wang", device_id="hexi-phone")
    response = client.post("/api/v1/devices/hexi-phone/revoke", headers=world.headers("lead"))
    assert response.status_code == 404


def test_a_hash_made_with_older_parameters_is_renewed_at_the_next_login(world, app) -> None:
    from argon2 import PasswordHasher

    from server.models import User
    from server.services.passwords import verify_password

    world.agency()
    world.user("wang")
    weaker = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1).hash(PASSWORD)
    with app.app_context():
        db.session.execute(sa.update(User).values(password_hash=weaker))
        db.session.commit()
    world.login("wang")
    with app.app_context():
        renewed = db.session.scalar(sa.select(User.password_hash))
    assert renewed != weaker and verify_password(renewed, PASSWORD)
    world.login("wang")  # the renewed hash still lets the owner in


def test_a_found_phone_is_reinstated_and_syncs_what_it_recorded_offline(world, client) -> None:
    from tests.sync_support import Device, inspection_op

    world.agency()
    wang = world.user("wang", cert_no="12010420001")
    li = world.user("li", cert_no="12010420002")
    old_token = world.login("wang", device_id="found-phone")
    lead_user = world.user("zhang", role="lead")
    lead = world.login("zhang", device_id="lead-desk")
    enterprise = world.enterprise(lead)
    offline = inspection_op(enterprise["id"], [str(wang.id), str(li.id)])  # made while lost
    assert client.post("/api/v1/devices/found-phone/revoke", headers=lead).status_code == 200

    reinstated = client.post("/api/v1/devices/found-phone/reinstate", headers=lead)
    assert reinstated.status_code == 200
    body = reinstated.get_json()
    assert body["revoked_at"] is None and body["revoked_by"] is None
    assert [(e["action"], e["user_id"]) for e in body["events"]] == [
        ("revoke", str(lead_user.id)),
        ("reinstate", str(lead_user.id)),
    ]
    # The token it held when lost stays dead; a password gets a new one.
    assert client.get("/api/v1/me", headers=old_token).get_json()["error"]["code"] == (
        "token_revoked"
    )
    phone = Device(client, world.login("wang", device_id="found-phone"), "found-phone")
    (result,) = phone.push([offline])
    assert result["status"] == "applied"
    # Reinstating again changes nothing and records nothing.
    again = client.post("/api/v1/devices/found-phone/reinstate", headers=lead).get_json()
    assert len(again["events"]) == 2
    listed = client.get("/api/v1/devices", headers=lead)
    assert listed.status_code == 200
    devices = {d["device_id"]: d for d in listed.get_json()}
    assert set(devices) == {"found-phone", "lead-desk"}
    assert devices["found-phone"]["last_user_id"] == str(wang.id)
    assert devices["found-phone"]["revoked_at"] is None
    assert [e["action"] for e in devices["found-phone"]["events"]] == ["revoke", "reinstate"]
    assert devices["lead-desk"]["events"] == []


def test_only_leads_and_above_list_and_reinstate_devices_of_their_own_agency(world, client) -> None:
    world.agency()
    world.agency("hexi", "天津市河西区应急管理局", "河西")
    world.user("wang")
    world.login("wang", device_id="phone")
    world.user("zhao", agency="hexi")
    world.login("zhao", device_id="hexi-phone")
    inspector = world.headers("inspector")
    for method, path in (
        ("get", "/api/v1/devices"),
        ("post", "/api/v1/devices/phone/reinstate"),
    ):
        refused = getattr(client, method)(path, headers=inspector)
        assert refused.status_code == 403
        assert refused.get_json()["error"]["code"] == "role_not_allowed"
    lead = world.headers("lead")
    elsewhere = client.post("/api/v1/devices/hexi-phone/reinstate", headers=lead)
    assert elsewhere.status_code == 404
    assert "hexi-phone" not in {
        d["device_id"] for d in client.get("/api/v1/devices", headers=lead).get_json()
    }
