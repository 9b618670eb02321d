"""The draw itself: the seeded generator, sample sizes, the sampling and team building."""

from __future__ import annotations

import bisect
import hashlib
from collections.abc import Iterable, Mapping, Sequence
from fractions import Fraction
from typing import Any

from server.domain.draw.checks import validate, validate_public
from server.domain.draw.model import (
    ALGORITHM_VERSION,
    FORMATS,
    Assignment,
    DrawInfeasible,
    DrawInputs,
    DrawParameters,
    DrawResult,
    Pair,
    StratumCount,
    VerifyResult,
    is_certified,
)
from server.domain.draw.reading import inputs_v1, load_document, read_document
from server.domain.draw.snapshot import build_snapshot, fingerprint, normalize_rate
from server.domain.errors import ValidationFailed

_WORD_SPACE = 1 << 64


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


def run_draw(inputs: DrawInputs, seed: str) -> DrawResult:
    """Draw targets and teams from ``inputs`` with ``seed`` (hex); the same pair always agrees.

    Ids are used as given: the service hands in pseudonymized inputs (``pseudonymize``).
    """
    seed_hex = validate(inputs, seed)
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
    snap = build_snapshot(
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
    doc = load_document(public_json)
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
        seed_hex = validate_public(published.inputs, published.seed)
        if published.algorithm == "sr-draw/1":
            # Its own rules on the whole pool as published (team size against everyone).
            validate(inputs_v1(doc["inputs"]), published.seed)
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
