"""Examples and error cases of the double-random draw."""

from __future__ import annotations

import hashlib
import json
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from server.domain.draw.algorithm import SeededStream, run_draw, verify
from server.domain.draw.model import (
    ALGORITHM_VERSION,
    DrawInfeasible,
    DrawInputs,
    DrawParameters,
    DrawResult,
    Enterprise,
    Inspector,
    InvalidDrawParameters,
    OutsideInspector,
    Pair,
    canonical_json,
)
from server.domain.draw.pseudonyms import pseudonym, pseudonymize
from server.domain.draw.reading import read_document
from server.domain.draw.snapshot import fingerprint, normalize_rate, seed_commitment
from server.domain.errors import ValidationFailed

DRAW_DATE = date(2025, 3, 3)
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "sr-draw-1"
SEED = "00" * 32
OTHER_SEED = "ff" * 32


def make_enterprises(count: int, stratum: str = "risk:good", prefix: str = "e") -> list[Enterprise]:
    return [Enterprise(id=f"{prefix}{stratum}-{n:03d}", stratum=stratum) for n in range(count)]


def make_inspectors(count: int, prefix: str = "i", **kw: Any) -> list[Inspector]:
    defaults: dict[str, Any] = {"certificate_valid_until": date(2027, 12, 31)}
    defaults.update(kw)
    return [
        Inspector(id=f"{prefix}{n:03d}", certificate_no=f"1200{n:04d}", **defaults)
        for n in range(count)
    ]


def make_inputs(
    enterprises: list[Enterprise] | None = None,
    inspectors: list[Inspector] | None = None,
    **kw: Any,
) -> DrawInputs:
    param_names = set(DrawParameters.__dataclass_fields__)
    params: dict[str, Any] = {"draw_date": DRAW_DATE, "team_size": 2, "rates": {"risk:good": "1"}}
    params.update({k: v for k, v in kw.items() if k in param_names})
    rest = {k: v for k, v in kw.items() if k not in param_names}
    return DrawInputs(
        enterprises=make_enterprises(6) if enterprises is None else enterprises,
        inspectors=make_inspectors(6) if inspectors is None else inspectors,
        parameters=DrawParameters(**params),
        **rest,
    )


def counts(result: DrawResult) -> dict[str, int]:
    return {s.stratum: s.drawn for s in result.strata}


# ------------------------------------------------------------------ the generator


def test_the_random_stream_is_counter_mode_sha256_as_documented() -> None:
    seed = bytes(range(32))
    digest0 = hashlib.sha256(b"sr-draw/1/team\x00" + seed + (0).to_bytes(8, "big")).digest()
    digest1 = hashlib.sha256(b"sr-draw/1/team\x00" + seed + (1).to_bytes(8, "big")).digest()
    expected = [int.from_bytes(digest0[k : k + 8], "big") for k in (0, 8, 16, 24)]
    expected.append(int.from_bytes(digest1[:8], "big"))

    stream = SeededStream(seed, "sr-draw/1/team")

    assert [stream.next_word() for _ in range(5)] == expected


def test_the_random_stream_matches_the_published_test_vectors() -> None:
    stream = SeededStream(bytes(range(32)), "sr-draw/2/team")
    assert [stream.next_word() for _ in range(2)] == [1191017639803314654, 845919186778614340]
    stream = SeededStream(bytes(range(32)), "sr-draw/2/team")
    assert [stream.below(10) for _ in range(8)] == [4, 0, 1, 1, 5, 0, 2, 8]
    stream = SeededStream(bytes(range(32)), "sr-draw/1/team")
    assert [stream.next_word() for _ in range(2)] == [15303467806405631440, 13396519366746471245]
    stream = SeededStream(bytes(range(32)), "sr-draw/1/team")
    assert [stream.below(10) for _ in range(8)] == [0, 5, 0, 6, 7, 4, 7, 9]


