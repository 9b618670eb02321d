"""Every error has the contract's JSON body and a 4xx code, framework errors included."""

from __future__ import annotations

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
