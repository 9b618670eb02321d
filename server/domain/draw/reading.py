"""Reading a published draw document back into inputs, of either format."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import date
from types import MappingProxyType
from typing import Any

from server.domain.draw.checks import is_int
from server.domain.draw.model import (
    Assignment,
    DrawInputs,
    DrawParameters,
    Enterprise,
    Inspector,
    InvalidDrawParameters,
    OutsideInspector,
    Pair,
    PublicInputs,
    PublishedDraw,
    StratumCount,
    is_certified,
)
from server.domain.draw.snapshot import (
    build_snapshot,
    build_snapshot_v1,
)


def read_document(document: str | bytes | Mapping[str, Any]) -> PublishedDraw:
    """Parse a public document (sr-draw/1 or /2) as published; nothing is recomputed here."""
    doc = load_document(document)
    try:
        algorithm = _str(doc["algorithm"])
        if algorithm == "sr-draw/1":
            inputs = _public_inputs_v1(inputs_v1(doc["inputs"]))
        else:
            inputs = _public_inputs(doc["inputs"])
        result = doc["result"]
        strata = tuple(
            StratumCount(
                stratum=_str(s["stratum"]),
                pool_size=_int(s["pool_size"]),
                rate=_str(s["rate"]),
                base=_int(s["base"]),
                drawn=_int(s["drawn"]),
            )
            for s in result["strata"]
        )
        assignments = tuple(
            Assignment(
                enterprise_id=_str(a["enterprise_id"]),
                stratum=_str(a["stratum"]),
                inspector_ids=tuple(_str(i) for i in a["inspectors"]),
                outside_inspector_ids=tuple(_str(i) for i in a["outside_inspectors"]),
            )
            for a in result["assignments"]
        )
        return PublishedDraw(
            format=_opt_str(doc.get("format")) or "",
            algorithm=algorithm,
            seed=_str(doc["seed"]),
            seed_commitment=_str(doc["seed_commitment"]),
            fingerprint=_str(doc["fingerprint"]),
            inputs=inputs,
            strata=strata,
            assignments=assignments,
        )
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise InvalidDrawParameters(
            f"not a draw document: {_describe(exc)}",
            fields={"document": _describe(exc)},
        ) from exc


def load_document(document: str | bytes | Mapping[str, Any]) -> Mapping[str, Any]:
    if isinstance(document, Mapping):
        return document
    try:
        doc = json.loads(document)
    except (ValueError, TypeError) as exc:
        raise InvalidDrawParameters(
            "the draw document is not JSON", fields={"document": str(exc)}
        ) from exc
    if not isinstance(doc, dict):
        raise InvalidDrawParameters(
            "the draw document is not a JSON object", fields={"document": "expected an object"}
        )
    return doc


def _public_inputs(snap: Mapping[str, Any]) -> PublicInputs:
    """sr-draw/2 inputs: re-sorted and de-duplicated, every published pair kept."""
    enterprises = snap["enterprises"]
    if not isinstance(enterprises, dict):
        raise TypeError("enterprises should map each stratum to its ids")
    strata = {_str(k): tuple(sorted(_strs(v))) for k, v in enterprises.items() if v}
    inspectors = tuple(sorted(_strs(snap["inspectors"])))
    outside = tuple(sorted(_strs(snap["outside_inspectors"])))
    recusals = tuple(_pair(x) for x in snap["recusals"])
    previous = tuple(_pair(x) for x in snap["previous_assignments"])
    params = _parameters_from(snap["parameters"])
    return PublicInputs(
        strata=strata,
        inspectors=inspectors,
        outside_inspectors=outside,
        recusals=recusals,
        previous_assignments=previous,
        parameters=params,
        pool_inspectors=len(inspectors),
        pool_outside_inspectors=len(outside),
        snapshot=build_snapshot(
            strata, inspectors, outside, recusals, previous, params, drawn=None
        ),
    )


def _public_inputs_v1(inputs: DrawInputs) -> PublicInputs:
    """sr-draw/1 inputs: the whole pool with certificates; who may be drawn follows from them."""
    on = inputs.parameters.draw_date
    strata: dict[str, list[str]] = {}
    for e in inputs.enterprises:
        strata.setdefault(e.stratum, []).append(e.id)
    return PublicInputs(
        strata={k: tuple(sorted(v)) for k, v in strata.items()},
        inspectors=tuple(
            i.id
            for i in inputs.inspectors
            if is_certified(i.certificate_no, i.certificate_valid_until, on)
        ),
        outside_inspectors=tuple(
            o.id
            for o in inputs.outside_inspectors
            if is_certified(o.certificate_no, o.certificate_valid_until, on)
        ),
        recusals=tuple(inputs.recusals),
        previous_assignments=tuple(inputs.previous_assignments),
        parameters=inputs.parameters,
        pool_inspectors=len(inputs.inspectors),
        pool_outside_inspectors=len(inputs.outside_inspectors),
        snapshot=build_snapshot_v1(inputs),
    )


def _parameters_from(p: Mapping[str, Any]) -> DrawParameters:
    return DrawParameters(
        draw_date=date.fromisoformat(_str(p["draw_date"])),
        team_size=_int(p["team_size"]),
        outside_per_team=_int(p["outside_per_team"]),
        rates=MappingProxyType({_str(k): _str(v) for k, v in p["rates"].items()}),
        default_rate=_str(p["default_rate"]),
        min_targets=None if p["min_targets"] is None else _int(p["min_targets"]),
        max_targets=None if p["max_targets"] is None else _int(p["max_targets"]),
    )


def inputs_v1(snap: Mapping[str, Any]) -> DrawInputs:
    return DrawInputs(
        enterprises=tuple(
            Enterprise(
                id=_str(e["id"]),
                stratum=_str(e["stratum"]),
                industry=_opt_str(e["industry"]),
            )
            for e in snap["enterprises"]
        ),
        inspectors=tuple(
            Inspector(
                id=_str(i["id"]),
                certificate_no=_opt_str(i["certificate_no"]),
                certificate_valid_until=_opt_date(i["certificate_valid_until"]),
            )
            for i in snap["inspectors"]
        ),
        outside_inspectors=tuple(
            OutsideInspector(
                id=_str(o["id"]),
                department=_str(o["department"]),
                certificate_no=_opt_str(o["certificate_no"]),
                certificate_valid_until=_opt_date(o["certificate_valid_until"]),
            )
            for o in snap["outside_inspectors"]
        ),
        recusals=tuple(_pair(x) for x in snap["recusals"]),
        previous_assignments=tuple(_pair(x) for x in snap["previous_assignments"]),
        parameters=_parameters_from(snap["parameters"]),
    )


def _strs(value: Any) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise TypeError("expected a list of strings")
    return value


def _pair(value: Any) -> Pair:
    if not isinstance(value, list) or len(value) != 2:
        raise ValueError(f"{value!r} is not an [inspector_id, enterprise_id] pair")
    return Pair(_str(value[0]), _str(value[1]))


def _str(value: Any) -> str:
    if not isinstance(value, str):
        raise TypeError(f"expected a string, got {value!r}")
    return value


def _opt_str(value: Any) -> str | None:
    return None if value is None else _str(value)


def _opt_date(value: Any) -> date | None:
    return None if value is None else date.fromisoformat(_str(value))


def _int(value: Any) -> int:
    if not is_int(value):
        raise TypeError(f"expected a whole number, got {value!r}")
    return int(value)


def _describe(exc: Exception) -> str:
    if isinstance(exc, KeyError):
        return f"missing member {exc.args[0]!r}"
    return str(exc)
