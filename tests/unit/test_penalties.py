"""Penalty rules: what is major, legal review, publication and withdrawal deadlines, plans."""

from __future__ import annotations

from datetime import date

import pytest

from server.domain import annual_plan as plans
from server.domain import penalties as rules
from server.domain.errors import ValidationFailed
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


def test_publication_states_due_late_published_late_withdrawn() -> None:
    decided = date(2024, 5, 6)
    due = rules.publication(
        decided_on=decided, published_on=None, revoked_on=None, today=date(2024, 5, 10)
    )
    assert (due.state, due.due, due.late, due.days_left) == ("pending", True, False, 3)
    late = rules.publication(
        decided_on=decided, published_on=None, revoked_on=None, today=date(2024, 5, 16)
    )
    assert (late.due, late.late) == (False, True)
    published_late = rules.publication(
        decided_on=decided, published_on=date(2024, 5, 20), revoked_on=None, today=date(2024, 6, 1)
    )
    assert (published_late.state, published_late.late) == ("published", True)
    withdrawn = rules.publication(
        decided_on=decided,
        published_on=date(2024, 5, 8),
        revoked_on=date(2024, 6, 1),
        today=date(2024, 6, 1),
    )
    assert withdrawn.state == "withdrawn"
    assert rules.withdrawal_deadline(date(2024, 6, 7)) == date(2024, 6, 13)  # Dragon Boat, 10 June


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
    assert str(plans.completion({"a": 237}, 157, {("a", "key"): 255}).key.rate) == "107.6"


def test_ordinary_enterprises_over_their_grades_cap_are_named_key_ones_never() -> None:
    over = plans.over_cap(
        {"a": 3, "b": 1, "k": 9}, {"a": "good", "b": "good", "k": "good"}, {"good": 1}, {"k"}
    )
    assert over == {"a": (3, 1)}
