"""Requests that once made the server fail: each gets its documented answer, never a 5xx.

A 5xx tells a phone to send the batch again; when the fault is in the request itself, every
retry fails the same way and the phone's whole queue stalls behind it.
"""

from __future__ import annotations

import io
import uuid

import pytest

from tests.sync_support import Device, at_once, hazard_op, inspection_op, op, scan_op

# Deeper than a device's data ever goes (an op's limit), within what a body may hold.
DEEP_OP = 100
# Deeper than a recursive walk of the parsed body could go without Python's recursion limit
# failing it; still within what the JSON parser itself takes.
DEEP_BODY = 400


def _nested(depth: int) -> dict:
    value: dict = {"leaf": 1}
    for _ in range(depth):
        value = {"n": value}
    return value


def _push(client, headers, device_id: str, ops: list) -> tuple[int, dict]:
    response = client.post(
        "/api/v1/sync/push",
        json={"device_id": device_id, "schema_version": 1, "ops": ops},
        headers=headers,
    )
    return response.status_code, response.get_json()


def test_a_retry_racing_its_original_is_answered_duplicate_for_what_the_first_stored(
    gate, app
) -> None:
    device, ent = gate["device"], gate["enterprise"]
    for _ in range(4):
        scan = scan_op(gate["code"], gate["team"])
        inspection = inspection_op(ent["id"], gate["team"], scan_id=scan["id"])
        hazards = [hazard_op(inspection["id"], ent["id"]) for _ in range(3)]
        batch = [scan, inspection, *hazards]
        clients = [app.test_client() for _ in range(3)]
        answers = at_once(
            [
                (lambda c=c, b=batch: _push(c, device.headers, device.device_id, b))
                for c in clients
            ]
        )
        assert [status for status, _ in answers] == [200, 200, 200], answers
        for position in range(len(batch)):
            statuses = sorted(body["results"][position]["status"] for _, body in answers)
            assert statuses == ["applied", "duplicate", "duplicate"], (position, answers)
            versions = {body["results"][position]["version"] for _, body in answers}
            assert versions == {1}
    stored = Device(app.test_client(), device.headers, "phone-wang").pull_all()
    hazards_stored = [c for c in stored if c["entity"] == "hazard"]
    assert len(hazards_stored) == 12
    assert len({c["id"] for c in hazards_stored}) == 12


def test_a_create_whose_id_is_another_agencys_record_is_rejected_without_saying_whose(
    gate, app
) -> None:
    world, device, ent = gate["world"], gate["device"], gate["enterprise"]
    inspection = inspection_op(ent["id"], gate["team"])
    hazard = hazard_op(inspection["id"], ent["id"])
    assert [r["status"] for r in device.push([inspection, hazard])] == ["applied"] * 2

    world.agency("hexi", "天津市河西区应急管理局", "河西")
    zhao = world.user("zhao", agency="hexi", cert_no="12010320001")
    qian = world.user("qian", agency="hexi", cert_no="12010320002")
    hexi_lead = world.headers("lead", agency="hexi")
    other = world.enterprise(hexi_lead)
    phone = Device(app.test_client(), world.login("zhao", device_id="phone-zhao"), "phone-zhao")
    team = [str(zhao.id), str(qian.id)]
    taken_inspection = inspection_op(other["id"], team, record_id=inspection["id"])
    own = inspection_op(other["id"], team)
    taken_hazard = hazard_op(own["id"], other["id"], record_id=hazard["id"])
    free_hazard = hazard_op(own["id"], other["id"])
    results = phone.push([taken_inspection, own, taken_hazard, free_hazard])
    assert [r["status"] for r in results] == ["rejected", "applied", "rejected", "applied"]
    for rejected in (results[0], results[2]):
        assert rejected["errors"]["code"] == "id_unavailable"
        text = str(rejected).lower()
        assert "nankai" not in text and "南开" not in text and ent["id"] not in text
    # Re-sent unchanged: the same answers, nothing more stored.
    again = phone.push([taken_inspection, own, taken_hazard, free_hazard])
    assert [r["status"] for r in again] == ["rejected", "duplicate", "rejected", "duplicate"]
    assert again[0]["errors"]["code"] == again[2]["errors"]["code"] == "id_unavailable"
    # The first agency's records are untouched.
    mine = {(c["entity"], c["id"]): c for c in device.pull_all()}
    assert mine[("inspection", inspection["id"])]["data"]["enterprise_id"] == ent["id"]


