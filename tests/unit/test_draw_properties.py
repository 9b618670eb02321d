"""Properties of the double-random draw that hold on any pool, checked on random ones."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, timedelta
from fractions import Fraction

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from server.domain.draw.algorithm import run_draw, verify
from server.domain.draw.model import (
    DrawInfeasible,
    DrawInputs,
    DrawParameters,
    DrawResult,
    Enterprise,
    Inspector,
    OutsideInspector,
    Pair,
)
from server.domain.draw.pseudonyms import pseudonymize

DRAW_DATE = date(2025, 3, 3)
STRATA = ["risk:poor", "risk:medium", "credit:B", "credit:A"]
RATES = ["0", "0.03", "0.1", "0.2", "0.25", "0.5", "0.77", "1"]

PROPERTY_SETTINGS = settings(
    max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)

seeds = st.binary(min_size=32, max_size=32).map(bytes.hex)


@dataclass(frozen=True)
class Case:
    inputs: DrawInputs
    seed: str


@st.composite
def pools(
    draw: st.DrawFn,
    *,
    with_recusals: bool = True,
    with_previous: bool = True,
    with_bounds: bool = True,
    with_outside: bool = True,
) -> Case:
    n_enterprises = draw(st.integers(0, 40))
    enterprises = [
        Enterprise(id=f"e{n:03d}", stratum=draw(st.sampled_from(STRATA)))
        for n in range(n_enterprises)
    ]
    n_inspectors = draw(st.integers(2, 12))
    inspectors = []
    for n in range(n_inspectors):
        # A few expired or missing certificates: they must never be drawn.
        offset = draw(st.sampled_from([None, -1, 0, 1] + [400] * 6))
        valid_until = None if offset is None else DRAW_DATE + timedelta(days=offset)
        cert = draw(st.sampled_from([f"1200{n:04d}"] * 9 + [None]))
        inspectors.append(Inspector(f"i{n:03d}", cert, valid_until))
    team_size = draw(st.integers(2, min(4, n_inspectors)))

    outside: list[OutsideInspector] = []
    outside_per_team = 0
    if with_outside and draw(st.booleans()):
        outside = [
            OutsideInspector(
                f"o{n:02d}", draw(st.sampled_from(["market", "tax", "hr"])), f"W{n}", None
            )
            for n in range(draw(st.integers(1, 5)))
        ]
        outside_per_team = draw(st.integers(0, min(2, len(outside))))

    people = [i.id for i in inspectors] + [o.id for o in outside]
    ids = [e.id for e in enterprises]

    def pairs(max_size: int) -> list[Pair]:
        if not ids:
            return []
        return draw(
            st.lists(
                st.builds(Pair, st.sampled_from(people), st.sampled_from(ids)), max_size=max_size
            )
        )

    recusals = pairs(30) if with_recusals else []
    previous = pairs(40) if with_previous else []

    rates = {s: draw(st.sampled_from(RATES)) for s in STRATA if draw(st.booleans())}
    min_targets = max_targets = None
    if with_bounds:
        min_targets = draw(st.none() | st.integers(0, 30))
        max_targets = draw(st.none() | st.integers(min_targets or 0, 40))
    params = DrawParameters(
        draw_date=DRAW_DATE,
        team_size=team_size,
        rates=rates,
        default_rate=draw(st.sampled_from(RATES)),
        min_targets=min_targets,
        max_targets=max_targets,
        outside_per_team=outside_per_team,
    )
    inputs = DrawInputs(
        enterprises=enterprises,
        inspectors=inspectors,
        outside_inspectors=outside,
        recusals=recusals,
        previous_assignments=previous,
        parameters=params,
    )
    return Case(inputs, draw(seeds))


def certified(inputs: DrawInputs) -> set[str]:
    people = list(inputs.inspectors) + list(inputs.outside_inspectors)
    return {
        p.id
        for p in people
        if p.certificate_no
        and p.certificate_no.strip()
        and (p.certificate_valid_until is None or p.certificate_valid_until >= DRAW_DATE)
    }


def draw_or_none(case: Case) -> DrawResult | None:
    """The draw, or None when it is rightly infeasible (the reason is checked)."""
    try:
        return run_draw(case.inputs, case.seed)
    except DrawInfeasible as exc:
        check_infeasibility_is_real(case.inputs, exc)
        return None


def check_infeasibility_is_real(inputs: DrawInputs, exc: DrawInfeasible) -> None:
    rule = exc.details["rule"]
    eligible = certified(inputs)
    recused = {(p.inspector_id, p.enterprise_id) for p in inputs.recusals}
    if rule == "recusal":
        assert exc.details["enterprises"]
        for f in exc.details["enterprises"]:
            pool = inputs.inspectors if f["pool"] == "inspectors" else inputs.outside_inspectors
            free = [
                p.id for p in pool if p.id in eligible and (p.id, f["enterprise_id"]) not in recused
            ]
            assert len(free) == f["eligible"] < f["needed"]
    elif rule == "certificates":
        pool = (
            inputs.inspectors if exc.details["pool"] == "inspectors" else inputs.outside_inspectors
        )
        assert len([p for p in pool if p.id in eligible]) < exc.details["needed"]
    else:
        assert rule == "min_targets"


@PROPERTY_SETTINGS
@given(pools())
def test_no_inspector_is_drawn_for_an_enterprise_they_recuse_from(case: Case) -> None:
    result = draw_or_none(case)
    assume(result is not None)
    recused = {(p.inspector_id, p.enterprise_id) for p in case.inputs.recusals}
    for a in result.assignments:
        for person in a.inspector_ids + a.outside_inspector_ids:
            assert (person, a.enterprise_id) not in recused


@PROPERTY_SETTINGS
@given(pools())
def test_every_team_is_full_distinct_and_certified(case: Case) -> None:
    result = draw_or_none(case)
    assume(result is not None)
    params = case.inputs.parameters
    eligible = certified(case.inputs)
    agency = {i.id for i in case.inputs.inspectors}
    outside = {o.id for o in case.inputs.outside_inspectors}
    for a in result.assignments:
        assert len(a.inspector_ids) == len(set(a.inspector_ids)) == params.team_size
        assert len(a.outside_inspector_ids) == len(set(a.outside_inspector_ids))
        assert len(a.outside_inspector_ids) == params.outside_per_team
        assert set(a.inspector_ids) <= agency & eligible
        assert set(a.outside_inspector_ids) <= outside & eligible


@PROPERTY_SETTINGS
@given(pools())
def test_the_same_inputs_and_seed_give_an_identical_result(case: Case) -> None:
    first = draw_or_none(case)
    assume(first is not None)
    again = run_draw(case.inputs, case.seed)
    assert again == first
    assert again.to_public_json() == first.to_public_json()


@PROPERTY_SETTINGS
@given(pools())
def test_a_published_draw_verifies(case: Case) -> None:
    result = draw_or_none(case)
    assume(result is not None)
    assert verify(result.to_public_json()).matches


@PROPERTY_SETTINGS
@given(st.lists(seeds, min_size=2, max_size=2, unique=True))
def test_different_seeds_give_different_draws(two_seeds: list[str]) -> None:
    seed_a, seed_b = two_seeds
    # 30 choose 10 samples times the team choices: a collision would be astronomically rare.
    inputs = DrawInputs(
        enterprises=[Enterprise(f"e{n:02d}", "risk:good") for n in range(30)],
        inspectors=[Inspector(f"i{n}", f"C{n}", None) for n in range(8)],
        parameters=DrawParameters(DRAW_DATE, 2, {"risk:good": "0.33"}),
    )
    assert run_draw(inputs, seed_a).assignments != run_draw(inputs, seed_b).assignments


@PROPERTY_SETTINGS
@given(pools(with_bounds=False))
def test_each_stratum_draws_its_rate_times_its_size_rounded_up(case: Case) -> None:
    result = draw_or_none(case)
    assume(result is not None)
    params = case.inputs.parameters
    sizes = Counter(e.stratum for e in case.inputs.enterprises)
    drawn = Counter(a.stratum for a in result.assignments)
    for s in result.strata:
        rate = Fraction(params.rates.get(s.stratum, params.default_rate))
        expected = -((-rate * sizes[s.stratum]) // 1)
        assert s.pool_size == sizes[s.stratum]
        assert s.base == s.drawn == drawn[s.stratum] == expected


@PROPERTY_SETTINGS
@given(pools())
def test_the_min_max_clamp_hits_its_bound_and_keeps_each_stratum_in_range(case: Case) -> None:
    result = draw_or_none(case)
    assume(result is not None)
    params = case.inputs.parameters
    base = sum(s.base for s in result.strata)
    total = sum(s.drawn for s in result.strata)
    expected = base
    if params.max_targets is not None and base > params.max_targets:
        expected = params.max_targets
    elif params.min_targets is not None and base < params.min_targets:
        expected = params.min_targets
    assert total == expected == len(result.assignments)
    for s in result.strata:
        assert 0 <= s.drawn <= s.pool_size
        if total < base:
            assert s.drawn <= s.base
        if total > base:
            assert s.drawn >= s.base
        if s.base == 0:
            assert s.drawn == 0


@PROPERTY_SETTINGS
@given(pools())
def test_a_previous_pair_repeats_only_when_no_other_valid_team_exists(case: Case) -> None:
    result = draw_or_none(case)
    assume(result is not None)
    inputs = case.inputs
    eligible = certified(inputs)
    recused = {(p.inspector_id, p.enterprise_id) for p in inputs.recusals}
    previous = {(p.inspector_id, p.enterprise_id) for p in inputs.previous_assignments}
    for a in result.assignments:
        for pool, team, size in (
            (inputs.inspectors, a.inspector_ids, inputs.parameters.team_size),
            (
                inputs.outside_inspectors,
                a.outside_inspector_ids,
                inputs.parameters.outside_per_team,
            ),
        ):
            fresh = [
                p.id
                for p in pool
                if p.id in eligible
                and (p.id, a.enterprise_id) not in recused
                and (p.id, a.enterprise_id) not in previous
            ]
            repeats = sum((i, a.enterprise_id) in previous for i in team)
            assert repeats == max(0, size - len(fresh))


@PROPERTY_SETTINGS
@given(pools(with_recusals=False, with_previous=False))
def test_without_recusals_or_previous_pairs_loads_differ_by_at_most_one(case: Case) -> None:
    result = draw_or_none(case)
    assume(result is not None)
    eligible = certified(case.inputs)
    for pool in (case.inputs.inspectors, case.inputs.outside_inspectors):
        loads = {p.id: 0 for p in pool if p.id in eligible}
        for a in result.assignments:
            for i in a.inspector_ids + a.outside_inspector_ids:
                if i in loads:
                    loads[i] += 1
        if loads and result.assignments:
            assert max(loads.values()) - min(loads.values()) <= 1


@PROPERTY_SETTINGS
@given(pools(), st.data())
def test_an_enterprise_without_enough_unrecused_inspectors_raises_instead_of_a_short_team(
    case: Case, data: st.DataObject
) -> None:
    inputs = case.inputs
    assume(inputs.enterprises)
    eligible = sorted(i.id for i in inputs.inspectors if i.id in certified(inputs))
    assume(len(eligible) >= inputs.parameters.team_size)
    target = data.draw(st.sampled_from(list(inputs.enterprises)))
    # Leave the target one certified inspector short of a team, and make sure it is drawn.
    keep = data.draw(st.integers(0, inputs.parameters.team_size - 1))
    recusals = [Pair(i, target.id) for i in eligible[keep:]]
    rates = dict(inputs.parameters.rates)
    rates[target.stratum] = "1"
    params = DrawParameters(
        draw_date=DRAW_DATE,
        team_size=inputs.parameters.team_size,
        rates=rates,
        default_rate=inputs.parameters.default_rate,
        outside_per_team=inputs.parameters.outside_per_team,
    )
    broken = DrawInputs(
        enterprises=inputs.enterprises,
        inspectors=inputs.inspectors,
        outside_inspectors=inputs.outside_inspectors,
        recusals=list(inputs.recusals) + recusals,
        previous_assignments=inputs.previous_assignments,
        parameters=params,
    )
    try:
        run_draw(broken, case.seed)
    except DrawInfeasible as exc:
        check_infeasibility_is_real(broken, exc)
        if exc.details["rule"] == "recusal":
            assert target.id in {f["enterprise_id"] for f in exc.details["enterprises"]}
    else:
        raise AssertionError("a draw came back although an enterprise could not get a team")


@PROPERTY_SETTINGS
@given(pools(), st.binary(min_size=32, max_size=32))
def test_under_pseudonyms_the_rules_hold_for_the_real_people(case: Case, key: bytes) -> None:
    hidden, back = pseudonymize(case.inputs, key)
    try:
        result = run_draw(hidden, case.seed)
    except DrawInfeasible as exc:
        # Another sample, but the reason still holds for the real people and enterprises.
        details = dict(exc.details)
        if "enterprises" in details:
            details["enterprises"] = [
                {**f, "enterprise_id": back[f["enterprise_id"]]} for f in details["enterprises"]
            ]
        check_infeasibility_is_real(case.inputs, DrawInfeasible(exc.message, details=details))
        return
    assert verify(result.to_public_json()).matches
    recused = {(p.inspector_id, p.enterprise_id) for p in case.inputs.recusals}
    eligible = certified(case.inputs)
    agency = {i.id for i in case.inputs.inspectors}
    for a in (a.renamed(back) for a in result.assignments):
        assert len(set(a.inspector_ids)) == case.inputs.parameters.team_size
        assert set(a.inspector_ids) <= agency & eligible
        assert set(a.outside_inspector_ids) <= eligible
        for person in a.inspector_ids + a.outside_inspector_ids:
            assert (person, a.enterprise_id) not in recused
