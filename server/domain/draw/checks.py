"""Checks of a draw's inputs and seed before anything is drawn."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any

from server.domain.draw.model import (
    DrawInputs,
    DrawParameters,
    InvalidDrawParameters,
    Pair,
    PublicInputs,
)
from server.domain.draw.snapshot import normalize_rate, normalize_seed


def validate(inputs: DrawInputs, seed: str) -> str:
    """Collect every field error before raising, so a plan editor can show them all at once."""
    fields: dict[str, str] = {}
    seed_hex = _check_seed(fields, seed)
    p = inputs.parameters
    _check_parameters(fields, p)
    if "team_size" not in fields and p.team_size > len(inputs.inspectors):
        fields["team_size"] = (
            f"is {p.team_size} but the inspector pool has only {len(inputs.inspectors)}"
        )
    if "outside_per_team" not in fields and p.outside_per_team > len(inputs.outside_inspectors):
        fields["outside_per_team"] = (
            f"is {p.outside_per_team} but the outside inspector pool has only "
            f"{len(inputs.outside_inspectors)}"
        )
    check_ids(fields, "enterprises", [e.id for e in inputs.enterprises])
    _check_strata(fields, [e.stratum for e in inputs.enterprises])
    _check_people(
        fields, [i.id for i in inputs.inspectors], [o.id for o in inputs.outside_inspectors]
    )
    _check_pairs(fields, inputs.recusals, inputs.previous_assignments)
    _raise_if_any(fields)
    return seed_hex


def validate_public(inputs: PublicInputs, seed: str) -> str:
    """The rules a published document's inputs must keep before they can be drawn."""
    fields: dict[str, str] = {}
    seed_hex = _check_seed(fields, seed)
    _check_parameters(fields, inputs.parameters)
    check_ids(fields, "enterprises", [i for ids in inputs.strata.values() for i in ids])
    _check_strata(fields, list(inputs.strata))
    _check_people(fields, list(inputs.inspectors), list(inputs.outside_inspectors))
    _check_pairs(fields, inputs.recusals, inputs.previous_assignments)
    _raise_if_any(fields)
    return seed_hex


def _raise_if_any(fields: dict[str, str]) -> None:
    if fields:
        first = next(iter(fields.items()))
        raise InvalidDrawParameters(
            f"invalid draw parameters: {first[0]} {first[1]}", fields=fields
        )


def _check_seed(fields: dict[str, str], seed: str) -> str:
    try:
        return normalize_seed(seed)
    except InvalidDrawParameters as exc:
        fields.update(exc.fields)
        return ""


def _check_parameters(fields: dict[str, str], p: DrawParameters) -> None:
    if not isinstance(p.draw_date, date):
        fields["draw_date"] = "must be a date"
    if not is_int(p.team_size) or p.team_size < 2:
        fields["team_size"] = "must be at least 2: every inspection needs two inspectors"
    if not is_int(p.outside_per_team) or p.outside_per_team < 0:
        fields["outside_per_team"] = "must be a whole number, 0 or more"
    for name in ("min_targets", "max_targets"):
        value = getattr(p, name)
        if value is not None and (not is_int(value) or value < 0):
            fields[name] = "must be a whole number, 0 or more"
    if (
        "min_targets" not in fields
        and "max_targets" not in fields
        and p.min_targets is not None
        and p.max_targets is not None
        and p.min_targets > p.max_targets
    ):
        fields["min_targets"] = f"is {p.min_targets}, above max_targets {p.max_targets}"
    for key, rate in p.rates.items():
        if not isinstance(key, str) or not key or "\x00" in key:
            fields["rates"] = f"stratum key {key!r} must be a non-empty string without NUL"
            continue
        try:
            normalize_rate(rate)
        except ValueError as exc:
            fields[f"rates.{key}"] = f"{exc}; a sampling rate is within [0, 1]"
    try:
        normalize_rate(p.default_rate)
    except ValueError as exc:
        fields["default_rate"] = f"{exc}; a sampling rate is within [0, 1]"


def _check_strata(fields: dict[str, str], keys: Iterable[Any]) -> None:
    for key in keys:
        if not isinstance(key, str) or not key or "\x00" in key:
            fields["enterprises"] = f"stratum {key!r} is not a usable stratum key"
            return


def _check_people(fields: dict[str, str], inspectors: list[Any], outside: list[Any]) -> None:
    check_ids(fields, "inspectors", inspectors)
    check_ids(fields, "outside_inspectors", outside)
    both = set(inspectors) & set(outside)
    if both:
        fields["outside_inspectors"] = f"{min(both)} is also in the agency inspector pool"


def _check_pairs(fields: dict[str, str], *lists: Iterable[Any]) -> None:
    for name, pairs in zip(("recusals", "previous_assignments"), lists, strict=True):
        for pair in pairs:
            if (
                not isinstance(pair, Pair)
                or not _good_id(pair.inspector_id)
                or not _good_id(pair.enterprise_id)
            ):
                fields[name] = f"{pair!r} is not an (inspector_id, enterprise_id) pair"
                break


def is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _good_id(value: Any) -> bool:
    # Surrogates cannot be encoded as UTF-8, so they could not be fingerprinted.
    return isinstance(value, str) and bool(value) and value.isprintable()


def check_ids(fields: dict[str, str], name: str, ids: list[Any]) -> None:
    seen: set[str] = set()
    for value in ids:
        if not _good_id(value):
            fields[name] = f"{value!r} is not a usable id"
            return
        if value in seen:
            fields[name] = f"{value} appears twice"
            return
        seen.add(value)
