"""Penalty rules: what is major, legal review, publication and withdrawal deadlines, plans."""

from __future__ import annotations

from datetime import date

import pytest

from server.domain import annual_plan as plans
from server.domain import penalties as rules
from server.domain.errors import ValidationFailed
from server.domain.visits import VisitPolicy
from server.domain.workdays import WorkCalendar

POLICY = rules.PenaltyPolicy()


def terms(**kw: object) -> rules.DecisionTerms:
    kw.setdefault("entity_fine_fen", 1_000_000)
    return rules.DecisionTerms(**kw)  # type: ignore[arg-type]


def test_a_small_fine_on_an_entity_is_not_major() -> None:
    assert not rules.is_major(terms(entity_fine_fen=4_999_999), POLICY)


@pytest.mark.parametrize(
    "decision",
    [
        terms(entity_fine_fen=5_000_000),
        terms(entity_fine_fen=0, individuals=(rules.Individual("张三", 1_000_000),)),
        terms(other_penalties=("stop_production",)),
        terms(other_penalties=("revoke_license",)),
        terms(accident=True),
    ],
)
def test_large_fines_business_ending_penalties_and_accidents_are_major(decision) -> None:
    assert rules.is_major(decision, POLICY)


def test_the_threshold_is_the_agencys_setting() -> None:
    policy = rules.PenaltyPolicy.from_settings({"penalties": {"major_entity_fine_fen": 100}})
    assert rules.is_major(terms(entity_fine_fen=100), policy)
    assert rules.is_major(
        terms(), rules.PenaltyPolicy.from_settings({"penalties": {"review_all": True}})
    )


def test_a_major_decision_needs_an_approving_review() -> None:
    with pytest.raises(rules.LegalReviewRequired) as refused:
        rules.require_review(terms(accident=True), POLICY, [])
    assert refused.value.code == "legal_review_required"
    with pytest.raises(rules.LegalReviewRequired):
        rules.require_review(terms(accident=True), POLICY, [rules.RETURNED])
    assert rules.require_review(terms(accident=True), POLICY, [rules.RETURNED, rules.APPROVED])
    assert not rules.require_review(terms(), POLICY, [])


def test_an_approval_later_returned_no_longer_lets_a_major_decision_issue() -> None:
    with pytest.raises(rules.LegalReviewRequired) as refused:
        rules.require_review(terms(accident=True), POLICY, [rules.APPROVED, rules.RETURNED])
    assert refused.value.details["latest_review"] == rules.RETURNED
    assert rules.require_review(
        terms(accident=True), POLICY, [rules.APPROVED, rules.RETURNED, rules.APPROVED]
    )


def test_confiscated_money_counts_towards_forfeiture_and_major_but_needs_the_penalty() -> None:
    with pytest.raises(ValidationFailed) as refused:
        rules.check_terms(terms(entity_fine_fen=0, confiscated_fen=100))
    assert "confiscated_fen" in refused.value.fields
    seized = terms(
        entity_fine_fen=4_000_000, confiscated_fen=1_000_000, other_penalties=("confiscation",)
    )
    rules.check_terms(seized)
    assert (seized.total_fine_fen, seized.forfeiture_fen) == (4_000_000, 5_000_000)
    assert rules.is_major(seized, POLICY)


def test_a_decision_imposes_something_in_whole_fen() -> None:
    with pytest.raises(ValidationFailed) as nothing:
        rules.check_terms(terms(entity_fine_fen=0))
    assert nothing.value.code == "nothing_imposed"
    with pytest.raises(ValidationFailed):
        rules.check_terms(terms(entity_fine_fen=-1))
    rules.check_terms(terms(entity_fine_fen=0, other_penalties=("warning",)))


def test_publication_is_due_seven_working_days_after_across_national_day() -> None:
    # 2024: 1–7 October off; Sunday 29 September and Saturday 12 October worked (调休).
    assert rules.publication_deadline(date(2024, 9, 27)) == date(2024, 10, 12)
    # Saturday 11 May 2024 was worked (Labour Day 调休), so it counts.
    assert rules.publication_deadline(date(2024, 5, 6)) == date(2024, 5, 14)


def test_the_override_table_decides_years_the_library_does_not_know() -> None:
    calendar = WorkCalendar({date(2099, 1, 2): False})  # a Friday made a holiday
    assert rules.publication_deadline(date(2099, 1, 1), calendar) == date(2099, 1, 13)


def _state(**kw: object) -> rules.Publication:
    decided = date(2024, 5, 6)
    values: dict[str, object] = {
        "decided_on": decided,
        "deadline": rules.publication_deadline(decided),
        "published": False,
        "published_late": None,
        "revoked_on": None,
        "late_flagged_on": None,
        "today": date(2024, 5, 10),
    }
    values.update(kw)
    return rules.publication(**values)  # type: ignore[arg-type]


