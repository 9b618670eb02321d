"""The inspectors' field app in real headless Chromium, as on a phone with poor signal: log in
once, scan the gate code with the camera while offline, record the visit, close the browser,
open it again offline, and watch everything sync once the network is back.

Chromium films a Y4M file made from the server's own gate-code PNG (``--use-file-for-fake-
video-capture``); the network goes down with Playwright's offline emulation.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from server.extensions import db
from server.models.records import Document, Hazard, Inspection, Scan
from tests.e2e.field_support import (
    add_hazard,
    camera_file,
    log_in,
    phone,
    photo,
    require_built_app,
    sign,
    wait_synced,
    wait_waiting,
)

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
