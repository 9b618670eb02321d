"""The draw plan form's rates: people type percents, plans store exact decimal fractions."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from server.web.draw_office import percent_to_rate, rate_to_percent, stratum_label


def test_percents_become_the_exact_fractions_a_plan_stores() -> None:
    assert percent_to_rate("3") == "0.03"
    assert percent_to_rate("12.5") == "0.125"
    assert percent_to_rate("100") == "1"
    assert percent_to_rate("0") == "0"


def test_what_is_not_a_number_is_left_for_the_schema_to_refuse() -> None:
    assert percent_to_rate("三成") == "三成"


@given(st.decimals(min_value=0, max_value=100, places=4, allow_nan=False))
def test_a_rate_shown_as_a_percent_reads_back_as_the_same_rate(percent: Decimal) -> None:
    rate = percent_to_rate(str(percent))
    assert Decimal(rate) == percent / 100
    assert percent_to_rate(rate_to_percent(rate)) == rate


def test_strata_are_named_as_people_name_them() -> None:
    assert stratum_label("risk:good/credit:A") == "风险等级好 / 信用A级"
    assert stratum_label("risk:none") == "风险等级未评定"
    assert stratum_label("all") == "全部企业"
