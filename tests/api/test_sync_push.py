"""Pushing ops: the five statuses, atomic ops, retries that change nothing."""

from __future__ import annotations

import uuid

import pytest

from tests.sync_support import Device, document_op, hazard_op, inspection_op, op


@pytest.fixture
def field(world, client):
    """An agency with two certified inspectors on one phone, a lead, and an enterprise."""
    world.agency()
    wang = world.user("wang", role="inspector", cert_no="12010420001")
    li = world.user("li", role="inspector", cert_no="12010420002")
    lead_headers = world.headers("lead")
    enterprise = world.enterprise(lead_headers)
    device = Device(client, world.login("wang", device_id="phone-wang"), "phone-wang")
    team = [str(wang.id), str(li.id)]
    return {
        "device": device,
        "team": team,
        "enterprise": enterprise,
        "lead": lead_headers,
        "world": world,
        "li": li,
        "wang": wang,
    }


def test_an_inspection_and_its_hazard_are_applied_with_versions(field) -> None:
    device, team, ent = field["device"], field["team"], field["enterprise"]
    inspection = inspection_op(ent["id"], team)
    hazard = hazard_op(inspection["id"], ent["id"])
    results = device.push([inspection, hazard])
    assert [r["status"] for r in results] == ["applied", "applied"]
    assert [r["version"] for r in results] == [1, 1]
    assert [r["op_id"] for r in results] == [inspection["op_id"], hazard["op_id"]]


def test_a_replayed_batch_changes_nothing(field) -> None:
    device, team, ent = field["device"], field["team"], field["enterprise"]
    batch = [inspection_op(ent["id"], team)]
    batch.append(hazard_op(batch[0]["id"], ent["id"]))
    first = device.push(batch)
    device.pull_all()
    state = dict(device.state)
    again = device.push(batch)
    assert [r["status"] for r in again] == ["duplicate", "duplicate"]
    assert [r["version"] for r in again] == [r["version"] for r in first]
    assert device.pull_all() == []
    assert device.state == state


def test_the_same_op_id_with_other_content_is_rejected(field) -> None:
    device, team, ent = field["device"], field["team"], field["enterprise"]
    inspection = inspection_op(ent["id"], team)
    device.push([inspection])
    forged = dict(inspection, data=dict(inspection["data"], findings="改过的"))
    (result,) = device.push([forged])
    assert result["status"] == "rejected"
    assert result["errors"]["code"] == "op_id_reused"


def test_a_hazard_before_its_inspection_is_held_then_applied(field, client) -> None:
    device, team, ent = field["device"], field["team"], field["enterprise"]
    inspection = inspection_op(ent["id"], team)
    hazard = hazard_op(inspection["id"], ent["id"])
    (held,) = device.push([hazard])
    assert held["status"] == "held"
    other = Device(client, field["world"].login("li", device_id="phone-li"), "phone-li")
    (applied,) = other.push([inspection])
    assert applied["status"] == "applied"
    settled = client.get(f"/api/v1/sync/ops/{hazard['op_id']}", headers=device.headers).get_json()
    assert settled["status"] == "applied" and settled["version"] == 1
    device.pull_all()
    assert ("hazard", hazard["id"]) in device.state
    (again,) = device.push([hazard])
    assert again["status"] == "duplicate" and again["version"] == 1


def test_a_duplicate_of_a_held_op_says_what_became_of_it(field, client) -> None:
    device, team, ent = field["device"], field["team"], field["enterprise"]
    inspection = inspection_op(ent["id"], team)
    hazard = hazard_op(inspection["id"], ent["id"])
    device.push([hazard])
    (still_held,) = device.push([hazard])
    assert still_held["status"] == "duplicate" and still_held["original_status"] == "held"
    device.push([inspection])
    (now_applied,) = device.push([hazard])
    assert now_applied["status"] == "duplicate" and now_applied["original_status"] == "applied"


