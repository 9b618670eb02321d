#!/usr/bin/env python3
"""Check a published double-random draw (sr-draw/2, or sr-draw/1) by recomputing it.

Usage:  python3 verify_draw.py DRAW.json      (or:  ... | python3 verify_draw.py -)

Needs only Python 3.9+ and its standard library. It follows docs/draw-algorithm.md step by
step and shares no code with the service that made the draw, so agreement means something.
It reads the document as published: the downloaded page JSON (with its ``publication``
member, whose commitment time is then checked to precede the draw) or the bare document.

Exit status: 0 the draw matches, 1 it does not, 2 the document could not be read.
"""

from __future__ import annotations

import bisect
import hashlib
import json
import sys
from datetime import date, datetime
from decimal import Decimal
from fractions import Fraction
from typing import Any

FORMATS = {"sr-draw/1": "sr-draw-public/1", "sr-draw/2": "sr-draw-public/2"}


class BadDocument(Exception):
    """The input is not a draw document this script understands."""


class Infeasible(Exception):
    """The published inputs cannot produce a complete draw."""


# --- bytes and hashes ------------------------------------------------------------------


def canonical(value: object) -> bytes:
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode("utf-8")


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class Stream:
    """Words of SHA-256(label || 0x00 || seed || u64 counter), four per block."""

    def __init__(self, seed: bytes, label: str) -> None:
        self.prefix = label.encode("utf-8") + b"\x00" + seed
        self.block = 0
        self.pending: list[int] = []

    def word(self) -> int:
        if not self.pending:
            digest = hashlib.sha256(self.prefix + self.block.to_bytes(8, "big")).digest()
            self.block += 1
            self.pending = [int.from_bytes(digest[k : k + 8], "big") for k in (24, 16, 8, 0)]
        return self.pending.pop()

    def below(self, n: int) -> int:
        limit = 2**64 - (2**64 % n)
        while True:
            w = self.word()
            if w < limit:
                return w % n


# --- reading the document --------------------------------------------------------------


def _by_id(row: dict[str, Any]) -> str:
    return row["id"]


def text(value: object, what: str) -> str:
    if not isinstance(value, str):
        raise BadDocument(f"{what} should be a string")
    return value


def text_or_null(value: object, what: str) -> str | None:
    return None if value is None else text(value, what)


def texts(value: object, what: str) -> list:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise BadDocument(f"{what} should be a list of strings")
    return value


