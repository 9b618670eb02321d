"""The inspectors' field app in real headless Chromium, as on a phone with poor signal: log in
once, scan the gate code with the camera while offline, record the visit, close the browser,
open it again offline, and watch everything sync once the network is back.

Chromium films a Y4M file made from the server's own gate-code PNG (``--use-file-for-fake-
video-capture``); the network goes down with Playwright's offline emulation.
"""

from __future__ import annotations

import json
import uuid
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from server.extensions import db
from server.models import Task
from server.models.records import Document, Hazard, Inspection, Scan
from tests.draw_support import make_field
from tests.e2e.field_support import (
    add_hazard,
    camera_file,
    log_in,
    phone,
    photo,
    pick_enterprise,
    record_visit,
    require_built_app,
    sign,
    wait_synced,
    wait_waiting,
)
from tests.qr_support import decode_png
from tests.sync_support import document_op, hazard_op, inspection_op, op, scan_op

pytestmark = pytest.mark.browser


def shanghai_today() -> date:
    return datetime.now(ZoneInfo("Asia/Shanghai")).date()


@pytest.fixture
def gate(app, world, client) -> dict[str, Any]:
    """An enterprise with its printed gate code, two certified inspectors, a manager."""
    require_built_app(app)
    world.agency()
    wang = world.user("wang", full_name="王伟", cert_no="12010420001")
    li = world.user("li", full_name="李娜", cert_no="12010420002")
    manager = world.headers("manager")
    enterprise = world.enterprise(manager, name="天津宏达机械制造有限公司")
    png = client.get(
        f"/api/v1/enterprises/{enterprise['id']}/entry-code?format=png", headers=manager
    )
    assert png.status_code == 200
    return {"enterprise": enterprise, "png": png.data, "wang": wang, "li": li, "manager": manager}


def push(client, headers: dict[str, str], device: str, ops: list[dict[str, Any]]) -> list[Any]:
    """Another phone's push, through the API."""
    body = {"device_id": device, "schema_version": 1, "ops": ops}
    response = client.post("/api/v1/sync/push", json=body, headers=headers)
    assert response.status_code == 200, response.get_json()
    return response.get_json()["results"]


def count(app, model: Any, **where: Any) -> int:
    with app.app_context():
        query = sa.select(sa.func.count()).select_from(model)
        for key, value in where.items():
            query = query.where(getattr(model, key) == value)
        return db.session.scalar(query)