def test_below_rejects_words_that_would_bias_the_result() -> None:
    class Scripted(SeededStream):
        def __init__(self, words: list[int]) -> None:
            super().__init__(b"", "x")
            self.script = list(words)

        def next_word(self) -> int:
            return self.script.pop(0)

    # 2**64 mod 3 == 1, so the largest word is the single rejected one.
    stream = Scripted([2**64 - 1, 2**64 - 2])
    assert stream.below(3) == (2**64 - 2) % 3
    assert stream.script == []


# ------------------------------------------------------------- the golden draw


def test_a_small_draw_gives_the_documented_result() -> None:
    enterprises = [
        Enterprise(f"e{n:02d}", "risk:poor" if n < 3 else "risk:good") for n in range(12)
    ]
    inspectors = [Inspector(f"i{n}", f"C{n}", date(2026, 1, 1)) for n in range(5)]
    inputs = DrawInputs(
        enterprises,
        inspectors,
        DrawParameters(DRAW_DATE, 2, {"risk:poor": "1", "risk:good": "0.25"}),
        recusals=[Pair("i0", "e00")],
        previous_assignments=[Pair("i1", "e01")],
    )

    result = run_draw(inputs, SEED)

    assert result.algorithm == ALGORITHM_VERSION == "sr-draw/2"
    assert result.fingerprint == (
        "2e8dc37e5a770cbb773e8e9ee4119b7376f7db235719baecb5222626f5d12c92"
    )
    assert [(a.enterprise_id, a.inspector_ids) for a in result.assignments] == [
        ("e00", ("i1", "i3")),
        ("e01", ("i2", "i4")),
        ("e02", ("i0", "i3")),
        ("e05", ("i2", "i4")),
        ("e09", ("i0", "i1")),
        ("e11", ("i1", "i2")),
    ]


def test_the_documented_sr_draw_1_result_still_verifies() -> None:
    document = (FIXTURES / "documented.json").read_text(encoding="utf-8")
    published = read_document(document)
    assert published.algorithm == "sr-draw/1"
    assert published.fingerprint == (
        "5b788d25e44897eeaac42d97ba100c8b6df024db8423b7872932b8c9690e964c"
    )
    assert [(a.enterprise_id, a.inspector_ids) for a in published.assignments] == [
        ("e00", ("i1", "i4")),
        ("e01", ("i0", "i3")),
        ("e02", ("i0", "i2")),
        ("e05", ("i1", "i3")),
        ("e06", ("i2", "i4")),
        ("e08", ("i0", "i1")),
    ]
    assert verify(document).matches


@pytest.mark.parametrize("name", sorted(p.name for p in FIXTURES.glob("*.json")))
def test_draws_published_as_sr_draw_1_stay_verifiable(name: str) -> None:
    doc = json.loads((FIXTURES / name).read_text(encoding="utf-8"))
    assert verify(doc).matches
    team = doc["result"]["assignments"][0]["inspectors"]
    team[0] = next(i["id"] for i in doc["inputs"]["inspectors"] if i["id"] not in team)
    team.sort()
    assert not verify(doc).matches


# ----------------------------------------------------------- determinism, snapshot


def test_the_same_inputs_and_seed_give_the_same_draw() -> None:
    inputs = make_inputs(make_enterprises(40), make_inspectors(9), rates={"risk:good": "0.3"})
    assert run_draw(inputs, SEED) == run_draw(inputs, SEED)


def test_another_seed_gives_another_draw() -> None:
    inputs = make_inputs(make_enterprises(40), make_inspectors(9), rates={"risk:good": "0.3"})
    assert run_draw(inputs, SEED).assignments != run_draw(inputs, OTHER_SEED).assignments


