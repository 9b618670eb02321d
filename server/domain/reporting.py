"""Arithmetic of the annual statistics report: year-on-year change, rates and money display."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

ChangeKind = Literal["new", "none", "percent"]


@dataclass(frozen=True)
class Change:
    """This year against last year.

    ``new`` when last year was zero and this year is not: a percentage of nothing is
    meaningless (the hand-made tables print "+370000%" there). ``none`` when both are zero.
    Otherwise ``percent`` holds the change, rounded half-up to one decimal place.
    """

    kind: ChangeKind
    percent: Decimal | None = None

    @property
    def display(self) -> str:
        """How the report prints it: ``+7.6%``, ``-20.0%``, ``新增`` or ``—``."""
        if self.kind == "new":
            return "新增"
        if self.kind == "none" or self.percent is None:
            return "—"
        sign = "+" if self.percent > 0 else ""
        return f"{sign}{self.percent}%"


def change(this_year: int, last_year: int) -> Change:
    _require_count(this_year, "this_year")
    _require_count(last_year, "last_year")
    if last_year == 0:
        return Change("new") if this_year else Change("none")
    return Change("percent", _percent(this_year - last_year, last_year, 1))


def completion_rate(done: int, planned: int, *, places: int = 1) -> Decimal | None:
    """``done / planned`` in percent (255 of 237 → 107.6); ``None`` when nothing was planned."""
    _require_count(done, "done")
    _require_count(planned, "planned")
    return None if planned == 0 else _percent(done, planned, places)


def rectification_rate(closed: int, found: int, *, places: int = 1) -> Decimal | None:
    """Hazards closed of those found, in percent; ``None`` when none were found."""
    _require_count(closed, "closed")
    _require_count(found, "found")
    return None if found == 0 else _percent(closed, found, places)


def format_percent(value: Decimal | None) -> str:
    """``107.6%``; ``—`` where there is no rate (nothing planned or found)."""
    return "—" if value is None else f"{value}%"


def _percent(numerator: int, denominator: int, places: int) -> Decimal:
    # Integer arithmetic, rounded once: dividing Decimals first would round to the context
    # precision and then again to ``places``.
    if places < 0:
        raise ValueError("places must be >= 0")
    scaled = numerator * 100 * 10**places
    quotient, remainder = divmod(abs(scaled), denominator)
    if 2 * remainder >= denominator:
        quotient += 1
    signed = -quotient if scaled < 0 else quotient
    return Decimal(signed).scaleb(-places)


def _require_count(value: int, name: str) -> None:
    # Figures come from counting records; a negative one is a bug upstream, not user input.
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int, got {type(value).__name__}")
    if value < 0:
        raise ValueError(f"{name} must not be negative, got {value}")
