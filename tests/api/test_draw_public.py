"""Published draws (一公开): pages and JSON without login, verifiable, and nothing unpublished."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from server.domain.draw.algorithm import verify
from tests.draw_support import make_field
from tests.sync_support import Device, hazard_op, inspection_op

# Fixed, so that parallel test workers collect the same parameters.
UNKNOWN_DRAW = uuid.UUID("5b0c8e0e-9f3a-4d51-8c55-2f4f6a1d7e10")

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "verify_draw.py"
RECUSAL_REASON = "该执法员配偶在本企业担任安全总监"


@pytest.fixture
def published(world, client):
    world.agency()
    f = make_field(world, client, good=4, poor=1)
    client.post(
        "/api/v1/recusals",
        json={
            "inspector_id": str(f.inspectors["wang"].id),
            "enterprise_id": f.enterprises["poor0"]["id"],
            "source": "conflict",
            "reason": RECUSAL_REASON,
        },
        headers=f.lead,
    )
    plan = f.create_plan(notes="内部备注：重点关注某某企业")
    draw = f.run(plan["id"])
    return f, plan, draw


def test_the_list_and_the_page_show_plan_seed_fingerprint_and_teams(published, client) -> None:
    f, plan, draw = published
    page = client.get("/public/draws")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "双随机抽查结果公示" in html and plan["name"] in html
    detail = client.get(f"/public/draws/{draw['id']}")
    assert detail.status_code == 200
    html = detail.get_data(as_text=True)
    for text in (plan["name"], draw["seed"], draw["seed_commitment"], draw["fingerprint"]):
        assert text in html
    assert "sr-draw/2" in html
    assert "人工发起的抽取，种子在抽取时生成" in html
    for a in draw["assignments"]:
        assert a["enterprise_name"] in html
        for person in a["inspectors"]:
            assert person["name"] in html and person["certificate_no"] in html
    assert "未完成" in html


def test_nothing_unpublished_appears_on_the_pages_or_in_the_json(world, published, client) -> None:
    f, plan, draw = published
    world.agency("heping", "天津市和平区应急管理局", "和平")
    other = make_field(world, client, agency="heping", good=2, poor=0, key=0)
    other_plan = other.create_plan(name="和平区专项抽查", rates={"risk:good": "1"})
    other.run(other_plan["id"])
    bodies = [
        client.get(f"/public/draws/{draw['id']}").get_data(as_text=True),
        client.get(f"/public/draws/{draw['id']}.json").get_data(as_text=True),
        client.get("/public/draws?agency=nankai").get_data(as_text=True),
        client.get("/public/draws.json?agency=nankai").get_data(as_text=True),
    ]
    for body in bodies:
        assert RECUSAL_REASON not in body
        assert "内部备注" not in body
        assert "和平" not in body
        for enterprise in other.enterprises.values():
            assert enterprise["name"] not in body
    listed = client.get("/public/draws.json?agency=nankai").get_json()["draws"]
    assert [d["id"] for d in listed] == [draw["id"]]


def test_the_public_json_passes_the_standalone_verifier(published, client, tmp_path) -> None:
    _, _, draw = published
    response = client.get(f"/public/draws/{draw['id']}.json")
    assert response.status_code == 200
    body = response.get_json()
    assert body["publication"]["plan_name"]
    assert verify(body).matches
    path = tmp_path / "draw.json"
    path.write_bytes(response.get_data())
    done = subprocess.run(
        [sys.executable, str(SCRIPT), str(path)], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.startswith("MATCH")
    exact = client.get(f"/public/draws/{draw['id']}/document.json")
    assert exact.status_code == 200
    assert (
        hashlib.sha256(exact.get_data()).hexdigest()
        == hashlib.sha256(
            json.dumps(
                {k: v for k, v in body.items() if k != "publication"},
                sort_keys=True,
                separators=(",", ":"),
                ensure_ascii=False,
            ).encode()
        ).hexdigest()
    )
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "-"],
        input=exact.get_data(),
        capture_output=True,
        timeout=60,
    )
    assert done.returncode == 0


def test_a_tampered_public_document_fails_the_verifier(published, client, tmp_path) -> None:
    _, _, draw = published
    body = client.get(f"/public/draws/{draw['id']}.json").get_json()
    body["result"]["assignments"].reverse()
    path = tmp_path / "draw.json"
    path.write_text(json.dumps(body, ensure_ascii=False))
    done = subprocess.run([sys.executable, str(SCRIPT), str(path)], capture_output=True)
    assert done.returncode == 1


def test_a_redraw_publishes_its_reason_on_both_draws(published, client) -> None:
    f, plan, first = published
    second = f.run(plan["id"], redraw_reason="抽中企业已停产注销")
    new = client.get(f"/public/draws/{second['id']}").get_data(as_text=True)
    assert "抽中企业已停产注销" in new and "第2次抽取" in new
    old = client.get(f"/public/draws/{first['id']}").get_data(as_text=True)
    assert "本结果已作废" in old and "抽中企业已停产注销" in old
    data = client.get(f"/public/draws/{first['id']}.json").get_json()["publication"]
    assert data["superseded_by"] == second["id"]
    assert all(a["result"]["status"] == "cancelled" for a in data["assignments"])


def test_task_results_appear_once_inspected(world, published, client) -> None:
    f, _, draw = published
    assignment = draw["assignments"][0]
    by_id = {str(p.id): p for p in f.inspectors.values()}
    team = [by_id[p["id"]] for p in assignment["inspectors"]]
    device = Device(client, world.login(team[0].username, device_id="pub-phone"), "pub-phone")
    inspection = inspection_op(
        assignment["enterprise_id"],
        [str(p.id) for p in team],
        task_id=assignment["task_id"],
    )
    hazards = [hazard_op(inspection["id"], assignment["enterprise_id"]) for _ in range(2)]
    assert {r["status"] for r in device.push([inspection, *hazards])} == {"applied"}
    data = client.get(f"/public/draws/{draw['id']}.json").get_json()["publication"]
    row = next(a for a in data["assignments"] if a["enterprise_id"] == assignment["enterprise_id"])
    assert row["result"]["status"] == "done" and row["result"]["hazards_found"] == 2
    html = client.get(f"/public/draws/{draw['id']}").get_data(as_text=True)
    assert "发现隐患 2 项" in html


@pytest.mark.parametrize("ref", [str(UNKNOWN_DRAW), "not-a-uuid", f"{UNKNOWN_DRAW}.json", "x.json"])
def test_an_unknown_draw_is_a_404_page(client, app, ref) -> None:
    response = client.get(f"/public/draws/{ref}")
    assert response.status_code == 404
    assert client.get(f"/public/draws/{ref}/document.json").status_code == 404


def test_the_public_document_names_nobody_beyond_those_drawn(world, client) -> None:
    world.agency()
    f = make_field(world, client, good=8, poor=1)
    for name, enterprise in (
        ("wang", "poor0"),
        ("li", "good0"),
        ("li", "good1"),
        ("zhao", "good2"),
    ):
        response = client.post(
            "/api/v1/recusals",
            json={
                "inspector_id": str(f.inspectors[name].id),
                "enterprise_id": f.enterprises[enterprise]["id"],
                "source": "enterprise_request",
                "reason": RECUSAL_REASON,
            },
            headers=f.lead,
        )
        assert response.status_code == 201
    plan = f.create_plan(rates={"risk:good": "0.25", "risk:poor": "1"})
    draw = f.run(plan["id"])
    body = client.get(f"/public/draws/{draw['id']}.json").get_data(as_text=True)
    doc = json.loads(body)
    html = client.get(f"/public/draws/{draw['id']}").get_data(as_text=True)

    drawn = {a["enterprise_id"] for a in draw["assignments"]}
    team = {p["id"] for a in draw["assignments"] for p in a["inspectors"]}
    for person in f.inspectors.values():
        # Nobody's account id, and no certificate number but those of the teams.
        assert str(person.id) not in body and str(person.id) not in html
        if str(person.id) not in team:
            assert person.cert_no not in body and person.cert_no not in html
    for enterprise in f.enterprises.values():
        if enterprise["id"] not in drawn:
            assert enterprise["id"] not in body and enterprise["name"] not in body
    # The pool is there under pseudonyms, and recusals only where they decide a team.
    public_of = {a["enterprise_id"]: a["public_id"] for a in draw["assignments"]}
    assert sum(len(ids) for ids in doc["inputs"]["enterprises"].values()) == 9
    assert {e for _, e in doc["inputs"]["recusals"]} <= set(public_of.values())
    assert "enterprise_request" not in body and RECUSAL_REASON not in body
    for a in doc["publication"]["assignments"]:
        assert a["public_id"] == public_of[a["enterprise_id"]]
        assert a["public_id"] in html
    assert verify(doc).matches


def test_the_public_list_pages_through_every_draw(published, client, monkeypatch) -> None:
    from server.services import draw_publication

    f, plan, first = published
    second = f.run(plan["id"], redraw_reason="第一次重新抽取")
    third = f.run(plan["id"], redraw_reason="第二次重新抽取")
    monkeypatch.setattr(draw_publication, "PER_PAGE", 2)
    one = client.get("/public/draws.json?agency=nankai").get_json()
    assert [d["id"] for d in one["draws"]] == [third["id"], second["id"]]
    assert (one["page"], one["total"], one["prev"]) == (1, 3, None)
    two = client.get(one["next"]).get_json()
    assert [d["id"] for d in two["draws"]] == [first["id"]]
    assert two["next"] is None and "agency=nankai" in two["prev"]
    html = client.get("/public/draws?agency=nankai").get_data(as_text=True)
    assert "下一页" in html and "第 1 / 2 页" in html
    html = client.get("/public/draws?agency=nankai&page=2").get_data(as_text=True)
    assert "上一页" in html and first["id"] in html and third["id"] not in html
    assert client.get("/public/draws?page=abc").status_code == 200
