"""A user of one agency never sees, changes or even learns of another agency's rows."""

from __future__ import annotations

import re
import uuid

import sqlalchemy as sa

from server.extensions import db
from server.models import Enterprise
from server.models.scoping import bind_agency
from tests.agency_rows import make_rows, never_existed

_PARAMETER = re.compile(r"<(?:[^:>]+:)?(\w+)>")
# Path parameters that do not name a record of an agency: an annual plan is the caller's own
# agency's plan for that year, never another's; a date is one of the national calendar.
NOT_IDS = {"year", "day", "figure", "kind"}  # figure, kind: names, not rows
# A valid body for each route that takes one, so that the answer is about the id and not about
# the body (a 422 would prove nothing).
BODIES = {
    ("PATCH", "/api/v1/enterprises/<uuid:enterprise_id>"): {"name": "改名有限公司"},
    ("POST", "/api/v1/enterprises/<uuid:enterprise_id>/entry-code/rotate"): None,
    ("POST", "/api/v1/devices/<string:device_id>/revoke"): None,
    ("POST", "/api/v1/devices/<string:device_id>/reinstate"): None,
    ("POST", "/api/v1/hazards/<uuid:hazard_id>/transitions"): {
        "action": "sign_off",
        "note": "整改到位",
    },
    ("PATCH", "/api/v1/draw-plans/<uuid:plan_id>"): {"name": "改名的计划"},
    ("POST", "/api/v1/draw-plans/<uuid:plan_id>/run"): {},
    ("POST", "/api/v1/cases/<uuid:case_id>/legal-reviews"): {
        "reviewed_on": "2024-05-09",
        "opinion": "approved",
    },
    ("POST", "/api/v1/cases/<uuid:case_id>/decision"): {
        "decided_on": "2024-05-10",
        "entity_fine_fen": 100_000,
        "individuals": [],
    },
    ("POST", "/api/v1/cases/<uuid:case_id>/exemption"): {
        "decided_on": "2024-05-10",
        "party": "entity",
        "list_item": "安全生产轻微违法行为免罚清单第3项",
    },
    ("POST", "/api/v1/cases/<uuid:case_id>/dismissal"): {
        "dismissed_on": "2024-05-10",
        "reason": "违法事实不成立",
    },
    ("POST", "/api/v1/cases/<uuid:case_id>/transfer"): {
        "transferred_on": "2024-05-10",
        "transferred_to": "公安机关",
    },
    ("POST", "/api/v1/penalty-decisions/<uuid:decision_id>/publish"): {
        "published_on": "2024-05-11"
    },
    ("POST", "/api/v1/penalty-decisions/<uuid:decision_id>/revoke"): {
        "revoked_on": "2024-05-11",
        "reason": "复议撤销",
    },
    ("PATCH", "/api/v1/complaints/<uuid:complaint_id>"): {"handled_on": "2024-05-07"},
    ("DELETE", "/api/v1/recusals/<uuid:recusal_id>"): None,
    ("POST", "/api/v1/enterprises/<uuid:enterprise_id>/activation-code"): None,
    ("POST", "/api/v1/draw-plans/<uuid:plan_id>/advance-notice"): {"advance_notice": True},
    ("POST", "/api/v1/visit-complaints/<uuid:visit_complaint_id>/replies"): {
        "text": "已核实，执法人员出示了执法证",
    },
}
WRITES = {"POST", "PUT", "PATCH", "DELETE"}


def _id_routes(app) -> list[tuple[str, str, list[str]]]:
    routes = []
    for rule in app.url_map.iter_rules():
        names = [n for n in _PARAMETER.findall(rule.rule) if n not in NOT_IDS]
        if rule.rule.startswith("/api/v1/") and names:
            for method in sorted(rule.methods - {"OPTIONS"}):
                routes.append((method, rule.rule, names))
    return routes


def _call(client, method: str, rule: str, values: dict[str, str], headers, body=None):
    path = _PARAMETER.sub(lambda m: values[m.group(1)], rule)
    kwargs = {"headers": headers}
    if body is not None:
        kwargs["json"] = body
    return client.open(path, method=method, **kwargs)


