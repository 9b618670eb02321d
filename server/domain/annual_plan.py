"""The annual enforcement plan (年度执法计划) and its completion, computed from inspections."""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from decimal import Decimal
from typing import Generic, TypeVar

from server.domain.errors import ValidationFailed
from server.domain.reporting import completion_rate
from server.domain.visits import yearly_cap_errors

# Which recorded inspections count against which part of the plan. Key enterprises are covered
# in full (重点检查); general inspections are the double-random ones, joint checks with other
# departments included (seed 000 runs its joint checks as 双随机). Complaint-driven and other
# inspections are unplanned: they count in the total only.
KEY_KINDS = frozenset({"key"})
GENERAL_KINDS = frozenset({"random", "joint"})

# What identifies an enterprise: the service passes UUIDs, the tests plain strings.
K = TypeVar("K", bound=Hashable)


@dataclass(frozen=True)
class RowCompletion(Generic[K]):
    enterprise_id: K
    planned: int
    done: int

    @property
    def rate(self) -> Decimal | None:
        return completion_rate(self.done, self.planned)

    @property
    def covered(self) -> bool:
        return self.done > 0


@dataclass(frozen=True)
class CategoryCompletion:
    planned: int
    done: int

    @property
    def rate(self) -> Decimal | None:
        return completion_rate(self.done, self.planned)


@dataclass(frozen=True)
class PlanCompletion(Generic[K]):
    """Completion of a plan. ``key.done`` is every key inspection of the year: the rows' done
    plus ``key_outside_plan`` (key inspections at enterprises the plan does not list, e.g. one
    made key during the year), so the rows and the "other" line add up to the total."""

    rows: tuple[RowCompletion[K], ...]
    key: CategoryCompletion
    general: CategoryCompletion
    unplanned_done: int
    key_outside_plan: int = 0

    @property
    def overall(self) -> CategoryCompletion:
        return CategoryCompletion(
            self.key.planned + self.general.planned, self.key.done + self.general.done
        )

    @property
    def key_enterprises(self) -> int:
        return len(self.rows)

    @property
    def key_enterprises_covered(self) -> int:
        return sum(1 for r in self.rows if r.covered)

    @property
    def coverage_rate(self) -> Decimal | None:
        return completion_rate(self.key_enterprises_covered, self.key_enterprises)

    @property
    def inspections(self) -> int:
        return self.key.done + self.general.done + self.unplanned_done


def check_plan(
    planned_general: int, key_rows: Mapping[K, int], caps: Mapping[str, int]
) -> None:
    fields: dict[str, str] = {}
    if planned_general < 0:
        fields["planned_general"] = "not negative"
    if any(n < 1 for n in key_rows.values()):
        fields["key_enterprises"] = "each key enterprise is planned at least once"
    cap_errors = yearly_cap_errors(caps)
    if cap_errors:
        fields["yearly_caps"] = "; ".join(f"{k}: {v}" for k, v in sorted(cap_errors.items()))
    if fields:
        raise ValidationFailed("the annual plan is not valid", fields=fields)


def completion(
    key_rows: Mapping[K, int],
    planned_general: int,
    done_by_enterprise_kind: Mapping[tuple[K, str], int],
) -> PlanCompletion[K]:
    """Completion of a plan from counts of the year's inspections per (enterprise, kind).

    A key row's done count is its enterprise's ``key`` inspections; every general inspection
    counts against the general figure, whichever enterprise it was at. Done is not capped at
    planned: 255 of 237 is 108%, as the bureaus report it.
    """
    key_by_enterprise: dict[K, int] = {}
    for (enterprise_id, kind), n in done_by_enterprise_kind.items():
        if kind in KEY_KINDS:
            key_by_enterprise[enterprise_id] = key_by_enterprise.get(enterprise_id, 0) + n
    rows = tuple(
        RowCompletion(enterprise_id, planned, key_by_enterprise.get(enterprise_id, 0))
        for enterprise_id, planned in key_rows.items()
    )
    key_done = sum(n for (_e, k), n in done_by_enterprise_kind.items() if k in KEY_KINDS)
    general_done = sum(n for (_e, k), n in done_by_enterprise_kind.items() if k in GENERAL_KINDS)
    unplanned = sum(
        n
        for (_e, k), n in done_by_enterprise_kind.items()
        if k not in KEY_KINDS and k not in GENERAL_KINDS
    )
    outside = sum(n for e, n in key_by_enterprise.items() if e not in key_rows)
    return PlanCompletion(
        rows,
        CategoryCompletion(sum(key_rows.values()), key_done),
        CategoryCompletion(planned_general, general_done),
        unplanned,
        outside,
    )


def over_cap(
    inspections_by_enterprise: Mapping[K, int],
    cap_of: Callable[[K], int | None],
    key_enterprises: AbstractSet[K],
) -> dict[K, tuple[int, int]]:
    """Enterprises inspected more often than their yearly cap: ``{id: (done, cap)}``.

    ``cap_of`` gives an enterprise's cap (``VisitPolicy.cap_for``: by credit rating and risk
    grade, none for key enterprises). Enterprises the plan lists as key are never capped.
    """
    out: dict[K, tuple[int, int]] = {}
    for enterprise_id, done in inspections_by_enterprise.items():
        if enterprise_id in key_enterprises:
            continue
        cap = cap_of(enterprise_id)
        if cap is not None and done > cap:
            out[enterprise_id] = (done, cap)
    return out
