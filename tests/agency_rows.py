"""One record of every kind an agency owns, made through the HTTP API.

The isolation test points another agency's users at these ids; the schemathesis test feeds
them to the routes, so "found" paths are exercised as well as "not found" ones.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from tests.draw_support import plan_payload
from tests.party_support import activate, csrf
from tests.sync_support import Device, document_op, hazard_op, inspection_op

PHOTO = b"photo of a blocked fire exit, agency "


@dataclass
class AgencyRows:
    code: str
    manager: dict[str, str]
    lead: dict[str, str]
    inspector: dict[str, str]
    photo: bytes
    # Path parameter name -> the value naming this agency's record.
    ids: dict[str, str] = field(default_factory=dict)


def _ok(response: Any, status: int = 201) -> dict[str, Any]:
    assert response.status_code == status, (response.request.path, response.get_json())
    return response.get_json()


def make_rows(world: Any, client: Any, code: str, name: str, abbr: str) -> AgencyRows:
    """An agency with an enterprise, inspection, hazard, document, draw, case, decision…"""
    world.agency(code, name, abbr)
    manager = world.headers("manager", agency=code)
    lead = world.headers("lead", agency=code)
    first = world.user(f"{code}-insp1", agency=code, cert_no=f"{code}-0001", full_name="王伟")
    second = world.user(f"{code}-insp2", agency=code, cert_no=f"{code}-0002", full_name="李娜")
    device_id = f"phone-{code}"
    inspector = world.login(first.username, device_id=device_id)
    device = Device(client, inspector, device_id)
    team = [str(first.id), str(second.id)]

    enterprises = [
        world.enterprise(lead, name=f"{abbr}恒通机械有限公司{i}", risk_grade="good")
        for i in range(3)
    ]
    enterprise = enterprises[0]
    photo = PHOTO + code.encode()
    sha = device.upload(photo)

    inspection = inspection_op(enterprise["id"], team)
    hazard = hazard_op(inspection["id"], enterprise["id"], photos=[sha])
    order = document_op(
        "rectification_order", inspection["id"], [hazard["id"]], deadline="2024-05-20"
    )
    results = device.push([inspection, hazard, order])
    assert [r["status"] for r in results] == ["applied"] * 3, results

    plan = _ok(
        client.post(
            "/api/v1/draw-plans",
            json=plan_payload(rates={"risk:good": "1"}, default_rate="1"),
            headers=lead,
        )
    )
    draw = _ok(client.post(f"/api/v1/draw-plans/{plan['id']}/run", json={}, headers=lead))
    tasks = _ok(client.get(f"/api/v1/draws/{draw['id']}/tasks", headers=lead), 200)["tasks"]
    recusal = _ok(
        client.post(
            "/api/v1/recusals",
            json={
                "inspector_id": team[0],
                "enterprise_id": enterprise["id"],
                "source": "conflict",
                "reason": "近亲属在该企业任职",
            },
            headers=lead,
        )
    )

    case = _ok(
        client.post(
            "/api/v1/cases",
            json={"enterprise_id": enterprise["id"], "opened_on": "2024-05-08"},
            headers=manager,
        )
    )
    _ok(
        client.post(
            f"/api/v1/cases/{case['id']}/legal-reviews",
            json={"reviewed_on": "2024-05-09", "opinion": "approved"},
            headers=manager,
        )
    )
    decision = _ok(
        client.post(
            f"/api/v1/cases/{case['id']}/decision",
            json={"decided_on": "2024-05-10", "entity_fine_fen": 2_000_000, "individuals": []},
            headers=manager,
        )
    )
    # A second case, still open, so routes that act on an open case find one.
    open_case = _ok(
        client.post(
            "/api/v1/cases",
            json={"enterprise_id": enterprises[1]["id"], "opened_on": "2024-05-08"},
            headers=manager,
        )
    )
    complaint = _ok(
        client.post(
            "/api/v1/complaints",
            json={"received_on": "2024-05-06", "summary": "群众来电举报安全出口堵塞"},
            headers=manager,
        )
    )
    # The enterprise complains about the visit from its own pages.
    issued = _ok(
        client.post(f"/api/v1/enterprises/{enterprise['id']}/activation-code", headers=lead)
    )
    browser = activate(world.app, enterprise["uscc"], issued["activation_code"])
    path = f"/enterprise/visits/{inspection['id']}"
    browser.post(
        f"{path}/complaints", data={"csrf_token": csrf(browser, path), "text": "未出示执法证"}
    )
    visit_complaint = client.get("/api/v1/visit-complaints", headers=lead).get_json()[0]
    return AgencyRows(
        code=code,
        manager=manager,
        lead=lead,
        inspector=inspector,
        photo=photo,
        ids={
            "enterprise_id": enterprise["id"],
            "hazard_id": hazard["id"],
            "document_id": order["id"],
            "op_id": inspection["op_id"],
            "sha256": sha,
            "device_id": device_id,
            "plan_id": plan["id"],
            "draw_id": draw["id"],
            "recusal_id": recusal["id"],
            "case_id": case["id"],
            "open_case_id": open_case["id"],
            "decision_id": decision["id"],
            "complaint_id": complaint["id"],
            "visit_complaint_id": visit_complaint["id"],
            "task_id": tasks[0]["id"],
            # No route takes it; the enterprise's pages do.
            "inspection_id": inspection["id"],
        },
    )


def never_existed(parameter: str) -> str:
    """A value of the same shape as a real id, naming nothing."""
    if parameter == "sha256":
        return uuid.uuid4().hex * 2
    if parameter == "device_id":
        return f"phone-{uuid.uuid4().hex[:8]}"
    return str(uuid.uuid4())
