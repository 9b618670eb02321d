"""Draw plan rules: strata, sampling rates, teams and schedule a plan may ask for."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from server.domain.draw.snapshot import normalize_rate
from server.domain.enterprises import CREDIT_RATINGS, RISK_GRADES
from server.domain.errors import ValidationFailed
from server.domain.inspections import MIN_TEAM
from server.domain.periods import InvalidCron, parse_crontab

STRATIFY_BY = ("risk", "credit")
UNRATED = "none"
# One stratum for the whole pool when a plan does not stratify.
ALL = "all"


class InvalidDrawPlan(ValidationFailed):
    """A plan that could never produce a lawful draw; ``fields`` names each broken rule."""

    code = "invalid_draw_plan"


def stratum_of(strata_by: Iterable[str], risk_grade: str | None, credit_rating: str | None) -> str:
    """The stratum key of an enterprise: ``risk:good``, ``credit:B``, ``risk:poor/credit:C``."""
    parts = []
    for axis in strata_by:
        if axis == "risk":
            parts.append(f"risk:{risk_grade or UNRATED}")
        elif axis == "credit":
            parts.append(f"credit:{credit_rating or UNRATED}")
    return "/".join(parts) or ALL


def stratum_keys(strata_by: Iterable[str]) -> list[str]:
    """Every stratum key a plan stratified by ``strata_by`` can meet."""
    keys = [""]
    for axis in strata_by:
        values = list(RISK_GRADES) if axis == "risk" else list(CREDIT_RATINGS)
        values.append(UNRATED)
        keys = [f"{k}/{axis}:{v}" if k else f"{axis}:{v}" for k in keys for v in values]
    return [k for k in keys if k] or [ALL]


@dataclass(frozen=True)
class PoolSize:
    """Who a plan can draw teams from when it is saved: everyone listed, and those certified.

    ``certified`` counts the people whose certificate is valid on ``on`` (the agency's today);
    only they are ever drawn, so a plan whose certificates have all lapsed cannot run.
    """

    inspectors: int
    certified: int
    outside_inspectors: int
    outside_certified: int
    on: date


def check_plan(plan: Mapping[str, Any], pool: PoolSize) -> dict[str, Any]:
    """Every rule a plan breaks, all at once; returns the rates normalised (``"0.10"`` → ``"0.1"``).

    Raises ``InvalidDrawPlan`` whose message names the first rule and whose ``fields`` name
    them all.
    """
    fields: dict[str, list[str]] = {}
    strata_by = list(plan.get("strata_by") or [])
    if len(set(strata_by)) != len(strata_by) or not set(strata_by) <= set(STRATIFY_BY):
        fields["strata_by"] = [f"each of {', '.join(STRATIFY_BY)} at most once"]
    valid_keys = set(stratum_keys([a for a in strata_by if a in STRATIFY_BY]))

    rates: dict[str, str] = {}
    for key, value in (plan.get("rates") or {}).items():
        if key not in valid_keys:
            fields[f"rates.{key}"] = [
                f"not a stratum of this plan; use one of {', '.join(sorted(valid_keys))}"
            ]
            continue
        try:
            rates[key] = normalize_rate(value)
        except ValueError as exc:
            fields[f"rates.{key}"] = [f"{exc}; a sampling rate is a decimal within [0, 1]"]
    default_rate = "0"
    try:
        default_rate = normalize_rate(plan.get("default_rate", "0"))
    except ValueError as exc:
        fields["default_rate"] = [f"{exc}; a sampling rate is a decimal within [0, 1]"]

    team_size = plan.get("team_size", MIN_TEAM)
    if team_size < MIN_TEAM:
        fields["team_size"] = [f"must be at least {MIN_TEAM}: every inspection needs two"]
    elif team_size > pool.inspectors:
        fields["team_size"] = [
            f"is {team_size} but the inspector pool has only {pool.inspectors} active inspectors"
        ]
    elif team_size > pool.certified:
        fields["team_size"] = [
            f"is {team_size} but only {pool.certified} of the pool's {pool.inspectors} "
            f"inspectors hold a certificate valid on {pool.on.isoformat()}"
        ]
    outside = plan.get("outside_per_team", 0)
    if outside > pool.outside_inspectors:
        fields["outside_per_team"] = [
            f"is {outside} but the plan lists only {pool.outside_inspectors} outside inspectors"
        ]
    elif outside > pool.outside_certified:
        fields["outside_per_team"] = [
            f"is {outside} but only {pool.outside_certified} of the plan's "
            f"{pool.outside_inspectors} outside inspectors hold a certificate valid on "
            f"{pool.on.isoformat()}"
        ]
    low, high = plan.get("min_targets"), plan.get("max_targets")
    if low is not None and high is not None and low > high:
        fields["min_targets"] = [f"is {low}, above max_targets {high}"]
    if plan.get("cron"):
        try:
            parse_crontab(plan["cron"])
        except InvalidCron as exc:
            fields["cron"] = list(exc.fields["cron"])
    if fields:
        name, messages = next(iter(fields.items()))
        raise InvalidDrawPlan(
            f"the plan cannot be drawn: {name} {messages[0]}",
            fields=fields,
            details={"rule": name.split(".")[0]},
        )
    return {"rates": rates, "default_rate": default_rate}
