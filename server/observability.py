"""Operations: a request id on every request and log line, JSON logs, Prometheus metrics.

Metrics of every gunicorn worker (and of a scheduler on the same host) are summed at
``/metrics`` through prometheus_client's multiprocess mode when ``PROMETHEUS_MULTIPROC_DIR``
is set (``gunicorn.conf.py`` sets it); a single process serves its own."""

from __future__ import annotations

import json
import logging
import os
import re
import secrets
import time
import traceback
from collections.abc import Iterable, Iterator
from typing import Any

import sqlalchemy as sa
from flask import Flask, Response, current_app, g, has_request_context, request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import REGISTRY, Collector

REQUEST_ID_HEADER = "X-Request-ID"
# A client's own id is kept when it is short and plain; anything else gets a new one.
_CLIENT_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")

REQUEST_SECONDS = Histogram(
    "fe_http_request_duration_seconds",
    "Time to answer a request, by route template, method and status",
    ["route", "method", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
PUSH_OPS = Counter("fe_sync_push_ops_total", "Ops of sync pushes, by their result", ["status"])
JOB_RUNS = Counter(
    "fe_scheduler_job_runs_total",
    "Scheduled job runs, by job and outcome (done, skipped: running elsewhere, failed)",
    ["job", "outcome"],
)


# --- request id and logs -----------------------------------------------------------------


def request_id() -> str | None:
    """The current request's id, when there is a request."""
    return g.get("request_id") if has_request_context() else None


class _RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id() or "-"
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time, level, logger, message, request id, exception."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S") + f".{int(record.msecs):03d}Z",
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        rid = getattr(record, "request_id", None)
        if rid and rid != "-":
            entry["request_id"] = rid
        if record.exc_info:
            entry["exception"] = "".join(traceback.format_exception(*record.exc_info))
        return json.dumps(entry, ensure_ascii=False)


JsonFormatter.converter = time.gmtime


def configure_logging(kind: str) -> None:
    """Log lines of the root logger as JSON (``kind="json"``) or text, with the request id."""
    handler = logging.StreamHandler()
    if kind == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(
            logging.Formatter("%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s")
        )
    handler.addFilter(_RequestIdFilter())
    root = logging.getLogger()
    for old in [h for h in root.handlers if getattr(h, "_fieldenforce", False)]:
        root.removeHandler(old)
    handler._fieldenforce = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    # APScheduler says each job's every run at INFO; ours says what it did (server.scheduler).
    logging.getLogger("apscheduler").setLevel(logging.WARNING)


# --- metrics -------------------------------------------------------------------------------


def count_push(results: Iterable[dict[str, Any]]) -> None:
    for result in results:
        PUSH_OPS.labels(result["status"]).inc()


class HeldOpsCollector(Collector):
    """Ops held for a record not yet received, per agency, read from the database at
    scrape time (every host sees the same queue)."""

    def collect(self) -> Iterator[GaugeMetricFamily]:
        from server.extensions import db
        from server.models import Agency, SyncOp

        family = GaugeMetricFamily(
            "fe_sync_held_ops",
            "Ops waiting for a record the server has not received",
            labels=["agency"],
        )
        ops, agencies = SyncOp.__table__, Agency.__table__
        with db.engine.connect() as conn:
            for agency_id, code in conn.execute(sa.select(agencies.c.id, agencies.c.code)):
                # The waiting index (agency, entity, id): held ops alone are read.
                held = conn.execute(
                    sa.select(sa.func.count())
                    .select_from(ops)
                    .where(ops.c.agency_id == agency_id, ops.c.waiting_for_entity.is_not(None))
                ).scalar()
                family.add_metric([code], float(held or 0))
        yield family


def _scrape() -> bytes:
    registry = CollectorRegistry()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        multiprocess.MultiProcessCollector(registry)
    else:
        registry = REGISTRY  # this process's own metrics
    text = generate_latest(registry)
    held = CollectorRegistry()
    held.register(HeldOpsCollector())
    return text + generate_latest(held)


def init_app(app: Flask) -> None:
    @app.before_request
    def _start() -> None:
        sent = request.headers.get(REQUEST_ID_HEADER, "")
        g.request_id = sent if _CLIENT_ID.match(sent) else secrets.token_hex(8)
        g.request_started = time.perf_counter()

    @app.after_request
    def _finish(response: Response) -> Response:
        rid = g.get("request_id")
        if rid:
            response.headers[REQUEST_ID_HEADER] = rid
        started = g.get("request_started")
        if started is not None:
            route = request.url_rule.rule if request.url_rule is not None else "(unmatched)"
            REQUEST_SECONDS.labels(route, request.method, str(response.status_code)).observe(
                time.perf_counter() - started
            )
        return response

    @app.get("/metrics")
    def metrics() -> Response:
        """Prometheus metrics; with ``METRICS_TOKEN`` set, only for that bearer token."""
        token = current_app.config.get("METRICS_TOKEN")
        if token:
            sent = request.headers.get("Authorization", "")
            if not secrets.compare_digest(sent, f"Bearer {token}"):
                from server.api.errors import error_response

                return error_response(401, "unauthorized", "metrics need the metrics token")
        return Response(_scrape(), mimetype=CONTENT_TYPE_LATEST)
