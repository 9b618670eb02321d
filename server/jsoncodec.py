"""JSON text of stored columns: orjson where it can, the standard library where it cannot.

A push writes some eight hundred JSON values (ledger payloads and results, audit changes,
record fields); orjson encodes them several times faster. What it refuses (integers wider than
64 bits) goes through ``json`` as before, so every value stored before is stored now."""

from __future__ import annotations

import json
from typing import Any

import orjson

_OPTIONS = orjson.OPT_NON_STR_KEYS


def dumps(value: Any) -> str:
    try:
        return orjson.dumps(value, option=_OPTIONS).decode()
    except TypeError:
        return json.dumps(value)


def frozen(value: Any) -> Any:
    """``value`` as the JSON text it makes now, for a column written later (an audit entry's
    changes at the batch's end): later changes of the objects in it do not reach it, and
    encoding it costs one orjson call instead of a walk in Python. ``None`` when orjson
    cannot encode it. Only ``dumps`` (and orjson) take the result."""
    try:
        return orjson.Fragment(orjson.dumps(value, option=_OPTIONS))
    except TypeError:
        return None


def loads(text: str | bytes) -> Any:
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        # NaN and Infinity, which orjson refuses, from rows written before values were checked.
        return json.loads(text)