def test_every_route_with_an_id_answers_another_agencys_rows_like_rows_that_never_existed(
    world, client, app
) -> None:
    """Each /api/v1 route with an id in its path, for every role of agency A, on B's rows."""
    theirs = make_rows(world, client, "hexi", "天津市河西区应急管理局", "河西")
    world.agency()
    roles = {role: world.headers(role) for role in ("inspector", "lead", "manager", "admin")}
    routes = _id_routes(app)
    missing = sorted({n for _, _, names in routes for n in names} - set(theirs.ids))
    assert not missing, f"no record of agency B for the path parameters {missing}"
    unbodied = [(m, r) for m, r, _ in routes if m in WRITES - {"PUT"} and (m, r) not in BODIES]
    assert not unbodied, f"give these routes a valid body in BODIES: {unbodied}"

    for method, rule, names in routes:
        if method == "PUT":  # uploading content is not reading a row: checked below
            continue
        body = BODIES.get((method, rule))
        for role, headers in roles.items():
            found = _call(client, method, rule, theirs.ids, headers, body)
            never = _call(client, method, rule, {n: never_existed(n) for n in names}, headers, body)
            where = f"{method} {rule} as agency A's {role}"
            assert found.status_code in (403, 404), (where, found.status_code, found.get_json())
            assert found.status_code == never.status_code, where
            if method != "HEAD":
                code = found.get_json()["error"]["code"]
                assert code == never.get_json()["error"]["code"], where


def test_uploading_content_another_agency_holds_starts_a_copy_of_ones_own(world, client) -> None:
    theirs = make_rows(world, client, "hexi", "天津市河西区应急管理局", "河西")
    world.agency()
    ours = world.headers("inspector")
    path = f"/api/v1/attachments/{theirs.ids['sha256']}"
    assert client.head(path, headers=ours).status_code == 404
    # Neither "you have it already" (200) nor a shortcut: the bytes are received and checked.
    assert client.put(path, data=b"other bytes", headers=ours).status_code == 422
    assert client.put(path, data=theirs.photo, headers=ours).status_code == 201
    assert client.get(path, headers=ours).data == theirs.photo


def _two_agencies(world):
    world.agency()
    world.agency("hexi", "天津市河西区应急管理局", "河西")
    theirs = world.enterprise(world.headers("manager", agency="hexi"))
    ours = world.headers("manager")
    return ours, theirs


def test_another_agencys_enterprise_looks_exactly_like_one_that_never_existed(
    world, client
) -> None:
    ours, theirs = _two_agencies(world)
    path = f"/api/v1/enterprises/{theirs['id']}"
    assert client.get(path, headers=ours).status_code == 404
    assert client.patch(path, json={"name": "改名"}, headers=ours).status_code == 404
    # And they look exactly like ids that never existed.
    never = client.get(f"/api/v1/enterprises/{uuid.uuid4()}", headers=ours)
    assert never.get_json()["error"] == client.get(path, headers=ours).get_json()["error"]


def test_lists_and_searches_never_include_another_agencys_rows(world, client) -> None:
    ours, theirs = _two_agencies(world)
    listed = client.get("/api/v1/enterprises", headers=ours).get_json()
    assert listed["total"] == 0
    searched = client.get(f"/api/v1/enterprises?q={theirs['uscc']}", headers=ours).get_json()
    assert searched["items"] == []


def test_a_session_bound_to_an_agency_filters_every_query(world, app) -> None:
    world.agency()
    world.agency("hexi", "天津市河西区应急管理局", "河西")
    world.enterprise(world.headers("lead"))
    world.enterprise(world.headers("lead", agency="hexi"))
    with app.app_context():
        all_rows = db.session.scalars(sa.select(Enterprise)).all()
        assert len(all_rows) == 2
        nankai = all_rows[0].agency_id
        db.session.expunge_all()
    with app.app_context():
        bind_agency(db.session, nankai)
        seen = db.session.scalars(sa.select(Enterprise)).all()
        counted = db.session.scalar(sa.select(sa.func.count(Enterprise.id)))
        assert [e.agency_id for e in seen] == [nankai]
        assert counted == 1


