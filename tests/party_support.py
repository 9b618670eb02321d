"""Two agencies that registered one enterprise, its visits, and the enterprise's browser."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from tests.qr_support import decode_png
from tests.sync_support import T0, Device, document_op, hazard_op, inspection_op, scan_op

ENTERPRISE_PASSWORD = "qiye-mima-2024"


@dataclass
class Party:
    uscc: str
    code: str  # the activation code
    nankai: dict[str, Any]  # the enterprise as each agency registered it
    hexi: dict[str, Any]
    lead: dict[str, str]  # nankai's lead
    hexi_lead: dict[str, str]
    device: Device  # nankai's inspector's phone
    team: list[str]
    visits: dict[str, str] = field(default_factory=dict)  # name -> inspection id
    hazard: str = ""


def ok(response: Any, status: int = 201) -> dict[str, Any]:
    assert response.status_code == status, (response.request.path, response.get_json())
    return response.get_json()


def make_party(world: Any, client: Any) -> Party:
    """南开 visits the enterprise twice (a scanned visit with a hazard and an order, and one
    with no scan); 河西, which registered the same USCC, once."""
    world.agency()
    world.agency("hexi", "天津市河西区应急管理局", "河西")
    wang = world.user("wang", cert_no="12010420001", full_name="王伟", unit="执法一大队")
    li = world.user("li", cert_no="12010420002", full_name="李娜", unit="执法一大队")
    zhao = world.user("zhao", agency="hexi", cert_no="12010320007", full_name="赵刚")
    qian = world.user("qian", agency="hexi", cert_no="12010320008", full_name="钱敏")
    lead = world.headers("lead")
    hexi_lead = world.headers("lead", agency="hexi")
    uscc = world.uscc()
    nankai = world.enterprise(lead, uscc=uscc, name="天津市宏达机械制造有限公司")
    hexi = world.enterprise(hexi_lead, uscc=uscc, name="天津市宏达机械制造有限公司")
    team = [str(wang.id), str(li.id)]
    device = Device(client, world.login("wang", device_id="phone-wang"), "phone-wang")
    png = client.get(f"/api/v1/enterprises/{nankai['id']}/entry-code?format=png", headers=lead)
    gate = decode_png(png.data)
    scan = scan_op(gate, team)
    scanned = inspection_op(nankai["id"], team, scan_id=scan["id"])
    hazard = hazard_op(scanned["id"], nankai["id"], description="配电箱未上锁，无警示标识")
    order = document_op("rectification_order", scanned["id"], [hazard["id"]], deadline="2024-05-20")
    unscanned = inspection_op(nankai["id"], team, at=T0 + timedelta(days=20), findings="")
    results = device.push([scan, scanned, hazard, order, unscanned])
    assert [r["status"] for r in results] == ["applied"] * 5, results
    hexi_device = Device(client, world.login("zhao", device_id="phone-zhao"), "phone-zhao")
    theirs = inspection_op(
        hexi["id"], [str(zhao.id), str(qian.id)], at=T0 + timedelta(days=2), findings=""
    )
    assert hexi_device.push([theirs])[0]["status"] == "applied"
    issued = ok(client.post(f"/api/v1/enterprises/{nankai['id']}/activation-code", headers=lead))
    return Party(
        uscc=uscc,
        code=issued["activation_code"],
        nankai=nankai,
        hexi=hexi,
        lead=lead,
        hexi_lead=hexi_lead,
        device=device,
        team=team,
        visits={"scanned": scanned["id"], "unscanned": unscanned["id"], "hexi": theirs["id"]},
        hazard=hazard["id"],
    )


def csrf(browser: Any, path: str) -> str:
    page = browser.get(path).get_data(as_text=True)
    match = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert match, page
    return match.group(1)


def activate(app: Any, uscc: str, code: str, password: str = ENTERPRISE_PASSWORD) -> Any:
    """The enterprise's browser, signed in after activating with the agency's code."""
    browser = app.test_client()
    token = csrf(browser, "/enterprise/activate")
    done = browser.post(
        "/enterprise/activate",
        data={
            "csrf_token": token,
            "uscc": uscc,
            "code": code,
            "password": password,
            "password2": password,
        },
    )
    assert done.status_code == 302, done.get_data(as_text=True)
    return browser
