#!/usr/bin/env python3
"""Check a published double-random draw (sr-draw/1) by recomputing it from its own inputs.

Usage:  python3 verify_draw.py DRAW.json      (or:  ... | python3 verify_draw.py -)

Needs only Python 3.9+ and its standard library. It follows docs/draw-algorithm.md step by
step and shares no code with the service that made the draw, so agreement means something.

Exit status: 0 the draw matches, 1 it does not, 2 the document could not be read.
"""

from __future__ import annotations

import hashlib
import json
import sys
from datetime import date
from decimal import Decimal
from fractions import Fraction

ALGORITHM = "sr-draw/1"
FORMAT = "sr-draw-public/1"


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
        self.seed = seed
        self.label = label
        self.block = 0
        self.pending: list[int] = []

    def word(self) -> int:
        if not self.pending:
            data = self.label.encode("utf-8") + b"\x00" + self.seed
            data += self.block.to_bytes(8, "big")
            digest = hashlib.sha256(data).digest()
            self.block += 1
            self.pending = [int.from_bytes(digest[k : k + 8], "big") for k in (0, 8, 16, 24)]
        return self.pending.pop(0)

    def below(self, n: int) -> int:
        limit = 2**64 - (2**64 % n)
        while True:
            w = self.word()
            if w < limit:
                return w % n


# --- reading the document --------------------------------------------------------------


def text(value: object, what: str) -> str:
    if not isinstance(value, str):
        raise BadDocument(f"{what} should be a string")
    return value


def text_or_null(value: object, what: str) -> str | None:
    return None if value is None else text(value, what)


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


def rebuild_snapshot(inputs: dict) -> dict:
    """Section 3: the canonical snapshot, re-sorted and re-normalised from what was published."""
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
            key=lambda e: e["id"],
        )
        inspectors = sorted(
            (
                {
                    "id": text(i["id"], "inspector id"),
                    "certificate_no": text_or_null(i["certificate_no"], "certificate_no"),
                    "certificate_valid_until": day_or_null(
                        i["certificate_valid_until"], "certificate_valid_until"
                    ),
                }
                for i in inputs["inspectors"]
            ),
            key=lambda i: i["id"],
        )
        outside = sorted(
            (
                {
                    "id": text(o["id"], "outside inspector id"),
                    "department": text(o["department"], "department"),
                    "certificate_no": text_or_null(o["certificate_no"], "certificate_no"),
                    "certificate_valid_until": day_or_null(
                        o["certificate_valid_until"], "certificate_valid_until"
                    ),
                }
                for o in inputs.get("outside_inspectors", [])
            ),
            key=lambda o: o["id"],
        )
        pairs = {}
        for name in ("recusals", "previous_assignments"):
            seen = set()
            for pair in inputs[name]:
                if not isinstance(pair, list) or len(pair) != 2:
                    raise BadDocument(f"{name} should hold [inspector_id, enterprise_id] pairs")
                seen.add((text(pair[0], name), text(pair[1], name)))
            pairs[name] = [list(p) for p in sorted(seen)]
        p = inputs["parameters"]
        if not isinstance(p.get("rates"), dict):
            raise BadDocument("parameters.rates should be an object")
        parameters = {
            "draw_date": day_or_null(p["draw_date"], "draw_date"),
            "team_size": whole(p["team_size"], "team_size"),
            "outside_per_team": whole(p.get("outside_per_team", 0), "outside_per_team"),
            "rates": {
                text(k, "stratum"): shortest_rate(v, f"rate of {k}") for k, v in p["rates"].items()
            },
            "default_rate": shortest_rate(p["default_rate"], "default_rate"),
            "min_targets": None
            if p.get("min_targets") is None
            else whole(p["min_targets"], "min_targets"),
            "max_targets": None
            if p.get("max_targets") is None
            else whole(p["max_targets"], "max_targets"),
        }
    except (KeyError, TypeError, AttributeError) as exc:
        raise BadDocument(f"inputs are incomplete: {exc!r}") from None
    if parameters["draw_date"] is None:
        raise BadDocument("draw_date is missing")
    return {
        "enterprises": enterprises,
        "inspectors": inspectors,
        "outside_inspectors": outside,
        "recusals": pairs["recusals"],
        "previous_assignments": pairs["previous_assignments"],
        "parameters": parameters,
    }


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


