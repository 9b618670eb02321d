"""Sync rules: op identity, the field-level merge, and the pull cursor. Pure functions."""

from __future__ import annotations

import base64
import hashlib
import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from server.domain.errors import ValidationFailed

SUPPORTED_SCHEMA_VERSIONS = (1,)
APPLIED, DUPLICATE, HELD, CONFLICT, REJECTED = (
    "applied",
    "duplicate",
    "held",
    "conflict",
    "rejected",
)
# Ops in these states were taken: re-sending them must change nothing.
TAKEN = frozenset({APPLIED, HELD})
# Feed positions are BIGINT: a cursor beyond that was never given out.
MAX_POSITION = 2**63 - 1


# How deep an op's data may nest: a device's records go three or four levels deep. Deeper
# data is refused with the op alone, before anything walks it recursively.
MAX_DATA_DEPTH = 32


def nesting_exceeds(value: Any, limit: int) -> bool:
    """Whether arrays and objects in ``value`` nest more than ``limit`` levels deep (the
    value itself, if one, is level 1). A loop, not recursion: any depth is measured."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children: Any = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return False


def canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def payload_hash(op: Mapping[str, Any]) -> str:
    """Identity of an op's content: everything but its op_id, canonically serialized.

    Defined for any JSON a parser may hand over, lone surrogates and NaN included, so that
    even an op that is then refused has a stable identity."""
    content = {k: v for k, v in op.items() if k != "op_id"}
    return hashlib.sha256(canonical_json(content).encode("utf-8", "surrogatepass")).hexdigest()


_UNSTORABLE_CHARS = re.compile("[\x00\ud800-\udfff]")


def _bad_text(text: str) -> str | None:
    found = _UNSTORABLE_CHARS.search(text)
    if found is None:
        return None
    if found.group() == "\x00":
        return "contains a NUL character"
    return "contains an unpaired surrogate (not valid Unicode)"


def unstorable(value: Any, path: str = "") -> dict[str, list[str]]:
    """Where a parsed JSON value holds what no database column takes, by dotted path:
    NaN and infinite numbers (JSON has neither; lenient parsers make them of ``NaN`` or
    ``1e999``), NUL characters and unpaired surrogates, in values and in keys alike."""
    if _storable(value):  # nearly always: the paths are only worked out when needed
        return {}
    return _unstorable_at(value, path)


def _unstorable_at(value: Any, path: str) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    if isinstance(value, str):
        problem = _bad_text(value)
        if problem:
            found[_printable(path or "$")] = [problem]
    elif isinstance(value, float):
        if not math.isfinite(value):
            found[_printable(path or "$")] = ["not a finite number"]
    elif isinstance(value, dict):
        for key, item in value.items():
            where = f"{path}.{key}" if path else str(key)
            problem = _bad_text(key) if isinstance(key, str) else None
            if problem:
                found[_printable(where)] = [f"the key {problem}"]
            found.update(_unstorable_at(item, where))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found.update(_unstorable_at(item, f"{path}.{index}" if path else str(index)))
    return found


def _storable(value: Any) -> bool:
    """Whether ``unstorable`` finds nothing in ``value``."""
    kind = type(value)
    if kind is str:
        return _UNSTORABLE_CHARS.search(value) is None
    if kind is float:
        return math.isfinite(value)
    if kind is dict:
        return all(
            (type(k) is not str or _UNSTORABLE_CHARS.search(k) is None) and _storable(v)
            for k, v in value.items()
        )
    if kind is list:
        return all(_storable(v) for v in value)
    if kind in (int, bool) or value is None:
        return True
    return not _unstorable_at(value, "")


def _printable(text: str) -> str:
    return text.encode("utf-8", "backslashreplace").decode("utf-8").replace("\x00", "\\x00")


def storable(value: Any) -> Any:
    """``value`` with what ``unstorable`` finds replaced: non-finite numbers by null, NUL and
    unpaired surrogates by U+FFFD. Kept only to remember a refused op; never applied."""
    if isinstance(value, str):
        return value if _bad_text(value) is None else _clean_text(value)
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {
            (_clean_text(k) if isinstance(k, str) else k): storable(v) for k, v in value.items()
        }
    if isinstance(value, list):
        return [storable(v) for v in value]
    return value


def _clean_text(text: str) -> str:
    return _UNSTORABLE_CHARS.sub("\ufffd", text)


@dataclass(frozen=True)
class LedgerDecision:
    action: Literal["process", "duplicate", "reused"]


def ledger_decision(
    previous_status: str | None, previous_hash: str | None, new_hash: str
) -> LedgerDecision:
    """What to do with an op whose op_id may have been seen before.

    Taken ops (applied or held) are answered from the ledger; an op that was rejected or in
    conflict changed nothing, so a re-send is evaluated afresh (the device may have uploaded the
    missing photo meanwhile).
    """
    if previous_status is None or previous_status not in TAKEN:
        return LedgerDecision("process")
    if previous_hash == new_hash:
        return LedgerDecision("duplicate")
    return LedgerDecision("reused")


@dataclass(frozen=True)
class MergeOutcome:
    kind: Literal["apply", "conflict", "ahead"]
    # The fields that really change (value differs from the server's).
    changes: dict[str, Any] = field(default_factory=dict)
    conflicting: tuple[str, ...] = ()


def merge(
    *,
    base_version: int,
    server_version: int,
    field_versions: Mapping[str, int],
    current: Mapping[str, Any],
    incoming: Mapping[str, Any],
) -> MergeOutcome:
    """Decide an edit made on a device against ``base_version`` of the record.

    Fields the server changed after ``base_version`` conflict only if the device changes them
    too, to a different value; otherwise the edit merges.
    """
    if base_version > server_version:
        return MergeOutcome("ahead")
    changes = {k: v for k, v in incoming.items() if current.get(k) != v}
    if base_version == server_version:
        return MergeOutcome("apply", changes)
    touched_since = {f for f, v in field_versions.items() if v > base_version}
    conflicting = tuple(sorted(set(changes) & touched_since))
    if conflicting:
        return MergeOutcome("conflict", changes, conflicting)
    return MergeOutcome("apply", changes)


def encode_cursor(seq: int) -> str:
    raw = json.dumps({"v": 1, "s": seq}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> int:
    """The feed position a cursor stands for; ``None`` or empty means the beginning."""
    if not cursor:
        return 0
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        data = json.loads(base64.urlsafe_b64decode(padded.encode()))
        seq = data["s"]
        if (
            data.get("v") != 1
            or not isinstance(seq, int)
            or isinstance(seq, bool)
            or not 0 <= seq <= MAX_POSITION
        ):
            raise ValueError
    except (ValueError, KeyError, TypeError, AttributeError, UnicodeDecodeError):
        raise ValidationFailed(
            "the cursor is not one this server gave out", code="invalid_cursor"
        ) from None
    return seq
