"""Per-draw pseudonyms, so a published draw names no person or enterprise."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import replace

from server.domain.draw.checks import check_ids
from server.domain.draw.model import DrawInputs, Enterprise, InvalidDrawParameters, Pair

# A pseudonym is 128 bits, so that a million of them never collide in practice.
_PSEUDONYM_BYTES = 16


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
        check_ids(fields, name, ids)
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