def test_a_document_waiting_for_two_hazards_is_applied_when_both_arrive_in_one_batch(
    field,
) -> None:
    device, team, ent = field["device"], field["team"], field["enterprise"]
    inspection = inspection_op(ent["id"], team)
    first = hazard_op(inspection["id"], ent["id"])
    second = hazard_op(inspection["id"], ent["id"])
    order = document_op(
        "rectification_order",
        inspection["id"],
        [first["id"], second["id"]],
        deadline="2024-05-20",
    )
    (held,) = device.push([order])
    assert held["status"] == "held"
    # The inspection releases the order, which waits again for the first hazard, then for the
    # second: each arrival later in the same batch must release it.
    results = device.push([inspection, first, second])
    assert [r["status"] for r in results] == ["applied"] * 3
    settled = device.client.get(
        f"/api/v1/sync/ops/{order['op_id']}", headers=device.headers
    ).get_json()
    assert settled["status"] == "applied"
    assert settled["number"] == "（南开）应急责改〔2024〕1号"


def test_a_missing_photo_is_refused_at_once_even_while_the_parent_is_missing(field) -> None:
    device, ent = field["device"], field["enterprise"]
    hazard = hazard_op(str(uuid.uuid4()), ent["id"], photos=["ab" * 32])
    (result,) = device.push([hazard])
    assert result["status"] == "rejected"
    assert result["errors"]["code"] == "attachment_missing"


def test_one_bad_op_does_not_block_the_others(field) -> None:
    device, team, ent = field["device"], field["team"], field["enterprise"]
    good = inspection_op(ent["id"], team)
    bad = inspection_op(ent["id"], team[:1])
    worse = {"op_id": "not-a-uuid", "entity": "inspection"}
    results = device.push([bad, worse, good])
    assert [r["status"] for r in results] == ["rejected", "rejected", "applied"]
    assert results[0]["errors"]["code"] == "invalid_data"
    assert "inspector_ids" in results[0]["errors"]["fields"]
    assert results[1]["errors"]["code"] == "invalid_op"


def test_an_op_depending_on_a_rejected_op_of_the_batch_is_rejected_naming_it(field) -> None:
    device, team, ent = field["device"], field["team"], field["enterprise"]
    bad = inspection_op(ent["id"], team, kind="spaceflight")
    hazard = hazard_op(bad["id"], ent["id"])
    results = device.push([bad, hazard])
    assert [r["status"] for r in results] == ["rejected", "rejected"]
    assert results[1]["errors"]["code"] == "depends_on_rejected"
    assert results[1]["errors"]["details"]["op_id"] == bad["op_id"]


def test_a_team_needs_two_certified_inspectors(field) -> None:
    device, team, ent = field["device"], field["team"], field["enterprise"]
    world = field["world"]
    uncertified = world.user("zhao", role="inspector", cert_no=None)
    (result,) = device.push([inspection_op(ent["id"], [team[0], str(uncertified.id)])])
    assert result["status"] == "rejected"
    assert result["errors"]["code"] == "invalid_team"


def test_an_inspector_of_another_agency_cannot_be_on_the_team(field) -> None:
    device, team, ent = field["device"], field["team"], field["enterprise"]
    world = field["world"]
    world.agency("hexi", "天津市河西区应急管理局", "河西")
    stranger = world.user("stranger", agency="hexi")
    (result,) = device.push([inspection_op(ent["id"], [team[0], str(stranger.id)])])
    assert result["status"] == "rejected" and result["errors"]["code"] == "invalid_team"


def test_edits_that_do_not_overlap_merge(field, client) -> None:
    device, team, ent = field["device"], field["team"], field["enterprise"]
    inspection = inspection_op(ent["id"], team)
    hazard = hazard_op(inspection["id"], ent["id"])
    device.push([inspection, hazard])
    other = Device(client, field["world"].login("li", device_id="phone-li"), "phone-li")
    (a,) = device.push(
        [op("hazard", {"description": "配电箱未上锁"}, record_id=hazard["id"], base_version=1)]
    )
    (b,) = other.push(
        [op("hazard", {"location": "三号车间"}, record_id=hazard["id"], base_version=1)]
    )
    assert (a["status"], a["version"]) == ("applied", 2)
    assert (b["status"], b["version"]) == ("applied", 3)
    device.pull_all()
    stored = device.state[("hazard", hazard["id"])]
    assert (stored["description"], stored["location"]) == ("配电箱未上锁", "三号车间")