def test_an_inspector_records_a_visit_offline_and_it_syncs_once_after_a_browser_restart(
    app, client, live_server, gate, tmp_path
) -> None:
    camera = camera_file(gate["png"], tmp_path / "gate.y4m")
    profile = tmp_path / "profile"
    deadline = (shanghai_today() + timedelta(days=20)).isoformat()

    with phone(profile, camera) as context:
        page = context.pages[0] if context.pages else context.new_page()
        log_in(page, live_server, "wang")
        # The app shell is cached once its service worker is active.
        page.evaluate("navigator.serviceWorker.ready.then(() => true)")
        context.set_offline(True)
        page.wait_for_function("() => document.querySelector('#net').textContent === '离线'")

        page.click("#tabs a[data-tab=scan]")
        page.wait_for_selector("#card-name", timeout=20000)
        assert page.inner_text("#card-name") == "天津宏达机械制造有限公司"
        assert "同步后显示" in page.inner_text("#visit-warnings")
        assert page.get_attribute("#sync-state", "data-waiting") == "1"

        page.click("#start-visit")
        page.wait_for_selector("#visit-form")
        page.select_option("#partner", label="李娜（证号 12010420002）")
        page.fill("input[name=place]", "冲压车间")
        page.select_option("select[name=item-4]", "hazard")
        page.fill("textarea[name=findings]", "配电箱未上锁，冲压机防护失效")
        page.fill("input[name=rep-name]", "张伟")
        page.fill("input[name=rep-title]", "安全科长")
        add_hazard(page, "配电箱未上锁，无警示标识", photos=[photo()], deadline=deadline)
        add_hazard(page, "冲压机光电保护装置失效", level="major")
        sign(page)
        page.check("input[name=doc-order]")
        page.fill("input[name=order-deadline]", deadline)
        page.check("input[name=doc-measures]")
        page.check("input[name=measure][value=immediate_fix]")
        page.click("#finish-visit")
        page.wait_for_selector("#inspection")
        provisional = page.locator(".provisional")
        assert provisional.count() == 2
        assert all("临时编号 临-" in t for t in provisional.all_inner_texts())
        # scan, inspection, two hazards, two documents
        wait_waiting(page, 6)

    assert count(app, Inspection) == 0 and count(app, Scan) == 0

    # The browser was closed; it opens again with no network at all.
    with phone(profile, camera, offline=True) as context:
        page = context.pages[0] if context.pages else context.new_page()
        page.goto(f"{live_server}/field/")
        page.wait_for_selector("#go-scan")
        assert page.get_attribute("#sync-state", "data-waiting") == "6"
        assert page.inner_text("#net") == "离线"
        assert "待同步" in page.inner_text("#recent")
        page.click("#tabs a[data-tab=sync]")
        page.wait_for_selector("#outbox li.op")
        states = page.locator("#outbox li.op").evaluate_all(
            "(els) => els.map(e => e.dataset.state)"
        )
        assert states == ["pending"] * 6

        context.set_offline(False)
        wait_synced(page, 0)

        with app.app_context():
            inspection = db.session.scalars(sa.select(Inspection)).one()
            assert inspection.inspector_ids == [str(gate["wang"].id), str(gate["li"].id)]
            assert inspection.scan_id is not None
            assert inspection.representative == {"name": "张伟", "title": "安全科长"}
            assert len(inspection.signature_attachments) == 1
            hazards = db.session.scalars(sa.select(Hazard).order_by(Hazard.level)).all()
            assert [h.level for h in hazards] == ["general", "major"]
            assert len(hazards[0].photo_attachments) == 1
            documents = db.session.scalars(sa.select(Document).order_by(Document.type)).all()
            assert [d.type for d in documents] == ["onsite_measures", "rectification_order"]
            assert all(d.number.startswith("（南开）应急") for d in documents)
        assert count(app, Scan) == 1

        headers = gate["manager"]
        for sha in (inspection.signature_attachments[0], hazards[0].photo_attachments[0]):
            stored = client.get(f"/api/v1/attachments/{sha}", headers=headers)
            assert stored.status_code == 200
        assert (
            client.get(
                f"/api/v1/attachments/{hazards[0].photo_attachments[0]}", headers=headers
            ).mimetype
            == "image/jpeg"
        )
        for document in documents:
            pdf = client.get(f"/api/v1/documents/{document.id}/pdf", headers=headers)
            assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")

        # The inspector sees the numbers the server gave and opens the PDF.
        page.goto(f"{live_server}/field/#/inspection/{inspection.id}")
        page.wait_for_selector("#documents .number")
        numbers = page.locator("#documents .number").all_inner_texts()
        assert sorted(numbers) == sorted(d.number for d in documents)
        page.locator("#documents button.pdf").first.click()
        link = page.locator("#documents a.pdf-link").first
        link.wait_for(state="visible")
        head = page.evaluate(
            "(href) => fetch(href).then(r => r.text()).then(t => t.slice(0, 4))",
            link.get_attribute("href"),
        )
        assert head == "%PDF"
        assert page.inner_text("#inspection-state") == "已同步"


def test_the_card_shows_a_repeat_visit_warning_when_scanned_online(
    app, client, live_server, gate, world, tmp_path
) -> None:
    # Another team scanned the gate an hour ago.
    li_phone = world.login("li", device_id="phone-li")
    earlier = datetime.now(ZoneInfo("Asia/Shanghai")) - timedelta(hours=1)
    code = decode_png(gate["png"])
    result = push(client, li_phone, "phone-li", [scan_op(code, [str(gate["li"].id)], at=earlier)])
    assert result[0]["status"] == "applied"

    with phone(tmp_path / "profile", camera_file(gate["png"], tmp_path / "gate.y4m")) as context:
        page = context.new_page()
        log_in(page, live_server, "wang")
        page.click("#tabs a[data-tab=scan]")
        page.wait_for_selector("#visit-warnings .warning[data-code=repeat_visit]", timeout=20000)
        warning = page.inner_text("#visit-warnings")
        assert "重复检查" in warning and "其他检查组" in warning
        assert page.inner_text("#card-name") == "天津宏达机械制造有限公司"
        wait_synced(page, 0)
    assert count(app, Scan) == 2


