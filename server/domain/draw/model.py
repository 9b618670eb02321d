"""What a draw takes and gives: its versions, inputs, outputs and errors."""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from fractions import Fraction
from types import MappingProxyType
from typing import Any

from server.domain.errors import ValidationFailed

# Bump the version whenever any step of the draw changes what a given seed and snapshot produce:
# published draws must stay re-computable with the version they name.
ALGORITHM_VERSION = "sr-draw/2"
PUBLIC_FORMAT = "sr-draw-public/2"
# Every version a published document may name, and the format it was published in.
FORMATS: Mapping[str, str] = MappingProxyType(
    {"sr-draw/1": "sr-draw-public/1", ALGORITHM_VERSION: PUBLIC_FORMAT}
)


SEED_MIN_BYTES = 16
SEED_MAX_BYTES = 64
PSEUDONYM_KEY_BYTES = 32


class DrawInfeasible(ValidationFailed):
    """The inputs are valid but some drawn enterprise cannot get a full, lawful team."""

    code = "draw_infeasible"


class InvalidDrawParameters(ValidationFailed):
    """The draw inputs break a rule of their own (team size, rates, bounds, seed, ids)."""

    code = "invalid_draw_parameters"


@dataclass(frozen=True)
class Enterprise:
    """A candidate target, already filtered by the plan (key enterprises, caps, recent visits)."""

    id: str
    stratum: str
    industry: str | None = None


@dataclass(frozen=True)
class Inspector:
    """An agency inspector; eligible on a date only with a certificate valid on that date."""

    id: str
    certificate_no: str | None
    certificate_valid_until: date | None = None


@dataclass(frozen=True)
class OutsideInspector:
    """An inspector of another department, joining teams of a joint check (联合抽查)."""

    id: str
    department: str
    certificate_no: str | None
    certificate_valid_until: date | None = None


@dataclass(frozen=True)
class Pair:
    """An (inspector, enterprise) pair: a recusal, or a team membership of the previous draw."""

    inspector_id: str
    enterprise_id: str


RateLike = str | int | float | Decimal | Fraction


@dataclass(frozen=True)
class DrawParameters:
    """What the plan asks for; rates are per stratum key, exact decimals in [0, 1]."""

    draw_date: date
    team_size: int = 2
    rates: Mapping[str, RateLike] = field(default_factory=dict)
    default_rate: RateLike = "0"
    min_targets: int | None = None
    max_targets: int | None = None
    outside_per_team: int = 0


@dataclass(frozen=True)
class DrawInputs:
    """Everything a draw depends on except the seed; its canonical form is fingerprinted."""

    enterprises: Sequence[Enterprise]
    inspectors: Sequence[Inspector]
    parameters: DrawParameters
    outside_inspectors: Sequence[OutsideInspector] = ()
    recusals: Collection[Pair] = ()
    previous_assignments: Collection[Pair] = ()


@dataclass(frozen=True)
class StratumCount:
    """How one stratum was sampled: ``base`` from its rate, ``drawn`` after the min/max clamp."""

    stratum: str
    pool_size: int
    rate: str
    base: int
    drawn: int


@dataclass(frozen=True)
class Assignment:
    """One drawn enterprise and its team, member ids sorted."""

    enterprise_id: str
    stratum: str
    inspector_ids: tuple[str, ...]
    outside_inspector_ids: tuple[str, ...] = ()

    def renamed(self, names: Mapping[str, str]) -> Assignment:
        """The same assignment with each id looked up in ``names`` (kept when absent)."""
        return Assignment(
            enterprise_id=names.get(self.enterprise_id, self.enterprise_id),
            stratum=self.stratum,
            inspector_ids=tuple(sorted(names.get(i, i) for i in self.inspector_ids)),
            outside_inspector_ids=tuple(
                sorted(names.get(o, o) for o in self.outside_inspector_ids)
            ),
        )


@dataclass(frozen=True)
class VerifyResult:
    """Whether a published draw recomputes to what it claims; ``differences`` says where not."""

    matches: bool
    differences: list[str]


@dataclass(frozen=True)
class PublicInputs:
    """A draw's inputs as its public document gives them, in the form the draw reads them.

    ``inspectors`` and ``outside_inspectors`` are the people who may be drawn (certified on
    the draw date); ``pool_inspectors`` counts everyone the document says was in the pool.
    ``snapshot`` is the canonical snapshot rebuilt from them, whose SHA-256 is the fingerprint.
    """

    strata: Mapping[str, tuple[str, ...]]
    inspectors: tuple[str, ...]
    outside_inspectors: tuple[str, ...]
    recusals: tuple[Pair, ...]
    previous_assignments: tuple[Pair, ...]
    parameters: DrawParameters
    pool_inspectors: int
    pool_outside_inspectors: int
    snapshot: Mapping[str, Any]


@dataclass(frozen=True)
class DrawResult:
    """A finished draw: its result and the public snapshot it can be recomputed from."""

    algorithm: str
    seed: str
    seed_commitment: str
    fingerprint: str
    snapshot: Mapping[str, Any]
    strata: tuple[StratumCount, ...]
    assignments: tuple[Assignment, ...]

    def to_public_dict(self) -> dict[str, Any]:
        """The public document as plain JSON values."""
        return {
            "format": FORMATS[self.algorithm],
            "algorithm": self.algorithm,
            "seed": self.seed,
            "seed_commitment": self.seed_commitment,
            "fingerprint": self.fingerprint,
            "inputs": self.snapshot,
            "result": {
                "strata": [
                    {
                        "stratum": s.stratum,
                        "pool_size": s.pool_size,
                        "rate": s.rate,
                        "base": s.base,
                        "drawn": s.drawn,
                    }
                    for s in self.strata
                ],
                "assignments": [
                    {
                        "enterprise_id": a.enterprise_id,
                        "stratum": a.stratum,
                        "inspectors": list(a.inspector_ids),
                        "outside_inspectors": list(a.outside_inspector_ids),
                    }
                    for a in self.assignments
                ],
            },
        }

    def to_public_json(self) -> str:
        """The public document in canonical JSON, the form ``scripts/verify_draw.py`` reads."""
        return canonical_json(self.to_public_dict()).decode("utf-8")


@dataclass(frozen=True)
class PublishedDraw:
    """A public document of any version as published; nothing is recomputed here."""

    format: str
    algorithm: str
    seed: str
    seed_commitment: str
    fingerprint: str
    inputs: PublicInputs
    strata: tuple[StratumCount, ...]
    assignments: tuple[Assignment, ...]


def canonical_json(value: Any) -> bytes:
    """Sorted keys, no whitespace, UTF-8, only ``"``, ``\\`` and C0 controls escaped."""
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode("utf-8")


def is_certified(cert_no: str | None, valid_until: date | None, on: date) -> bool:
    """Drawable on ``on``: a certificate number that is not blank, not expired by then."""
    return bool(cert_no and cert_no.strip()) and (valid_until is None or valid_until >= on)