def test_the_fingerprint_ignores_input_order_and_duplicate_pairs() -> None:
    enterprises = make_enterprises(5)
    inspectors = make_inspectors(4)
    drawn = enterprises[1].id
    a = make_inputs(enterprises, inspectors, recusals=[Pair("i000", drawn), Pair("i001", drawn)])
    b = make_inputs(
        list(reversed(enterprises)),
        list(reversed(inspectors)),
        recusals=[Pair("i001", drawn), Pair("i000", drawn), Pair("i000", drawn)],
    )
    assert run_draw(a, SEED).fingerprint == run_draw(b, SEED).fingerprint
    assert run_draw(a, SEED).assignments == run_draw(b, SEED).assignments


def test_the_fingerprint_changes_with_the_pool_and_with_the_rates() -> None:
    base = make_inputs()
    fewer = make_inputs(make_enterprises(5))
    other_rate = make_inputs(rates={"risk:good": "0.5"})
    assert len({run_draw(i, SEED).fingerprint for i in (base, fewer, other_rate)}) == 3


def test_equivalent_rate_spellings_share_one_fingerprint() -> None:
    assert (
        run_draw(make_inputs(rates={"risk:good": "0.10"}), SEED).fingerprint
        == run_draw(make_inputs(rates={"risk:good": 0.1}), SEED).fingerprint
    )


def test_the_snapshot_lists_only_drawable_people_and_pairs_that_can_matter() -> None:
    enterprises = make_enterprises(6, "risk:poor") + make_enterprises(20, "risk:good")
    inspectors = make_inspectors(5) + [Inspector("expired", "1", date(2020, 1, 1))]
    pairs = [Pair("i000", e.id) for e in enterprises] + [Pair("expired", enterprises[0].id)]
    inputs = make_inputs(
        enterprises,
        inspectors,
        rates={"risk:poor": "1"},
        recusals=pairs,
        previous_assignments=[Pair("i001", e.id) for e in enterprises],
    )

    result = run_draw(inputs, SEED)

    snap = result.to_public_dict()["inputs"]
    drawn = {a.enterprise_id for a in result.assignments}
    assert drawn == {e.id for e in enterprises[:6]}
    assert snap["enterprises"]["risk:good"] == sorted(e.id for e in enterprises[6:])
    assert snap["inspectors"] == [f"i{n:03d}" for n in range(5)]
    assert snap["recusals"] == [["i000", e] for e in sorted(drawn)]
    assert snap["previous_assignments"] == [["i001", e] for e in sorted(drawn)]
    assert "certificate_no" not in result.to_public_json()
    assert result.fingerprint == fingerprint(snap)


def test_pseudonyms_hide_the_ids_and_lead_back_to_the_same_draw() -> None:
    enterprises = make_enterprises(10, "risk:poor") + make_enterprises(30, "risk:good")
    outside = [OutsideInspector(f"m{n}", "market regulation", f"SC{n}", None) for n in range(3)]
    inputs = make_inputs(
        enterprises,
        make_inspectors(7),
        rates={"risk:poor": "0.5", "risk:good": "0.1"},
        outside_inspectors=outside,
        outside_per_team=1,
        recusals=[Pair("i000", e.id) for e in enterprises] + [Pair("m0", enterprises[0].id)],
        previous_assignments=[Pair("i001", enterprises[1].id)],
    )
    key = bytes(range(32))

    hidden, back = pseudonymize(inputs, key)
    result = run_draw(hidden, SEED)

    text = result.to_public_json()
    for real in [e.id for e in enterprises] + [f"i{n:03d}" for n in range(7)] + ["m0", "m1"]:
        assert real not in text
    assert verify(text).matches
    assert back[pseudonym(key, "enterprise", enterprises[0].id)] == enterprises[0].id
    assert back[pseudonym(key, "inspector", "i000")] == "i000"
    assert back[pseudonym(key, "outside", "m0")] == "m0"
    for a in result.assignments:
        real = a.renamed(back)
        assert "i000" not in real.inspector_ids
        assert real.enterprise_id != enterprises[0].id or "m0" not in real.outside_inspector_ids
    # Another key, other pseudonyms: nothing links one draw's to another's.
    other, _ = pseudonymize(inputs, bytes(32))
    assert {e.id for e in other.enterprises}.isdisjoint(e.id for e in hidden.enterprises)


