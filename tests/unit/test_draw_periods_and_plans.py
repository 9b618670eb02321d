"""Periods, cron fire times and plan rules: pure functions behind scheduled draws."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from server.cron import last_fire_at_or_before, next_fire_after, parse_cron
from server.domain.draw_plans import (
    InvalidDrawPlan,
    PoolSize,
    check_plan,
    stratum_keys,
    stratum_of,
)
from server.domain.periods import InvalidCron, period_key, period_label

SHANGHAI = ZoneInfo("Asia/Shanghai")
POOL = PoolSize(
    inspectors=6, certified=6, outside_inspectors=0, outside_certified=0, on=date(2024, 5, 1)
)


@pytest.mark.parametrize(
    ("kind", "day", "key", "label"),
    [
        ("month", date(2024, 5, 31), "2024-05", "2024年5月"),
        ("quarter", date(2024, 4, 1), "2024-Q2", "2024年第2季度"),
        ("quarter", date(2024, 12, 31), "2024-Q4", "2024年第4季度"),
        ("year", date(2024, 1, 1), "2024", "2024年"),
    ],
)
def test_a_period_key_names_the_month_quarter_or_year(kind, day, key, label) -> None:
    assert period_key(kind, day) == key
    assert period_label(key) == label


@pytest.mark.parametrize("bad", ["", "* * * *", "61 * * * *", "0 9 31 2 *", "a b c d e"])
def test_a_bad_cron_line_is_refused_with_a_reason(bad) -> None:
    with pytest.raises(InvalidCron) as err:
        parse_cron(bad, SHANGHAI)
    assert err.value.fields["cron"]


def test_fire_times_are_in_the_agencys_zone() -> None:
    trigger = parse_cron("0 9 1 * *", SHANGHAI)
    now = datetime(2024, 3, 15, tzinfo=UTC)
    assert last_fire_at_or_before(trigger, now) == datetime(2024, 3, 1, 1, 0, tzinfo=UTC)
    assert next_fire_after(trigger, now) == datetime(2024, 4, 1, 1, 0, tzinfo=UTC)
    exactly = datetime(2024, 4, 1, 1, 0, tzinfo=UTC)
    assert last_fire_at_or_before(trigger, exactly) == exactly
    assert next_fire_after(trigger, exactly) == datetime(2024, 5, 1, 1, 0, tzinfo=UTC)


CRONS = ["* * * * *", "*/7 * * * *", "0 9 * * 1", "30 8 1 */3 *", "0 0 29 2 *", "15 3 * * *"]


@settings(max_examples=60, deadline=None)
@given(
    cron=st.sampled_from(CRONS),
    minutes=st.integers(min_value=0, max_value=3 * 366 * 24 * 60),
)
def test_the_latest_fire_time_is_the_last_one_not_after_now(cron, minutes) -> None:
    trigger = parse_cron(cron, SHANGHAI)
    now = datetime(2021, 1, 1, tzinfo=UTC) + timedelta(minutes=minutes, seconds=17)
    last = last_fire_at_or_before(trigger, now)
    assert last is not None and last <= now
    following = next_fire_after(trigger, last)
    assert following is not None and following > now


def test_stratum_keys_cover_every_enterprise() -> None:
    assert stratum_of(["risk"], "good", "A") == "risk:good"
    assert stratum_of(["credit"], None, "B") == "credit:B"
    assert stratum_of(["risk", "credit"], "poor", None) == "risk:poor/credit:none"
    assert stratum_of([], "poor", "A") == "all"
    keys = stratum_keys(["risk", "credit"])
    assert len(keys) == 4 * 6 and "risk:medium/credit:E" in keys
    assert stratum_keys([]) == ["all"]


def _plan(**kw):
    plan = {
        "strata_by": ["risk"],
        "rates": {"risk:good": "0.10"},
        "default_rate": "0",
        "team_size": 2,
        "outside_per_team": 0,
        "min_targets": None,
        "max_targets": None,
        "cron": None,
    }
    plan.update(kw)
    return plan


def test_a_sound_plan_comes_back_with_exact_rates() -> None:
    assert check_plan(_plan(), POOL) == {
        "rates": {"risk:good": "0.1"},
        "default_rate": "0",
    }


def test_every_broken_rule_is_reported_at_once() -> None:
    with pytest.raises(InvalidDrawPlan) as err:
        check_plan(
            _plan(
                team_size=9,
                rates={"risk:good": "2", "credit:A": "0.1"},
                min_targets=3,
                max_targets=1,
                cron="0 25 * * *",
                outside_per_team=2,
            ),
            POOL,
        )
    fields = err.value.fields
    assert {"team_size", "rates.risk:good", "rates.credit:A", "min_targets", "cron"} <= set(fields)
    assert "outside_per_team" in fields
    assert err.value.code == "invalid_draw_plan"


def _fire_days(cron: str, start: date = date(2024, 1, 7), days: int = 8) -> list[str]:
    """Local weekday and day of month of each fire time in ``days`` days from ``start``."""
    trigger = parse_cron(cron, SHANGHAI)
    moment = datetime(start.year, start.month, start.day, tzinfo=SHANGHAI)
    end = moment + timedelta(days=days)
    moment -= timedelta(microseconds=1)
    found = []
    while (fire := next_fire_after(trigger, moment)) is not None and fire < end:
        local = fire.astimezone(SHANGHAI)
        assert (local.hour, local.minute) == (9, 0)
        found.append(f"{local:%a} {local.day}")
        moment = fire
    return found


# Sunday 7 to Sunday 14 January 2024.
@pytest.mark.parametrize(
    ("cron", "days"),
    [
        ("0 9 * * 1", ["Mon 8"]),
        ("0 9 * * 0", ["Sun 7", "Sun 14"]),
        ("0 9 * * 7", ["Sun 7", "Sun 14"]),
        ("0 9 * * 6", ["Sat 13"]),
        ("0 9 * * MON", ["Mon 8"]),
        ("0 9 * * 1-5", ["Mon 8", "Tue 9", "Wed 10", "Thu 11", "Fri 12"]),
        ("0 9 * * mon-fri", ["Mon 8", "Tue 9", "Wed 10", "Thu 11", "Fri 12"]),
        ("0 9 * * 5-7", ["Sun 7", "Fri 12", "Sat 13", "Sun 14"]),
        ("0 9 * * sat,sun", ["Sun 7", "Sat 13", "Sun 14"]),
        ("0 9 * * */2", ["Sun 7", "Tue 9", "Thu 11", "Sat 13", "Sun 14"]),
        ("0 9 * * 1-5/2", ["Mon 8", "Wed 10", "Fri 12"]),
        ("0 9 * * 4/2", ["Thu 11", "Sat 13"]),
        ("0 9 * * 0,3", ["Sun 7", "Wed 10", "Sun 14"]),
    ],
)
def test_weekdays_count_from_sunday_as_in_crontab(cron, days) -> None:
    assert _fire_days(cron) == days


def test_a_restricted_day_and_weekday_fire_on_either_as_in_crontab() -> None:
    # The 13th, and every Friday.
    assert _fire_days("0 9 13 * 5") == ["Fri 12", "Sat 13"]
    # A day field starting with "*" narrows the weekday instead: odd days that are Mondays.
    assert _fire_days("0 9 */2 * 1", start=date(2024, 1, 1), days=31) == [
        "Mon 1",
        "Mon 15",
        "Mon 29",
    ]


def test_a_weekly_plan_draws_on_the_weekday_it_names() -> None:
    trigger = parse_cron("30 9 * * 1", SHANGHAI)
    now = datetime(2024, 2, 1, 10, tzinfo=SHANGHAI)
    last = last_fire_at_or_before(trigger, now)
    assert last == datetime(2024, 1, 29, 9, 30, tzinfo=SHANGHAI)
    assert next_fire_after(trigger, now) == datetime(2024, 2, 5, 9, 30, tzinfo=SHANGHAI)


@pytest.mark.parametrize(
    "bad", ["0 9 * * 8", "0 9 * * 5-1", "0 9 * * 1#2", "0 9 last * *", "0 9 * * */0", "0 9 * * fr"]
)
def test_weekday_syntax_outside_crontab_is_refused(bad) -> None:
    with pytest.raises(InvalidCron) as err:
        parse_cron(bad, SHANGHAI)
    assert err.value.fields["cron"]


def test_a_plan_needs_as_many_certified_people_as_a_team_takes() -> None:
    lapsed = PoolSize(
        inspectors=6, certified=1, outside_inspectors=3, outside_certified=0, on=date(2024, 5, 1)
    )
    with pytest.raises(InvalidDrawPlan) as err:
        check_plan(_plan(outside_per_team=1), lapsed)
    assert err.value.fields["team_size"] == [
        "is 2 but only 1 of the pool's 6 inspectors hold a certificate valid on 2024-05-01"
    ]
    assert "only 0 of the plan's 3 outside inspectors" in err.value.fields["outside_per_team"][0]
