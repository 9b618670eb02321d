"""Enforcement document numbers, provisional device numbers and document prerequisites."""

from __future__ import annotations

import uuid

import pytest
from hypothesis import given
from hypothesis import strategies as st

from server.domain.errors import ValidationFailed
from server.domain.numbering import (
    DOCUMENT_TYPES,
    DocumentNumber,
    check_document_prerequisites,
    format_number,
    is_provisional_number,
    parse_number,
    parse_provisional_number,
    provisional_number,
)


def test_a_rectification_order_number_reads_like_the_paper_ones() -> None:
    assert format_number("南开", "rectification_order", 2024, 15) == "（南开）应急责改〔2024〕15号"


@pytest.mark.parametrize(
    ("doc_type", "title", "abbr"),
    [
        ("inspection_record", "现场检查记录", "应急检记"),
        ("onsite_measures", "现场处理措施决定书", "应急现决"),
        ("rectification_order", "责令限期整改指令书", "应急责改"),
        ("reinspection_opinion", "整改复查意见书", "应急复查"),
        ("penalty_decision", "行政处罚决定书", "应急罚"),
    ],
)
def test_every_document_type_has_its_title_and_abbreviation(
    doc_type: str, title: str, abbr: str
) -> None:
    assert DOCUMENT_TYPES[doc_type].title == title
    assert format_number("浏阳", doc_type, 2024, 1) == f"（浏阳）{abbr}〔2024〕1号"


def test_parsing_gives_back_the_parts() -> None:
    parsed = parse_number("（南开）应急罚〔2024〕51号")
    assert parsed == DocumentNumber("南开", "penalty_decision", 2024, 51)


def test_typed_variants_are_read_and_printed_canonically() -> None:
    parsed = parse_number(" (南开)应急责改[2024]015号 ")
    assert parsed == DocumentNumber("南开", "rectification_order", 2024, 15)
    assert str(parsed) == "（南开）应急责改〔2024〕15号"
    assert parse_number("（南开）应急复查【2023】3号").doc_type == "reinspection_opinion"


@pytest.mark.parametrize(
    "text",
    [
        "",
        "15号",
        "南开应急责改〔2024〕15号",
        "（南开）应急责改〔2024〕15",
        "（南开）应急责改〔24〕15号",
        "（南开）应急整改〔2024〕15号",
        "（南开）应急责改〔2024〕0号",
        "（）应急责改〔2024〕15号",
        "临-3F2A9C01-7",
    ],
)
def test_garbage_is_refused(text: str) -> None:
    with pytest.raises(ValidationFailed) as exc:
        parse_number(text)
    assert exc.value.code == "invalid_document_number"


@pytest.mark.parametrize(
    ("agency", "doc_type", "year", "serial", "code"),
    [
        ("", "penalty_decision", 2024, 1, "invalid_document_number"),
        ("南 开", "penalty_decision", 2024, 1, "invalid_document_number"),
        ("南开）", "penalty_decision", 2024, 1, "invalid_document_number"),
        ("南开", "penalty_notice", 2024, 1, "unknown_document_type"),
        ("南开", "penalty_decision", 24, 1, "invalid_document_number"),
        ("南开", "penalty_decision", 2024, 0, "invalid_document_number"),
    ],
)
def test_formatting_refuses_parts_that_would_not_parse(
    agency: str, doc_type: str, year: int, serial: int, code: str
) -> None:
    with pytest.raises(ValidationFailed) as exc:
        format_number(agency, doc_type, year, serial)
    assert exc.value.code == code


_agency = st.text(
    alphabet=st.characters(
        blacklist_categories=("Cs", "Zs", "Zl", "Zp", "Cc"),
        blacklist_characters="（）()〔〕[]【】",
    ),
    min_size=1,
    max_size=20,
).filter(lambda s: not any(ch.isspace() for ch in s))


@given(
    _agency,
    st.sampled_from(sorted(DOCUMENT_TYPES)),
    st.integers(min_value=1000, max_value=9999),
    st.integers(min_value=1, max_value=10**6),
)
def test_format_and_parse_are_inverse(agency: str, doc_type: str, year: int, serial: int) -> None:
    text = format_number(agency, doc_type, year, serial)
    assert parse_number(text) == DocumentNumber(agency, doc_type, year, serial)
    assert str(parse_number(text)) == text


def test_a_provisional_number_names_the_device_and_its_sequence() -> None:
    device = uuid.UUID("3f2a9c01-0000-4000-8000-000000000000")
    text = provisional_number(device, 7)
    assert text == "临-3F2A9C01-7"
    assert is_provisional_number(text)
    assert parse_provisional_number(text).local_seq == 7


@given(st.uuids(), st.integers(min_value=1, max_value=10**6))
def test_a_provisional_number_is_never_mistaken_for_an_official_one(
    device: uuid.UUID, seq: int
) -> None:
    text = provisional_number(device, seq)
    assert is_provisional_number(text)
    assert not is_provisional_number(format_number("南开", "penalty_decision", 2024, seq))
    with pytest.raises(ValidationFailed):
        parse_number(text)


def test_a_provisional_sequence_starts_at_one() -> None:
    with pytest.raises(ValidationFailed) as exc:
        provisional_number(uuid.uuid4(), 0)
    assert exc.value.code == "invalid_provisional_number"


def test_a_reinspection_opinion_needs_an_order_for_every_hazard() -> None:
    ordered, unordered = uuid.uuid4(), uuid.uuid4()
    check_document_prerequisites("reinspection_opinion", [ordered], {ordered})
    with pytest.raises(ValidationFailed) as exc:
        check_document_prerequisites("reinspection_opinion", [ordered, unordered], [ordered])
    assert exc.value.code == "missing_rectification_order"
    assert exc.value.details == {"hazard_ids": [str(unordered)]}


def test_a_reinspection_opinion_without_hazards_is_refused() -> None:
    with pytest.raises(ValidationFailed) as exc:
        check_document_prerequisites("reinspection_opinion", [], [])
    assert exc.value.code == "hazards_required"


def test_other_documents_need_no_prior_order() -> None:
    hazard = uuid.uuid4()
    for doc_type in ("inspection_record", "onsite_measures", "penalty_decision"):
        check_document_prerequisites(doc_type, [hazard], [])
    check_document_prerequisites("rectification_order", [hazard], [])
    with pytest.raises(ValidationFailed):
        check_document_prerequisites("rectification_order", [], [])
