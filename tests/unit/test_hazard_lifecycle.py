"""The hazard lifecycle: legal paths, illegal steps, roles, deadlines, stop orders, overdue."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st

from server.domain.errors import ValidationFailed
from server.domain.hazards import (
    ACTIONS,
    AGE_BUCKETS,
    CHINA_TZ,
    STATUSES,
    HazardActionForbidden,
    HazardEvent,
    HazardPolicy,
    HazardState,
    HazardTransitionError,
    RectificationPlan,
    StopOrder,
    Transition,
    UnknownHazardAction,
    add_months,
    age_bucket,
    allowed_actions,
    apply,
    assess,
    open_hazard,
)
from server.domain.permissions import ROLES

# 10:00 in Beijing on Monday 2 September 2024.
NOW = datetime(2024, 9, 2, 2, 0, tzinfo=UTC)
TODAY = date(2024, 9, 2)
ACTOR = uuid.UUID("00000000-0000-4000-8000-000000000001")
DEVICE = uuid.UUID("00000000-0000-4000-8000-0000000000d1")
PHOTO = "ab" * 32
PLAN = {
    "responsible_person": "张伟（总经理）",
    "measures": "更换泄爆墙，增设可燃气体报警器",
    "funds_fen": 12_000_000,
    "deadline": date(2025, 3, 1),
    "emergency_arrangements": "停用三号车间，设警戒区，专人巡查",
}


def make_hazard(level: str = "general", **kw: Any) -> HazardState:
    return HazardState(level=level, found_at=NOW, **kw)  # type: ignore[arg-type]


def step(
    state: HazardState,
    action: str,
    role: str = "manager",
    *,
    at: datetime = NOW,
    policy: HazardPolicy | None = None,
    **payload: Any,
) -> tuple[HazardState, HazardEvent]:
    transition = Transition(action, role, ACTOR, at, device_id=DEVICE, payload=payload)
    return apply(state, transition, policy or HazardPolicy())


def ordered(level: str = "general", deadline: date = date(2024, 9, 20)) -> HazardState:
    return step(make_hazard(level), "order", "inspector", deadline=deadline)[0]


def reported(level: str = "general", at: datetime = NOW + timedelta(days=5)) -> HazardState:
    return step(ordered(level), "report_done", "inspector", at=at, evidence_attachments=[PHOTO])[0]


# --- legal paths ----------------------------------------------------------------------------


def test_recording_a_hazard_starts_it_as_found() -> None:
    state, event = open_hazard(
        "major", actor_role="inspector", actor_id=ACTOR, now=NOW, device_id=DEVICE
    )
    assert state.status == "found" and state.level == "major" and state.found_at == NOW
    assert (event.action, event.from_status, event.to_status) == ("find", None, "found")
    assert event.device_id == DEVICE


def test_a_general_hazard_fixed_on_the_spot_is_closed_with_its_evidence() -> None:
    state, event = step(make_hazard(), "fix_on_spot", "inspector", evidence_attachments=[PHOTO])
    assert state.status == "closed"
    assert state.closed_how == "fixed_on_spot"
    assert state.closed_at == NOW
    assert event.evidence == (PHOTO,)
    assert event.actor_id == ACTOR and event.device_id == DEVICE and event.at == NOW
    assert event.changes["status"] == ("found", "closed")


def test_order_report_pass_closes_a_general_hazard() -> None:
    state, event = step(make_hazard(), "order", "inspector", deadline="2024-09-20")
    assert (state.status, state.deadline, state.ordered_on) == ("ordered", date(2024, 9, 20), TODAY)
    state, event = step(
        state,
        "report_done",
        "inspector",
        at=NOW + timedelta(days=5),
        evidence_attachments=[PHOTO],
        reported_at="2024-09-06T15:00:00+08:00",
    )
    assert state.status == "reported"
    assert state.reported_at == datetime(2024, 9, 6, 7, tzinfo=UTC)
    assert event.evidence == (PHOTO,)
    state, event = step(
        state,
        "reinspect",
        "inspector",
        at=NOW + timedelta(days=8),
        outcome="pass",
        opinion_document_id="doc-7",
    )
    assert state.status == "closed" and state.closed_how == "reinspection_passed"
    assert event.documents == ("doc-7",) and event.details == {"outcome": "pass"}


def test_a_failed_reinspection_orders_again_with_a_new_deadline_until_it_passes() -> None:
    state = reported()
    later = NOW + timedelta(days=8)
    state, event = step(
        state,
        "reinspect",
        "lead",
        at=later,
        outcome="fail",
        opinion_document_id="doc-8",
        deadline=date(2024, 10, 31),
    )
    assert state.status == "ordered"
    assert state.deadline == date(2024, 10, 31)
    assert state.reported_at is None
    assert state.failed_reinspections == 1 and state.order_count == 2
    assert event.changes["deadline"] == (date(2024, 9, 20), date(2024, 10, 31))
    state, _ = step(state, "report_done", "inspector", at=later, evidence_attachments=[PHOTO])
    state, _ = step(state, "reinspect", "inspector", at=later, outcome="fail",
                    opinion_document_id="doc-9", period_days=15)  # fmt: skip
    assert state.failed_reinspections == 2 and state.deadline == date(2024, 9, 25)
    state, _ = step(state, "report_done", "inspector", at=later, evidence_attachments=[PHOTO])
    state, _ = step(state, "reinspect", "inspector", at=later, outcome="pass",
                    opinion_document_id="doc-10")  # fmt: skip
    assert state.status == "closed"


def test_inspectors_may_go_back_after_the_deadline_when_the_enterprise_never_reported() -> None:
    state, _ = step(
        ordered(),
        "reinspect",
        "inspector",
        at=NOW + timedelta(days=20),
        outcome="fail",
        opinion_document_id="doc-11",
        period_days=10,
    )
    assert state.status == "ordered" and state.failed_reinspections == 1


def test_major_hazard_needs_manager_sign_off_to_close() -> None:
    state = make_hazard("major")
    state, event = step(state, "supervise", "lead", **PLAN)
    assert state.supervised and state.plan == RectificationPlan(**PLAN)
    assert event.changes["supervised"] == (False, True)
    state, _ = step(state, "order", "inspector", deadline=date(2025, 3, 1))
    state, _ = step(state, "report_done", "inspector", evidence_attachments=[PHOTO])
    state, _ = step(state, "reinspect", "lead", outcome="pass", opinion_document_id="doc-3")
    assert state.status == "pending_sign_off"
    assert "sign_off" not in allowed_actions(state, "lead")
    with pytest.raises(HazardActionForbidden) as exc:
        step(state, "sign_off", "lead")
    assert exc.value.code == "role_not_allowed"
    state, event = step(state, "sign_off", "manager", note="同意销号")
    assert state.status == "closed" and state.closed_how == "signed_off"
    assert state.signed_off_by == ACTOR
    assert event.note == "同意销号"


def test_a_major_hazard_fixed_on_the_spot_still_waits_for_sign_off() -> None:
    state, _ = step(make_hazard("major"), "fix_on_spot", "inspector", evidence_attachments=[PHOTO])
    assert state.status == "pending_sign_off"
    assert allowed_actions(state, "manager") == ["sign_off"]


# --- illegal steps and roles ----------------------------------------------------------------


def _in_status(status: str, level: str) -> HazardState:
    base = make_hazard(level)
    return {
        "found": base,
        "ordered": make_hazard(level, status="ordered", deadline=date(2024, 9, 20)),
        "reported": make_hazard(
            level, status="reported", deadline=date(2024, 9, 20), reported_at=NOW
        ),
        "pending_sign_off": make_hazard(level, status="pending_sign_off"),
        "closed": make_hazard(level, status="closed", closed_how="signed_off", closed_at=NOW),
    }[status]


_ILLEGAL = [
    (status, level, action)
    for status in STATUSES
    for level in ("general", "major")
    for action in ACTIONS
    if not (status == "pending_sign_off" and level == "general")
    and action not in allowed_actions(_in_status(status, level), "manager")
]


@pytest.mark.parametrize(("status", "level", "action"), _ILLEGAL)
def test_an_illegal_step_names_the_status_and_what_is_possible(
    status: str, level: str, action: str
) -> None:
    state = _in_status(status, level)
    with pytest.raises(HazardTransitionError) as exc:
        step(state, action, "manager")
    assert exc.value.code == "illegal_transition"
    assert status in exc.value.message
    assert exc.value.details == {
        "status": status,
        "allowed": allowed_actions(state, "manager"),
    }


def test_a_closed_hazard_allows_nothing() -> None:
    assert allowed_actions(_in_status("closed", "major"), "manager") == []


def test_roles_see_only_their_own_steps() -> None:
    found = make_hazard("major")
    assert allowed_actions(found, "inspector") == ["fix_on_spot", "order"]
    assert allowed_actions(found, "lead") == [
        "fix_on_spot",
        "order",
        "supervise",
        "stop_production",
        "reclassify",
    ]
    assert allowed_actions(found, "admin") == []
    assert allowed_actions(found, "visitor") == []


@pytest.mark.parametrize("action", ["supervise", "stop_production", "sign_off"])
def test_inspectors_may_not_take_agency_decisions(action: str) -> None:
    with pytest.raises(HazardActionForbidden):
        step(make_hazard("major"), action, "inspector")


def test_admins_take_no_enforcement_steps() -> None:
    with pytest.raises(HazardActionForbidden):
        step(make_hazard(), "order", "admin", deadline=date(2024, 9, 20))
    with pytest.raises(HazardActionForbidden):
        open_hazard("general", actor_role="admin", actor_id=ACTOR, now=NOW)


def test_an_unknown_action_is_a_validation_error() -> None:
    with pytest.raises(UnknownHazardAction) as exc:
        step(make_hazard(), "close", "manager")
    assert exc.value.code == "unknown_action"


def test_an_unknown_level_is_refused() -> None:
    with pytest.raises(ValidationFailed) as exc:
        open_hazard("minor", actor_role="inspector", actor_id=ACTOR, now=NOW)
    assert exc.value.code == "invalid_level"


def test_a_naive_time_is_a_programming_error() -> None:
    with pytest.raises(ValueError):
        Transition("order", "manager", ACTOR, datetime(2024, 9, 2, 10))


# --- payload rules --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("payload", "code"),
    [
        ({}, "evidence_required"),
        ({"evidence_attachments": []}, "evidence_required"),
        ({"evidence_attachments": ["not-a-hash"]}, "invalid_attachments"),
        ({"evidence_attachments": PHOTO}, "invalid_attachments"),
    ],
)
def test_fix_on_the_spot_needs_evidence(payload: dict[str, Any], code: str) -> None:
    with pytest.raises(ValidationFailed) as exc:
        step(make_hazard(), "fix_on_spot", "inspector", **payload)
    assert exc.value.code == code
    assert "evidence_attachments" in exc.value.fields


def test_a_major_hazard_deadline_is_at_most_one_year_away() -> None:
    state, _ = step(make_hazard("major"), "order", deadline=date(2025, 9, 2))
    assert state.deadline == date(2025, 9, 2)
    with pytest.raises(ValidationFailed) as exc:
        step(make_hazard("major"), "order", deadline=date(2025, 9, 3))
    assert exc.value.code == "deadline_too_far"
    assert exc.value.details == {"latest": "2025-09-02"}


def test_a_general_hazard_deadline_is_capped_at_the_agencys_maximum() -> None:
    with pytest.raises(ValidationFailed) as exc:
        step(make_hazard(), "order", deadline=date(2026, 1, 1))
    assert exc.value.code == "deadline_too_far"
    with pytest.raises(ValidationFailed) as exc:
        step(make_hazard(), "order", period_days=400)
    assert exc.value.code == "deadline_too_far"
    uncapped = HazardPolicy(max_general_deadline_months=None)
    ordered = step(make_hazard(), "order", policy=uncapped, deadline=date(2026, 1, 1))[0]
    assert ordered.deadline == date(2026, 1, 1)
    capped = HazardPolicy(max_general_deadline_months=3)
    with pytest.raises(ValidationFailed) as exc:
        step(make_hazard(), "order", policy=capped, deadline=date(2024, 12, 3))
    assert exc.value.code == "deadline_too_far"


@pytest.mark.parametrize(
    ("payload", "code"),
    [
        ({}, "deadline_required"),
        ({"deadline": date(2024, 9, 1)}, "deadline_in_past"),
        ({"deadline": date(2024, 9, 20), "period_days": 10}, "deadline_ambiguous"),
        ({"period_days": 0}, "invalid_period"),
        ({"period_days": "10"}, "invalid_period"),
        ({"deadline": "20 September"}, "invalid_date"),
        ({"deadline": NOW}, "invalid_date"),
    ],
)
def test_an_order_needs_one_sensible_deadline(payload: dict[str, Any], code: str) -> None:
    with pytest.raises(ValidationFailed) as exc:
        step(make_hazard(), "order", **payload)
    assert exc.value.code == code


def test_a_period_in_working_days_skips_the_national_day_holiday() -> None:
    friday = datetime(2024, 9, 27, 2, tzinfo=UTC)
    policy = HazardPolicy(deadline_unit="working")
    state, _ = step(make_hazard(), "order", at=friday, policy=policy, period_days=7)
    assert state.deadline == date(2024, 10, 12)
    state, _ = step(make_hazard(), "order", at=friday, period_days=7)
    assert state.deadline == date(2024, 10, 4)


def test_the_day_of_an_order_is_the_day_in_china_not_in_utc() -> None:
    # 17:00 UTC on 30 September is already 1 October in Beijing.
    late = datetime(2024, 9, 30, 17, tzinfo=UTC)
    state, _ = step(make_hazard(), "order", at=late, period_days=1)
    assert state.ordered_on == date(2024, 10, 1)
    assert state.deadline == date(2024, 10, 2)


def test_a_report_cannot_be_dated_in_the_future_or_before_the_finding() -> None:
    with pytest.raises(ValidationFailed) as exc:
        step(ordered(), "report_done", evidence_attachments=[PHOTO],
             reported_at=NOW + timedelta(hours=1))  # fmt: skip
    assert exc.value.code == "reported_in_future"
    with pytest.raises(ValidationFailed) as exc:
        step(ordered(), "report_done", evidence_attachments=[PHOTO],
             reported_at=NOW - timedelta(days=1))  # fmt: skip
    assert exc.value.code == "reported_before_found"
    with pytest.raises(ValidationFailed) as exc:
        step(ordered(), "report_done", evidence_attachments=[PHOTO], reported_at="2024-09-02")
    assert exc.value.code == "invalid_datetime"


def test_a_report_without_evidence_is_refused() -> None:
    with pytest.raises(ValidationFailed) as exc:
        step(ordered(), "report_done", "inspector", description="已整改")
    assert exc.value.code == "evidence_required"


@pytest.mark.parametrize(
    ("payload", "code"),
    [
        ({"opinion_document_id": "doc"}, "invalid_outcome"),
        ({"outcome": "maybe", "opinion_document_id": "doc"}, "invalid_outcome"),
        ({"outcome": "pass"}, "opinion_document_required"),
        ({"outcome": "pass", "opinion_document_id": "  "}, "opinion_document_required"),
        ({"outcome": "fail", "opinion_document_id": "doc"}, "deadline_required"),
    ],
)
def test_a_reinspection_needs_an_outcome_and_its_opinion_document(
    payload: dict[str, Any], code: str
) -> None:
    with pytest.raises(ValidationFailed) as exc:
        step(reported(), "reinspect", "inspector", **payload)
    assert exc.value.code == code


@pytest.mark.parametrize(
    ("changes", "bad_fields"),
    [
        ({"responsible_person": ""}, {"responsible_person"}),
        ({"measures": None}, {"measures"}),
        ({"emergency_arrangements": "   "}, {"emergency_arrangements"}),
        ({"funds_fen": -1}, {"funds_fen"}),
        ({"funds_fen": 1200.5}, {"funds_fen"}),
        ({"funds_fen": True}, {"funds_fen"}),
        ({"deadline": date(2025, 9, 3)}, {"deadline"}),
        ({"deadline": date(2024, 9, 1)}, {"deadline"}),
        ({"deadline": None}, {"deadline"}),
        ({"responsible_person": None, "funds_fen": "lots"}, {"responsible_person", "funds_fen"}),
    ],
)
def test_a_rectification_plan_is_checked_field_by_field(
    changes: dict[str, Any], bad_fields: set[str]
) -> None:
    with pytest.raises(ValidationFailed) as exc:
        step(make_hazard("major"), "supervise", "lead", **{**PLAN, **changes})
    assert exc.value.code == "invalid_rectification_plan"
    assert bad_fields <= set(exc.value.fields)
    assert set(exc.value.fields) <= set(PLAN)


def test_measures_may_be_given_as_a_list() -> None:
    state, _ = step(make_hazard("major"), "supervise", **{**PLAN, "measures": ["更换", "增设"]})
    assert state.plan is not None and state.plan.measures == "更换\n增设"


def test_a_general_hazard_is_not_supervised_and_a_hazard_is_supervised_once() -> None:
    with pytest.raises(HazardTransitionError):
        step(make_hazard("general"), "supervise", **PLAN)
    state, _ = step(make_hazard("major"), "supervise", **PLAN)
    with pytest.raises(HazardTransitionError):
        step(state, "supervise", **PLAN)


# --- stop orders ----------------------------------------------------------------------------


def test_a_stop_order_lasts_at_most_six_months() -> None:
    state, event = step(make_hazard("major"), "stop_production", "lead",
                        until=date(2025, 3, 2), scope="三号车间", document_id="doc-s")  # fmt: skip
    assert state.stop == StopOrder(TODAY, date(2025, 3, 2), "三号车间", "doc-s")
    assert state.stop_in_force and event.documents == ("doc-s",)
    with pytest.raises(ValidationFailed) as exc:
        step(make_hazard("major"), "stop_production", until=date(2025, 3, 3), scope="全厂")
    assert exc.value.code == "stop_too_long"


@pytest.mark.parametrize(
    ("payload", "code"),
    [
        ({"scope": "全厂"}, "stop_until_required"),
        ({"until": TODAY, "scope": "全厂"}, "stop_until_in_past"),
        ({"until": date(2024, 10, 1)}, "stop_scope_required"),
    ],
)
def test_a_stop_order_says_until_when_and_what(payload: dict[str, Any], code: str) -> None:
    with pytest.raises(ValidationFailed) as exc:
        step(make_hazard("major"), "stop_production", **payload)
    assert exc.value.code == code


def test_only_a_major_hazard_stops_production_and_only_one_stop_at_a_time() -> None:
    with pytest.raises(HazardTransitionError):
        step(make_hazard(), "stop_production", until=date(2024, 10, 1), scope="全厂")
    state, _ = step(make_hazard("major"), "stop_production", until=date(2024, 10, 1), scope="全厂")
    with pytest.raises(HazardTransitionError):
        step(state, "stop_production", until=date(2024, 10, 1), scope="全厂")


def _stopped_major() -> HazardState:
    state, _ = step(make_hazard("major"), "stop_production", until=date(2024, 12, 1), scope="全厂")
    return step(state, "order", deadline=date(2024, 11, 1))[0]


def test_production_resumes_only_after_a_passed_review() -> None:
    state = _stopped_major()
    for payload in (
        {},
        {"review_passed": False, "review_opinion": "未完成"},
        {"review_passed": True},
    ):
        with pytest.raises(ValidationFailed) as exc:
            step(state, "lift_stop", "lead", **payload)
        assert exc.value.code == "stop_review_required"
    lifted, event = step(
        state, "lift_stop", "lead", review_passed=True, review_opinion="已采取措施"
    )
    assert lifted.stop is not None and not lifted.stop_in_force
    assert lifted.stop.lift_basis == "review" and event.details == {"basis": "review"}
    assert lifted.status == "ordered"
    assert "lift_stop" not in allowed_actions(lifted, "manager")


def test_a_passed_reinspection_is_the_review_a_stop_waits_for() -> None:
    state = _stopped_major()
    state, _ = step(state, "report_done", evidence_attachments=[PHOTO])
    state, _ = step(state, "reinspect", outcome="pass", opinion_document_id="doc-r")
    lifted, _ = step(state, "lift_stop", "lead")
    assert lifted.stop is not None and lifted.stop.lift_basis == "reinspection_passed"


def test_signing_off_a_major_hazard_lifts_a_stop_still_in_force() -> None:
    state = _stopped_major()
    state, _ = step(state, "report_done", evidence_attachments=[PHOTO])
    state, _ = step(state, "reinspect", outcome="pass", opinion_document_id="doc-r")
    closed, event = step(state, "sign_off", "manager")
    assert closed.status == "closed" and closed.stop is not None
    assert closed.stop.lift_basis == "signed_off" and not closed.stop_in_force
    assert "stop" in event.changes


# --- the daily overdue job ------------------------------------------------------------------


def test_a_hazard_is_overdue_the_day_after_its_deadline() -> None:
    state = ordered(deadline=date(2024, 9, 20))
    on_deadline = assess(state, date(2024, 9, 20))
    assert not on_deadline.overdue and on_deadline.escalation == 0
    after = assess(state, date(2024, 9, 21))
    assert after.overdue and after.days_overdue == 1 and after.escalation == 1


@pytest.mark.parametrize(
    ("today", "days", "level"),
    [
        (date(2024, 9, 30), 10, 1),
        (date(2024, 10, 1), 11, 2),
        (date(2024, 10, 20), 30, 2),
        (date(2024, 10, 21), 31, 3),
    ],
)
def test_overdue_hazards_escalate_to_a_penalty_case(today: date, days: int, level: int) -> None:
    result = assess(ordered(deadline=date(2024, 9, 20)), today)
    assert (result.days_overdue, result.escalation) == (days, level)
    assert result.penalty_case == (level == 3)


def test_escalation_thresholds_are_the_agencys_to_set() -> None:
    policy = HazardPolicy(escalate_after_days=3, penalty_case_after_days=5)
    assert assess(ordered(deadline=date(2024, 9, 20)), date(2024, 9, 26), policy).escalation == 3


def test_a_report_stops_the_overdue_clock_but_starts_the_reinspection_clock() -> None:
    state = reported(at=NOW + timedelta(days=5))  # reported 7 September, deadline 20 September
    result = assess(state, date(2024, 9, 25))
    assert not result.overdue and result.escalation == 0
    assert result.reinspection_due_on == date(2024, 9, 17)
    assert result.reinspection_overdue


def test_the_reinspection_is_due_after_the_deadline_when_nothing_was_reported() -> None:
    result = assess(ordered(deadline=date(2024, 9, 20)), date(2024, 9, 30))
    assert result.reinspection_due_on == date(2024, 9, 30)
    assert not result.reinspection_overdue
    assert assess(ordered(deadline=date(2024, 9, 20)), date(2024, 10, 1)).reinspection_overdue


def test_the_reinspection_window_can_be_counted_in_working_days() -> None:
    friday = datetime(2024, 9, 27, 2, tzinfo=UTC)
    state = make_hazard(status="reported", deadline=date(2024, 10, 31), reported_at=friday)
    policy = HazardPolicy(reinspection_days=7, reinspection_unit="working")
    assert assess(state, date(2024, 10, 1), policy).reinspection_due_on == date(2024, 10, 12)


def test_closed_and_passed_hazards_are_not_overdue() -> None:
    for status in ("closed", "pending_sign_off"):
        result = assess(_in_status(status, "major"), date(2030, 1, 1))
        assert not result.overdue and not result.reinspection_overdue
        assert result.reinspection_due_on is None
    assert not assess(_in_status("closed", "major"), TODAY).is_open


def test_an_expired_stop_and_a_late_plan_are_flagged() -> None:
    state, _ = step(make_hazard("major"), "stop_production", until=date(2024, 10, 1), scope="全厂")
    state, _ = step(state, "supervise", **{**PLAN, "deadline": date(2024, 10, 1)})
    assert not assess(state, date(2024, 10, 1)).stop_expired
    late = assess(state, date(2024, 10, 2))
    assert late.stop_expired and late.plan_overdue


@pytest.mark.parametrize(
    ("days", "bucket"),
    [(-3, "0-7"), (0, "0-7"), (7, "0-7"), (8, "8-30"), (30, "8-30"), (31, "31-90"),
     (90, "31-90"), (91, "91-365"), (365, "91-365"), (366, ">365")],
)  # fmt: skip
def test_age_buckets(days: int, bucket: str) -> None:
    assert age_bucket(TODAY, TODAY + timedelta(days=days)) == bucket
    assert bucket in AGE_BUCKETS


def test_adding_months_keeps_the_day_or_takes_the_month_end() -> None:
    assert add_months(date(2024, 1, 31), 1) == date(2024, 2, 29)
    assert add_months(date(2024, 2, 29), 12) == date(2025, 2, 28)
    assert add_months(date(2024, 9, 2), 6) == date(2025, 3, 2)
    assert add_months(date(2024, 11, 30), 3) == date(2025, 2, 28)


def test_a_policy_refuses_settings_that_make_no_sense() -> None:
    with pytest.raises(ValueError):
        HazardPolicy(escalate_after_days=40, penalty_case_after_days=30)
    with pytest.raises(ValueError):
        HazardPolicy(deadline_unit="lunar")  # type: ignore[arg-type]


def test_a_general_hazard_reclassified_major_closes_only_with_sign_off() -> None:
    ordered, _ = step(make_hazard(), "order", role="lead", deadline=date(2024, 9, 20))
    major, event = step(ordered, "reclassify", role="lead", level="major", reason="涉及重大危险源")
    assert (major.level, major.status, major.deadline) == ("major", "ordered", date(2024, 9, 20))
    assert event.details == {"from_level": "general", "to_level": "major"}
    assert event.note == "涉及重大危险源"
    assert event.changes["level"] == ("general", "major")
    passed, _ = step(major, "reinspect", outcome="pass", opinion_document_id="doc")
    assert passed.status == "pending_sign_off"
    assert "reclassify" not in allowed_actions(passed, "manager")


def test_a_supervised_or_stopped_major_hazard_stays_major() -> None:
    supervised, _ = step(
        make_hazard("major"), "supervise", **{**PLAN, "deadline": date(2025, 3, 1)}
    )
    assert "reclassify" not in allowed_actions(supervised, "manager")
    with pytest.raises(HazardTransitionError):
        step(supervised, "reclassify", level="general", reason="误判")
    stopped, _ = step(
        make_hazard("major"), "stop_production", until=date(2024, 10, 1), scope="全厂"
    )
    with pytest.raises(HazardTransitionError):
        step(stopped, "reclassify", level="general", reason="误判")
    general, _ = step(make_hazard("major"), "reclassify", level="general", reason="误判")
    assert general.level == "general"


@pytest.mark.parametrize(
    ("payload", "code"),
    [
        ({"level": "general", "reason": "同级"}, "invalid_level"),
        ({"level": "catastrophic", "reason": "无"}, "invalid_level"),
        ({"level": "major"}, "reason_required"),
        ({"level": "major", "reason": "  "}, "reason_required"),
    ],
)
def test_reclassifying_names_the_other_level_and_a_reason(
    payload: dict[str, Any], code: str
) -> None:
    with pytest.raises(ValidationFailed) as exc:
        step(make_hazard(), "reclassify", **payload)
    assert exc.value.code == code


def test_an_inspector_may_not_reclassify_a_hazard() -> None:
    with pytest.raises(HazardActionForbidden):
        step(make_hazard(), "reclassify", "inspector", level="major", reason="现场认定")


def test_a_deadline_at_the_end_of_the_calendar_does_not_break_the_assessment() -> None:
    # Stored before dates from outside were bounded: assessing it must still work.
    far = make_hazard(status="ordered", deadline=date(9999, 12, 30))
    assessment = assess(far, date(2024, 9, 10))
    assert (assessment.overdue, assessment.reinspection_due_on) == (False, None)
    assert assess(far, date(2024, 9, 10), HazardPolicy(reinspection_unit="working")).is_open


# --- properties -----------------------------------------------------------------------------


def _valid_payload(action: str, state: HazardState, now: datetime, fail: bool, days: int) -> dict:
    today = now.astimezone(CHINA_TZ).date()
    deadline = today + timedelta(days=days)
    return {
        "fix_on_spot": {"evidence_attachments": [PHOTO]},
        "order": {"deadline": deadline},
        "report_done": {"evidence_attachments": [PHOTO]},
        "reinspect": (
            {"outcome": "fail", "opinion_document_id": "doc", "deadline": deadline}
            if fail
            else {"outcome": "pass", "opinion_document_id": "doc"}
        ),
        "supervise": {**PLAN, "deadline": deadline},
        "stop_production": {"until": deadline, "scope": "全厂"},
        "lift_stop": {"review_passed": True, "review_opinion": "已复核"},
        "reclassify": {
            "level": "general" if state.level == "major" else "major",
            "reason": "重新认定",
        },
        "sign_off": {},
    }[action]


# Each step names a role and picks one of the actions open to it (by index, so that walks make
# progress); every other action and role is probed at every state along the way.
_steps = st.lists(
    st.tuples(
        st.integers(min_value=0, max_value=len(ACTIONS) - 1),
        st.sampled_from(ROLES),
        st.booleans(),
        st.integers(min_value=1, max_value=180),
        st.integers(min_value=0, max_value=24 * 40),
    ),
    max_size=25,
)


@settings(max_examples=150, deadline=None)
@given(st.sampled_from(["general", "major"]), _steps)
def test_allowed_actions_predict_exactly_what_succeeds_and_major_closure_needs_sign_off(
    level: str, steps: list[tuple[int, str, bool, int, int]]
) -> None:
    state, first = open_hazard(level, actor_role="inspector", actor_id=ACTOR, now=NOW)
    history = [first]
    now = NOW
    for pick, role, fail, days, hours in steps:
        now += timedelta(hours=hours)
        for probe_role in ROLES:
            allowed = allowed_actions(state, probe_role)
            for probe in ACTIONS:
                payload = _valid_payload(probe, state, now, fail, days)
                transition = Transition(probe, probe_role, ACTOR, now, payload=payload)
                try:
                    apply(state, transition)
                except (HazardTransitionError, HazardActionForbidden) as exc:
                    assert probe not in allowed, (probe, probe_role, state, exc)
                else:
                    assert probe in allowed, (probe, probe_role, state)
        choices = allowed_actions(state, role)
        if not choices:
            continue
        action = choices[pick % len(choices)]
        payload = _valid_payload(action, state, now, fail, days)
        was_major = state.level == "major"
        state, record = apply(state, Transition(action, role, ACTOR, now, payload=payload))
        history.append(record)
        assert record.from_status == history[-2].to_status
        if was_major and state.status == "closed":
            assert record.action == "sign_off" and record.actor_role == "manager"
        if record.action == "reclassify":
            assert record.from_status == record.to_status
            assert (state.level == "major") != was_major
    closes = [e for e in history if e.to_status == "closed"]
    assert len(closes) <= 1
    if level == "major" and not any(e.action == "reclassify" for e in history):
        assert all(e.action == "sign_off" for e in closes)
        assert (state.status == "closed") == any(e.action == "sign_off" for e in history)
    event(f"{level} ended {state.status}")