def test_the_seed_commitment_is_sha256_of_the_seed_bytes() -> None:
    result = run_draw(make_inputs(), "AB" * 32)
    assert result.seed == "ab" * 32
    assert result.seed_commitment == hashlib.sha256(bytes.fromhex("ab" * 32)).hexdigest()
    assert seed_commitment("ab" * 32) == result.seed_commitment


def test_canonical_json_sorts_keys_and_leaves_no_whitespace() -> None:
    assert canonical_json({"b": [1, "安全"], "a": None}) == '{"a":null,"b":[1,"安全"]}'.encode()


@pytest.mark.parametrize(
    ("given", "normal"),
    [("0.10", "0.1"), ("1.0", "1"), (0.1, "0.1"), (1, "1"), ("0", "0"), ("0.030", "0.03")],
)
def test_rates_are_kept_as_shortest_exact_decimals(given: Any, normal: str) -> None:
    assert normalize_rate(given) == normal


# --------------------------------------------------------------- sample sizes


def test_each_stratum_is_sampled_at_its_rate_rounded_up() -> None:
    enterprises = (
        make_enterprises(3, "risk:poor")
        + make_enterprises(30, "credit:B")
        + make_enterprises(10, "credit:A")
    )
    inputs = make_inputs(
        enterprises, rates={"risk:poor": "1", "credit:B": "0.1", "credit:A": "0.03"}
    )

    result = run_draw(inputs, SEED)

    # 0.1 × 30 is exactly 3: a float product (3.0000000000000004) would round up to 4.
    assert counts(result) == {"risk:poor": 3, "credit:B": 3, "credit:A": 1}
    assert len(result.assignments) == 7


def test_strata_without_a_rate_use_the_default_rate() -> None:
    enterprises = make_enterprises(10, "risk:good") + make_enterprises(10, "industry:mining")
    result = run_draw(make_inputs(enterprises, rates={"risk:good": "0"}, default_rate="0.5"), SEED)
    assert counts(result) == {"risk:good": 0, "industry:mining": 5}


def test_a_rate_for_a_stratum_missing_from_the_pool_is_listed_with_nothing_drawn() -> None:
    result = run_draw(make_inputs(rates={"risk:good": "1", "risk:poor": "1"}), SEED)
    poor = next(s for s in result.strata if s.stratum == "risk:poor")
    assert (poor.pool_size, poor.base, poor.drawn) == (0, 0, 0)


def test_max_targets_shrinks_each_stratum_in_proportion() -> None:
    enterprises = make_enterprises(10, "a") + make_enterprises(5, "b") + make_enterprises(1, "c")
    inputs = make_inputs(enterprises, rates={"a": "1", "b": "1", "c": "1"}, max_targets=8)

    result = run_draw(inputs, SEED)

    # Shares 5, 2.5 and 0.5: b and c tie on the remainder, the key order gives b the unit.
    assert counts(result) == {"a": 5, "b": 3, "c": 0}


def test_min_targets_grows_only_strata_with_a_positive_rate() -> None:
    enterprises = (
        make_enterprises(20, "a") + make_enterprises(20, "b") + make_enterprises(50, "zero")
    )
    inputs = make_inputs(enterprises, rates={"a": "0.1", "b": "0.05", "zero": "0"}, min_targets=9)

    result = run_draw(inputs, SEED)

    assert counts(result) == {"a": 6, "b": 3, "zero": 0}


def test_min_targets_pins_a_full_stratum_and_shares_the_rest() -> None:
    enterprises = make_enterprises(2, "small") + make_enterprises(40, "large")
    inputs = make_inputs(enterprises, rates={"small": "1", "large": "0.05"}, min_targets=12)

    result = run_draw(inputs, SEED)

    # Bases 2 and 2 would share 12 as 6/6, but "small" only holds 2.
    assert counts(result) == {"small": 2, "large": 10}


