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


def loads(text: str | bytes) -> Any:
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        # NaN and Infinity, which orjson refuses, from rows written before values were checked.
        return json.loads(text)
