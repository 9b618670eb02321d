"""What no database column stores (NaN, infinities, NUL, unpaired surrogates) is found,
wherever it sits in a device's JSON, and the quick check agrees with the full search."""

from __future__ import annotations

import math

from hypothesis import given
from hypothesis import strategies as st

from server.domain.sync import storable, unstorable

_TEXT = st.text(alphabet=st.characters(codec=None, blacklist_categories=()), max_size=6)
_JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=True, allow_infinity=True)
    | _TEXT,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_TEXT, inner, max_size=4),
    max_leaves=20,
)


def _bad_text(text):
    return "\x00" in text or any(0xD800 <= ord(c) <= 0xDFFF for c in text)


def _bad_leaves(value, path=""):
    """Every bad spot, found the plain way."""
    if isinstance(value, str):
        return {path or "$"} if _bad_text(value) else set()
    if isinstance(value, float):
        return set() if math.isfinite(value) else {path or "$"}
    found = set()
    if isinstance(value, dict):
        for key, item in value.items():
            where = f"{path}.{key}" if path else str(key)
            if _bad_text(key):
                found.add(where)
            found |= _bad_leaves(item, where)
    if isinstance(value, list):
        for index, item in enumerate(value):
            found |= _bad_leaves(item, f"{path}.{index}" if path else str(index))
    return found


@given(_JSON)
def test_a_value_is_refused_exactly_when_it_holds_something_unstorable(value):
    problems = unstorable(value)
    assert bool(problems) == bool(_bad_leaves(value))
    assert unstorable(storable(value)) == {}


def test_the_path_names_where_the_value_sits():
    assert unstorable({"a": [1, {"b": float("nan")}]}) == {"a.1.b": ["not a finite number"]}
    assert unstorable({"k\x00": "x"}) == {"k\\x00": ["the key contains a NUL character"]}
    assert unstorable({"ok": "天津", "n": 1.5, "t": True, "z": None}) == {}