def test_min_targets_beyond_the_strata_that_may_be_drawn_is_infeasible() -> None:
    enterprises = make_enterprises(4, "a") + make_enterprises(50, "zero")
    inputs = make_inputs(enterprises, rates={"a": "0.5", "zero": "0"}, min_targets=5)

    with pytest.raises(DrawInfeasible) as caught:
        run_draw(inputs, SEED)

    assert caught.value.details["rule"] == "min_targets"


def test_a_pool_with_nothing_to_draw_gives_an_empty_draw() -> None:
    result = run_draw(make_inputs(rates={}, default_rate="0"), SEED)
    assert result.assignments == ()
    assert verify(result.to_public_json()).matches


# --------------------------------------------------------------------------- teams


def test_every_team_has_two_inspectors_with_certificates_valid_on_the_draw_date() -> None:
    inspectors = [
        Inspector("expired", "12000001", date(2025, 3, 2)),
        Inspector("no-cert", None, None),
        Inspector("blank-cert", "  ", None),
        Inspector("last-day", "12000002", DRAW_DATE),
        Inspector("no-expiry", "12000003", None),
    ]
    result = run_draw(make_inputs(make_enterprises(4), inspectors), SEED)
    for a in result.assignments:
        assert a.inspector_ids == ("last-day", "no-expiry")


def test_no_inspector_is_drawn_for_an_enterprise_they_recuse_from() -> None:
    enterprises = make_enterprises(20)
    recusals = [Pair(f"i{n:03d}", enterprises[0].id) for n in range(4)]
    result = run_draw(make_inputs(enterprises, make_inspectors(6), recusals=recusals), SEED)
    team = next(a for a in result.assignments if a.enterprise_id == enterprises[0].id)
    assert team.inspector_ids == ("i004", "i005")


def test_an_enterprise_most_inspectors_recuse_from_makes_the_draw_infeasible() -> None:
    enterprises = make_enterprises(3)
    target = enterprises[1].id
    recusals = [Pair(f"i{n:03d}", target) for n in range(3)]
    inputs = make_inputs(enterprises, make_inspectors(4), recusals=recusals)

    with pytest.raises(DrawInfeasible) as caught:
        run_draw(inputs, SEED)

    error = caught.value
    assert isinstance(error, ValidationFailed)
    assert error.code == "draw_infeasible"
    assert error.message == (
        f"no eligible team of 2 for enterprise {target}: 3 of 4 certified inspectors recused"
    )
    assert error.details == {
        "rule": "recusal",
        "enterprises": [
            {
                "enterprise_id": target,
                "pool": "inspectors",
                "needed": 2,
                "certified": 4,
                "recused": 3,
                "eligible": 1,
            }
        ],
    }


def test_too_few_certified_inspectors_makes_the_draw_infeasible() -> None:
    inspectors = make_inspectors(3, certificate_valid_until=date(2024, 12, 31))
    inspectors[0] = replace(inspectors[0], certificate_valid_until=None)
    with pytest.raises(DrawInfeasible) as caught:
        run_draw(make_inputs(inspectors=inspectors), SEED)
    assert caught.value.details["rule"] == "certificates"
    assert caught.value.details["certified"] == 1


def test_an_inspector_is_not_sent_back_to_last_draws_enterprise_when_others_can_go() -> None:
    enterprises = make_enterprises(6)
    previous = [Pair("i000", e.id) for e in enterprises] + [Pair("i001", e.id) for e in enterprises]
    result = run_draw(
        make_inputs(enterprises, make_inspectors(4), previous_assignments=previous), SEED
    )
    for a in result.assignments:
        assert a.inspector_ids == ("i002", "i003")