def test_a_batch_whose_answer_was_lost_is_sent_again_and_lands_once(
    app, live_server, gate, tmp_path
) -> None:
    with phone(tmp_path / "profile", service_workers="block") as context:
        page = context.new_page()
        log_in(page, live_server, "wang")
        context.set_offline(True)
        pick_enterprise(page, "天津宏达机械")
        record_visit(page, "李娜（证号 12010420002）", ["配电箱未上锁", "安全出口堵塞"])
        wait_waiting(page, 3)

        # The server takes the first push, and the answer is lost on the way back.
        pushes: list[str] = []

        def drop_first_answer(route: Any) -> None:
            pushes.append(route.request.post_data)
            if len(pushes) == 1:
                route.fetch()
                route.abort("connectionreset")
            else:
                route.continue_()

        context.route("**/api/v1/sync/push", drop_first_answer)
        context.set_offline(False)
        page.wait_for_function(
            "() => !document.querySelector('#sync-errors').hidden"
            " && document.querySelector('#sync-errors').textContent.includes('同步失败')"
        )
        assert page.get_attribute("#sync-state", "data-waiting") == "3"
        assert count(app, Inspection) == 1 and count(app, Hazard) == 2

        page.click("#tabs a[data-tab=sync]")
        page.click("#sync-button")
        wait_synced(page, 0)
        assert len(pushes) == 2
        assert json.loads(pushes[0])["ops"] == json.loads(pushes[1])["ops"]
        statuses = page.evaluate(
            "() => window.fieldApp.store.listOps().then(ops => ops.map(o => o.server_status))"
        )
        assert statuses == ["duplicate"] * 3
        assert page.locator("#sync-errors").is_hidden()
    assert count(app, Inspection) == 1 and count(app, Hazard) == 2


def test_an_inspector_merges_a_conflicting_edit_with_one_tap(
    app, client, live_server, gate, world, tmp_path
) -> None:
    with phone(tmp_path / "profile") as context:
        page = context.new_page()
        log_in(page, live_server, "wang")
        pick_enterprise(page, "天津宏达机械")
        record_visit(page, "李娜（证号 12010420002）", ["配电箱未上锁"])
        wait_synced(page, 0)
        with app.app_context():
            hazard = db.session.scalars(sa.select(Hazard)).one()
            hazard_id = str(hazard.id)

        # Offline, the inspector adds to the description; meanwhile the partner's phone
        # rewrote it from the same version.
        context.set_offline(True)
        li_phone = world.login("li", device_id="phone-li")
        edit = op(
            "hazard",
            {"description": "配电箱未上锁（李娜补充：箱门损坏）"},
            record_id=hazard_id,
            base_version=1,
        )
        assert push(client, li_phone, "phone-li", [edit])[0]["status"] == "applied"

        page.goto(f"{live_server}/field/#/hazard/{hazard_id}")
        page.wait_for_selector("#edit-hazard")
        page.fill("#edit-hazard textarea[name=description]", "配电箱未上锁，无警示标识（王伟）")
        page.click("#edit-hazard button[type=submit]")
        wait_waiting(page, 1)
        context.set_offline(False)
        page.click("#tabs a[data-tab=sync]")
        page.wait_for_selector("#outbox li.op[data-state=conflict]", timeout=20000)
        row = page.locator("#outbox table.conflict tr[data-field=description]")
        assert row.locator("td.mine").inner_text() == "配电箱未上锁，无警示标识（王伟）"
        assert row.locator("td.theirs").inner_text() == "配电箱未上锁（李娜补充：箱门损坏）"
        assert "1 项待处理" in page.inner_text("#sync-errors")

        page.click("#outbox button.merge")
        page.wait_for_selector("#outbox li.op", state="detached")
        wait_synced(page, 0)
        assert page.get_attribute("#sync-state", "data-attention") == "0"

    with app.app_context():
        hazard = db.session.get(Hazard, hazard.id)
        assert hazard.description == "配电箱未上锁，无警示标识（王伟）"
        assert hazard.version == 3


def test_a_rejected_scan_is_shown_with_the_servers_reason_and_kept(
    app, client, live_server, gate, tmp_path
) -> None:
    camera = camera_file(gate["png"], tmp_path / "gate.y4m")
    # The poster at the gate is an old one: the code was rotated since it was printed.
    rotated = client.post(
        f"/api/v1/enterprises/{gate['enterprise']['id']}/entry-code/rotate",
        headers=gate["manager"],
    )
    assert rotated.status_code == 200
    with phone(tmp_path / "profile", camera) as context:
        page = context.new_page()
        log_in(page, live_server, "wang")
        context.set_offline(True)
        page.click("#tabs a[data-tab=scan]")
        page.wait_for_selector("#card-name", timeout=20000)
        context.set_offline(False)
        page.click("#tabs a[data-tab=sync]")
        page.click("#sync-button")
        rejected = page.locator("#outbox li.op[data-state=rejected]")
        rejected.wait_for()
        assert "被服务器拒绝" in rejected.inner_text()
        reason = rejected.locator(".reason").inner_text()
        assert "二维码已作废" in reason and "replaced" in reason
        assert "1 项待处理" in page.inner_text("#sync-errors")
        # Not sent again by itself, and still there after another sync.
        page.click("#sync-button")
        wait_synced(page, 0)
        assert page.locator("#outbox li.op[data-state=rejected]").count() == 1
    assert count(app, Scan) == 0


