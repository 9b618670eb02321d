"""Scheduled jobs run once from the command line, as the scheduler runs them."""

from __future__ import annotations

import json

from tests.hazard_support import make_site


def test_flask_hazards_escalate_runs_the_daily_job_once_and_again_adds_nothing(
    runner, world, client
) -> None:
    site = make_site(world, client)
    late = site.hazard(description="储罐区未设置可燃气体报警器")
    site.order(late, deadline="2024-05-20")
    first = runner.invoke(args=["hazards", "escalate"])
    assert first.exit_code == 0, first.output
    assert json.loads(first.output)["raised"] >= 1
    escalations = site.get("/api/v1/hazards/escalations").get_json()
    assert escalations["total"] == json.loads(first.output)["raised"]
    again = runner.invoke(args=["hazards", "escalate"])
    assert again.exit_code == 0 and json.loads(again.output)["raised"] == 0


def test_scheduler_once_lists_the_jobs_and_runs_those_named(runner, world) -> None:
    world.agency()
    listing = runner.invoke(args=["scheduler", "once"])
    assert listing.exit_code == 0
    assert "escalate_overdue_hazards" in listing.output and "draw_plans" in listing.output
    ran = runner.invoke(
        args=["scheduler", "once", "purge_expired_tokens", "flag_late_publications"]
    )
    assert ran.exit_code == 0, ran.output
    lines = ran.output.strip().splitlines()
    assert [line.split(":")[0] for line in lines] == [
        "purge_expired_tokens",
        "flag_late_publications",
    ]
    every = runner.invoke(args=["scheduler", "once", "--all"])
    assert every.exit_code == 0, every.output
    from server.scheduler import JOBS

    assert [line.split(":")[0] for line in every.output.strip().splitlines()] == list(JOBS)
    unknown = runner.invoke(args=["scheduler", "once", "no_such_job"])
    assert unknown.exit_code != 0 and "no job no_such_job" in unknown.output