def test_deeply_nested_data_in_an_op_rejects_that_op_and_applies_the_others(gate) -> None:
    device, ent = gate["device"], gate["enterprise"]
    deep_note = inspection_op(ent["id"], gate["team"], findings=_nested(DEEP_OP))
    deep_item = inspection_op(
        ent["id"], gate["team"], items=[{"item": "x", "result": "ok", "note": _nested(DEEP_OP)}]
    )
    good = inspection_op(ent["id"], gate["team"])
    deep_data = op("hazard", _nested(DEEP_OP))
    results = device.push([deep_note, deep_item, good, deep_data])
    assert [r["status"] for r in results] == ["rejected", "rejected", "applied", "rejected"]
    for result in (results[0], results[1], results[3]):
        assert result["errors"]["code"] == "nested_too_deep"
    again = device.push([deep_note, deep_item, good, deep_data])
    assert [r["status"] for r in again] == ["rejected", "rejected", "duplicate", "rejected"]


@pytest.mark.parametrize(
    "path",
    ["/api/v1/enterprises", "/api/v1/draw-plans", "/api/v1/sync/push"],
)
def test_json_nested_deeper_than_the_parser_takes_is_a_400_on_any_route(
    world, client, path
) -> None:
    world.agency()
    headers = world.headers("lead")
    body = b'{"a": ' + b"[" * 5000 + b"]" * 5000 + b"}"
    response = client.post(
        path, data=body, headers={**headers, "Content-Type": "application/json"}
    )
    assert response.status_code == 400, response.get_json()
    assert response.get_json()["error"]["code"] == "malformed_json"


@pytest.mark.parametrize(
    ("path", "payload"),
    [
        ("/api/v1/enterprises", {"name": _nested(DEEP_BODY)}),
        ("/api/v1/draw-plans", {"name": "x", "rates": _nested(DEEP_BODY)}),
        ("/api/v1/auth/login", {"username": [_nested(DEEP_BODY)]}),
        (
            "/api/v1/sync/push",
            {"device_id": "d", "schema_version": 1, "ops": [op("hazard", _nested(DEEP_BODY))]},
        ),
    ],
)
def test_a_body_nested_deeper_than_any_request_needs_is_a_400(
    world, client, path, payload
) -> None:
    world.agency()
    headers = world.headers("lead")
    response = client.post(path, json=payload, headers=headers)
    assert response.status_code == 400, response.get_json()
    assert response.get_json()["error"]["code"] == "nested_too_deep"


def test_a_patch_with_a_partial_nested_object_is_a_422_like_the_same_post(world, client) -> None:
    world.agency()
    lead = world.headers("lead")
    inspectors = [world.user(f"i{n}", cert_no=f"1201042000{n}") for n in range(3)]
    plan = {
        "name": "2025年一般企业双随机抽查",
        "period": "quarter",
        "team_size": 2,
        "inspector_ids": [str(u.id) for u in inspectors],
        "rates": {"risk:good": "0.1", "risk:poor": "1"},
    }
    created = client.post("/api/v1/draw-plans", json=plan, headers=lead)
    assert created.status_code == 201, created.get_json()
    plan_id = created.get_json()["id"]
    nameless = {"outside_inspectors": [{"department": "市场监管局"}], "outside_per_team": 1}
    post = client.post("/api/v1/draw-plans", json={**plan, **nameless}, headers=lead)
    assert post.status_code == 422, post.get_json()
    patch = client.patch(f"/api/v1/draw-plans/{plan_id}", json=nameless, headers=lead)
    assert patch.status_code == 422, patch.get_json()
    assert "outside_inspectors" in patch.get_json()["error"]["fields"]
    # A patch of top-level fields alone still works.
    renamed = client.patch(f"/api/v1/draw-plans/{plan_id}", json={"name": "改名"}, headers=lead)
    assert renamed.status_code == 200, renamed.get_json()


def test_an_edit_op_with_a_partial_nested_object_is_rejected_naming_it(gate) -> None:
    device, ent = gate["device"], gate["enterprise"]
    inspection = inspection_op(ent["id"], gate["team"])
    assert device.push([inspection])[0]["status"] == "applied"
    edit = op(
        "inspection",
        {"representative": {"title": "厂长"}},
        record_id=inspection["id"],
        base_version=1,
    )
    result = device.push([edit])[0]
    assert result["status"] == "rejected", result
    assert "representative" in result["errors"]["fields"]