def test_edits_of_the_same_field_conflict_and_return_the_server_record(field, client) -> None:
    device, team, ent = field["device"], field["team"], field["enterprise"]
    inspection = inspection_op(ent["id"], team)
    hazard = hazard_op(inspection["id"], ent["id"])
    device.push([inspection, hazard])
    other = Device(client, field["world"].login("li", device_id="phone-li"), "phone-li")
    device.push([op("hazard", {"description": "甲的描述"}, record_id=hazard["id"], base_version=1)])
    (result,) = other.push(
        [op("hazard", {"description": "乙的描述"}, record_id=hazard["id"], base_version=1)]
    )
    assert result["status"] == "conflict"
    assert result["current"]["description"] == "甲的描述"
    assert result["current"]["version"] == 2
    (merged,) = other.push(
        [op("hazard", {"description": "乙的描述"}, record_id=hazard["id"], base_version=2)]
    )
    assert merged["status"] == "applied" and merged["version"] == 3


def test_server_owned_fields_are_never_taken_from_a_device(field) -> None:
    device, team, ent = field["device"], field["team"], field["enterprise"]
    inspection = inspection_op(ent["id"], team)
    hazard = hazard_op(inspection["id"], ent["id"], status="closed")
    results = device.push([inspection, hazard])
    assert results[1]["status"] == "rejected"
    assert "status" in results[1]["errors"]["fields"]


def test_an_unsupported_schema_version_is_a_400_listing_the_supported(field, client) -> None:
    device = field["device"]
    response = client.post(
        "/api/v1/sync/push",
        headers=device.headers,
        json={"device_id": "phone-wang", "schema_version": 99, "ops": []},
    )
    assert response.status_code == 400
    error = response.get_json()["error"]
    assert error["code"] == "unsupported_schema_version"
    assert error["details"]["supported"] == [1]


def test_too_many_ops_is_a_413(field, client) -> None:
    device = field["device"]
    response = client.post(
        "/api/v1/sync/push",
        headers=device.headers,
        json={"device_id": "phone-wang", "schema_version": 1, "ops": [{}] * 501},
    )
    assert response.status_code == 413


def test_pushing_as_another_device_is_refused(field, client) -> None:
    response = client.post(
        "/api/v1/sync/push",
        headers=field["device"].headers,
        json={"device_id": "someone-elses-phone", "schema_version": 1, "ops": []},
    )
    assert response.status_code == 403
    assert response.get_json()["error"]["code"] == "device_mismatch"


def test_an_op_naming_a_missing_attachment_is_rejected_until_it_is_uploaded(field) -> None:
    device, team, ent = field["device"], field["team"], field["enterprise"]
    photo = b"\x89PNG fake photo bytes"
    inspection = inspection_op(ent["id"], team)
    from tests.sync_support import sha256

    hazard = hazard_op(inspection["id"], ent["id"], photos=[sha256(photo)])
    results = device.push([inspection, hazard])
    assert results[1]["status"] == "rejected"
    assert results[1]["errors"]["code"] == "attachment_missing"
    assert results[1]["errors"]["details"]["missing"] == [sha256(photo)]
    device.upload(photo)
    (retried,) = device.push([hazard])
    assert retried["status"] == "applied"


def test_documents_get_consecutive_numbers_per_type_and_year(field) -> None:
    device, team, ent = field["device"], field["team"], field["enterprise"]
    inspection = inspection_op(ent["id"], team)
    hazard = hazard_op(inspection["id"], ent["id"])
    docs = [
        document_op("inspection_record", inspection["id"], []),
        document_op("rectification_order", inspection["id"], [hazard["id"]], deadline="2024-05-20"),
        document_op("inspection_record", inspection["id"], []),
    ]
    results = device.push([inspection, hazard, *docs])
    numbers = [r.get("number") for r in results[2:]]
    assert numbers == [
        "（南开）应急检记〔2024〕1号",
        "（南开）应急责改〔2024〕1号",
        "（南开）应急检记〔2024〕2号",
    ]


def test_a_reinspection_opinion_needs_a_rectification_order_first(field) -> None:
    device, team, ent = field["device"], field["team"], field["enterprise"]
    inspection = inspection_op(ent["id"], team)
    hazard = hazard_op(inspection["id"], ent["id"])
    opinion = document_op("reinspection_opinion", inspection["id"], [hazard["id"]], outcome="pass")
    results = device.push([inspection, hazard, opinion])
    assert results[2]["status"] == "rejected"
    assert results[2]["errors"]["code"] == "missing_rectification_order"


