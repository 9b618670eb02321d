"""Pulling changes: scope, paging, tombstones, and what a fresh device sees."""

from __future__ import annotations

import gzip
import json

import pytest

from tests.sync_support import Device, document_op, hazard_op, inspection_op, op


@pytest.fixture
def field(world, client):
    world.agency()
    people = {
        name: world.user(name, role="inspector", cert_no=f"1201042000{i}")
        for i, name in enumerate(["wang", "li", "zhao", "sun"])
    }
    lead_headers = world.headers("lead")
    enterprise = world.enterprise(lead_headers)
    devices = {
        name: Device(client, world.login(name, device_id=f"phone-{name}"), f"phone-{name}")
        for name in people
    }
    return {
        "world": world,
        "people": people,
        "devices": devices,
        "enterprise": enterprise,
        "lead": Device(client, lead_headers, "device-lead"),
    }


def _ids(people, *names):
    return [str(people[n].id) for n in names]


def test_a_fresh_device_sees_the_directory_and_its_own_inspections(field) -> None:
    people, devices, ent = field["people"], field["devices"], field["enterprise"]
    mine = inspection_op(ent["id"], _ids(people, "wang", "li"))
    theirs = inspection_op(ent["id"], _ids(people, "zhao", "sun"))
    hazard = hazard_op(theirs["id"], ent["id"])
    devices["wang"].push([mine])
    devices["zhao"].push([theirs, hazard])
    wang = devices["wang"]
    wang.pull_all()
    kinds = {(entity, rid) for entity, rid in wang.state}
    assert ("enterprise", ent["id"]) in kinds
    assert ("inspection", mine["id"]) in kinds
    assert ("inspection", theirs["id"]) not in kinds
    # Hazards of the agency's enterprises travel to every inspector: the card shows them offline.
    assert ("hazard", hazard["id"]) in kinds
    lead = field["lead"]
    lead.pull_all()
    assert ("inspection", theirs["id"]) in lead.state


def test_an_incremental_pull_returns_only_what_changed(field) -> None:
    people, devices, ent = field["people"], field["devices"], field["enterprise"]
    wang = devices["wang"]
    wang.pull_all()
    assert wang.pull_all() == []
    inspection = inspection_op(ent["id"], _ids(people, "wang", "li"))
    wang.push([inspection])
    changes = wang.pull_all()
    assert [(c["entity"], c["id"], c["version"]) for c in changes] == [
        ("inspection", inspection["id"], 1)
    ]


def test_paging_with_small_limits_reaches_the_same_state(field, client) -> None:
    people, devices, ent = field["people"], field["devices"], field["enterprise"]
    world = field["world"]
    lead = field["lead"]
    for _ in range(12):
        world.enterprise(lead.headers)
    inspection = inspection_op(ent["id"], _ids(people, "wang", "li"))
    devices["wang"].push([inspection] + [hazard_op(inspection["id"], ent["id"]) for _ in range(5)])
    whole = Device(client, devices["wang"].headers, "x")
    whole.pull_all(limit=1000)
    paged = Device(client, devices["wang"].headers, "y")
    paged.pull_all(limit=3)
    assert paged.state == whole.state
    assert len(whole.state) == 13 + 1 + 5


def test_an_inspector_removed_from_an_inspection_gets_a_tombstone(field) -> None:
    people, devices, ent = field["people"], field["devices"], field["enterprise"]
    inspection = inspection_op(ent["id"], _ids(people, "wang", "li", "zhao"))
    devices["wang"].push([inspection])
    zhao = devices["zhao"]
    zhao.pull_all()
    assert ("inspection", inspection["id"]) in zhao.state
    (edit,) = devices["wang"].push(
        [
            op(
                "inspection",
                {"inspector_ids": _ids(people, "wang", "li")},
                record_id=inspection["id"],
                base_version=1,
            )
        ]
    )
    assert edit["status"] == "applied"
    changes = zhao.pull_all()
    assert [(c["entity"], c["deleted"]) for c in changes] == [("inspection", True)]
    assert ("inspection", inspection["id"]) not in zhao.state


