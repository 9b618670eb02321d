"""Draw tasks through sync: pulled by their team, shown on the card, done by an inspection."""

from __future__ import annotations

import pytest

from tests.draw_support import make_field
from tests.sync_support import Device, hazard_op, inspection_op, scan_op


@pytest.fixture
def drawn(world, client):
    world.agency()
    f = make_field(world, client, good=2, poor=1, key=0)
    plan = f.create_plan(rates={"risk:good": "1", "risk:poor": "1"})
    draw = f.run(plan["id"])
    devices = {
        name: Device(client, world.login(person.username, device_id=f"p-{name}"), f"p-{name}")
        for name, person in f.inspectors.items()
    }
    return f, plan, draw, devices


def _team(f, assignment) -> list[str]:
    by_id = {str(p.id): name for name, p in f.inspectors.items()}
    return [by_id[p["id"]] for p in assignment["inspectors"]]


def _outsider(f, assignment) -> str:
    team = set(_team(f, assignment))
    return next(name for name in f.inspectors if name not in team)


def test_each_task_reaches_only_its_team_and_every_lead(drawn, client) -> None:
    f, _, draw, devices = drawn
    for assignment in draw["assignments"]:
        for name in _team(f, assignment):
            devices[name].pull_all()
            task = devices[name].state[("task", assignment["task_id"])]
            assert task["enterprise_id"] == assignment["enterprise_id"]
            assert task["status"] == "open"
            assert name in {
                n for n, p in f.inspectors.items() if str(p.id) in task["inspector_ids"]
            }
        outsider = devices[_outsider(f, assignment)]
        outsider.pull_all()
        assert ("task", assignment["task_id"]) not in outsider.state
    lead = Device(client, f.lead, "lead-phone")
    lead.pull_all()
    assert {rid for (entity, rid) in lead.state if entity == "task"} == {
        a["task_id"] for a in draw["assignments"]
    }


def test_the_card_shows_the_task_to_its_team_only(app, drawn) -> None:
    f, _, draw, devices = drawn
    assignment = draw["assignments"][0]
    member = _team(f, assignment)[0]
    code = _gate_code(app, assignment["enterprise_id"])
    result = devices[member].push([scan_op(code, f.ids(*_team(f, assignment)))])[0]
    assert result["status"] == "applied", result
    tasks = result["card"]["tasks"]
    assert [t["id"] for t in tasks] == [assignment["task_id"]]
    assert tasks[0]["due_date"]
    other = _outsider(f, assignment)
    result = devices[other].push([scan_op(code, f.ids(other, member))])[0]
    assert result["card"]["tasks"] == []


def test_an_inspection_with_the_task_completes_it(drawn, client) -> None:
    f, _, draw, devices = drawn
    assignment = draw["assignments"][0]
    team = _team(f, assignment)
    inspection = inspection_op(
        assignment["enterprise_id"], f.ids(*team), task_id=assignment["task_id"]
    )
    hazard = hazard_op(inspection["id"], assignment["enterprise_id"])
    results = devices[team[0]].push([inspection, hazard])
    assert [r["status"] for r in results] == ["applied", "applied"], results
    progress = f.get(f"/api/v1/draws/{draw['id']}/tasks")
    task = next(t for t in progress["tasks"] if t["id"] == assignment["task_id"])
    assert task["status"] == "done"
    assert task["inspection_id"] == inspection["id"]
    assert task["hazards_found"] == 1
    assert progress["done"] == 1
    # The team's other phone learns of it through pull.
    other = devices[team[1]]
    other.pull_all()
    assert other.state[("task", assignment["task_id"])]["status"] == "done"
    # Sending the same inspection again changes nothing.
    again = devices[team[0]].push([inspection])
    assert again[0]["status"] == "duplicate"


@pytest.mark.parametrize("case", ["unknown", "other_enterprise", "not_assigned", "cancelled"])
def test_an_inspection_naming_a_task_it_cannot_complete_is_rejected(drawn, case) -> None:
    import uuid

    f, plan, draw, devices = drawn
    first, second = draw["assignments"][0], draw["assignments"][1]
    team = _team(f, first)
    enterprise, task_id, submitter = first["enterprise_id"], first["task_id"], team[0]
    people = team
    expected = {
        "unknown": "unknown_task",
        "other_enterprise": "task_mismatch",
        "not_assigned": "task_not_assigned",
        "cancelled": "task_cancelled",
    }[case]
    if case == "unknown":
        task_id = str(uuid.uuid4())
    elif case == "other_enterprise":
        enterprise = second["enterprise_id"]
    elif case == "not_assigned":
        submitter = _outsider(f, first)
        people = [submitter, team[0]]
    else:
        f.run(plan["id"], redraw_reason="测试作废")
    op = inspection_op(enterprise, f.ids(*people), task_id=task_id)
    result = devices[submitter].push([op])[0]
    assert result["status"] == "rejected"
    assert result["errors"]["code"] == expected


def test_a_task_done_by_one_inspection_is_not_done_again_by_another(drawn) -> None:
    f, _, draw, devices = drawn
    assignment = draw["assignments"][0]
    team = _team(f, assignment)
    first = inspection_op(assignment["enterprise_id"], f.ids(*team), task_id=assignment["task_id"])
    second = inspection_op(assignment["enterprise_id"], f.ids(*team), task_id=assignment["task_id"])
    results = devices[team[0]].push([first, second])
    assert results[0]["status"] == "applied"
    assert results[1]["status"] == "rejected"
    assert results[1]["errors"]["code"] == "task_done"


def test_a_redraw_cancels_open_tasks_on_the_teams_phones(drawn) -> None:
    f, plan, draw, devices = drawn
    assignment = draw["assignments"][0]
    member = devices[_team(f, assignment)[0]]
    member.pull_all()
    f.run(plan["id"], redraw_reason="名录有误，重新抽取")
    member.pull_all()
    assert member.state[("task", assignment["task_id"])]["status"] == "cancelled"


def _gate_code(app, enterprise_id: str) -> str:
    import uuid

    from server.domain import entry_codes
    from server.extensions import db
    from server.models import Enterprise

    with app.app_context():
        enterprise = db.session.get(Enterprise, uuid.UUID(enterprise_id))
        key = entry_codes.derive_key(app.config["SECRET_KEY"])
        token = entry_codes.issue_token(key, enterprise.id, enterprise.entry_code_version)
        return entry_codes.entry_url(app.config["PUBLIC_BASE_URL"], token)


def test_a_task_done_earlier_in_the_batch_is_not_on_the_card(app, drawn) -> None:
    f, _, draw, devices = drawn
    assignment = draw["assignments"][0]
    team = _team(f, assignment)
    inspection = inspection_op(
        assignment["enterprise_id"], f.ids(*team), task_id=assignment["task_id"]
    )
    scan = scan_op(_gate_code(app, assignment["enterprise_id"]), f.ids(*team))
    results = devices[team[0]].push([inspection, scan])
    assert [r["status"] for r in results] == ["applied", "applied"], results
    assert results[1]["card"]["tasks"] == []