def stratum_counts(snap: dict) -> list[dict]:
    params = snap["parameters"]
    by_stratum: dict = {}
    for e in snap["enterprises"]:
        by_stratum.setdefault(e["stratum"], []).append(e["id"])
    keys = sorted(set(by_stratum) | set(params["rates"]))
    rows = []
    for s in keys:
        rate = params["rates"].get(s, params["default_rate"])
        size = len(by_stratum.get(s, []))
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
    size = {r["stratum"]: r["pool_size"] for r in rows}
    total = sum(base.values())
    lo, hi = params["min_targets"], params["max_targets"]
    if hi is not None and total > hi:
        drawn = split_largest_remainder(hi, base, base)
    elif lo is not None and total < lo:
        room = sum(size[s] for s in keys if base[s] > 0)
        if room < lo:
            raise Infeasible(f"min_targets {lo} exceeds the {room} enterprises that may be drawn")
        drawn = split_largest_remainder(lo, base, size)
    else:
        drawn = dict(base)
    for r in rows:
        r["drawn"] = drawn[r["stratum"]]
    return rows


def certified(person: dict, on: str) -> bool:
    number = person["certificate_no"]
    until = person["certificate_valid_until"]
    return bool(number and number.strip()) and (until is None or until >= on)


def draw(snap: dict, seed: bytes) -> tuple[list[dict], list[dict]]:
    params = snap["parameters"]
    rows = stratum_counts(snap)
    members: dict = {}
    stratum_of = {}
    for e in snap["enterprises"]:
        members.setdefault(e["stratum"], []).append(e["id"])
        stratum_of[e["id"]] = e["stratum"]

    chosen = []
    for row in rows:
        k = row["drawn"]
        if not k:
            continue
        ids = sorted(members[row["stratum"]])
        stream = Stream(seed, "sr-draw/1/sample/" + row["stratum"])
        for i in range(k):
            j = i + stream.below(len(ids) - i)
            ids[i], ids[j] = ids[j], ids[i]
        chosen += ids[:k]

    on = params["draw_date"]
    agency = sorted(p["id"] for p in snap["inspectors"] if certified(p, on))
    guests = sorted(p["id"] for p in snap["outside_inspectors"] if certified(p, on))
    recused = {tuple(p) for p in snap["recusals"]}
    need = params["team_size"]
    need_guests = params["outside_per_team"]

    candidates = {}
    for e in chosen:
        mine = [i for i in agency if (i, e) not in recused]
        theirs = [i for i in guests if (i, e) not in recused]
        if len(mine) < need or len(theirs) < need_guests:
            raise Infeasible(f"enterprise {e} cannot get a full team")
        candidates[e] = (mine, theirs)

    load = {i: 0 for i in agency + guests}
    stream = Stream(seed, "sr-draw/1/team")

    visited_by: dict = {}
    for i, e in snap["previous_assignments"]:
        visited_by.setdefault(e, set()).add(i)

    def pick(e: str, pool: list, count: int) -> list:
        # Literally section 8: one pass over the sorted candidates per member, smallest
        # (went last time, load) key wins, ties drawn by the seed in id order.
        been = visited_by.get(e, set())
        team: list = []
        for _ in range(count):
            best = None
            ties: list = []
            for i in pool:
                if i in team:
                    continue
                key = (1 if i in been else 0, load[i])
                if best is None or key < best:
                    best, ties = key, [i]
                elif key == best:
                    ties.append(i)
            team.append(ties[stream.below(len(ties))])
        for i in team:
            load[i] += 1
        return sorted(team)

    teams = {}
    order = sorted(chosen, key=lambda e: (len(candidates[e][0]), len(candidates[e][1]), e))
    for e in order:
        inside = pick(e, candidates[e][0], need)
        outside = pick(e, candidates[e][1], need_guests) if need_guests else []
        teams[e] = (inside, outside)

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
    if doc.get("format") != FORMAT:
        raise BadDocument(f"format should be {FORMAT!r}, found {doc.get('format')!r}")
    if doc.get("algorithm") != ALGORITHM:
        raise BadDocument(f"this script checks {ALGORITHM}, not {doc.get('algorithm')!r}")
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

    snap = rebuild_snapshot(doc.get("inputs"))
    problems = []
    if doc.get("seed_commitment") != sha256_hex(seed):
        problems.append("seed_commitment is not the SHA-256 of the seed")
    if doc.get("fingerprint") != sha256_hex(canonical(snap)):
        problems.append("fingerprint does not match the published inputs")
    try:
        rows, assignments = draw(snap, seed)
    except Infeasible as exc:
        problems.append(f"the published inputs cannot be drawn: {exc}")
        return problems
    if result["strata"] != rows:
        problems.append("the per-stratum counts differ")
    if result["assignments"] != assignments:
        problems.extend(assignment_problems(result["assignments"], assignments))
    return problems


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
