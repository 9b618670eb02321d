"""Operations: request ids, JSON log lines, and the Prometheus metrics at /metrics."""

from __future__ import annotations

import json
import logging
import re

from server.observability import JsonFormatter, _RequestIdFilter
from tests.sync_support import hazard_op, inspection_op


def _metric(text: str, name: str, **labels: str) -> float:
    total = 0.0
    for line in text.splitlines():
        if not line.startswith(name + "{") and not line.startswith(name + " "):
            continue
        if all(f'{k}="{v}"' in line for k, v in labels.items()):
            total += float(line.rsplit(" ", 1)[1])
    return total


def test_every_answer_carries_a_request_id_and_keeps_a_plain_one_the_client_sent(client) -> None:
    generated = client.get("/healthz").headers["X-Request-ID"]
    assert re.fullmatch(r"[0-9a-f]{16}", generated)
    assert client.get("/healthz").headers["X-Request-ID"] != generated
    mine = client.get("/healthz", headers={"X-Request-ID": "phone-42.batch-7"})
    assert mine.headers["X-Request-ID"] == "phone-42.batch-7"
    odd = client.get("/healthz", headers={"X-Request-ID": "<script>" + "x" * 100})
    assert re.fullmatch(r"[0-9a-f]{16}", odd.headers["X-Request-ID"])


def test_log_lines_are_json_with_the_request_id(app) -> None:
    lines: list[str] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            lines.append(self.format(record))

    handler = Keep()
    handler.setFormatter(JsonFormatter())
    handler.addFilter(_RequestIdFilter())
    logger = logging.getLogger("server.test")
    logger.addHandler(handler)
    try:
        with app.test_request_context("/"):
            from flask import g

            g.request_id = "abc123"
            logger.warning("隐患 %s 逾期", "H-1")
            try:
                raise ValueError("boom")
            except ValueError:
                logger.exception("failed")
        logger.warning("outside")
    finally:
        logger.removeHandler(handler)
    first, second, third = (json.loads(line) for line in lines)
    assert first["message"] == "隐患 H-1 逾期" and first["request_id"] == "abc123"
    assert first["level"] == "WARNING" and first["logger"] == "server.test"
    assert "ValueError: boom" in second["exception"]
    assert "request_id" not in third


def test_metrics_count_requests_by_route_push_ops_by_status_and_held_ops(gate, client) -> None:
    device, ent = gate["device"], gate["enterprise"]
    before = client.get("/metrics").get_data(as_text=True)
    inspection = inspection_op(ent["id"], gate["team"])
    orphan = hazard_op(inspection["id"], ent["id"])  # its inspection comes later: held
    bad = inspection_op(ent["id"], gate["team"], kind="unknown-kind")
    statuses = [r["status"] for r in device.push([orphan, bad])]
    assert statuses == ["held", "rejected"]
    after = client.get("/metrics")
    assert after.status_code == 200 and after.mimetype == "text/plain"
    text = after.get_data(as_text=True)
    for status in ("held", "rejected"):
        grew = _metric(text, "fe_sync_push_ops_total", status=status) - _metric(
            before, "fe_sync_push_ops_total", status=status
        )
        assert grew == 1, status
    assert _metric(text, "fe_sync_held_ops", agency="nankai") == 1
    assert (
        _metric(text, "fe_http_request_duration_seconds_count", route="/api/v1/sync/push",
                method="POST", status="200")
        >= 1
    )
    device.push([inspection])  # the held hazard is applied with it
    text = client.get("/metrics").get_data(as_text=True)
    assert _metric(text, "fe_sync_held_ops", agency="nankai") == 0


def test_metrics_need_the_token_when_one_is_set(app, client) -> None:
    app.config["METRICS_TOKEN"] = "scrape-me"
    try:
        refused = client.get("/metrics")
        assert refused.status_code == 401
        assert refused.get_json()["error"]["code"] == "unauthorized"
        ok = client.get("/metrics", headers={"Authorization": "Bearer scrape-me"})
        assert ok.status_code == 200
    finally:
        app.config["METRICS_TOKEN"] = None


def test_scheduler_job_runs_are_counted_by_outcome(app, client) -> None:
    from server import scheduler
    from server.database import job_lock

    def count(outcome: str) -> float:
        text = client.get("/metrics").get_data(as_text=True)
        return _metric(text, "fe_scheduler_job_runs_total", job="purge_expired_tokens",
                       outcome=outcome)

    done, skipped = count("done"), count("skipped")
    scheduler._run(app, "purge_expired_tokens", lambda: 0)
    with app.app_context(), job_lock("purge_expired_tokens"):
        scheduler._run(app, "purge_expired_tokens", lambda: 0)
    assert count("done") == done + 1
    assert count("skipped") == skipped + 1
