"""Two scheduler processes never run the same job at once (advisory lock / flock per job)."""

from __future__ import annotations

import threading

from server import scheduler
from server.database import job_lock


def test_a_job_another_scheduler_is_running_is_skipped_here(app) -> None:
    calls: list[str] = []
    with app.app_context(), job_lock("escalate_overdue_hazards") as held:
        assert held
        skipped = scheduler._run(app, "escalate_overdue_hazards", lambda: calls.append("x"))
        assert skipped == scheduler.SKIPPED
        # Another job's lock is its own.
        assert scheduler._run(app, "purge_expired_tokens", lambda: calls.append("y") or 7) == 7
    assert calls == ["y"]
    # Once the other scheduler is done, the job runs here again.
    assert scheduler._run(app, "escalate_overdue_hazards", lambda: calls.append("x") or 8) == 8
    assert calls == ["y", "x"]


def test_of_two_schedulers_firing_a_job_together_exactly_one_runs_it(app) -> None:
    runs: list[int] = []
    inside = threading.Event()
    release = threading.Event()

    def slow_job() -> None:
        runs.append(1)
        inside.set()
        release.wait(10)

    outcomes: list[object] = []
    first = threading.Thread(
        target=lambda: outcomes.append(scheduler._run(app, "draw_plans", slow_job))
    )
    first.start()
    assert inside.wait(10)
    second = scheduler._run(app, "draw_plans", slow_job)
    release.set()
    first.join(10)
    assert second == scheduler.SKIPPED
    assert outcomes == [None]
    assert runs == [1]
