"""The double-random draw (双随机): seeded stratified sampling and team assignment (sr-draw/2).

``docs/draw-algorithm.md`` specifies every step; this module is its reference implementation.
The draw itself treats ids as opaque strings. The service draws on per-draw pseudonyms
(``pseudonymize``) so that the published document can be recomputed by anyone without naming
the people and enterprises of the pool, or who is recused from whom.
"""

from __future__ import annotations

import bisect
import hashlib
import json
import re
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal
from fractions import Fraction
from types import MappingProxyType
from typing import Any

from server.domain.errors import ValidationFailed

# Bump the version whenever any step below changes what a given seed and snapshot produce:
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
# A pseudonym is 128 bits, so that a million of them never collide in practice.
_PSEUDONYM_BYTES = 16

_WORD_SPACE = 1 << 64
_HEX_RE = re.compile(r"[0-9a-fA-F]*")
_RATE_RE = re.compile(r"(?:0|[1-9][0-9]*)(?:\.[0-9]+)?")


class DrawInfeasible(ValidationFailed):
    """The inputs are valid but some drawn enterprise cannot get a full, lawful team."""

    code = "draw_infeasible"


class InvalidDrawParameters(ValidationFailed):
    """The draw inputs break a rule of their own (team size, rates, bounds, seed, ids)."""

    code = "invalid_draw_parameters"


# ---------------------------------------------------------------------------- inputs


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


# --------------------------------------------------------------------------- outputs


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


# ---------------------------------------------------------------- canonical snapshot


def canonical_json(value: Any) -> bytes:
    """Sorted keys, no whitespace, UTF-8, only ``"``, ``\\`` and C0 controls escaped."""
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode("utf-8")


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
    return hashlib.sha256(bytes.fromhex(_normalize_seed(seed))).hexdigest()