def test_writing_another_agencys_row_through_a_bound_session_fails(world, app) -> None:
    world.agency()
    other = world.agency("hexi", "天津市河西区应急管理局", "河西")
    world.enterprise(world.headers("lead"))
    with app.app_context():
        ours = db.session.scalars(sa.select(Enterprise)).one()
        bind_agency(db.session, ours.agency_id)
        db.session.add(
            Enterprise(agency_id=other.id, uscc=world.uscc(), name="x", industry="other")
        )
        try:
            db.session.flush()
        except PermissionError:
            db.session.rollback()
        else:  # pragma: no cover - the assertion below reports it
            raise AssertionError("a row of another agency was written")


# --- the other parties ------------------------------------------------------------------------

_ENTERPRISE_BODIES = {
    "enterprise.evaluate": {"rating": "1", "comment": "差"},
    "enterprise.complain": {"text": "投诉"},
    "enterprise.rectify": {"description": "已整改"},
}


def test_every_enterprise_page_with_an_id_answers_another_enterprises_rows_like_none(
    world, client, app
) -> None:
    """Each /enterprise route with an id, signed in as another enterprise, on this one's
    visit or hazard: the same answer as for an id that never existed, and nothing written."""
    from server.models import Rectification, VisitComplaint, VisitEvaluation
    from tests.party_support import activate, csrf, ok

    theirs = make_rows(world, client, "hexi", "天津市河西区应急管理局", "河西")
    world.agency()
    lead = world.headers("lead")
    other = world.enterprise(lead, name="天津市另一家机械有限公司")
    issued = ok(client.post(f"/api/v1/enterprises/{other['id']}/activation-code", headers=lead))
    browser = activate(app, other["uscc"], issued["activation_code"])
    token = csrf(browser, "/enterprise/")
    ids = {"inspection_id": theirs.ids["inspection_id"], "hazard_id": theirs.ids["hazard_id"]}
    routes = [
        r
        for r in app.url_map.iter_rules()
        if r.rule.startswith("/enterprise/") and _PARAMETER.search(r.rule)
    ]
    assert {r.endpoint for r in routes} >= set(_ENTERPRISE_BODIES) | {"enterprise.visit"}
    for rule in routes:
        names = _PARAMETER.findall(rule.rule)
        method = "POST" if "POST" in rule.methods else "GET"
        data = {"csrf_token": token, **_ENTERPRISE_BODIES.get(rule.endpoint, {})}
        kwargs = {"data": data} if method == "POST" else {}
        found = browser.open(
            _PARAMETER.sub(lambda m: ids[m.group(1)], rule.rule), method=method, **kwargs
        )
        never = browser.open(
            _PARAMETER.sub(lambda m: never_existed(m.group(1)), rule.rule), method=method, **kwargs
        )
        assert found.status_code == never.status_code == 404, (rule.rule, names)
    with app.app_context():
        count = {
            model: db.session.scalar(sa.select(sa.func.count(model.id)))
            for model in (VisitEvaluation, VisitComplaint, Rectification)
        }
    # The one complaint is the agency's own enterprise's (make_rows); ours wrote nothing.
    assert count == {VisitEvaluation: 0, VisitComplaint: 1, Rectification: 0}


def test_an_enterprises_or_a_supervisors_sign_in_opens_no_agency_api_route(
    world, client, app
) -> None:
    """The other parties sign in with cookies on their own pages; the agencies' API takes
    bearer tokens only, and its routes answer them as anyone unauthenticated."""
    from server.services import supervision
    from tests.party_support import activate, csrf, ok

    theirs = make_rows(world, client, "hexi", "天津市河西区应急管理局", "河西")
    uscc = client.get(
        f"/api/v1/enterprises/{theirs.ids['enterprise_id']}", headers=theirs.lead
    ).get_json()["uscc"]
    issued = ok(
        client.post(
            f"/api/v1/enterprises/{theirs.ids['enterprise_id']}/activation-code",
            headers=theirs.lead,
        )
    )
    enterprise = activate(app, uscc, issued["activation_code"])
    with app.app_context():
        supervision.create_supervisor("jiandu", "jiandu-mima-2024")
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
    for method, rule, _ in _id_routes(app):
        body = BODIES.get((method, rule))
        for who, other in (("enterprise", enterprise), ("supervisor", supervisor)):
            path = _PARAMETER.sub(lambda m: theirs.ids[m.group(1)], rule)
            response = other.open(path, method=method, json=body)
            assert response.status_code == 401, (who, method, rule, response.status_code)
