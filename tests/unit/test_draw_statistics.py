"""Chi-square checks that the seeded draw treats equal candidates equally.

The seeds are fixed (SHA-256 of a counter), so each run sees the same numbers and the tests
cannot flake; the critical values are at alpha = 0.001, so a fair generator would fail them
for a given set of seeds only one time in a thousand, while a biased one fails them for sure.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Hashable, Iterable
from datetime import date
from itertools import combinations

from server.domain.draw.algorithm import SeededStream, run_draw
from server.domain.draw.model import DrawInputs, DrawParameters, Enterprise, Inspector

DRAW_DATE = date(2025, 3, 3)

# Upper 0.1 % points of the chi-square distribution, by degrees of freedom.
CHI2_CRITICAL_0_001 = {5: 20.515, 9: 27.877, 14: 36.123, 19: 43.820}


def seeds(count: int, label: str) -> Iterable[str]:
    for n in range(count):
        yield hashlib.sha256(f"{label}-{n}".encode()).hexdigest()


def chi_square(observed: Counter[Hashable], categories: list[Hashable]) -> float:
    total = sum(observed[c] for c in categories)
    expected = total / len(categories)
    return sum((observed[c] - expected) ** 2 / expected for c in categories)


def assert_uniform(observed: Counter[Hashable], categories: list[Hashable]) -> None:
    assert set(observed) <= set(categories)
    statistic = chi_square(observed, categories)
    critical = CHI2_CRITICAL_0_001[len(categories) - 1]
    assert statistic < critical, f"chi-square {statistic:.2f} >= {critical} ({observed})"


def test_every_enterprise_of_a_stratum_is_drawn_equally_often() -> None:
    small = [Enterprise(f"p{n}", "risk:poor") for n in range(10)]
    large = [Enterprise(f"g{n:02d}", "risk:good") for n in range(20)]
    inputs = DrawInputs(
        enterprises=small + large,
        inspectors=[Inspector(f"i{n}", f"C{n}", None) for n in range(4)],
        parameters=DrawParameters(DRAW_DATE, 2, {"risk:poor": "0.3", "risk:good": "0.25"}),
    )
    hits: Counter[Hashable] = Counter()
    for seed in seeds(2000, "inclusion"):
        for a in run_draw(inputs, seed).assignments:
            hits[a.enterprise_id] += 1

    assert_uniform(
        Counter({k: v for k, v in hits.items() if k.startswith("p")}), [e.id for e in small]
    )
    assert_uniform(
        Counter({k: v for k, v in hits.items() if k.startswith("g")}), [e.id for e in large]
    )


def test_every_subset_of_a_stratum_is_equally_likely() -> None:
    enterprises = [Enterprise(f"e{n}", "credit:B") for n in range(6)]
    inputs = DrawInputs(
        enterprises=enterprises,
        inspectors=[Inspector(f"i{n}", f"C{n}", None) for n in range(2)],
        parameters=DrawParameters(DRAW_DATE, 2, {"credit:B": "0.3"}),
    )
    subsets: Counter[Hashable] = Counter()
    for seed in seeds(3000, "subset"):
        drawn = tuple(a.enterprise_id for a in run_draw(inputs, seed).assignments)
        subsets[drawn] += 1

    assert_uniform(subsets, list(combinations([e.id for e in enterprises], 2)))


def test_equally_loaded_inspectors_are_teamed_up_equally_often() -> None:
    inputs = DrawInputs(
        enterprises=[Enterprise("only", "risk:poor")],
        inspectors=[Inspector(f"i{n}", f"C{n}", None) for n in range(6)],
        parameters=DrawParameters(DRAW_DATE, 2, {"risk:poor": "1"}),
    )
    teams: Counter[Hashable] = Counter()
    for seed in seeds(3000, "team"):
        teams[run_draw(inputs, seed).assignments[0].inspector_ids] += 1

    assert_uniform(teams, list(combinations([f"i{n}" for n in range(6)], 2)))


def test_below_gives_every_value_equally_often() -> None:
    stream = SeededStream(b"\x42" * 32, "statistics")
    values: Counter[Hashable] = Counter(stream.below(6) for _ in range(60_000))
    assert_uniform(values, list(range(6)))