def test_a_retry_after_a_lost_response_is_a_duplicate_not_a_second_record(field, client) -> None:
    device, team, ent = field["device"], field["team"], field["enterprise"]
    record = inspection_op(ent["id"], team)
    device.push([record])
    # The device never saw the answer and sends the same record under a new op id.
    resent = dict(record, op_id=str(uuid.uuid4()))
    (result,) = device.push([resent])
    assert result["status"] == "applied" and result["version"] == 1
    device.pull_all()
    assert sum(1 for (entity, _) in device.state if entity == "inspection") == 1


def test_every_applied_op_leaves_an_audit_entry_naming_who_where_and_what(field, client) -> None:
    device, team, ent = field["device"], field["team"], field["enterprise"]
    inspection = inspection_op(ent["id"], team)
    hazard = hazard_op(inspection["id"], ent["id"])
    device.push([inspection, hazard])
    device.push([op("hazard", {"location": "三号车间"}, record_id=hazard["id"], base_version=1)])
    trail = client.get(f"/api/v1/audit?record_id={hazard['id']}", headers=field["lead"]).get_json()
    actions = [(e["action"], e["version"]) for e in trail["items"]]
    assert actions == [("edit", 2), ("create", 1)]
    edit = trail["items"][0]
    assert edit["user_id"] == str(field["wang"].id)
    assert edit["changes"] == {"location": ["二号车间", "三号车间"]}
    assert edit["device_id"] and edit["op_id"]
    assert client.get("/api/v1/audit", headers=device.headers).status_code == 403


# --- bad input is answered per op, never with a 500 -----------------------------------------


def _push_raw(device, ops):
    return device.client.post(
        "/api/v1/sync/push",
        json={"device_id": device.device_id, "schema_version": 1, "ops": ops},
        headers=device.headers,
    )


@pytest.mark.parametrize(
    "data",
    [
        {"hazard_ids": 5},
        {"hazard_ids": {"a": 1}},
        {"hazard_ids": [5, None, [], "x"]},
        {"issued_at": "0001-01-01T00:00:00+08:00", "type": "inspection_record"},
        {"issued_at": 5, "type": ["x"]},
        {"inspection_id": 10**400, "hazard_id": -(10**300)},
        {"photo_attachments": 7, "evidence_attachments": "a", "signature_attachments": {}},
        {"enterprise_id": ["x"], "scan_id": {"a": 1}, "hazard_id": 1.5},
    ],
)
def test_odd_shapes_in_data_are_rejected_per_op(field, data) -> None:
    device = field["device"]
    for entity in ("document", "hazard", "inspection", "rectification", "scan"):
        response = _push_raw(device, [op(entity, data), op(entity, data, base_version=1)])
        assert response.status_code == 200, response.get_json()
        assert [r["status"] for r in response.get_json()["results"]] == ["rejected"] * 2


def test_a_pull_cursor_beyond_any_position_is_an_invalid_cursor(field, client) -> None:
    from server.domain.sync import encode_cursor

    for seq in (2**63, 2**64 + 5, 10**30):
        response = client.get(
            "/api/v1/sync/pull",
            query_string={"cursor": encode_cursor(seq)},
            headers=field["device"].headers,
        )
        assert response.status_code == 422, response.get_json()
        assert response.get_json()["error"]["code"] == "invalid_cursor"


@pytest.mark.parametrize(
    "body",
    [
        '"findings": "a\\u0000b"',
        '"findings": "\\ud800"',
        '"place": NaN',
        '"items": [{"item": "x", "result": "ok", "note": Infinity}]',
        '"x\\u0000": 1e999',
    ],
)
def test_values_no_database_can_store_are_rejected_and_never_a_500(field, body) -> None:
    import json

    device, team, ent = field["device"], field["team"], field["enterprise"]
    inspection = inspection_op(ent["id"], team)
    text = json.dumps(inspection, ensure_ascii=False)
    text = text.replace('"findings": "发现一般隐患1处"', body)
    envelope = '{"device_id": "phone-wang", "schema_version": 1, "ops": [' + text + "]}"
    raw = envelope.encode("utf-8", "surrogatepass")
    headers = {**device.headers, "Content-Type": "application/json"}
    for _ in range(2):  # the same bytes again are answered the same way
        response = device.client.post("/api/v1/sync/push", data=raw, headers=headers)
        # A strict JSON parser may refuse the body (400); a lenient one hands the op over.
        assert response.status_code in (200, 400), response.get_data()
        if response.status_code == 200:
            (result,) = response.get_json()["results"]
            assert result["status"] == "rejected", result
            assert result["errors"]["code"] == "invalid_data"
    device.pull_all()
    assert ("inspection", inspection["id"]) not in device.state


