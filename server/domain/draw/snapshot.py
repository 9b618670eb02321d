"""The canonical snapshot of a draw's inputs: its JSON, fingerprint, rates and seed commitment."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Collection, Iterable, Mapping
from datetime import date
from decimal import Decimal
from fractions import Fraction
from typing import Any

from server.domain.draw.model import (
    SEED_MAX_BYTES,
    SEED_MIN_BYTES,
    DrawInputs,
    DrawParameters,
    InvalidDrawParameters,
    Pair,
    RateLike,
    canonical_json,
)

_HEX_RE = re.compile(r"[0-9a-fA-F]*")


_RATE_RE = re.compile(r"(?:0|[1-9][0-9]*)(?:\.[0-9]+)?")


def normalize_rate(rate: RateLike) -> str:
    """Shortest plain decimal for a rate ("0.10" -> "0.1", 1 -> "1"); floats by their repr."""
    if isinstance(rate, bool):
        raise ValueError("a rate is a number, not a boolean")
    if isinstance(rate, Fraction):
        # Only fractions with a terminating decimal expansion have an exact decimal form.
        den = rate.denominator
        while den % 2 == 0:
            den //= 2
        while den % 5 == 0:
            den //= 5
        if den != 1:
            raise ValueError(f"{rate} has no exact decimal form")
        dec = Decimal(rate.numerator) / Decimal(rate.denominator)
    elif isinstance(rate, float):
        # repr is the shortest string that round-trips: what the person typed, not 0.1000000001.
        dec = Decimal(repr(rate))
    elif isinstance(rate, int | Decimal):
        dec = Decimal(rate)
    elif isinstance(rate, str):
        if not _RATE_RE.fullmatch(rate.strip()):
            raise ValueError(f"{rate!r} is not a plain decimal such as 0.05")
        dec = Decimal(rate.strip())
    else:
        raise ValueError(f"{rate!r} is not a rate")
    if not dec.is_finite():
        raise ValueError(f"{rate!r} is not finite")
    if dec < 0 or dec > 1:
        raise ValueError(f"{rate} is outside [0, 1]")
    if dec == 0:
        return "0"
    text = format(dec, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text or "0"


def fingerprint(snapshot: Mapping[str, Any]) -> str:
    """SHA-256 (hex) of a canonical snapshot: which pool, people and rules the draw used."""
    return hashlib.sha256(canonical_json(snapshot)).hexdigest()


def seed_commitment(seed: str) -> str:
    """SHA-256 (hex) of the raw seed bytes, published before a scheduled draw runs."""
    return hashlib.sha256(bytes.fromhex(normalize_seed(seed))).hexdigest()


def build_snapshot(
    strata: Mapping[str, Iterable[str]],
    inspectors: Iterable[str],
    outside_inspectors: Iterable[str],
    recusals: Iterable[Pair],
    previous_assignments: Iterable[Pair],
    parameters: DrawParameters,
    drawn: Collection[str] | None,
) -> dict[str, Any]:
    """The sr-draw/2 snapshot: the pool by stratum, the drawable people, the pairs that matter.

    A pair can only change a draw when it names a drawn enterprise and someone who may be
    drawn, so a new draw (``drawn`` given) publishes only those: the rest of the recusal
    registry stays internal. Rebuilt from a document (``drawn`` None), every pair is kept.
    """
    inspectors = sorted(inspectors)
    outside_inspectors = sorted(outside_inspectors)
    if drawn is not None:
        people = set(inspectors) | set(outside_inspectors)
        chosen = set(drawn)
        recusals = [p for p in recusals if p.enterprise_id in chosen and p.inspector_id in people]
        previous_assignments = [
            p
            for p in previous_assignments
            if p.enterprise_id in chosen and p.inspector_id in people
        ]
    return {
        "enterprises": {k: sorted(ids) for k, ids in strata.items() if ids},
        "inspectors": inspectors,
        "outside_inspectors": outside_inspectors,
        "recusals": _pair_list(recusals),
        "previous_assignments": _pair_list(previous_assignments),
        "parameters": _parameters(parameters),
    }


def build_snapshot_v1(inputs: DrawInputs) -> dict[str, Any]:
    """The sr-draw/1 snapshot: every pool member with certificate data, every pair."""
    return {
        "enterprises": [
            {"id": e.id, "stratum": e.stratum, "industry": e.industry}
            for e in sorted(inputs.enterprises, key=lambda e: e.id)
        ],
        "inspectors": [
            {
                "id": i.id,
                "certificate_no": i.certificate_no,
                "certificate_valid_until": _iso(i.certificate_valid_until),
            }
            for i in sorted(inputs.inspectors, key=lambda i: i.id)
        ],
        "outside_inspectors": [
            {
                "id": o.id,
                "department": o.department,
                "certificate_no": o.certificate_no,
                "certificate_valid_until": _iso(o.certificate_valid_until),
            }
            for o in sorted(inputs.outside_inspectors, key=lambda o: o.id)
        ],
        "recusals": _pair_list(inputs.recusals),
        "previous_assignments": _pair_list(inputs.previous_assignments),
        "parameters": _parameters(inputs.parameters),
    }


def _parameters(p: DrawParameters) -> dict[str, Any]:
    return {
        "draw_date": p.draw_date.isoformat(),
        "team_size": p.team_size,
        "outside_per_team": p.outside_per_team,
        "rates": {k: _rate_as_published(v) for k, v in p.rates.items()},
        "default_rate": _rate_as_published(p.default_rate),
        "min_targets": p.min_targets,
        "max_targets": p.max_targets,
    }


def _rate_as_published(rate: RateLike) -> RateLike:
    # A document may carry a malformed rate: its snapshot keeps it for validation to report.
    try:
        return normalize_rate(rate)
    except ValueError:
        return rate


def _pair_list(pairs: Iterable[Pair]) -> list[list[str]]:
    return [list(p) for p in sorted({(p.inspector_id, p.enterprise_id) for p in pairs})]


def _iso(d: date | None) -> str | None:
    return None if d is None else d.isoformat()


def normalize_seed(seed: str) -> str:
    if not isinstance(seed, str) or not _HEX_RE.fullmatch(seed) or len(seed) % 2:
        raise InvalidDrawParameters(
            "the seed must be a hex string", fields={"seed": "must be an even-length hex string"}
        )
    n = len(seed) // 2
    if not SEED_MIN_BYTES <= n <= SEED_MAX_BYTES:
        raise InvalidDrawParameters(
            f"the seed must be {SEED_MIN_BYTES} to {SEED_MAX_BYTES} bytes",
            fields={"seed": f"must be {SEED_MIN_BYTES} to {SEED_MAX_BYTES} bytes, got {n}"},
        )
    return seed.lower()