def test_documents_reach_pulls_with_their_server_number(field) -> None:
    people, devices, ent = field["people"], field["devices"], field["enterprise"]
    inspection = inspection_op(ent["id"], _ids(people, "wang", "li"))
    record = document_op("inspection_record", inspection["id"], [])
    devices["wang"].push([inspection, record])
    li = devices["li"]
    li.pull_all()
    document = li.state[("document", record["id"])]
    assert document["number"] == "（南开）应急检记〔2024〕1号"
    assert document["provisional_number"] == record["data"]["provisional_number"]


def test_another_agencys_changes_never_arrive(field, client) -> None:
    world = field["world"]
    world.agency("hexi", "天津市河西区应急管理局", "河西")
    world.enterprise(world.headers("lead", agency="hexi"))
    wang = field["devices"]["wang"]
    wang.pull_all()
    assert {e for e, _ in wang.state} == {"enterprise"}
    assert len(wang.state) == 1


def test_a_cursor_this_server_never_gave_is_a_422(field, client) -> None:
    response = client.get(
        "/api/v1/sync/pull?cursor=garbage!!", headers=field["devices"]["wang"].headers
    )
    assert response.status_code == 422
    assert response.get_json()["error"]["code"] == "invalid_cursor"


def _push(device, ops, **extra):
    response = device.client.post(
        "/api/v1/sync/push",
        headers=device.headers,
        json={"device_id": device.device_id, "schema_version": 1, "ops": ops, **extra},
    )
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def test_a_device_adopting_the_push_answers_cursor_misses_no_change(field) -> None:
    people, devices, ent = field["people"], field["devices"], field["enterprise"]
    wang, zhao = devices["wang"], devices["zhao"]
    wang.pull_all()
    # Another device's hazard lands after wang's last pull and before wang's push.
    theirs = inspection_op(ent["id"], _ids(people, "zhao", "sun"))
    hazard = hazard_op(theirs["id"], ent["id"])
    zhao.push([theirs, hazard])
    mine = inspection_op(ent["id"], _ids(people, "wang", "li"))
    record = document_op("inspection_record", mine["id"], [])
    answer = _push(wang, [mine, record], cursor=wang.cursor)
    wang.cursor = answer["cursor"]
    changes = {(c["entity"], c["id"]): c for c in wang.pull_all()}
    assert ("hazard", hazard["id"]) in changes
    # The device's own records come back with what only the server knows.
    assert changes[("document", record["id"])]["data"]["number"] == "（南开）应急检记〔2024〕1号"
    assert ("inspection", mine["id"]) in changes


def test_the_push_answers_cursor_without_a_pull_cursor_starts_from_the_beginning(field) -> None:
    people, devices, ent = field["people"], field["devices"], field["enterprise"]
    wang = devices["wang"]
    answer = _push(wang, [inspection_op(ent["id"], _ids(people, "wang", "li"))])
    wang.cursor = answer["cursor"]
    whole = Device(wang.client, wang.headers, "phone-wang")
    whole.pull_all()
    wang.pull_all()
    assert wang.state == whole.state and ("enterprise", ent["id"]) in wang.state


def test_a_push_with_a_cursor_this_server_never_gave_is_refused_before_anything_changes(
    field,
) -> None:
    people, devices, ent = field["people"], field["devices"], field["enterprise"]
    wang = devices["wang"]
    response = wang.client.post(
        "/api/v1/sync/push",
        headers=wang.headers,
        json={
            "device_id": "phone-wang",
            "schema_version": 1,
            "cursor": "garbage!!",
            "ops": [inspection_op(ent["id"], _ids(people, "wang", "li"))],
        },
    )
    assert response.status_code == 422
    assert response.get_json()["error"]["code"] == "invalid_cursor"
    wang.pull_all()
    assert {e for e, _ in wang.state} == {"enterprise"}


def test_a_large_pull_is_gzipped_for_a_client_that_accepts_it(world, client) -> None:
    world.agency()
    lead = world.headers("lead")
    for _ in range(12):
        world.enterprise(lead)
    plain = client.get("/api/v1/sync/pull", headers=lead)
    packed = client.get("/api/v1/sync/pull", headers={**lead, "Accept-Encoding": "gzip"})
    assert "Content-Encoding" not in plain.headers
    assert packed.headers["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in packed.headers["Vary"]
    assert len(packed.data) < len(plain.data)
    assert json.loads(gzip.decompress(packed.data)) == plain.get_json()