def test_a_previous_pair_is_repeated_only_as_far_as_unavoidable() -> None:
    enterprises = make_enterprises(1)
    previous = [Pair(f"i{n:03d}", enterprises[0].id) for n in range(4)]
    result = run_draw(
        make_inputs(enterprises, make_inspectors(5), team_size=3, previous_assignments=previous),
        SEED,
    )
    team = result.assignments[0].inspector_ids
    assert "i004" in team
    assert len(set(team) & {p.inspector_id for p in previous}) == 2


def test_load_is_spread_evenly_across_inspectors() -> None:
    result = run_draw(make_inputs(make_enterprises(25), make_inspectors(7)), SEED)
    loads = dict.fromkeys((f"i{n:03d}" for n in range(7)), 0)
    for a in result.assignments:
        for i in a.inspector_ids:
            loads[i] += 1
    assert max(loads.values()) - min(loads.values()) <= 1


def test_a_joint_check_team_includes_outside_inspectors() -> None:
    outside = [
        OutsideInspector("m1", "market regulation", "SC001", None),
        OutsideInspector("t1", "tax", "SW001", date(2026, 6, 30)),
        OutsideInspector("h1", "human resources", "RS001", date(2020, 1, 1)),
    ]
    enterprises = make_enterprises(4)
    inputs = make_inputs(
        enterprises,
        outside_per_team=1,
        outside_inspectors=outside,
        recusals=[Pair("m1", enterprises[0].id)],
    )

    result = run_draw(inputs, SEED)

    for a in result.assignments:
        assert len(a.inspector_ids) == 2
        assert len(a.outside_inspector_ids) == 1
        assert "h1" not in a.outside_inspector_ids
    first = next(a for a in result.assignments if a.enterprise_id == enterprises[0].id)
    assert first.outside_inspector_ids == ("t1",)


def test_assignments_are_listed_by_enterprise_id_with_sorted_teams() -> None:
    result = run_draw(make_inputs(make_enterprises(12), make_inspectors(5), team_size=3), SEED)
    ids = [a.enterprise_id for a in result.assignments]
    assert ids == sorted(ids)
    assert all(list(a.inspector_ids) == sorted(a.inspector_ids) for a in result.assignments)


# ---------------------------------------------------------------- bad parameters


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"team_size": 1}, "team_size"),
        ({"team_size": 7}, "team_size"),
        ({"rates": {"risk:good": "1.5"}}, "rates.risk:good"),
        ({"rates": {"risk:good": -0.1}}, "rates.risk:good"),
        ({"rates": {"risk:good": "ten percent"}}, "rates.risk:good"),
        ({"default_rate": "2"}, "default_rate"),
        ({"min_targets": 5, "max_targets": 4}, "min_targets"),
        ({"max_targets": -1}, "max_targets"),
        ({"outside_per_team": 1}, "outside_per_team"),
    ],
)
def test_parameters_that_break_a_rule_are_rejected_field_by_field(
    overrides: dict[str, Any], field: str
) -> None:
    with pytest.raises(InvalidDrawParameters) as caught:
        run_draw(make_inputs(**overrides), SEED)
    assert caught.value.code == "invalid_draw_parameters"
    assert field in caught.value.fields


def test_every_broken_parameter_is_reported_at_once() -> None:
    inputs = make_inputs(team_size=1, rates={"risk:good": "3"}, min_targets=3, max_targets=2)
    with pytest.raises(InvalidDrawParameters) as caught:
        run_draw(inputs, "not hex")
    assert {"team_size", "rates.risk:good", "min_targets", "seed"} <= set(caught.value.fields)


@pytest.mark.parametrize("seed", ["abc", "zz" * 32, "00" * 8, "00" * 65, ""])
def test_a_seed_that_is_not_16_to_64_bytes_of_hex_is_rejected(seed: str) -> None:
    with pytest.raises(InvalidDrawParameters) as caught:
        run_draw(make_inputs(), seed)
    assert "seed" in caught.value.fields


def test_duplicate_enterprise_ids_are_rejected() -> None:
    enterprises = make_enterprises(3) + make_enterprises(1)
    with pytest.raises(InvalidDrawParameters) as caught:
        run_draw(make_inputs(enterprises), SEED)
    assert "enterprises" in caught.value.fields


