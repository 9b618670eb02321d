"""Scheduled jobs: each is one line calling a service inside an app context, safe to run twice."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.cron import CronTrigger
from flask import Flask, current_app

from server.database import job_lock
from server.domain import entry_codes
from server.models.types import utcnow
from server.observability import JOB_RUNS
from server.services import accounts, attachments, draw_schedule, escalation
from server.services.cases.publication import flag_late_publications
from server.services.sync import push as sync_push

log = logging.getLogger(__name__)

# name -> (cron expression, job)
JOBS: dict[str, tuple[str, Callable[[], Any]]] = {
    "purge_expired_tokens": ("17 3 * * *", lambda: accounts.purge_expired_tokens()),
    "discard_stale_uploads": (
        "37 3 * * *",
        lambda: attachments.discard_stale_uploads(utcnow() - timedelta(days=14)),
    ),
    "escalate_overdue_hazards": ("5 1 * * *", lambda: escalation.run_daily()),
    # Decisions not published within 7 working days are flagged late (penalties.py).
    "flag_late_publications": ("15 1 * * *", lambda: flag_late_publications(utcnow())),
    # A held op whose release failed when its record arrived is tried again.
    "release_stranded_ops": (
        "*/10 * * * *",
        lambda: sync_push.release_stranded(
            entry_codes.derive_key(current_app.config["SECRET_KEY"])
        ),
    ),
    # Every minute: each draw plan's own cron is evaluated inside (see draw_schedule.py).
    "draw_plans": ("* * * * *", lambda: draw_schedule.tick(utcnow())),
}
# Jobs that also run once at start-up, so a run missed while the scheduler was down fires now.
AT_START = frozenset({"draw_plans"})


# What a job run answers when another scheduler process holds the job's lock.
SKIPPED = "skipped: another scheduler process is running this job"


def _run(app: Flask, name: str, job: Callable[[], Any]) -> Any:
    """Run one job unless another scheduler process is running it: the job's result, or
    ``SKIPPED``."""
    with app.app_context(), job_lock(name) as mine:
        if not mine:
            log.info("job %s is running in another scheduler process; skipped here", name)
            JOB_RUNS.labels(name, "skipped").inc()
            return SKIPPED
        log.info("job %s starting", name)
        try:
            result = job()
        except Exception:
            log.exception("job %s failed", name)
            JOB_RUNS.labels(name, "failed").inc()
            raise
        log.info("job %s done: %s", name, result)
        JOB_RUNS.labels(name, "done").inc()
        return result


def run_once(app: Flask, name: str) -> Any:
    """Run one job now, as the scheduler would (``flask scheduler once NAME``); its result."""
    return _run(app, name, JOBS[name][1])


def configure(app: Flask, scheduler: BaseScheduler) -> BaseScheduler:
    for name, (cron, job) in JOBS.items():
        scheduler.add_job(
            _run,
            CronTrigger.from_crontab(cron, timezone=app.config["TIMEZONE"]),
            args=(app, name, job),
            id=name,
            replace_existing=True,
            coalesce=True,
            max_instances=1,
            misfire_grace_time=3600,
            **({"next_run_time": utcnow()} if name in AT_START else {}),
        )
    return scheduler


def start_in_process(app: Flask) -> BaseScheduler:
    """Run jobs in a background thread of this process (single-process deployments)."""
    scheduler = configure(app, BackgroundScheduler(timezone=app.config["TIMEZONE"]))
    scheduler.start()
    app.extensions["scheduler"] = scheduler
    return scheduler


def run_blocking(app: Flask) -> None:
    """``flask scheduler run``: the scheduler as its own process."""
    scheduler = configure(app, BlockingScheduler(timezone=app.config["TIMEZONE"]))
    log.info("scheduler running jobs: %s", ", ".join(JOBS))
    scheduler.start()
