"""The enterprise directory through the HTTP API."""

from __future__ import annotations

import pytest


def test_a_lead_adds_an_enterprise_and_reads_it_back(world, client) -> None:
    world.agency()
    headers = world.headers("lead")
    payload = world.enterprise_payload(name="天津市华盛建材有限公司", industry="building_materials")
    created = client.post("/api/v1/enterprises", json=payload, headers=headers)
    assert created.status_code == 201
    body = created.get_json()
    assert body["uscc"] == payload["uscc"]
    assert body["entry_code_version"] == 1
    fetched = client.get(f"/api/v1/enterprises/{body['id']}", headers=headers)
    assert fetched.status_code == 200
    assert fetched.get_json()["name"] == "天津市华盛建材有限公司"


def test_the_uscc_is_normalized_before_it_is_stored(world, client) -> None:
    world.agency()
    headers = world.headers("lead")
    uscc = world.uscc()
    body = world.enterprise(headers, uscc=" " + uscc.lower() + " ")
    assert body["uscc"] == uscc


def test_a_duplicate_uscc_is_a_409(world, client) -> None:
    world.agency()
    headers = world.headers("lead")
    first = world.enterprise(headers)
    again = client.post(
        "/api/v1/enterprises",
        json=world.enterprise_payload(uscc=first["uscc"].lower()),
        headers=headers,
    )
    assert again.status_code == 409
    assert again.get_json()["error"]["code"] == "duplicate_uscc"


def test_two_agencies_may_list_the_same_enterprise(world, client) -> None:
    world.agency()
    world.agency("hexi", "天津市河西区应急管理局", "河西")
    uscc = world.uscc()
    world.enterprise(world.headers("lead"), uscc=uscc)
    world.enterprise(world.headers("lead", agency="hexi"), uscc=uscc)


def test_an_inspector_may_read_but_not_edit_the_directory(world, client) -> None:
    world.agency()
    lead = world.headers("lead")
    enterprise = world.enterprise(lead)
    inspector = world.headers("inspector")
    assert (
        client.get(f"/api/v1/enterprises/{enterprise['id']}", headers=inspector).status_code == 200
    )
    refused = client.patch(
        f"/api/v1/enterprises/{enterprise['id']}", json={"name": "x"}, headers=inspector
    )
    assert refused.status_code == 403
    assert (
        client.post(
            "/api/v1/enterprises", json=world.enterprise_payload(), headers=inspector
        ).status_code
        == 403
    )


def test_patch_changes_only_the_given_fields_and_bumps_the_version(world, client) -> None:
    world.agency()
    headers = world.headers("manager")
    enterprise = world.enterprise(headers, risk_grade="good")
    response = client.patch(
        f"/api/v1/enterprises/{enterprise['id']}",
        json={"risk_grade": "poor", "is_key": True},
        headers=headers,
    )
    assert response.status_code == 200
    body = response.get_json()
    assert (body["risk_grade"], body["is_key"], body["name"]) == ("poor", True, enterprise["name"])
    assert body["version"] == enterprise["version"] + 1
    unchanged = client.patch(
        f"/api/v1/enterprises/{enterprise['id']}", json={"risk_grade": "poor"}, headers=headers
    )
    assert unchanged.get_json()["version"] == body["version"]


def test_patch_to_a_uscc_already_taken_is_a_409(world, client) -> None:
    world.agency()
    headers = world.headers("lead")
    first = world.enterprise(headers)
    second = world.enterprise(headers)
    response = client.patch(
        f"/api/v1/enterprises/{second['id']}", json={"uscc": first["uscc"]}, headers=headers
    )
    assert response.status_code == 409


def test_the_list_filters_and_pages(world, client) -> None:
    world.agency()
    headers = world.headers("lead")
    for i in range(7):
        world.enterprise(
            headers,
            name=f"天津市测试{i}机械有限公司",
            industry="machinery" if i % 2 else "textiles",
            risk_grade="poor" if i == 3 else "good",
            is_key=i < 2,
        )
    page = client.get("/api/v1/enterprises?per_page=3&page=2&sort=name", headers=headers).get_json()
    assert page["total"] == 7 and page["page"] == 2 and len(page["items"]) == 3
    assert [e["name"] for e in page["items"]] == [f"天津市测试{i}机械有限公司" for i in (3, 4, 5)]
    machinery = client.get("/api/v1/enterprises?industry=machinery", headers=headers).get_json()
    assert machinery["total"] == 3
    poor = client.get("/api/v1/enterprises?risk_grade=poor", headers=headers).get_json()
    assert [e["name"] for e in poor["items"]] == ["天津市测试3机械有限公司"]
    key = client.get("/api/v1/enterprises?is_key=true", headers=headers).get_json()
    assert key["total"] == 2
    found = client.get("/api/v1/enterprises?q=测试5", headers=headers).get_json()
    assert found["total"] == 1
    descending = client.get("/api/v1/enterprises?sort=-name&per_page=1", headers=headers).get_json()
    assert descending["items"][0]["name"] == "天津市测试6机械有限公司"


def test_a_bad_filter_value_is_a_422(world, client) -> None:
    world.agency()
    headers = world.headers("lead")
    for query in ("industry=x", "per_page=0", "per_page=100000", "page=-1", "sort=password_hash"):
        response = client.get(f"/api/v1/enterprises?{query}", headers=headers)
        assert response.status_code == 422, query


@pytest.mark.parametrize(("q", "expected"), [("%", ["100%安全有限公司"]), ("_", ["a_b有限公司"])])
def test_a_search_for_like_wildcards_finds_only_those_characters(
    world, client, q, expected
) -> None:
    world.agency()
    headers = world.headers("lead")
    for name in ("100%安全有限公司", "a_b有限公司", "天津市恒通机械有限公司"):
        world.enterprise(headers, name=name, address="红旗路")
    found = client.get("/api/v1/enterprises", query_string={"q": q}, headers=headers).get_json()
    assert [e["name"] for e in found["items"]] == expected
