"""The GB 32100-2015 check character of unified social credit codes.

The oracle here is written from the standard, independently of ``server.domain``: each of
the 31 characters has a value (0–9, then A=10 … Y=30 without I, O, S, V, Z), position i
(1–17) has the weight 3^(i-1) mod 31, and a code is valid exactly when the weighted sum of
its first 17 values plus the value of its check character is a multiple of 31.
"""

from __future__ import annotations

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from server.domain.enterprises import (
    InvalidUSCC,
    is_valid_uscc,
    normalize_uscc,
    uscc_check_character,
)

# Table 1 of GB 32100-2015, spelled out.
VALUES = {
    **{str(d): d for d in range(10)},
    "A": 10, "B": 11, "C": 12, "D": 13, "E": 14, "F": 15, "G": 16, "H": 17, "J": 18,
    "K": 19, "L": 20, "M": 21, "N": 22, "P": 23, "Q": 24, "R": 25, "T": 26, "U": 27,
    "W": 28, "X": 29, "Y": 30,
}  # fmt: skip
WEIGHTS = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28]
ALPHABET = "".join(VALUES)

# Codes printed on business licences (and the standard's own example), checked by hand.
PUBLISHED = [
    "91350100M000100Y43",  # GB 32100-2015, the example of the standard
    "914403001922038216",  # 华为技术有限公司
    "91440300708461136T",  # 深圳市腾讯计算机系统有限公司
    "91330100716105852F",  # 阿里巴巴（中国）有限公司
    "91110000802100433B",  # 北京百度网讯科技有限公司
    "91110108558521630L",  # 北京小米科技有限责任公司
    "91110000100015058K",  # 中国移动通信集团有限公司
    "91520000214434146R",  # 贵州茅台酒股份有限公司
]


def satisfies_the_standard(code: str) -> bool:
    """The weighted-sum property over all 18 characters, from the standard alone."""
    if len(code) != 18 or any(ch not in VALUES for ch in code):
        return False
    total = sum(VALUES[ch] * w for ch, w in zip(code, WEIGHTS, strict=False))
    return (total + VALUES[code[17]]) % 31 == 0


def complete(body: str) -> str:
    """The one code of the standard that starts with ``body``, found by trying all 31."""
    (code,) = [body + ch for ch in ALPHABET if satisfies_the_standard(body + ch)]
    return code


_bodies = st.builds(
    lambda head, division, rest: head + division + rest,
    st.sampled_from(["91", "92", "93", "11", "12", "51", "52", "Y1"]),
    st.text(alphabet="0123456789", min_size=6, max_size=6),
    st.text(alphabet=ALPHABET, min_size=9, max_size=9),
)
_codes = _bodies.map(complete)


def test_the_oracle_accepts_the_published_codes() -> None:
    assert all(satisfies_the_standard(code) for code in PUBLISHED)


@pytest.mark.parametrize("code", PUBLISHED)
def test_published_codes_are_accepted_and_their_check_character_recomputed(code: str) -> None:
    assert normalize_uscc(code) == code
    assert uscc_check_character(code[:17]) == code[17]


@given(_bodies)
def test_the_check_character_is_the_one_the_standard_gives(body: str) -> None:
    assert body + uscc_check_character(body) == complete(body)


@given(_codes)
def test_every_code_of_the_standard_is_accepted(code: str) -> None:
    assert normalize_uscc(code) == code


@given(_bodies, st.text(alphabet="0123456789", min_size=6, max_size=6), st.sampled_from(ALPHABET))
def test_validity_is_exactly_the_weighted_sum_property(body: str, division: str, last: str) -> None:
    # Mostly invalid codes (about 30 in 31), with the division digits the rule requires.
    code = body[:2] + division + body[8:] + last
    assert is_valid_uscc(code) == satisfies_the_standard(code)


@given(_codes, st.sampled_from(ALPHABET))
def test_any_other_check_character_is_refused(code: str, wrong: str) -> None:
    assume(wrong != code[17])
    with pytest.raises(InvalidUSCC, match="check character"):
        normalize_uscc(code[:17] + wrong)


@given(_codes, st.integers(min_value=0, max_value=17), st.sampled_from(ALPHABET))
def test_changing_one_character_is_detected(code: str, position: int, replacement: str) -> None:
    assume(code[position] != replacement)
    changed = code[:position] + replacement + code[position + 1 :]
    # 31 is prime and no weight is 0 mod 31: every single substitution breaks the sum.
    assert not satisfies_the_standard(changed)
    assert not is_valid_uscc(changed)


@given(_codes)
def test_lower_case_spaces_and_full_width_characters_are_normalized(code: str) -> None:
    assert normalize_uscc(" " + code.lower()[:9] + " " + code.lower()[9:] + "\n") == code
    full_width = "".join(chr(ord(ch) + 0xFEE0) for ch in code)
    assert normalize_uscc(full_width) == code


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