def test_a_chunked_body_over_the_limit_is_a_413(world, client, app) -> None:
    world.agency()
    headers = world.headers("lead")
    big = b'{"name": "' + b"x" * (app.config["MAX_CONTENT_LENGTH"] + 10) + b'"}'
    response = client.post(
        "/api/v1/enterprises",
        input_stream=io.BytesIO(big),
        headers={**headers, "Content-Type": "application/json", "Transfer-Encoding": "chunked"},
        environ_overrides={"wsgi.input_terminated": True},
    )
    assert response.status_code == 413, response.get_json()
    assert response.get_json()["error"]["code"] == "payload_too_large"


def test_a_chunked_push_over_its_limit_is_a_413(gate, client) -> None:
    from server.schemas.sync import MAX_PUSH_BYTES

    device = gate["device"]
    filler = "x" * (MAX_PUSH_BYTES + 10)
    body = (
        '{"device_id": "phone-wang", "schema_version": 1, "ops": [], "pad": "' + filler + '"}'
    ).encode()
    response = client.post(
        "/api/v1/sync/push",
        input_stream=io.BytesIO(body),
        headers={
            **device.headers,
            "Content-Type": "application/json",
            "Transfer-Encoding": "chunked",
        },
        environ_overrides={"wsgi.input_terminated": True},
    )
    assert response.status_code == 413, response.get_json()


@pytest.mark.parametrize("bad", [None, 5, "op", [], True])
def test_an_op_that_is_not_an_object_is_rejected_alone(gate, bad) -> None:
    device, ent = gate["device"], gate["enterprise"]
    good = inspection_op(ent["id"], gate["team"])
    results = device.push([bad, good, bad])
    assert [r["status"] for r in results] == ["rejected", "applied", "rejected"]
    assert results[0]["errors"]["code"] == "invalid_op"
    assert results[0]["op_id"] is None


def test_a_create_racing_another_agencys_create_of_the_same_id_never_fails(gate, app) -> None:
    """Two agencies' phones send a record with the same id at the same moment: one stores
    it, the other is told the id is unavailable."""
    world, ent = gate["world"], gate["enterprise"]
    world.agency("hexi", "天津市河西区应急管理局", "河西")
    zhao = world.user("zhao", agency="hexi", cert_no="12010320001")
    qian = world.user("qian", agency="hexi", cert_no="12010320002")
    other = world.enterprise(world.headers("lead", agency="hexi"))
    hexi = world.login("zhao", device_id="phone-zhao")
    for _ in range(3):
        record_id = str(uuid.uuid4())
        ours = inspection_op(ent["id"], gate["team"], record_id=record_id)
        theirs = inspection_op(other["id"], [str(zhao.id), str(qian.id)], record_id=record_id)
        answers = at_once(
            [
                lambda o=ours: _push(app.test_client(), gate["device"].headers, "phone-wang", [o]),
                lambda t=theirs: _push(app.test_client(), hexi, "phone-zhao", [t]),
            ]
        )
        assert [status for status, _ in answers] == [200, 200], answers
        statuses = sorted(body["results"][0]["status"] for _, body in answers)
        assert statuses == ["applied", "rejected"], answers


def test_a_phones_first_login_sent_three_times_at_once_logs_in_three_times(world, app) -> None:
    from tests.conftest import PASSWORD

    world.agency()
    world.user("wang", cert_no="12010420001")
    lead = world.headers("lead")
    for n in range(4):
        body = {"username": "wang", "password": PASSWORD, "device_id": f"new-phone-{n}",
                "device_name": "华为 Mate"}
        statuses = at_once(
            [
                lambda b=body: app.test_client().post("/api/v1/auth/login", json=b).status_code
            ]
            * 3
        )
        assert statuses == [200, 200, 200]
    listed = app.test_client().get("/api/v1/devices", headers=lead).get_json()
    items = listed["items"] if isinstance(listed, dict) else listed
    keys = sorted(d["device_id"] for d in items if d["device_id"].startswith("new-phone"))
    assert keys == [f"new-phone-{n}" for n in range(4)]


def test_racing_creates_and_uploads_of_the_same_thing_get_answers_not_failures(
    world, app
) -> None:
    import hashlib

    world.agency()
    lead = world.headers("lead")
    for n in range(3):
        payload = world.enterprise_payload()
        created = at_once(
            [
                lambda p=payload: app.test_client()
                .post("/api/v1/enterprises", json=p, headers=lead)
                .status_code
            ]
            * 3
        )
        assert sorted(created) == [201, 409, 409]
        content = f"现场照片{n}".encode() * 2000
        sha = hashlib.sha256(content).hexdigest()
        uploaded = at_once(
            [
                lambda c=content, s=sha: app.test_client()
                .put(f"/api/v1/attachments/{s}", data=c, headers=lead)
                .status_code
            ]
            * 3
        )
        assert sorted(uploaded) == [200, 200, 201]