def test_an_edit_cannot_make_an_inspection_end_before_it_started(field) -> None:
    device, team, ent = field["device"], field["team"], field["enterprise"]
    inspection = inspection_op(ent["id"], team)
    device.push([inspection])
    (result,) = device.push(
        [
            op(
                "inspection",
                {"ended_at": "2024-05-06T08:00:00+00:00"},
                record_id=inspection["id"],
                base_version=1,
            )
        ]
    )
    assert result["status"] == "rejected"
    assert "ended_at" in result["errors"]["fields"]
    (later,) = device.push(
        [
            op(
                "inspection",
                {"ended_at": "2024-05-06T12:00:00+00:00"},
                record_id=inspection["id"],
                base_version=1,
            )
        ]
    )
    assert (later["status"], later["version"]) == ("applied", 2)


def test_a_list_naming_a_record_twice_is_rejected(field) -> None:
    device, team, ent = field["device"], field["team"], field["enterprise"]
    inspection = inspection_op(ent["id"], team)
    hazard = hazard_op(inspection["id"], ent["id"])
    device.push([inspection, hazard])
    twice = document_op(
        "rectification_order",
        inspection["id"],
        [hazard["id"], hazard["id"]],
        deadline="2024-05-20",
    )
    team_twice = inspection_op(ent["id"], [team[0], team[1], team[0]])
    edit_twice = op(
        "inspection",
        {"inspector_ids": [team[0], team[1], team[1]]},
        record_id=inspection["id"],
        base_version=1,
    )
    results = device.push([twice, team_twice, edit_twice])
    assert [r["status"] for r in results] == ["rejected"] * 3
    assert [r["errors"]["code"] for r in results] == ["invalid_data"] * 3
    assert hazard["id"] in str(results[0]["errors"]["fields"]["hazard_ids"])
    assert "inspector_ids" in results[1]["errors"]["fields"]
    assert "inspector_ids" in results[2]["errors"]["fields"]
    device.pull_all()
    assert device.state[("hazard", hazard["id"])]["status"] == "found"


def test_an_op_sent_twice_in_one_batch_is_a_duplicate_the_second_time(field) -> None:
    device, team, ent = field["device"], field["team"], field["enterprise"]
    inspection = inspection_op(ent["id"], team)
    hazard = hazard_op(inspection["id"], ent["id"])
    bad = inspection_op(ent["id"], team[:1])
    changed = dict(hazard, data=dict(hazard["data"], description="另一处"))
    results = device.push([hazard, inspection, hazard, bad, bad, inspection, changed])
    assert [(r["op_id"], r["status"]) for r in results] == [
        (hazard["op_id"], "held"),
        (inspection["op_id"], "applied"),
        (hazard["op_id"], "duplicate"),
        (bad["op_id"], "rejected"),
        (bad["op_id"], "rejected"),
        (inspection["op_id"], "duplicate"),
        (hazard["op_id"], "rejected"),
    ]
    # The held hazard was released by its inspection before it came again.
    assert results[2]["original_status"] == "applied" and results[2]["version"] == 1
    assert results[5]["original_status"] == "applied" and results[5]["version"] == 1
    assert results[4]["errors"] == results[3]["errors"]
    assert results[6]["errors"]["code"] == "op_id_reused"


