"""A compiled loader gives what ``schema.load`` gives, or defers to it: never another answer.

Valid ops of every entity are mutated at random (keys dropped, added, replaced by odd JSON
values, deep inside too); for each, the compiled loader must either defer or return exactly
marshmallow's result (same keys in the same order, same types), and it must never accept
what marshmallow refuses.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

import marshmallow as ma
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from server.schemas.common import partial_update
from server.schemas.compiled import DEFER, compile_loader, loader_for
from server.schemas.sync import PAYLOAD_SCHEMAS, OpSchema
from tests.sync_support import document_op, hazard_op, inspection_op, scan_op

A, B, C = (str(uuid.uuid4()) for _ in range(3))
SHA = "a" * 64

SAMPLES: dict[str, dict[str, Any]] = {
    "scan": scan_op("https://example.org/e/abc", [A, B]),
    "inspection": inspection_op(A, [A, B], scan_id=C, signature_attachments=[SHA]),
    "hazard": hazard_op(A, B, photos=[SHA], deadline="2024-06-01"),
    "rectification": {
        "op_id": A,
        "entity": "rectification",
        "id": B,
        "base_version": None,
        "client_time": "2024-05-06T09:00:00+08:00",
        "data": {
            "hazard_id": C,
            "reported_at": "2024-05-07T10:00:00+08:00",
            "description": "已整改",
            "evidence_attachments": [SHA],
        },
    },
    "document": document_op(
        "onsite_measures",
        A,
        [B, C],
        measures=["stop_use"],
        stop_until="2024-06-01",
        prudence="narrowed_scope",
        period_days=15,
        content="责令暂停使用",
    ),
}

NOT_LOADED = object()


def marshmallow_load(schema: ma.Schema, data: Any) -> Any:
    try:
        return schema.load(data)
    except ma.ValidationError:
        return NOT_LOADED


def typed(value: Any) -> Any:
    """A value with every type spelled out, dicts as ordered pairs and times with their
    offsets: 1, 1.0 and True differ, and so do the same keys in another order and the same
    instant in another zone."""
    if isinstance(value, dict):
        return ("dict", [(k, typed(v)) for k, v in value.items()])
    if isinstance(value, list | tuple):
        return (type(value).__name__, [typed(v) for v in value])
    if isinstance(value, date):  # datetimes too
        return (type(value).__name__, value.isoformat())
    return (type(value).__name__, value)


def assert_same_or_deferred(schema: ma.Schema, data: Any) -> bool:
    """The property; returns whether the compiled loader answered itself."""
    fast = compile_loader(schema)(data)
    expected = marshmallow_load(schema, data)
    if fast is DEFER:
        return False
    assert expected is not NOT_LOADED, (
        f"compiled loader accepted what marshmallow refuses: {data!r}"
    )
    assert typed(fast) == typed(expected)
    return True


def schemas() -> list[tuple[str, ma.Schema, Any]]:
    """(name, schema, a valid input) for the envelope and every payload, created and edited."""
    out: list[tuple[str, ma.Schema, Any]] = []
    for entity, sample in SAMPLES.items():
        out.append((f"op:{entity}", OpSchema(), sample))
        out.append((f"create:{entity}", PAYLOAD_SCHEMAS[entity](), sample["data"]))
        out.append((f"edit:{entity}", partial_update(PAYLOAD_SCHEMAS[entity]), sample["data"]))
    return out


SCHEMAS = schemas()


@pytest.mark.parametrize(("name", "schema", "sample"), SCHEMAS, ids=[s[0] for s in SCHEMAS])
def test_valid_samples_are_loaded_without_marshmallow(name: str, schema: Any, sample: Any) -> None:
    # Not a vacuous property below: on valid ops the compiled loader answers itself.
    assert assert_same_or_deferred(schema, sample), f"{name} deferred on a valid sample"


ODD_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from(
        [
            "",
            "x" * 61,
            "x" * 101,
            "x" * 301,
            "x" * 501,
            "x" * 2001,
            "x" * 5001,
            "ok",
            "na",
            "major",
            "stop_use",
            "pass",
            SHA,
            SHA.upper(),
            A,
            A.replace("-", ""),
            "{" + A + "}",
            "2024-05-06T09:00:00",
            "2024-05-06T09:00:00+08:00",
            "2024-05-06T09:00:00Z",
            "1999-12-31T23:00:00+00:00",
            "2024-05-06",
            "2024-13-01",
            "2100-01-01",
            # Lists one item longer than an op allows: inspectors, attachments, hazards.
            [str(uuid.UUID(int=i)) for i in range(21)],
            [f"{i:064x}" for i in range(51)],
            [str(uuid.UUID(int=i)) for i in range(201)],
        ]
    ),
    st.text(max_size=5),
)
ODD_VALUES = st.recursive(
    ODD_SCALARS,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3)
    ),
    max_leaves=6,
)


@st.composite
def mutated(draw: st.DrawFn, value: Any) -> Any:
    """``value`` changed here and there, most of it kept: keys dropped, added or replaced by
    odd values, items repeated, deep inside too. A scalar is replaced."""
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for key, item in value.items():
            action = draw(st.integers(0, 19))
            if action == 0:
                continue  # dropped
            if action == 1:
                out[key] = draw(ODD_VALUES)
            elif action <= 3:
                out[key] = draw(mutated(item))
            else:
                out[key] = item
        if draw(st.integers(0, 9)) == 0:
            out[draw(st.sampled_from(["extra", "note", "id", "data"]))] = draw(ODD_VALUES)
        return out
    if isinstance(value, list):
        items = [draw(mutated(item)) if draw(st.integers(0, 4)) == 0 else item for item in value]
        if items and draw(st.integers(0, 4)) == 0:
            items.append(items[0])  # a repeated id or hash
        if draw(st.integers(0, 9)) == 0:
            items.append(draw(ODD_VALUES))
        return items
    return draw(ODD_VALUES)


def mutations(sample: Any) -> st.SearchStrategy[Any]:
    """Mostly small changes, sometimes a whole odd value."""
    return st.one_of(mutated(sample), mutated(sample), mutated(sample), ODD_VALUES)


@pytest.mark.parametrize(("name", "schema", "sample"), SCHEMAS, ids=[s[0] for s in SCHEMAS])
@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(data=st.data())
def test_mutated_ops_load_as_marshmallow_loads_them(
    name: str, schema: Any, sample: Any, data: st.DataObject
) -> None:
    assert_same_or_deferred(schema, data.draw(mutations(sample)))


# --- the compiler on field kinds the op schemas do not use ----------------------------------


def b_needs_a(tags: list[str]) -> None:
    if "b" in tags and "a" not in tags:
        raise ma.ValidationError("b needs a")


class Echo(ma.fields.Field):
    """What marshmallow hands a field: its key and the input it sits in."""

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> Any:
        return (value, attr, sorted(data) if data is not None else None)


class Inner(ma.Schema):
    flag = ma.fields.Boolean(required=True)
    size = ma.fields.Integer(load_default=0, validate=ma.validate.Range(0, 10, max_inclusive=False))


class Wide(ma.Schema):
    ratio = ma.fields.Float(
        required=True, validate=ma.validate.Range(0, 1, min_inclusive=False), allow_nan=False
    )
    count = ma.fields.Integer(load_default=None, allow_none=True)  # not strict: takes "3"
    code = ma.fields.String(
        load_default=lambda: "none",
        validate=[ma.validate.Length(equal=4), ma.validate.Regexp(r"^[A-Z]+$")],
    )
    tags = ma.fields.List(
        ma.fields.String(validate=ma.validate.OneOf(["a", "b"])),
        load_default=list,
        validate=ma.validate.And(ma.validate.Length(max=3), b_needs_a),
    )
    # marshmallow 4 ignores what a validator returns; only what it raises counts.
    anything = ma.fields.String(load_default="", validate=lambda value: False)
    echo = Echo(load_default=None)
    echoes = ma.fields.List(Echo(), load_default=list)
    inner = ma.fields.Nested(Inner, load_default=None, allow_none=True)
    inners = ma.fields.List(ma.fields.Nested(Inner), load_default=list)
    loose = ma.fields.Nested(Inner, unknown=ma.EXCLUDE, load_default=None)
    day = ma.fields.Date(load_default=None)
    level = ma.fields.String(validate=ma.validate.OneOf([1, "one"]), load_default="one")


WIDE_SAMPLE = {
    "ratio": 0.5,
    "count": 3,
    "code": "ABCD",
    "tags": ["a", "b"],
    "inner": {"flag": True, "size": 3},
    "inners": [{"flag": False}],
    "loose": {"flag": True},
    "day": "2024-05-06",
    "level": "one",
    "anything": "x",
    "echo": 1,
    "echoes": [1, 2],
}


@pytest.mark.parametrize("partial", [None, False, True, ("ratio",), ("inner.flag", "ratio")])
def test_other_field_kinds_follow_marshmallow(partial: Any) -> None:
    schema = Wide() if partial is None else Wide(partial=partial)
    assert assert_same_or_deferred(schema, WIDE_SAMPLE)
    assert assert_same_or_deferred(schema, {"ratio": 1})  # an int for a float, defaults
    if partial == ("inner.flag", "ratio"):  # a nested schema is partial as its path says
        assert assert_same_or_deferred(schema, {"inner": {"size": 1}})
    for odd in (
        {**WIDE_SAMPLE, "ratio": 0},  # excluded bound
        {**WIDE_SAMPLE, "ratio": float("nan")},
        {**WIDE_SAMPLE, "count": True},
        {**WIDE_SAMPLE, "code": "ABC"},
        {**WIDE_SAMPLE, "code": "abcd"},
        {**WIDE_SAMPLE, "tags": ["b"]},
        {**WIDE_SAMPLE, "tags": ["a", "a", "a", "a"]},
        {**WIDE_SAMPLE, "inner": {"flag": "yes", "size": 10}},
        {**WIDE_SAMPLE, "inner": {"size": 1}},
        {**WIDE_SAMPLE, "inners": [{"flag": True, "other": 1}]},
        {**WIDE_SAMPLE, "loose": {"flag": True, "other": 1}},
        {**WIDE_SAMPLE, "level": 1},
        {**WIDE_SAMPLE, "count": "3"},
        {**WIDE_SAMPLE, "day": "2024-02-30"},
        {k: v for k, v in WIDE_SAMPLE.items() if k != "ratio"},
    ):
        assert_same_or_deferred(schema, odd)


@settings(max_examples=300, deadline=None)
@given(data=st.data())
def test_other_field_kinds_mutated(data: st.DataObject) -> None:
    partial = data.draw(st.sampled_from([None, True, ("ratio", "inner.flag")]))
    schema = Wide() if partial is None else Wide(partial=partial)
    assert_same_or_deferred(schema, data.draw(mutations(WIDE_SAMPLE)))


class Hooked(ma.Schema):
    name = ma.fields.String(required=True)

    @ma.post_load
    def upper(self, data: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        return {"name": data["name"].upper()}


def test_schemas_with_hooks_are_left_to_marshmallow() -> None:
    assert compile_loader(Hooked())({"name": "a"}) is DEFER
    assert loader_for(Hooked())({"name": "a"}) == {"name": "A"}


def test_loader_for_raises_marshmallows_error() -> None:
    load = loader_for(OpSchema())
    with pytest.raises(ma.ValidationError) as refused:
        load({**SAMPLES["scan"], "base_version": 0})
    assert "base_version" in refused.value.messages
    loaded = load(SAMPLES["scan"])
    assert isinstance(loaded["id"], uuid.UUID)
    assert isinstance(loaded["client_time"], datetime)
    hazard = loader_for(PAYLOAD_SCHEMAS["hazard"]())(SAMPLES["hazard"]["data"])
    assert type(hazard["deadline"]) is date
