"""Devices changing the same record at the same moment: each change lands, none is lost."""

from __future__ import annotations

import pytest

from tests.sync_support import Device, at_once, document_op, hazard_op, inspection_op, op

ROUNDS = 4


@pytest.fixture
def crew(world, app):
    world.agency()
    people = [world.user(f"insp{i}", role="inspector", cert_no=f"1201060{i:04d}") for i in range(3)]
    enterprise = world.enterprise(world.headers("lead"))
    devices = [
        Device(app.test_client(), world.login(p.username, device_id=f"dev{i}"), f"dev{i}")
        for i, p in enumerate(people)
    ]
    team = [str(p.id) for p in people]
    return {"devices": devices, "team": team, "enterprise": enterprise}


def _new_hazard(crew) -> tuple[dict, dict]:
    ent = crew["enterprise"]
    inspection = inspection_op(ent["id"], crew["team"])
    hazard = hazard_op(inspection["id"], ent["id"])
    assert [r["status"] for r in crew["devices"][0].push([inspection, hazard])] == ["applied"] * 2
    return inspection, hazard


def test_edits_of_different_fields_sent_at_once_all_land(crew) -> None:
    fields = {"description": "新的描述", "location": "三号车间", "legal_basis": "《条例》第十条"}
    for _ in range(ROUNDS):
        _, hazard = _new_hazard(crew)
        edits = [
            op("hazard", {name: value}, record_id=hazard["id"], base_version=1)
            for name, value in fields.items()
        ]
        results = at_once(
            [lambda d=d, e=e: d.push([e]) for d, e in zip(crew["devices"], edits, strict=True)]
        )
        assert sorted(r[0]["status"] for r in results) == ["applied"] * 3, results
        assert sorted(r[0]["version"] for r in results) == [2, 3, 4]
        reader = crew["devices"][0]
        reader.pull_all()
        stored = reader.state[("hazard", hazard["id"])]
        assert stored["version"] == 4
        assert {k: stored[k] for k in fields} == fields


def test_one_hazard_ordered_from_two_devices_at_once_is_ordered_once(crew) -> None:
    for _ in range(ROUNDS):
        inspection, hazard = _new_hazard(crew)
        orders = [
            document_op(
                "rectification_order", inspection["id"], [hazard["id"]], deadline="2024-05-20"
            )
            for _ in range(2)
        ]
        devices = crew["devices"][:2]
        results = at_once(
            [lambda d=d, o=o: d.push([o]) for d, o in zip(devices, orders, strict=True)]
        )
        statuses = sorted(r[0]["status"] for r in results)
        assert statuses == ["applied", "rejected"], results
        reader = crew["devices"][0]
        reader.pull_all()
        stored = reader.state[("hazard", hazard["id"])]
        assert stored["status"] == "ordered" and stored["version"] == 2