def test_publication_states_due_late_published_late_withdrawn() -> None:
    due = _state()
    assert (due.state, due.due, due.late, due.days_left) == ("pending", True, False, 3)
    assert due.deadline == date(2024, 5, 14) and not due.deadline_estimated
    late = _state(today=date(2024, 5, 16))
    assert (late.due, late.late) == (False, True)
    published_late = _state(published=True, published_late=True, today=date(2024, 6, 1))
    assert (published_late.state, published_late.late) == ("published", True)
    on_time = _state(published=True, published_late=False, today=date(2024, 6, 1))
    assert (on_time.state, on_time.late) == ("published", False)
    withdrawn = _state(published=True, published_late=False, revoked_on=date(2024, 6, 1))
    assert withdrawn.state == "withdrawn"
    assert rules.withdrawal_deadline(date(2024, 6, 7)) == date(2024, 6, 13)  # Dragon Boat, 10 June


def test_a_decision_found_late_stays_late_whatever_was_recorded_after() -> None:
    flagged = _state(
        published=True,
        published_late=False,
        late_flagged_on=date(2024, 5, 16),
        today=date(2024, 6, 1),
    )
    assert flagged.late
    assert rules.published_late(date(2024, 5, 15), date(2024, 5, 15), None) is False
    assert rules.published_late(date(2024, 5, 16), date(2024, 5, 15), None) is True
    assert rules.published_late(date(2024, 5, 10), date(2024, 5, 15), date(2024, 5, 9)) is True


def test_the_stored_deadline_is_the_one_judged_by() -> None:
    # A deadline stored at issue stays the deadline, whatever a fresh count would say.
    stored = _state(deadline=date(2024, 5, 20), today=date(2024, 5, 17))
    assert stored.due and stored.deadline == date(2024, 5, 20)


def test_a_deadline_over_a_year_the_calendar_does_not_know_is_an_estimate() -> None:
    decided = date(2099, 12, 28)
    guessed = _state(
        decided_on=decided, deadline=rules.publication_deadline(decided), today=decided
    )
    assert guessed.deadline_estimated
    entered = WorkCalendar(complete_years=[2099, 2100])
    assert not rules.publication(
        decided_on=decided,
        deadline=rules.publication_deadline(decided, entered),
        published=False,
        published_late=None,
        revoked_on=None,
        late_flagged_on=None,
        today=decided,
        calendar=entered,
    ).deadline_estimated


def test_an_exemption_names_its_list_item() -> None:
    with pytest.raises(ValidationFailed):
        rules.check_exemption(" ", 100)
    rules.check_exemption("《免罚清单》第3项：首次未如实记录安全生产教育培训情况", 0)


def test_plan_completion_per_row_category_and_overall() -> None:
    done = {
        ("a", "key"): 3,
        ("b", "key"): 0,
        ("c", "random"): 2,
        ("d", "joint"): 1,
        ("d", "complaint"): 1,
    }
    result = plans.completion({"a": 2, "b": 1}, 4, done)
    assert [(r.enterprise_id, r.done) for r in result.rows] == [("a", 3), ("b", 0)]
    assert (result.key.planned, result.key.done) == (3, 3)
    assert (result.general.planned, result.general.done) == (4, 3)
    assert result.key_enterprises_covered == 1 and result.inspections == 7
    assert result.key_outside_plan == 0
    assert str(plans.completion({"a": 237}, 157, {("a", "key"): 255}).key.rate) == "107.6"


def test_key_inspections_outside_the_plan_are_their_own_line_so_rows_add_up() -> None:
    done = {("a", "key"): 2, ("new", "key"): 3, ("c", "random"): 1}
    result = plans.completion({"a": 2, "b": 1}, 1, done)
    assert result.key.done == 5 and result.key_outside_plan == 3
    assert sum(r.done for r in result.rows) + result.key_outside_plan == result.key.done


def test_ordinary_enterprises_over_their_cap_are_named_key_ones_never() -> None:
    policy = VisitPolicy(yearly_caps={"credit:A": 1, "risk:poor": 4})
    ratings = {"a": ("A", "good"), "b": ("A", "good"), "p": ("C", "poor"), "k": ("A", "good")}

    def cap_of(e: str) -> int | None:
        credit, risk = ratings[e]
        return policy.cap_for(is_key=False, credit_rating=credit, risk_grade=risk)

    over = plans.over_cap({"a": 3, "b": 1, "p": 5, "k": 9}, cap_of, {"k"})
    assert over == {"a": (3, 1), "p": (5, 4)}


def test_a_plans_caps_use_the_visit_policys_keys() -> None:
    plans.check_plan(0, {}, {"credit:A": 1, "risk:poor": 4})
    with pytest.raises(ValidationFailed) as refused:
        plans.check_plan(0, {}, {"good": 1})
    assert "yearly_caps" in refused.value.fields