def whole(value: object, what: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise BadDocument(f"{what} should be a whole number")
    return value


def day_or_null(value: object, what: str) -> str | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(text(value, what)).isoformat()
    except ValueError:
        raise BadDocument(f"{what} should be a date YYYY-MM-DD") from None


def shortest_rate(value: object, what: str) -> str:
    raw = text(value, what).strip()
    if not raw or raw[0] in "+-" or any(c not in "0123456789." for c in raw) or raw.count(".") > 1:
        raise BadDocument(f"{what} should be a decimal such as 0.05")
    if raw.startswith(".") or raw.endswith("."):
        raise BadDocument(f"{what} should be a decimal such as 0.05")
    number = Decimal(raw)
    if number > 1:
        raise BadDocument(f"{what} should be within [0, 1]")
    if "." in raw:
        raw = raw.rstrip("0").rstrip(".")
    raw = raw.lstrip("0") or "0"
    return "0" + raw if raw.startswith(".") else raw


def pair_list(pairs: object, name: str) -> list:
    if not isinstance(pairs, list):
        raise BadDocument(f"{name} should be a list")
    seen = set()
    for pair in pairs:
        if not isinstance(pair, list) or len(pair) != 2:
            raise BadDocument(f"{name} should hold [inspector_id, enterprise_id] pairs")
        seen.add((text(pair[0], name), text(pair[1], name)))
    return [list(p) for p in sorted(seen)]


def parameters(p: object) -> dict:
    if not isinstance(p, dict) or not isinstance(p.get("rates"), dict):
        raise BadDocument("parameters should be an object with rates")
    out = {
        "draw_date": day_or_null(p.get("draw_date"), "draw_date"),
        "team_size": whole(p.get("team_size"), "team_size"),
        "outside_per_team": whole(p.get("outside_per_team", 0), "outside_per_team"),
        "rates": {
            text(k, "stratum"): shortest_rate(v, f"rate of {k}") for k, v in p["rates"].items()
        },
        "default_rate": shortest_rate(p.get("default_rate"), "default_rate"),
        "min_targets": None
        if p.get("min_targets") is None
        else whole(p["min_targets"], "min_targets"),
        "max_targets": None
        if p.get("max_targets") is None
        else whole(p["max_targets"], "max_targets"),
    }
    if out["draw_date"] is None:
        raise BadDocument("draw_date is missing")
    return out


def rebuild_v2(inputs: object) -> tuple[dict, dict]:
    """Section 3: the sr-draw/2 snapshot, re-sorted from what was published, and the pool."""
    if not isinstance(inputs, dict) or not isinstance(inputs.get("enterprises"), dict):
        raise BadDocument("inputs.enterprises should map each stratum to its ids")
    strata = {}
    for key, ids in inputs["enterprises"].items():
        if not text(key, "stratum") or "\x00" in key:
            raise BadDocument("a stratum key should be a non-empty string without NUL")
        ids = sorted(texts(ids, f"enterprises of {key}"))
        if ids:
            strata[key] = ids
    inspectors = sorted(texts(inputs.get("inspectors"), "inspectors"))
    outside = sorted(texts(inputs.get("outside_inspectors"), "outside_inspectors"))
    snap = {
        "enterprises": strata,
        "inspectors": inspectors,
        "outside_inspectors": outside,
        "recusals": pair_list(inputs.get("recusals"), "recusals"),
        "previous_assignments": pair_list(
            inputs.get("previous_assignments"), "previous_assignments"
        ),
        "parameters": parameters(inputs.get("parameters")),
    }
    pool = {
        "strata": strata,
        "inspectors": inspectors,
        "outside_inspectors": outside,
        "pool_size": len(inspectors),
        "outside_pool_size": len(outside),
    }
    return snap, pool


def certified(number: str | None, until: str | None, on: str) -> bool:
    return bool(number and number.strip()) and (until is None or until >= on)


def rebuild_v1(inputs: object) -> tuple[dict, dict]:
    """The sr-draw/1 snapshot (every pool member with certificate data) and its pool."""
    if not isinstance(inputs, dict):
        raise BadDocument("inputs should be an object")
    try:
        enterprises = sorted(
            (
                {
                    "id": text(e["id"], "enterprise id"),
                    "stratum": text(e["stratum"], "stratum"),
                    "industry": text_or_null(e.get("industry"), "industry"),
                }
                for e in inputs["enterprises"]
            ),
            key=_by_id,
        )
        people = {}
        for name, extra in (("inspectors", ()), ("outside_inspectors", ("department",))):
            rows = []
            for i in inputs.get(name, []):
                row = {
                    "id": text(i["id"], f"{name} id"),
                    "certificate_no": text_or_null(i["certificate_no"], "certificate_no"),
                    "certificate_valid_until": day_or_null(
                        i["certificate_valid_until"], "certificate_valid_until"
                    ),
                }
                for member in extra:
                    row[member] = text(i[member], member)
                rows.append(row)
            people[name] = sorted(rows, key=_by_id)
    except (KeyError, TypeError, AttributeError) as exc:
        raise BadDocument(f"inputs are incomplete: {exc!r}") from None
    snap: dict[str, Any] = {
        "enterprises": enterprises,
        "inspectors": people["inspectors"],
        "outside_inspectors": people["outside_inspectors"],
        "recusals": pair_list(inputs.get("recusals"), "recusals"),
        "previous_assignments": pair_list(
            inputs.get("previous_assignments"), "previous_assignments"
        ),
        "parameters": parameters(inputs.get("parameters")),
    }
    on = snap["parameters"]["draw_date"]
    strata: dict = {}
    for e in enterprises:
        strata.setdefault(e["stratum"], []).append(e["id"])

    def drawable(rows: list) -> list:
        return [
            r["id"]
            for r in rows
            if certified(r["certificate_no"], r["certificate_valid_until"], on)
        ]

    pool = {
        "strata": strata,
        "inspectors": drawable(people["inspectors"]),
        "outside_inspectors": drawable(people["outside_inspectors"]),
        "pool_size": len(people["inspectors"]),
        "outside_pool_size": len(people["outside_inspectors"]),
    }
    # sr-draw/1 set team sizes against the whole pool, certified or not.
    pool["whole_pools"] = True
    return snap, pool


def broken_rules(snap: dict, pool: dict) -> list[str]:
    """Section 1: inputs that break these rules cannot be drawn at all."""
    found = []
    p = snap["parameters"]
    lo, hi = p["min_targets"], p["max_targets"]
    if p["team_size"] < 2:
        found.append("team_size is below 2")
    if p["outside_per_team"] < 0 or (lo is not None and lo < 0) or (hi is not None and hi < 0):
        found.append("a team size or bound is negative")
    if lo is not None and hi is not None and lo > hi:
        found.append("min_targets exceeds max_targets")
    if pool.get("whole_pools") and (
        p["team_size"] > pool["pool_size"] or p["outside_per_team"] > pool["outside_pool_size"]
    ):
        found.append("a team is larger than its pool")
    firms = [i for ids in pool["strata"].values() for i in ids]
    for what, ids in (
        ("an enterprise", firms),
        ("an inspector", pool["inspectors"]),
        ("an outside inspector", pool["outside_inspectors"]),
    ):
        if len(set(ids)) != len(ids):
            found.append(f"{what} id is listed twice")
        if not all(i and i.isprintable() for i in ids):
            found.append(f"{what} id is empty or not printable")
    if set(pool["inspectors"]) & set(pool["outside_inspectors"]):
        found.append("someone is in both inspector pools")
    for name in ("recusals", "previous_assignments"):
        if not all(i and e and i.isprintable() and e.isprintable() for i, e in snap[name]):
            found.append(f"{name} hold an empty or unprintable id")
    return found


# --- the draw, sections 6 to 8 --------------------------------------------------------


def split_largest_remainder(total: int, weights: dict, caps: dict) -> dict:
    counts = {s: 0 for s in weights}
    pinned: set = set()
    while True:
        active = sorted(s for s in weights if weights[s] > 0 and s not in pinned)
        if not active:
            return counts
        left = total - sum(counts[s] for s in pinned)
        weight = sum(weights[s] for s in active)
        over = [s for s in active if left * weights[s] > caps[s] * weight]
        if over:
            for s in over:
                counts[s] = caps[s]
                pinned.add(s)
            continue
        order = []
        for s in active:
            counts[s] = left * weights[s] // weight
            order.append((-(left * weights[s] % weight), s))
        spare = left - sum(counts[s] for s in active)
        for _, s in sorted(order)[:spare]:
            counts[s] += 1
        return counts


def stratum_counts(strata: dict, params: dict) -> list[dict]:
    keys = sorted(set(strata) | set(params["rates"]))
    rows = []
    for s in keys:
        rate = params["rates"].get(s, params["default_rate"])
        size = len(strata.get(s, []))
        f = Fraction(rate)
        rows.append(
            {
                "stratum": s,
                "pool_size": size,
                "rate": rate,
                "base": (f.numerator * size + f.denominator - 1) // f.denominator,
            }
        )
    base = {r["stratum"]: r["base"] for r in rows}
    sizes = {r["stratum"]: r["pool_size"] for r in rows}
    total = sum(base.values())
    lo, hi = params["min_targets"], params["max_targets"]
    if hi is not None and total > hi:
        drawn = split_largest_remainder(hi, base, base)
    elif lo is not None and total < lo:
        room = sum(sizes[s] for s in keys if base[s] > 0)
        if room < lo:
            raise Infeasible(f"min_targets {lo} exceeds the {room} enterprises that may be drawn")
        drawn = split_largest_remainder(lo, base, sizes)
    else:
        drawn = dict(base)
    for r in rows:
        r["drawn"] = drawn[r["stratum"]]
    return rows


class Loads:
    """One pool's people grouped by how many teams of this draw they are on, ids sorted.

    Section 8 picks the smallest (went there last time, load) key and draws among the ties
    in id order. Within one load the ties are that group minus the few people barred for
    this enterprise, so a pick skips over those positions instead of scanning everyone.
    """

    def __init__(self, ids: list) -> None:
        self.load = dict.fromkeys(ids, 0)
        self.groups = {0: sorted(ids)} if ids else {}

    def choose(self, stream: Stream, recused: set, been: set, team: list) -> str:
        barred = recused | been | set(team)
        for level in sorted(self.groups):
            group = self.groups[level]
            holes = sorted(
                bisect.bisect_left(group, i) for i in barred if self.load.get(i) == level
            )
            free = len(group) - len(holes)
            if not free:
                continue
            k = stream.below(free)
            for hole in holes:
                if hole > k:
                    break
                k += 1
            return group[k]
        # Everyone left went there last time: the least loaded of them, ties by the seed.
        left = sorted(i for i in been if i not in recused and i not in team)
        low = min(self.load[i] for i in left)
        ties = [i for i in left if self.load[i] == low]
        return ties[stream.below(len(ties))]

    def add(self, team: list) -> None:
        for i in team:
            level = self.load[i]
            group = self.groups[level]
            del group[bisect.bisect_left(group, i)]
            if not group:
                del self.groups[level]
            self.load[i] = level + 1
            bisect.insort(self.groups.setdefault(level + 1, []), i)


def draw(
    pool: dict, params: dict, recusals: list, previous: list, seed: bytes, algorithm: str
) -> tuple[list[dict], list[dict]]:
    rows = stratum_counts(pool["strata"], params)
    chosen = []
    stratum_of = {}
    for row in rows:
        k = row["drawn"]
        if not k:
            continue
        ids = list(pool["strata"][row["stratum"]])
        stream = Stream(seed, algorithm + "/sample/" + row["stratum"])
        for i in range(k):
            j = i + stream.below(len(ids) - i)
            ids[i], ids[j] = ids[j], ids[i]
        chosen += ids[:k]
        for e in ids[:k]:
            stratum_of[e] = row["stratum"]

    need = params["team_size"]
    need_guests = params["outside_per_team"]
    agency, guests = pool["inspectors"], pool["outside_inspectors"]
    if chosen and (len(agency) < need or len(guests) < need_guests):
        raise Infeasible("too few inspectors hold a certificate valid on the draw date")

    drawn = set(chosen)
    recused: dict = {}
    for i, e in recusals:
        if e in drawn:
            recused.setdefault(e, set()).add(i)
    visited: dict = {}
    for i, e in previous:
        if e in drawn:
            visited.setdefault(e, set()).add(i)
    mine_set, theirs_set = set(agency), set(guests)
    free = {}
    for e in chosen:
        barred = recused.get(e, set())
        free[e] = (len(mine_set - barred), len(theirs_set - barred))
        if free[e][0] < need or free[e][1] < need_guests:
            raise Infeasible(f"enterprise {e} cannot get a full team")

    stream = Stream(seed, algorithm + "/team")
    people = (Loads(agency), Loads(guests))
    teams = {}
    for e in sorted(chosen, key=lambda e: (free[e][0], free[e][1], e)):
        barred = recused.get(e, set())
        went = visited.get(e, set())
        sides = []
        for loads, members, count in (
            (people[0], mine_set, need),
            (people[1], theirs_set, need_guests),
        ):
            team: list = []
            for _ in range(count):
                team.append(loads.choose(stream, barred & members, went & members, team))
            loads.add(team)
            sides.append(sorted(team))
        teams[e] = sides

    assignments = [
        {
            "enterprise_id": e,
            "stratum": stratum_of[e],
            "inspectors": teams[e][0],
            "outside_inspectors": teams[e][1],
        }
        for e in sorted(chosen)
    ]
    return rows, assignments


# --- comparing ------------------------------------------------------------------------


def check(doc: object) -> list[str]:
    """Every difference between the document and its recomputation; empty if it matches."""
    if not isinstance(doc, dict):
        raise BadDocument("the document should be a JSON object")
    algorithm = doc.get("algorithm")
    if algorithm not in FORMATS:
        raise BadDocument(f"this script checks {', '.join(FORMATS)}, not {algorithm!r}")
    if doc.get("format") != FORMATS[algorithm]:
        raise BadDocument(f"format should be {FORMATS[algorithm]!r}, found {doc.get('format')!r}")
    seed_hex = text(doc.get("seed"), "seed")
    try:
        seed = bytes.fromhex(seed_hex)
    except ValueError:
        raise BadDocument("seed should be hex") from None
    if not 16 <= len(seed) <= 64:
        raise BadDocument("seed should be 16 to 64 bytes")
    result = doc.get("result")
    if not isinstance(result, dict) or "strata" not in result or "assignments" not in result:
        raise BadDocument("result should hold strata and assignments")

    rebuild = rebuild_v1 if algorithm == "sr-draw/1" else rebuild_v2
    snap, pool = rebuild(doc.get("inputs"))
    problems = []
    if doc.get("seed_commitment") != sha256_hex(seed):
        problems.append("seed_commitment is not the SHA-256 of the seed")
    if doc.get("fingerprint") != sha256_hex(canonical(snap)):
        problems.append("fingerprint does not match the published inputs")
    problems.extend(timing_problems(doc))
    broken = broken_rules(snap, pool)
    if broken:
        return problems + [f"the published inputs cannot be drawn: {b}" for b in broken]
    try:
        rows, assignments = draw(
            pool,
            snap["parameters"],
            snap["recusals"],
            snap["previous_assignments"],
            seed,
            algorithm,
        )
    except Infeasible as exc:
        problems.append(f"the published inputs cannot be drawn: {exc}")
        return problems
    if result["strata"] != rows:
        problems.append("the per-stratum counts differ")
    if result["assignments"] != assignments:
        problems.extend(assignment_problems(result["assignments"], assignments))
    return problems


def timing_problems(doc: dict) -> list[str]:
    """Section 10, step 2: a commitment published with the page must precede the draw."""
    page = doc.get("publication")
    if not isinstance(page, dict):
        return []
    found = []
    if "seed_commitment" in page and page["seed_commitment"] != doc.get("seed_commitment"):
        found.append("the page shows another seed commitment than the document")
    committed, drawn = page.get("committed_at"), page.get("drawn_at")
    if committed is None or drawn is None:
        return found
    try:
        committed_at = datetime.fromisoformat(text(committed, "committed_at"))
        drawn_at = datetime.fromisoformat(text(drawn, "drawn_at"))
    except ValueError:
        raise BadDocument("committed_at and drawn_at should be RFC 3339 times") from None
    if committed_at.tzinfo is None or drawn_at.tzinfo is None:
        raise BadDocument("committed_at and drawn_at should carry their offset")
    if committed_at >= drawn_at:
        found.append(
            f"the seed commitment was published at {committed}, not before the draw at {drawn}"
        )
    return found


def assignment_problems(published_list: list, assignments: list) -> list[str]:
    found = []
    published = {a.get("enterprise_id"): a for a in published_list if isinstance(a, dict)}
    mine = {a["enterprise_id"]: a for a in assignments}
    for e in sorted(set(mine) - set(published)):
        found.append(f"enterprise {e} should have been drawn")
    for e in sorted(set(published) - set(mine), key=str):
        found.append(f"enterprise {e} should not have been drawn")
    for e in sorted(set(mine) & set(published)):
        if published[e] != mine[e]:
            found.append(
                f"enterprise {e}: published team {published[e].get('inspectors')} "
                f"{published[e].get('outside_inspectors')}, recomputed "
                f"{mine[e]['inspectors']} {mine[e]['outside_inspectors']}"
            )
    # Same teams but listed twice or out of order: still not the published form.
    return found or ["the assignments are listed differently (order or duplicates)"]


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    try:
        if argv[1] == "-":
            raw = sys.stdin.buffer.read()
        else:
            with open(argv[1], "rb") as fh:
                raw = fh.read()
        doc = json.loads(raw)
        problems = check(doc)
    except (OSError, ValueError, BadDocument) as exc:
        print(f"cannot check this draw: {exc}", file=sys.stderr)
        return 2
    if problems:
        print("MISMATCH: the published draw does not follow from its inputs")
        for p in problems:
            print(f"  - {p}")
        return 1
    print(
        f"MATCH: {len(doc['result']['assignments'])} enterprises and their teams follow from "
        f"the published inputs and seed (fingerprint {doc['fingerprint'][:16]}...)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
