"""The daily overdue job: escalations once per level, penalty cases, and a webhook that may fail."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

import pytest
import sqlalchemy as sa

from server.extensions import db
from server.models import HazardEscalation
from server.services import escalation
from tests.hazard_support import Site, make_site

# The deadline is 2024-05-20 (Beijing); these are mornings in Beijing.
DAY_AFTER = datetime(2024, 5, 21, 1, 0, tzinfo=UTC)
TWO_WEEKS_LATE = datetime(2024, 6, 3, 1, 0, tzinfo=UTC)
SIX_WEEKS_LATE = datetime(2024, 7, 1, 1, 0, tzinfo=UTC)


@pytest.fixture
def site(world, client) -> Site:
    return make_site(world, client)


class _Hook(BaseHTTPRequestHandler):
    received: list[dict[str, Any]] = []
    status = 200

    def do_POST(self) -> None:  # noqa: N802 - http.server's name
        length = int(self.headers["Content-Length"])
        type(self).received.append(json.loads(self.rfile.read(length)))
        self.send_response(type(self).status)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def webhook() -> Iterator[type[_Hook]]:
    handler = type("Hook", (_Hook,), {"received": [], "status": 200})
    server = HTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    handler.url = f"http://127.0.0.1:{server.server_port}/hazards"  # type: ignore[attr-defined]
    yield handler
    server.shutdown()
    server.server_close()


def _escalations(app) -> list[tuple[str, int]]:
    with app.app_context():
        rows = db.session.execute(
            sa.select(HazardEscalation.kind, HazardEscalation.level).order_by(
                HazardEscalation.level, HazardEscalation.kind
            )
        ).all()
        return [tuple(r) for r in rows]


def _run(app, now: datetime, **kw: Any) -> escalation.DailyResult:
    with app.app_context():
        return escalation.run_daily(now, **kw)


def test_a_hazard_past_its_deadline_escalates_once_however_often_the_job_runs(site, app) -> None:
    hazard = site.hazard()
    site.order(hazard, deadline="2024-05-20")
    on_the_day = datetime(2024, 5, 20, 12, 0, tzinfo=UTC)
    assert _run(app, on_the_day).raised == 0
    first = _run(app, DAY_AFTER)
    assert (first.assessed, first.raised) == (1, 1)
    assert _run(app, DAY_AFTER).raised == 0
    assert _run(app, DAY_AFTER).raised == 0
    assert _escalations(app) == [("overdue", 1)]


def test_persistent_overdue_hazards_escalate_and_become_penalty_cases(site, app) -> None:
    hazard = site.hazard()
    site.order(hazard, deadline="2024-05-20")
    _run(app, DAY_AFTER)
    _run(app, TWO_WEEKS_LATE)
    assert ("long_overdue", 2) in _escalations(app)
    assert ("reinspection_overdue", 1) in _escalations(app)
    _run(app, SIX_WEEKS_LATE)
    assert ("penalty_case", 3) in _escalations(app)
    flagged = site.get("/api/v1/hazards", penalty_case="true").get_json()
    assert [h["id"] for h in flagged["items"]] == [hazard["id"]]
    listed = site.get("/api/v1/hazards/escalations", kind="penalty_case").get_json()
    assert listed["total"] == 1
    assert listed["items"][0]["label"] == "建议立案处罚"
    assert listed["items"][0]["days_overdue"] == 42
    detail = site.get(f"/api/v1/hazards/{hazard['id']}").get_json()
    assert {e["kind"] for e in detail["escalations"]} >= {"overdue", "penalty_case"}


def test_a_reported_hazard_is_not_overdue_but_its_reinspection_can_be(site, app) -> None:
    hazard = site.hazard()
    site.order(hazard, deadline="2024-05-20")
    photo = site.device.upload(b"fixed it")
    response = site.step(
        hazard["id"],
        action="report_done",
        evidence_attachments=[photo],
        reported_at="2024-05-10T10:00:00+08:00",
    )
    assert response.status_code == 200, response.get_json()
    _run(app, datetime(2024, 5, 19, 1, 0, tzinfo=UTC))
    assert _escalations(app) == []
    _run(app, datetime(2024, 5, 21, 1, 0, tzinfo=UTC))
    assert _escalations(app) == [("reinspection_overdue", 1)]


def test_a_hazard_ordered_again_after_a_failed_reinspection_escalates_afresh(site, app) -> None:
    hazard = site.hazard()
    site.order(hazard, deadline="2024-05-20")
    _run(app, DAY_AFTER)
    site.reinspect(hazard, outcome="fail", deadline="2024-05-25")
    _run(app, DAY_AFTER)
    assert _escalations(app) == [("overdue", 1)]
    _run(app, datetime(2024, 5, 26, 1, 0, tzinfo=UTC))
    assert _escalations(app) == [("overdue", 1), ("overdue", 1)]


def test_new_escalations_are_posted_to_the_webhook_once(site, app, webhook) -> None:
    hazard = site.hazard(description="储罐区无可燃气体报警器")
    site.order(hazard, deadline="2024-05-20")
    result = _run(app, DAY_AFTER, webhook_url=webhook.url)
    assert (result.raised, result.notified, result.webhook_failures) == (1, 1, 0)
    (body,) = webhook.received
    (event,) = body["escalations"]
    assert event["hazard_id"] == hazard["id"] and event["kind"] == "overdue"
    assert event["description"] == "储罐区无可燃气体报警器"
    assert event["url"].endswith(f"/manage/hazards/{hazard['id']}")
    assert body["agency"]["code"] == "nankai"
    _run(app, DAY_AFTER, webhook_url=webhook.url)
    assert len(webhook.received) == 1


def test_a_failing_webhook_is_logged_and_retried_next_run(
    site, app, webhook, caplog, monkeypatch
) -> None:
    # Alembic's logging set-up during the test database's migration disables loggers.
    monkeypatch.setattr(escalation.log, "disabled", False)
    hazard = site.hazard()
    site.order(hazard, deadline="2024-05-20")
    webhook.status = 503
    result = _run(app, DAY_AFTER, webhook_url=webhook.url)
    assert (result.raised, result.notified, result.webhook_failures) == (1, 0, 1)
    assert "answered 503" in caplog.text
    refused = _run(app, DAY_AFTER, webhook_url="http://127.0.0.1:9/nothing-listens", timeout=2)
    assert refused.webhook_failures == 1 and refused.raised == 0
    webhook.status = 200
    retried = _run(app, DAY_AFTER, webhook_url=webhook.url)
    assert (retried.raised, retried.notified) == (0, 1)


def test_the_scheduler_runs_the_job_daily(app) -> None:
    from server import scheduler

    cron, job = scheduler.JOBS["escalate_overdue_hazards"]
    assert len(cron.split()) == 5
    with app.app_context():
        assert isinstance(job(), escalation.DailyResult)


def test_one_agencys_failure_is_reported_and_the_others_are_still_assessed(
    site, app, world
) -> None:
    from server.models import Agency

    world.agency("aaa-broken", "测试应急管理局", "测试")
    with app.app_context():
        # Sorted first, and unusable: its zone is not one the server knows.
        db.session.execute(
            sa.update(Agency).where(Agency.code == "aaa-broken").values(timezone="Mars/Olympus")
        )
        db.session.commit()
    hazard = site.hazard()
    site.order(hazard, deadline="2024-05-20")
    result = _run(app, DAY_AFTER)
    assert result.failed_agencies == ["aaa-broken"]
    assert not result.ok and "FAILED agencies: aaa-broken" in str(result)
    assert (result.assessed, result.raised) == (1, 1)
    assert _escalations(app) == [("overdue", 1)]