def test_an_inspector_in_both_pools_is_rejected() -> None:
    outside = [OutsideInspector("i000", "tax", "SW1", None)]
    with pytest.raises(InvalidDrawParameters) as caught:
        run_draw(make_inputs(outside_inspectors=outside), SEED)
    assert "outside_inspectors" in caught.value.fields


# ----------------------------------------------------------- public JSON, verify


def test_the_public_json_reads_back_as_published() -> None:
    inputs = make_inputs(
        make_enterprises(8),
        make_inspectors(5),
        outside_inspectors=[OutsideInspector("m1", "market regulation", "SC1", None)],
        outside_per_team=1,
        recusals=[Pair("i000", "e" + "risk:good-001")],
        previous_assignments=[Pair("i001", "erisk:good-002")],
        min_targets=2,
        max_targets=6,
    )
    result = run_draw(inputs, SEED)

    again = read_document(result.to_public_json())

    assert again.assignments == result.assignments
    assert again.strata == result.strata
    assert again.inputs.snapshot == result.snapshot
    assert fingerprint(again.inputs.snapshot) == result.fingerprint


def test_a_document_with_a_member_of_the_wrong_type_is_refused_saying_why() -> None:
    doc = run_draw(make_inputs(make_enterprises(6), make_inspectors(5)), SEED).to_public_dict()
    doc["result"]["strata"][0]["pool_size"] = "six"

    with pytest.raises(InvalidDrawParameters) as caught:
        read_document(doc)

    assert caught.value.fields == {"document": "expected a whole number, got 'six'"}
    assert str(caught.value).endswith("expected a whole number, got 'six'")


def test_verify_accepts_an_untouched_draw() -> None:
    result = run_draw(make_inputs(make_enterprises(20), make_inspectors(5)), SEED)
    assert verify(result.to_public_json()) == verify(result.to_public_dict())
    assert verify(result.to_public_json()).matches


def test_verify_reports_a_changed_seed() -> None:
    doc = run_draw(make_inputs(make_enterprises(20), make_inspectors(5)), SEED).to_public_dict()
    doc["seed"] = OTHER_SEED

    outcome = verify(doc)

    assert not outcome.matches
    assert "seed_commitment is not SHA-256 of the seed" in outcome.differences


def test_verify_reports_a_swapped_inspector() -> None:
    doc = run_draw(make_inputs(make_enterprises(6), make_inspectors(5)), SEED).to_public_dict()
    team = doc["result"]["assignments"][0]["inspectors"]
    team[0] = next(f"i{n:03d}" for n in range(5) if f"i{n:03d}" not in team)

    outcome = verify(json.dumps(doc))

    assert not outcome.matches
    assert any("team for enterprise" in d for d in outcome.differences)


def test_verify_reports_an_enterprise_removed_from_the_pool() -> None:
    doc = run_draw(make_inputs(make_enterprises(6), make_inspectors(5)), SEED).to_public_dict()
    del doc["inputs"]["enterprises"]["risk:good"][0]

    outcome = verify(doc)

    assert not outcome.matches
    assert any(d.startswith("fingerprint") for d in outcome.differences)


def test_verify_reports_inputs_that_cannot_be_drawn() -> None:
    doc = run_draw(make_inputs(make_enterprises(2), make_inspectors(3)), SEED).to_public_dict()
    doc["inputs"]["inspectors"] = doc["inputs"]["inspectors"][:1]
    outcome = verify(doc)
    assert not outcome.matches
    assert any("cannot be drawn" in d for d in outcome.differences)


def test_a_document_that_is_not_a_draw_is_rejected() -> None:
    with pytest.raises(InvalidDrawParameters):
        verify("{]")
    with pytest.raises(InvalidDrawParameters):
        verify({"algorithm": ALGORITHM_VERSION})
