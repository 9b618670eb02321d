"""The GB 32100-2015 check character of unified social credit codes."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from server.domain.enterprises import (
    USCC_ALPHABET,
    InvalidUSCC,
    is_valid_uscc,
    normalize_uscc,
    uscc_check_character,
)

_body = st.builds(
    lambda head, division, rest: head + division + rest,
    st.sampled_from(["91", "92", "93", "11", "12", "51", "52", "Y1"]),
    st.text(alphabet="0123456789", min_size=6, max_size=6),
    st.text(alphabet=USCC_ALPHABET, min_size=9, max_size=9),
)


def test_the_weights_are_powers_of_three_modulo_31() -> None:
    from server.domain.enterprises import USCC_WEIGHTS

    assert USCC_WEIGHTS == (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


def test_a_published_code_is_accepted_and_its_check_character_recomputed() -> None:
    assert is_valid_uscc("91350100M000100Y43")
    assert uscc_check_character("91350100M000100Y4") == "3"


@given(_body)
def test_every_constructed_code_is_valid(body: str) -> None:
    assert normalize_uscc(body + uscc_check_character(body)) == body + uscc_check_character(body)


@given(_body, st.sampled_from(USCC_ALPHABET))
def test_any_other_check_character_is_refused(body: str, wrong: str) -> None:
    right = uscc_check_character(body)
    if wrong == right:
        return
    with pytest.raises(InvalidUSCC, match="check character"):
        normalize_uscc(body + wrong)


@given(_body, st.integers(min_value=0, max_value=16), st.sampled_from(USCC_ALPHABET))
def test_changing_one_character_is_detected(body: str, position: int, replacement: str) -> None:
    code = body + uscc_check_character(body)
    if code[position] == replacement:
        return
    changed = code[:position] + replacement + code[position + 1 :]
    # The check character catches every single substitution (31 is prime).
    assert not is_valid_uscc(changed) or not changed[2:8].isdigit()


@given(_body)
def test_lower_case_and_spaces_are_normalized(body: str) -> None:
    code = body + uscc_check_character(body)
    assert normalize_uscc(" " + code.lower()[:9] + " " + code.lower()[9:] + "\n") == code


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("", "18 characters"),
        ("91350100M000100Y4", "18 characters"),
        ("91350100M000100Y430", "18 characters"),
        ("91350100M000100I43", "not allowed"),
        ("91350100O000100Y43", "not allowed"),
        ("91A50100M000100Y43", "division"),
    ],
)
def test_malformed_codes_say_what_is_wrong(raw: str, message: str) -> None:
    with pytest.raises(InvalidUSCC, match=message):
        normalize_uscc(raw)
