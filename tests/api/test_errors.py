"""Every error has the contract's JSON body and a 4xx code, framework errors included."""

from __future__ import annotations

import io
import re

import pytest


def _assert_error(response, status: int, code: str | None = None) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.is_json
    body = response.get_json()
    assert set(body) == {"error"}
    assert isinstance(body["error"]["code"], str) and body["error"]["message"]
    if code:
        assert body["error"]["code"] == code
    return body["error"]


def test_an_unknown_path_is_a_json_404(client) -> None:
    _assert_error(client.get("/nowhere"), 404, "not_found")


def test_a_wrong_method_is_a_json_405(client) -> None:
    _assert_error(client.delete("/healthz"), 405, "method_not_allowed")


def test_malformed_json_is_a_400(world, client) -> None:
    world.agency()
    headers = world.headers("lead")
    response = client.post(
        "/api/v1/enterprises",
        data=b'{"uscc": "91350100M000100Y43", ',
        headers={**headers, "Content-Type": "application/json"},
    )
    _assert_error(response, 400, "malformed_json")


_BROKEN_BODIES = {
    "deep nesting": b"[" * 50_000,
    "a 5000-digit number": b'{"username": ' + b"1" * 5000 + b"}",
    "a number that overflows": b'{"username": "a", "latitude": 1e400}',
    "NaN": b'{"username": NaN}',
    "Infinity": b'{"username": "a", "password": -Infinity}',
    "a lone surrogate": b'{"username": "\\ud800", "password": "x", "device_id": "d"}',
    "a lone low surrogate in a key": b'{"\\udc00": 1}',
    "bytes that are not UTF-8": b'{"username": "\xff"}',
}
_JSON_ROUTES = ["/api/v1/auth/login", "/api/v1/enterprises", "/api/v1/sync/push"]


@pytest.mark.parametrize("route", _JSON_ROUTES)
@pytest.mark.parametrize("body", list(_BROKEN_BODIES.values()), ids=list(_BROKEN_BODIES))
def test_json_the_parser_or_the_database_would_choke_on_is_a_400(
    world, client, route, body
) -> None:
    world.agency()
    headers = world.headers("lead")
    response = client.post(
        route, data=body, headers={**headers, "Content-Type": "application/json"}
    )
    _assert_error(response, 400, "malformed_json")


def test_a_surrogate_pair_is_an_ordinary_character(world, client) -> None:
    world.agency()
    headers = world.headers("lead")
    response = client.post(
        "/api/v1/enterprises",
        data=b'{"uscc": "91350100M000100Y43", "name": "\\ud83d\\ude00", "industry": "other"}',
        headers={**headers, "Content-Type": "application/json"},
    )
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["name"] == "\U0001f600"


@pytest.mark.parametrize("route", _JSON_ROUTES)
def test_a_nul_character_in_a_json_string_is_a_400(world, client, route) -> None:
    world.agency()
    headers = world.headers("lead")
    body = b'{"username": "wang\\u0000", "password": "x", "device_id": "d", "name": "x"}'
    response = client.post(
        route, data=body, headers={**headers, "Content-Type": "application/json"}
    )
    _assert_error(response, 400, "nul_character")


def test_a_nul_character_in_a_chunked_body_is_a_400(world, client) -> None:
    body = b'{"username": "wang\\u0000", "password": "x", "device_id": "d"}'
    response = client.post(
        "/api/v1/auth/login",
        input_stream=io.BytesIO(body),
        headers={"Content-Type": "application/json", "Transfer-Encoding": "chunked"},
        # What a WSGI server sets when it de-chunks the body for the application.
        environ_overrides={"wsgi.input_terminated": True},
    )
    _assert_error(response, 400, "nul_character")


@pytest.mark.parametrize(
    "path",
    ["/api/v1/enterprises/%00", "/api/v1/devices/phone%00/revoke", "/api/v1/enterprises?q=%00"],
)
def test_a_nul_character_in_the_path_or_query_is_a_400(world, client, path) -> None:
    world.agency()
    headers = world.headers("lead")
    method = client.post if path.endswith("revoke") else client.get
    _assert_error(method(path, headers=headers), 400, "nul_character")


def test_an_oversize_body_is_a_413(world, client, app) -> None:
    world.agency()
    headers = world.headers("lead")
    big = b'{"name": "' + b"x" * (app.config["MAX_CONTENT_LENGTH"] + 10) + b'"}'
    response = client.post(
        "/api/v1/enterprises", data=big, headers={**headers, "Content-Type": "application/json"}
    )
    _assert_error(response, 413, "payload_too_large")


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"name": 5}, "name"),
        ({"industry": "spaceflight"}, "industry"),
        ({"risk_grade": "excellent"}, "risk_grade"),
        ({"credit_rating": "Z"}, "credit_rating"),
        ({"is_key": "perhaps"}, "is_key"),
        ({"latitude": 500}, "latitude"),
        ({"unexpected": 1}, "unexpected"),
        ({"uscc": "91350100M000100Y44"}, "uscc"),
    ],
)
def test_wrong_types_and_unknown_values_are_422_naming_the_field(
    world, client, payload, field
) -> None:
    world.agency()
    headers = world.headers("lead")
    response = client.post(
        "/api/v1/enterprises", json=world.enterprise_payload(**payload), headers=headers
    )
    error = _assert_error(response, 422)
    assert field in error["fields"]


def test_a_bad_uuid_in_the_path_is_a_400(world, client) -> None:
    world.agency()
    headers = world.headers("lead")
    _assert_error(client.get("/api/v1/enterprises/not-a-uuid", headers=headers), 400)


def test_healthz_reports_the_database(client) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "db": "ok"}


def test_openapi_documents_every_api_route(client, app) -> None:
    spec = client.get("/openapi.json").get_json()
    assert spec["openapi"].startswith("3.")
    documented = set(spec["paths"])
    routes = {
        re.sub(r"<(?:[^:>]+:)?(\w+)>", r"{\1}", rule.rule)
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith("/api/v1/")
    }
    assert routes and routes <= documented


def test_healthz_is_a_503_in_the_error_shape_when_the_database_does_not_answer(
    client, monkeypatch
) -> None:
    import sqlalchemy as sa

    from server.extensions import db

    def unreachable(*args, **kwargs):
        raise sa.exc.OperationalError("SELECT 1", {}, Exception("connection refused"))

    monkeypatch.setattr(db.session, "execute", unreachable)
    response = client.get("/healthz")
    assert response.status_code == 503
    body = response.get_json()
    assert body["error"]["code"] == "database_unavailable" and body["error"]["message"]
    assert (body["status"], body["db"]) == ("degraded", "unreachable")
