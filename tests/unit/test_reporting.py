"""Annual report arithmetic: year-on-year change, completion and rectification rates, money."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from server.domain.money import format_fen
from server.domain.reporting import (
    Change,
    change,
    completion_rate,
    format_percent,
    rectification_rate,
)


def test_a_drop_from_100_to_80_is_minus_twenty_percent() -> None:
    assert change(80, 100) == Change("percent", Decimal("-20.0"))
    assert change(80, 100).display == "-20.0%"


def test_a_figure_that_was_zero_last_year_is_new_not_a_huge_percentage() -> None:
    assert change(3700, 0) == Change("new")
    assert change(3700, 0).display == "新增"


def test_zero_both_years_is_no_change() -> None:
    assert change(0, 0) == Change("none")
    assert change(0, 0).display == "—"


def test_a_figure_that_fell_to_zero_is_minus_one_hundred_percent() -> None:
    assert change(0, 15).percent == Decimal("-100.0")


def test_change_rounds_half_up_to_one_decimal() -> None:
    # 1/8 = 12.5% exactly; 1/16 = 6.25% → 6.3; 1/32 = 3.125% → 3.1; -1/16 → -6.3 (away from 0)
    assert change(9, 8).percent == Decimal("12.5")
    assert change(17, 16).percent == Decimal("6.3")
    assert change(33, 32).percent == Decimal("3.1")
    assert change(15, 16).percent == Decimal("-6.3")
    assert change(108, 100).display == "+8.0%"


def test_seed_000_completion_rates() -> None:
    assert completion_rate(255, 237) == Decimal("107.6")
    assert completion_rate(178, 157) == Decimal("113.4")
    # The seed report prints whole percentages.
    assert completion_rate(255, 237, places=0) == Decimal("108")
    assert completion_rate(178, 157, places=0) == Decimal("113")
    assert completion_rate(255 + 178, 237 + 157) == Decimal("109.9")


def test_nothing_planned_has_no_completion_rate() -> None:
    assert completion_rate(3, 0) is None
    assert format_percent(completion_rate(3, 0)) == "—"
    assert format_percent(completion_rate(255, 237)) == "107.6%"


def test_seed_000_rectified_every_hazard() -> None:
    assert rectification_rate(355, 355) == Decimal("100.0")
    assert rectification_rate(350, 355) == Decimal("98.6")
    assert rectification_rate(0, 0) is None


def test_seed_000_fines_are_printed_in_yuan() -> None:
    assert format_fen(316458026) == "3,164,580.26"


@pytest.mark.parametrize(
    ("fen", "text"),
    [(0, "0.00"), (5, "0.05"), (100, "1.00"), (3700000, "37,000.00"), (-12345, "-123.45")],
)
def test_fen_formatting_edges(fen: int, text: str) -> None:
    assert format_fen(fen) == text


def test_money_as_a_float_is_refused() -> None:
    with pytest.raises(TypeError):
        format_fen(3164580.26)  # type: ignore[arg-type]


def test_negative_counts_are_a_bug() -> None:
    with pytest.raises(ValueError):
        change(-1, 3)


@given(st.integers(min_value=0, max_value=10**7), st.integers(min_value=1, max_value=10**7))
def test_change_matches_exact_decimal_rounding(this_year: int, last_year: int) -> None:
    from decimal import ROUND_HALF_UP, localcontext

    with localcontext() as ctx:
        ctx.prec = 60
        exact = (Decimal(this_year - last_year) * 100 / Decimal(last_year)).quantize(
            Decimal("0.1"), rounding=ROUND_HALF_UP
        )
    assert change(this_year, last_year).percent == exact


@given(st.integers(min_value=-(10**15), max_value=10**15))
def test_fen_formatting_reads_back_to_the_same_amount(fen: int) -> None:
    assert round(Decimal(format_fen(fen).replace(",", "")) * 100) == fen