def test_an_earlier_hazard_is_reported_fixed_and_reinspected_from_the_phone(
    app, client, live_server, gate, world, tmp_path
) -> None:
    # Last month's visit: one hazard, ordered fixed within a deadline.
    old_phone = world.login("wang", device_id="phone-old")
    team = [str(gate["wang"].id), str(gate["li"].id)]
    started = datetime.now(ZoneInfo("Asia/Shanghai")) - timedelta(days=20)
    visit = inspection_op(gate["enterprise"]["id"], team, at=started)
    hazard = hazard_op(visit["id"], gate["enterprise"]["id"], description="消防通道堆放杂物")
    deadline = (shanghai_today() + timedelta(days=5)).isoformat()
    order = document_op(
        "rectification_order", visit["id"], [hazard["id"]], at=started, deadline=deadline
    )
    results = push(client, old_phone, "phone-old", [visit, hazard, order])
    assert [r["status"] for r in results] == ["applied"] * 3

    with phone(tmp_path / "profile") as context:
        page = context.new_page()
        log_in(page, live_server, "wang")
        item = page.locator(f"#hazards li[data-hazard='{hazard['id']}']")
        assert "限期整改中" in item.inner_text() and "剩 5 天" in item.inner_text()

        item.locator("a").click()
        page.fill("#rectification-form textarea[name=description]", "杂物已清理，通道畅通")
        page.locator("#rectification-form input[name=evidence]").set_input_files([photo("green")])
        page.click("#rectification-form button[type=submit]")
        wait_synced(page, 0)
        page.wait_for_function(
            "() => document.querySelector('#hazard') && "
            "document.querySelector('#hazard').innerText.includes('已报整改待复查')"
        )

        page.click("#start-reinspection")
        page.wait_for_selector("#visit-form")
        assert "消防通道堆放杂物" in page.inner_text("#visit-form .pending")
        page.select_option("#partner", label="李娜（证号 12010420002）")
        page.fill("input[name=rep-name]", "张伟")
        sign(page)
        page.click("#finish-visit")
        page.wait_for_selector("#inspection")
        wait_synced(page, 0)
        page.reload()
        page.wait_for_selector("#documents .document[data-type=reinspection_opinion] .number")

    with app.app_context():
        stored = db.session.get(Hazard, uuid.UUID(hazard["id"]))
        assert stored.status == "closed"
        opinion = db.session.scalars(
            sa.select(Document).where(Document.type == "reinspection_opinion")
        ).one()
        assert opinion.hazard_ids == [hazard["id"]]
        assert opinion.body["outcome"] == "pass"
        assert "复" in opinion.number


def test_a_drawn_task_on_the_today_screen_is_done_by_the_visit_recorded_for_it(
    app, client, live_server, world, tmp_path
) -> None:
    require_built_app(app)
    world.agency()
    f = make_field(world, client, good=1, poor=0, key=0, inspectors=["wang", "li"])
    plan = f.create_plan(rates={"risk:good": "1"}, default_rate="0")
    f.run(plan["id"])
    with app.app_context():
        task = db.session.scalars(sa.select(Task)).one()
        task_id = str(task.id)

    with phone(tmp_path / "profile") as context:
        page = context.new_page()
        log_in(page, live_server, "nankai-wang")
        item = page.locator(f"#tasks li[data-task='{task_id}']")
        assert "nankai良好企业0" in item.inner_text()
        item.locator("button.start-task").click()
        page.wait_for_selector("#visit-form")
        assert "双随机任务" in page.inner_text("#visit-form")
        page.select_option("#partner", label="执法员li（证号 120104200001）")
        page.fill("input[name=rep-name]", "张伟")
        page.click("#finish-visit")
        page.wait_for_selector("#inspection")
        wait_synced(page, 0)
        page.click("#tabs a[data-tab=today]")
        page.wait_for_selector("#tasks")
        assert page.locator("#tasks li[data-task]").count() == 0

    with app.app_context():
        task = db.session.get(Task, task.id)
        assert task.status == "done"
        inspection = db.session.scalars(sa.select(Inspection)).one()
        assert task.inspection_id == inspection.id
        assert str(inspection.task_id) == task_id