def _strand(field, client, monkeypatch):
    """A hazard and its order held for an inspection whose arrival meets a fault while
    releasing the hazard; the fault stays until ``monkeypatch.undo()``."""
    from server.services.sync import handlers

    device, team, ent = field["device"], field["team"], field["enterprise"]
    inspection = inspection_op(ent["id"], team)
    hazard = hazard_op(inspection["id"], ent["id"])
    order = document_op(
        "rectification_order", inspection["id"], [hazard["id"]], deadline="2024-05-20"
    )
    assert [r["status"] for r in device.push([hazard, order])] == ["held", "held"]
    real = handlers.HANDLERS["hazard"]

    def broken(ctx, record_id, base_version, data):
        real(ctx, record_id, base_version, data)
        ctx.cache.write_rows()
        raise RuntimeError("a fault while applying")

    monkeypatch.setitem(handlers.HANDLERS, "hazard", broken)
    other = Device(client, field["world"].login("li", device_id="phone-li"), "phone-li")
    (applied,) = other.push([inspection])
    assert applied["status"] == "applied"
    return device, other, inspection, hazard, order


def _status(client, device, op) -> str:
    reply = client.get(f"/api/v1/sync/ops/{op['op_id']}", headers=device.headers)
    return reply.get_json()["status"]


def test_a_held_op_that_fails_when_released_stays_held_and_the_batch_goes_through(
    field, client, monkeypatch
) -> None:
    device, other, inspection, hazard, order = _strand(field, client, monkeypatch)
    assert [_status(client, device, held) for held in (hazard, order)] == ["held", "held"]
    other.pull_all()
    assert ("inspection", inspection["id"]) in other.state
    assert ("hazard", hazard["id"]) not in other.state
    trail = client.get(f"/api/v1/audit?record_id={hazard['id']}", headers=field["lead"])
    assert trail.get_json()["items"] == []


def test_the_scheduled_job_releases_stranded_held_ops_once_the_fault_is_gone(
    field, client, monkeypatch, app
) -> None:
    from server import scheduler
    from server.domain import entry_codes
    from server.services.sync import push

    device, other, inspection, hazard, order = _strand(field, client, monkeypatch)
    cron, job = scheduler.JOBS["release_stranded_ops"]
    assert cron == "*/10 * * * *"
    with app.app_context():
        assert job() == 2  # the fault is still there: tried, still held
    assert [_status(client, device, held) for held in (hazard, order)] == ["held", "held"]
    monkeypatch.undo()
    key = entry_codes.derive_key(app.config["SECRET_KEY"])
    with app.app_context():
        assert push.release_stranded(key) == 2
    assert [_status(client, device, held) for held in (hazard, order)] == ["applied", "applied"]
    with app.app_context():
        assert push.release_stranded(key) == 0  # nothing waits any more
    device.pull_all()
    stored_hazard = device.state[("hazard", hazard["id"])]
    stored_order = device.state[("document", order["id"])]
    assert stored_hazard["inspection_id"] == inspection["id"]
    assert stored_order["number"] and stored_order["serial"] == 1
    trail = client.get(f"/api/v1/audit?record_id={hazard['id']}", headers=field["lead"])
    entries = trail.get_json()["items"]  # newest first; both in the name of who pushed them
    assert [(e["action"], e["user_id"]) for e in entries] == [
        ("order", str(field["wang"].id)),
        ("create", str(field["wang"].id)),
    ]


def test_documents_are_numbered_in_op_order_and_a_repeat_in_the_batch_shows_the_number(
    field,
) -> None:
    device, team, ent = field["device"], field["team"], field["enterprise"]
    inspection = inspection_op(ent["id"], team)
    hazard = hazard_op(inspection["id"], ent["id"])
    first = document_op("inspection_record", inspection["id"], [])
    refused = document_op("penalty_decision", inspection["id"], [])
    order = document_op(
        "rectification_order", inspection["id"], [hazard["id"]], deadline="2024-05-20"
    )
    second = document_op("inspection_record", inspection["id"], [])
    results = device.push([inspection, hazard, first, refused, order, second, first])
    assert [r["status"] for r in results] == [
        "applied",
        "applied",
        "applied",
        "rejected",
        "applied",
        "applied",
        "duplicate",
    ]
    assert results[2]["number"] == "（南开）应急检记〔2024〕1号"
    assert results[4]["number"] == "（南开）应急责改〔2024〕1号"
    assert results[5]["number"] == "（南开）应急检记〔2024〕2号"
    assert results[6]["number"] == results[2]["number"]
    device.pull_all()
    stored = {
        data["id"]: data["number"] for (e, _), data in device.state.items() if e == "document"
    }
    assert stored == {
        first["id"]: results[2]["number"],
        order["id"]: results[4]["number"],
        second["id"]: results[5]["number"],
    }
