"""Evaluations are anonymous to the inspecting agency: none of its users learns who rated
what through any route, page, export or pull; it sees an average over five ratings or more.
And neither an enterprise's nor a supervisor's sign-in opens the agencies' pages."""

from __future__ import annotations

import re
import uuid

import sqlalchemy as sa

from server.extensions import db
from server.models import EnterpriseAccount, VisitEvaluation
from tests.agency_rows import make_rows
from tests.api.test_hazard_pages import sign_in as manager_sign_in
from tests.party_support import activate, csrf, ok
from tests.qr_support import decode_png
from tests.sync_support import Device, inspection_op

_PARAMETER = re.compile(r"<(?:[^:>]+:)?(\w+)>")
FIXED = {
    "year": "2024",
    "day": "2024-05-06",
    "name": "index.html",
    "figure": "inspections",
    "kind": "inspections",
    "fmt": "png",
}
SECRET_COMMENT = "评价暗号"


def _get_routes(app) -> list[str]:
    rules = []
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or rule.endpoint == "static":
            continue
        if rule.rule.startswith(("/enterprise", "/supervise")):
            continue  # the other parties' own pages
        rules.append(rule.rule)
    return sorted(rules)


def _ids(rows, client) -> dict[str, str]:
    """The agency's own ids, and the public values of its gate code and draw."""
    enterprise = rows.ids["enterprise_id"]
    png = client.get(f"/api/v1/enterprises/{enterprise}/entry-code?format=png", headers=rows.lead)
    gate = decode_png(png.data)
    return {
        **rows.ids,
        "token": gate.rsplit("/", 1)[-1],
        "ref": rows.ids["draw_id"],
        "filename": "none.css",
    }


def _fill(rule: str, ids: dict[str, str]) -> str:
    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        assert name in ids or name in FIXED, f"no value for <{name}> of {rule}: add one"
        return ids.get(name) or FIXED[name]

    return _PARAMETER.sub(value, rule)


def _rated_world(world, client, app):
    rows = make_rows(world, client, "nankai", "天津市南开区应急管理局", "南开")
    enterprise = rows.ids["enterprise_id"]
    uscc = client.get(f"/api/v1/enterprises/{enterprise}", headers=rows.lead).get_json()["uscc"]
    issued = ok(client.post(f"/api/v1/enterprises/{enterprise}/activation-code", headers=rows.lead))
    browser = activate(app, uscc, issued["activation_code"])
    path = f"/enterprise/visits/{rows.ids['inspection_id']}"
    browser.post(
        f"{path}/evaluation",
        data={"csrf_token": csrf(browser, path), "rating": "1", "comment": SECRET_COMMENT},
    )
    with app.app_context():
        evaluation = db.session.scalar(sa.select(VisitEvaluation))
        account = db.session.scalar(sa.select(EnterpriseAccount))
        secrets = {SECRET_COMMENT, str(evaluation.id), str(account.id)}
    return rows, browser, secrets


def test_no_route_page_export_or_pull_shows_the_agency_who_rated_what(world, client, app) -> None:
    rows, _, secrets = _rated_world(world, client, app)
    world.user("ours-lead", role="lead")
    world.user("ours-manager", role="manager")
    callers = {
        role: {"headers": world.headers(role)} for role in ("inspector", "lead", "manager", "admin")
    }
    callers["the inspector's phone"] = {"headers": rows.inspector}
    for username in ("ours-lead", "ours-manager"):
        browser, signed_in = manager_sign_in(app, username)
        assert signed_in.status_code == 302
        callers[f"{username} in the browser"] = {"browser": browser}
    anonymous = {"browser": app.test_client()}
    callers["the public"] = anonymous
    checked = 0
    ids = _ids(rows, client)
    for rule in _get_routes(app):
        path = _fill(rule, ids)
        for who, caller in callers.items():
            if "browser" in caller:
                response = caller["browser"].get(path)
            else:
                response = client.get(path, headers=caller["headers"])
            body = response.get_data()
            for secret in secrets:
                assert secret.encode() not in body, (who, path, secret)
            checked += 1
    assert checked > 100
    # The phone's pull, from the beginning, carries nothing of it either.
    phone = Device(client, rows.inspector, "phone-nankai")
    pulled = str(phone.pull_all())
    assert not any(secret in pulled for secret in secrets)


def test_the_agency_sees_the_average_once_five_ratings_are_in(world, client, app) -> None:
    rows, browser, _ = _rated_world(world, client, app)
    summary = client.get("/api/v1/visit-ratings", headers=rows.lead).get_json()
    assert summary["shown"] is False and summary["count"] is None
    device = Device(client, rows.inspector, "phone-nankai")
    more = [
        inspection_op(rows.ids["enterprise_id"], [], record_id=str(uuid.uuid4())) for _ in range(4)
    ]
    team = client.get(
        "/api/v1/sync/pull", query_string={"limit": 500}, headers=rows.inspector
    ).get_json()
    inspectors = next(
        c["data"]["inspector_ids"] for c in team["changes"] if c["entity"] == "inspection"
    )
    for op in more:
        op["data"]["inspector_ids"] = inspectors
    assert [r["status"] for r in device.push(more)] == ["applied"] * 4
    for n, op in enumerate(more):
        path = f"/enterprise/visits/{op['id']}"
        browser.post(
            f"{path}/evaluation",
            data={"csrf_token": csrf(browser, path), "rating": str(n + 2)},
        )
    summary = client.get("/api/v1/visit-ratings", headers=rows.lead).get_json()
    # 1 (the first), then 2, 3, 4, 5.
    assert summary == {"shown": True, "count": 5, "average": 3.0, "minimum_ratings": 5}


def test_an_enterprises_or_a_supervisors_sign_in_opens_no_manager_page(world, client, app) -> None:
    """(Their sign-ins against the API's routes: test_agency_isolation.py.)"""
    rows, browser, _ = _rated_world(world, client, app)
    from server.services import supervision

    with app.app_context():
        supervision.create_supervisor("jiandu", "jiandu-mima-2024", "孙监督", "天津市司法局")
    supervisor = app.test_client()
    supervisor.post(
        "/supervise/login",
        data={
            "csrf_token": csrf(supervisor, "/supervise/login"),
            "username": "jiandu",
            "password": "jiandu-mima-2024",
        },
    )
    assert supervisor.get("/supervise/").status_code == 200
    ids = _ids(rows, client)
    pages = [r for r in _get_routes(app) if r.startswith("/manage") and r != "/manage/login"]
    assert "/manage/feedback" in pages
    for rule in pages:
        path = _fill(rule, ids)
        for who, other in (("enterprise", browser), ("supervisor", supervisor)):
            response = other.get(path)
            assert response.status_code == 302, (who, path)
            assert response.headers["Location"].startswith("/manage/login"), (who, path)