def _snapshot(
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


def _snapshot_v1(inputs: DrawInputs) -> dict[str, Any]:
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


# ------------------------------------------------------------------------ pseudonyms


class _Namer:
    """Pseudonyms under one key: keyed BLAKE2b-128 of ``kind ‖ 0x00 ‖ id``, in hex."""

    def __init__(self, key: bytes) -> None:
        self._key = key

    def __call__(self, kind: str, real_id: str) -> str:
        data = kind.encode("ascii") + b"\x00" + real_id.encode("utf-8")
        return hashlib.blake2b(data, key=self._key, digest_size=_PSEUDONYM_BYTES).hexdigest()


def pseudonym(key: bytes, kind: str, real_id: str) -> str:
    """The id ``real_id`` (an ``enterprise``, ``inspector`` or ``outside`` one) stands under.

    Fixed once the key is (the service fixes it with the seed), so it cannot be chosen after
    seeing the pool; unlinkable to the person or enterprise by anyone without the key; and
    unrelated from one draw to the next.
    """
    return _Namer(key)(kind, real_id)


def pseudonymize(inputs: DrawInputs, key: bytes) -> tuple[DrawInputs, dict[str, str]]:
    """The inputs with every id replaced by its pseudonym, and the way back (pseudonym → id).

    Pairs naming someone or something outside the pools are dropped: they cannot matter.
    """
    if not isinstance(key, bytes) or not 16 <= len(key) <= 64:
        raise ValueError("a pseudonym key is 16 to 64 random bytes")
    fields: dict[str, str] = {}
    for name, ids in (
        ("enterprises", [e.id for e in inputs.enterprises]),
        ("inspectors", [i.id for i in inputs.inspectors]),
        ("outside_inspectors", [o.id for o in inputs.outside_inspectors]),
    ):
        _check_ids(fields, name, ids)
    both = {i.id for i in inputs.inspectors} & {o.id for o in inputs.outside_inspectors}
    if both:
        fields["outside_inspectors"] = f"{min(both)} is also in the agency inspector pool"
    if fields:
        first = next(iter(fields.items()))
        raise InvalidDrawParameters(f"invalid draw inputs: {first[0]} {first[1]}", fields=fields)

    namer = _Namer(key)
    back: dict[str, str] = {}

    def alias(kind: str, real: str) -> str:
        name = namer(kind, real)
        back[name] = real
        return name

    firms = {e.id: alias("enterprise", e.id) for e in inputs.enterprises}
    people = {i.id: alias("inspector", i.id) for i in inputs.inspectors}
    guests = {o.id: alias("outside", o.id) for o in inputs.outside_inspectors}
    anyone = {**people, **guests}

    def pairs(given: Iterable[Pair]) -> list[Pair]:
        return [
            Pair(anyone[p.inspector_id], firms[p.enterprise_id])
            for p in given
            if p.inspector_id in anyone and p.enterprise_id in firms
        ]

    hidden = DrawInputs(
        enterprises=[Enterprise(firms[e.id], e.stratum) for e in inputs.enterprises],
        inspectors=[replace(i, id=people[i.id]) for i in inputs.inspectors],
        outside_inspectors=[replace(o, id=guests[o.id]) for o in inputs.outside_inspectors],
        recusals=pairs(inputs.recusals),
        previous_assignments=pairs(inputs.previous_assignments),
        parameters=inputs.parameters,
    )
    return hidden, back


# ------------------------------------------------------------------ random generator


class SeededStream:
    """Counter-mode SHA-256 words: block n = SHA-256(label ‖ 0x00 ‖ seed ‖ n as u64 BE)."""

    __slots__ = ("_prefix", "_counter", "_words")

    def __init__(self, seed: bytes, label: str) -> None:
        # The label comes first and is NUL-terminated so that no (label, seed) pair can
        # produce the bytes of another; the counter is fixed-width at the end.
        self._prefix = label.encode("utf-8") + b"\x00" + seed
        self._counter = 0
        self._words: list[int] = []

    def next_word(self) -> int:
        """The next unsigned 64-bit word; each digest yields four, first bytes first."""
        if not self._words:
            digest = hashlib.sha256(self._prefix + self._counter.to_bytes(8, "big")).digest()
            self._counter += 1
            # Reversed so that pop() hands them out in digest order.
            self._words = [
                int.from_bytes(digest[24:32], "big"),
                int.from_bytes(digest[16:24], "big"),
                int.from_bytes(digest[8:16], "big"),
                int.from_bytes(digest[0:8], "big"),
            ]
        return self._words.pop()

    def below(self, n: int) -> int:
        """A uniform integer in [0, n); rejection keeps it free of modulo bias."""
        if n < 1 or n > _WORD_SPACE:
            raise ValueError("n must be in [1, 2**64]")
        limit = _WORD_SPACE - (_WORD_SPACE % n)
        while True:
            word = self.next_word()
            if word < limit:
                return word % n


# ---------------------------------------------------------------------------- the draw


def run_draw(inputs: DrawInputs, seed: str) -> DrawResult:
    """Draw targets and teams from ``inputs`` with ``seed`` (hex); the same pair always agrees.

    Ids are used as given: the service hands in pseudonymized inputs (``pseudonymize``).
    """
    seed_hex = _validate(inputs, seed)
    params = inputs.parameters
    on = params.draw_date
    strata: dict[str, list[str]] = {}
    for e in inputs.enterprises:
        strata.setdefault(e.stratum, []).append(e.id)
    agency = [
        i.id
        for i in inputs.inspectors
        if is_certified(i.certificate_no, i.certificate_valid_until, on)
    ]
    outside = [
        o.id
        for o in inputs.outside_inspectors
        if is_certified(o.certificate_no, o.certificate_valid_until, on)
    ]
    counts, assignments = _compute(
        strata,
        agency,
        outside,
        list(inputs.recusals),
        list(inputs.previous_assignments),
        params,
        bytes.fromhex(seed_hex),
        ALGORITHM_VERSION,
        pool=(len(inputs.inspectors), len(inputs.outside_inspectors)),
    )
    snap = _snapshot(
        strata,
        agency,
        outside,
        inputs.recusals,
        inputs.previous_assignments,
        params,
        drawn=[a.enterprise_id for a in assignments],
    )
    return DrawResult(
        algorithm=ALGORITHM_VERSION,
        seed=seed_hex,
        seed_commitment=hashlib.sha256(bytes.fromhex(seed_hex)).hexdigest(),
        fingerprint=fingerprint(snap),
        snapshot=snap,
        strata=counts,
        assignments=assignments,
    )


def _compute(
    strata_members: Mapping[str, Sequence[str]],
    agency: Sequence[str],
    outside: Sequence[str],
    recusals: Sequence[Pair],
    previous: Sequence[Pair],
    params: DrawParameters,
    seed_bytes: bytes,
    version: str,
    *,
    pool: tuple[int, int],
) -> tuple[tuple[StratumCount, ...], tuple[Assignment, ...]]:
    """Sections 6 to 8 of the specification, on the drawable people only; ``version`` names
    the streams."""
    rates = {k: normalize_rate(v) for k, v in params.rates.items()}
    default_rate = normalize_rate(params.default_rate)
    keys = sorted(set(strata_members) | set(rates))
    pool_sizes = {k: len(strata_members.get(k, ())) for k in keys}
    stratum_rates = {k: rates.get(k, default_rate) for k in keys}
    base = {k: _ceil_rate(stratum_rates[k], pool_sizes[k]) for k in keys}
    drawn_counts = _clamp(base, pool_sizes, params.min_targets, params.max_targets)

    drawn: list[str] = []
    stratum_of: dict[str, str] = {}
    for key in keys:
        count = drawn_counts[key]
        if count == 0:
            continue
        members = sorted(strata_members[key])
        stream = SeededStream(seed_bytes, f"{version}/sample/{key}")
        n = len(members)
        # Partial Fisher–Yates over the id-sorted stratum: the first ``count`` are drawn.
        for i in range(count):
            j = i + stream.below(n - i)
            members[i], members[j] = members[j], members[i]
        drawn.extend(members[:count])
        stratum_of.update(dict.fromkeys(members[:count], key))

    teams, outside_teams = _assign_teams(
        agency, outside, recusals, previous, params, drawn, seed_bytes, version, pool
    )
    assignments = tuple(
        Assignment(
            enterprise_id=eid,
            stratum=stratum_of[eid],
            inspector_ids=teams[eid],
            outside_inspector_ids=outside_teams.get(eid, ()),
        )
        for eid in sorted(drawn)
    )
    counts = tuple(
        StratumCount(
            stratum=k,
            pool_size=pool_sizes[k],
            rate=stratum_rates[k],
            base=base[k],
            drawn=drawn_counts[k],
        )
        for k in keys
    )
    return counts, assignments


def verify(public_json: str | bytes | Mapping[str, Any]) -> VerifyResult:
    """Recompute a published draw (any version) from its own inputs; list every difference."""
    doc = _load_document(public_json)
    published = read_document(doc)
    differences: list[str] = []
    expected_format = FORMATS.get(published.algorithm)
    if expected_format is None:
        differences.append(
            f"algorithm is {published.algorithm!r}; this build recomputes "
            f"{', '.join(map(repr, FORMATS))}"
        )
        return VerifyResult(matches=False, differences=differences)
    if published.format != expected_format:
        differences.append(f"format is {published.format!r}, expected {expected_format!r}")
    try:
        seed_hex = _validate_public(published.inputs, published.seed)
        if published.algorithm == "sr-draw/1":
            # Its own rules on the whole pool as published (team size against everyone).
            _validate(_inputs_v1(doc["inputs"]), published.seed)
        counts, assignments = _compute(
            published.inputs.strata,
            published.inputs.inspectors,
            published.inputs.outside_inspectors,
            published.inputs.recusals,
            published.inputs.previous_assignments,
            published.inputs.parameters,
            bytes.fromhex(seed_hex),
            published.algorithm,
            pool=(published.inputs.pool_inspectors, published.inputs.pool_outside_inspectors),
        )
    except ValidationFailed as exc:
        differences.append(f"the published inputs cannot be drawn: {exc.message}")
        return VerifyResult(matches=False, differences=differences)

    if published.seed_commitment != hashlib.sha256(bytes.fromhex(seed_hex)).hexdigest():
        differences.append("seed_commitment is not SHA-256 of the seed")
    recomputed_fingerprint = fingerprint(published.inputs.snapshot)
    if published.fingerprint != recomputed_fingerprint:
        differences.append(
            f"fingerprint {published.fingerprint} does not match the inputs "
            f"({recomputed_fingerprint})"
        )
    if published.strata != counts:
        differences.append("per-stratum counts differ")
    differences.extend(_assignment_differences(published.assignments, assignments))
    return VerifyResult(matches=not differences, differences=differences)


def _assignment_differences(
    published: Sequence[Assignment], recomputed: Sequence[Assignment]
) -> list[str]:
    out: list[str] = []
    mine = {a.enterprise_id: a for a in recomputed}
    theirs = {a.enterprise_id: a for a in published}
    if len(theirs) != len(published):
        out.append("an enterprise is listed more than once")
    for eid in sorted(set(mine) - set(theirs)):
        out.append(f"enterprise {eid} was drawn but is missing")
    for eid in sorted(set(theirs) - set(mine)):
        out.append(f"enterprise {eid} is listed but was not drawn")
    for eid in sorted(set(mine) & set(theirs)):
        if mine[eid] != theirs[eid]:
            out.append(
                f"team for enterprise {eid} differs: published "
                f"{list(theirs[eid].inspector_ids) + list(theirs[eid].outside_inspector_ids)}, "
                f"recomputed "
                f"{list(mine[eid].inspector_ids) + list(mine[eid].outside_inspector_ids)}"
            )
    if not out and [a.enterprise_id for a in published] != [a.enterprise_id for a in recomputed]:
        out.append("assignments are not in enterprise id order")
    return out


# ------------------------------------------------------------------ sample sizes


def _ceil_rate(rate: str, pool_size: int) -> int:
    r = Fraction(rate)
    # Exact rational arithmetic: ceil(0.1 * 30) must be 3, which floats get wrong.
    return -((-r.numerator * pool_size) // r.denominator)


def _clamp(
    base: dict[str, int],
    pool_sizes: dict[str, int],
    min_targets: int | None,
    max_targets: int | None,
) -> dict[str, int]:
    total = sum(base.values())
    if max_targets is not None and total > max_targets:
        # Shrinking never takes a stratum above its own rate-based count.
        return _apportion(max_targets, base, base)
    if min_targets is not None and total < min_targets:
        # Growing keeps the shape the rates give, and only strata with a positive rate grow:
        # a zero rate means the plan does not want that stratum inspected.
        capacity = sum(pool_sizes[k] for k, b in base.items() if b > 0)
        if capacity < min_targets:
            raise DrawInfeasible(
                f"min_targets is {min_targets} but the strata with a positive rate hold "
                f"only {capacity} enterprises",
                details={
                    "rule": "min_targets",
                    "min_targets": min_targets,
                    "capacity": capacity,
                },
            )
        return _apportion(min_targets, base, pool_sizes)
    return dict(base)


def _apportion(total: int, weights: dict[str, int], caps: dict[str, int]) -> dict[str, int]:
    """Largest-remainder split of ``total`` in proportion to ``weights``, each within its cap."""
    result = {k: 0 for k in weights}
    fixed: set[str] = set()
    while True:
        active = sorted(k for k, w in weights.items() if w > 0 and k not in fixed)
        remaining = total - sum(result[k] for k in fixed)
        weight = sum(weights[k] for k in active)
        if not active or weight == 0:
            return result
        # A stratum whose exact share exceeds its cap is pinned at the cap and the rest is
        # shared again among the others; all such strata are pinned in the same round.
        over = [k for k in active if remaining * weights[k] > caps[k] * weight]
        if over:
            for k in over:
                result[k] = caps[k]
                fixed.add(k)
            continue
        remainders = []
        handed = 0
        for k in active:
            q, r = divmod(remaining * weights[k], weight)
            result[k] = q
            handed += q
            remainders.append((-r, k))
        remainders.sort()
        for _, k in remainders[: remaining - handed]:
            result[k] += 1
        return result


# ---------------------------------------------------------------------- team building


class _Pool:
    """Eligible inspectors of one kind, bucketed by load, each bucket sorted by id."""

    def __init__(self, ids: list[str]) -> None:
        self.ids = sorted(ids)
        self.index = {iid: n for n, iid in enumerate(self.ids)}
        self.load = [0] * len(self.ids)
        self.buckets: dict[int, list[int]] = {0: list(range(len(self.ids)))} if ids else {}

    def pick(
        self, stream: SeededStream, excluded: set[int], previous: set[int], picked: list[int]
    ) -> int | None:
        """One member: non-previous before previous, then least load, uniform among ties."""
        blocked = excluded | previous | set(picked)
        for level in sorted(self.buckets):
            bucket = self.buckets[level]
            skip = sorted(bisect.bisect_left(bucket, x) for x in blocked if self.load[x] == level)
            available = len(bucket) - len(skip)
            if available == 0:
                continue
            k = stream.below(available)
            for pos in skip:
                if pos <= k:
                    k += 1
                else:
                    break
            return bucket[k]
        # Only inspectors who visited this enterprise last time are left.
        fallback = [x for x in previous if x not in excluded and x not in picked]
        if not fallback:
            return None
        low = min(self.load[x] for x in fallback)
        ties = sorted(x for x in fallback if self.load[x] == low)
        return ties[stream.below(len(ties))]

    def charge(self, members: list[int]) -> None:
        for x in members:
            level = self.load[x]
            bucket = self.buckets[level]
            del bucket[bisect.bisect_left(bucket, x)]
            if not bucket:
                del self.buckets[level]
            self.load[x] = level + 1
            bisect.insort(self.buckets.setdefault(level + 1, []), x)


def is_certified(cert_no: str | None, valid_until: date | None, on: date) -> bool:
    """Drawable on ``on``: a certificate number that is not blank, not expired by then."""
    return bool(cert_no and cert_no.strip()) and (valid_until is None or valid_until >= on)


def _assign_teams(
    agency_ids: Sequence[str],
    outside_ids: Sequence[str],
    recusals: Sequence[Pair],
    previous: Sequence[Pair],
    params: DrawParameters,
    drawn: list[str],
    seed_bytes: bytes,
    version: str,
    pool: tuple[int, int],
) -> tuple[dict[str, tuple[str, ...]], dict[str, tuple[str, ...]]]:
    agency = _Pool(list(agency_ids))
    outside = _Pool(list(outside_ids))
    drawn_set = set(drawn)

    def by_enterprise(pairs: Iterable[Pair], people: _Pool) -> dict[str, set[int]]:
        out: dict[str, set[int]] = {}
        for p in pairs:
            if p.enterprise_id in drawn_set and p.inspector_id in people.index:
                out.setdefault(p.enterprise_id, set()).add(people.index[p.inspector_id])
        return out

    rec_agency = by_enterprise(recusals, agency)
    rec_outside = by_enterprise(recusals, outside)
    prev_agency = by_enterprise(previous, agency)
    prev_outside = by_enterprise(previous, outside)

    need_out = params.outside_per_team
    cand_agency = {e: len(agency.ids) - len(rec_agency.get(e, ())) for e in drawn}
    cand_outside = {e: len(outside.ids) - len(rec_outside.get(e, ())) for e in drawn}
    _check_feasible(
        params, pool, drawn, agency, outside, cand_agency, cand_outside, rec_agency, rec_outside
    )

    # Most constrained first: an enterprise many inspectors recuse from chooses while
    # everyone's load is still even, and the unconstrained ones fill in around it.
    order = sorted(drawn, key=lambda e: (cand_agency[e], cand_outside[e], e))
    stream = SeededStream(seed_bytes, f"{version}/team")
    empty: set[int] = set()
    teams: dict[str, tuple[str, ...]] = {}
    outside_teams: dict[str, tuple[str, ...]] = {}
    for eid in order:
        excluded = rec_agency.get(eid, empty)
        prev = prev_agency.get(eid, empty) - excluded
        members: list[int] = []
        for _ in range(params.team_size):
            x = agency.pick(stream, excluded, prev, members)
            assert x is not None  # feasibility was checked above
            members.append(x)
        agency.charge(members)
        teams[eid] = tuple(sorted(agency.ids[x] for x in members))
        if need_out:
            excluded = rec_outside.get(eid, empty)
            prev = prev_outside.get(eid, empty) - excluded
            members = []
            for _ in range(need_out):
                x = outside.pick(stream, excluded, prev, members)
                assert x is not None
                members.append(x)
            outside.charge(members)
            outside_teams[eid] = tuple(sorted(outside.ids[x] for x in members))
    return teams, outside_teams


def _check_feasible(
    params: DrawParameters,
    pool: tuple[int, int],
    drawn: list[str],
    agency: _Pool,
    outside: _Pool,
    cand_agency: dict[str, int],
    cand_outside: dict[str, int],
    rec_agency: dict[str, set[int]],
    rec_outside: dict[str, set[int]],
) -> None:
    if not drawn:
        return
    on = params.draw_date.isoformat()
    if len(agency.ids) < params.team_size:
        raise DrawInfeasible(
            f"a team needs {params.team_size} inspectors with a certificate valid on {on}, "
            f"only {len(agency.ids)} of {pool[0]} have one",
            details={
                "rule": "certificates",
                "pool": "inspectors",
                "needed": params.team_size,
                "certified": len(agency.ids),
            },
        )
    if len(outside.ids) < params.outside_per_team:
        raise DrawInfeasible(
            f"a joint team needs {params.outside_per_team} outside inspectors with a "
            f"certificate valid on {on}, only {len(outside.ids)} of {pool[1]} have one",
            details={
                "rule": "certificates",
                "pool": "outside_inspectors",
                "needed": params.outside_per_team,
                "certified": len(outside.ids),
            },
        )
    failures: list[dict[str, Any]] = []
    for eid in sorted(drawn):
        for pool_name, people, cand, rec, needed in (
            ("inspectors", agency, cand_agency, rec_agency, params.team_size),
            ("outside_inspectors", outside, cand_outside, rec_outside, params.outside_per_team),
        ):
            if needed and cand[eid] < needed:
                failures.append(
                    {
                        "enterprise_id": eid,
                        "pool": pool_name,
                        "needed": needed,
                        "certified": len(people.ids),
                        "recused": len(rec.get(eid, ())),
                        "eligible": cand[eid],
                    }
                )
    if failures:
        f = failures[0]
        kind = "team" if f["pool"] == "inspectors" else "outside team"
        more = f" (and {len(failures) - 1} more)" if len(failures) > 1 else ""
        raise DrawInfeasible(
            f"no eligible {kind} of {f['needed']} for enterprise {f['enterprise_id']}: "
            f"{f['recused']} of {f['certified']} certified inspectors recused{more}",
            details={"rule": "recusal", "enterprises": failures},
        )


# ---------------------------------------------------------------------- validation


def _normalize_seed(seed: str) -> str:
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


def _validate(inputs: DrawInputs, seed: str) -> str:
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
    _check_ids(fields, "enterprises", [e.id for e in inputs.enterprises])
    _check_strata(fields, [e.stratum for e in inputs.enterprises])
    _check_people(
        fields, [i.id for i in inputs.inspectors], [o.id for o in inputs.outside_inspectors]
    )
    _check_pairs(fields, inputs.recusals, inputs.previous_assignments)
    _raise_if_any(fields)
    return seed_hex


def _validate_public(inputs: PublicInputs, seed: str) -> str:
    """The rules a published document's inputs must keep before they can be drawn."""
    fields: dict[str, str] = {}
    seed_hex = _check_seed(fields, seed)
    _check_parameters(fields, inputs.parameters)
    _check_ids(fields, "enterprises", [i for ids in inputs.strata.values() for i in ids])
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
        return _normalize_seed(seed)
    except InvalidDrawParameters as exc:
        fields.update(exc.fields)
        return ""


def _check_parameters(fields: dict[str, str], p: DrawParameters) -> None:
    if not isinstance(p.draw_date, date):
        fields["draw_date"] = "must be a date"
    if not _is_int(p.team_size) or p.team_size < 2:
        fields["team_size"] = "must be at least 2: every inspection needs two inspectors"
    if not _is_int(p.outside_per_team) or p.outside_per_team < 0:
        fields["outside_per_team"] = "must be a whole number, 0 or more"
    for name in ("min_targets", "max_targets"):
        value = getattr(p, name)
        if value is not None and (not _is_int(value) or value < 0):
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
    _check_ids(fields, "inspectors", inspectors)
    _check_ids(fields, "outside_inspectors", outside)
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


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _good_id(value: Any) -> bool:
    # Surrogates cannot be encoded as UTF-8, so they could not be fingerprinted.
    return isinstance(value, str) and bool(value) and value.isprintable()


def _check_ids(fields: dict[str, str], name: str, ids: list[Any]) -> None:
    seen: set[str] = set()
    for value in ids:
        if not _good_id(value):
            fields[name] = f"{value!r} is not a usable id"
            return
        if value in seen:
            fields[name] = f"{value} appears twice"
            return
        seen.add(value)


# -------------------------------------------------------------- reading a document


def read_document(document: str | bytes | Mapping[str, Any]) -> PublishedDraw:
    """Parse a public document (sr-draw/1 or /2) as published; nothing is recomputed here."""
    doc = _load_document(document)
    try:
        algorithm = _str(doc["algorithm"])
        if algorithm == "sr-draw/1":
            inputs = _public_inputs_v1(_inputs_v1(doc["inputs"]))
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


def _load_document(document: str | bytes | Mapping[str, Any]) -> Mapping[str, Any]:
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
        snapshot=_snapshot(strata, inspectors, outside, recusals, previous, params, drawn=None),
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
        snapshot=_snapshot_v1(inputs),
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


def _inputs_v1(snap: Mapping[str, Any]) -> DrawInputs:
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
    if not _is_int(value):
        raise TypeError(f"expected a whole number, got {value!r}")
    return int(value)


def _describe(exc: Exception) -> str:
    if isinstance(exc, KeyError):
        return f"missing member {exc.args[0]!r}"
    return str(exc)
