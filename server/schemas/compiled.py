"""marshmallow schemas turned into plain functions, for the loads a push makes per op.

``compile_loader(schema)`` reads a schema's own fields and validators and returns a function
that loads valid data to exactly what ``schema.load`` returns, several times faster. It
decides nothing by itself: on anything it does not pass (a missing or unknown key, a value
of an unexpected type, a failed validator, a field kind it does not know), it returns
``DEFER`` and the caller asks ``schema.load``, which gives the verdict and the errors. So the
rules stay in the schemas, and a field the compiler does not know is still checked by
marshmallow itself (``Field.deserialize``), only without the saving.

What it reads: the load fields in their order, ``required``, ``allow_none``,
``load_default``, ``partial``; ``String`` and ``UUID`` values, ``List`` and ``Nested`` (one
object) containers; the ``Length``, ``OneOf`` and ``Regexp`` validators (any
other validator is called as marshmallow calls it). A schema with hooks (``pre_load``,
``post_load``, ``validates``...), renamed keys or an ``unknown`` other than ``RAISE`` is not
compiled: its loader always defers.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Collection
from typing import Any

import marshmallow as ma
from marshmallow.utils import missing

# What a loader returns when it does not vouch for the data: ask ``schema.load``.
DEFER: Any = object()

Loader = Callable[[Any], Any]
# A field's loader: (its value, the input the field sits in, as marshmallow passes it).
FieldLoader = Callable[[Any, Any], Any]
Partial = bool | Collection[str] | None


def loader_for(schema: ma.Schema) -> Callable[[Any], Any]:
    """``schema.load`` (its result, or its ``ValidationError``), compiled where it can be."""
    quick = compile_loader(schema)

    def load(data: Any) -> Any:
        loaded = quick(data)
        return schema.load(data) if loaded is DEFER else loaded

    return load


def compile_loader(schema: ma.Schema, partial: Partial = None) -> Loader:
    """A function of raw data giving ``schema.load(data, partial=partial)``, or ``DEFER``."""
    if partial is None:
        partial = schema.partial
    if not _compilable(schema):
        return lambda data: DEFER
    steps = []
    for name, field in schema.load_fields.items():
        if field.data_key is not None or field.attribute is not None or "." in name:
            return lambda data: DEFER
        skip_missing = partial is True or (
            isinstance(partial, Collection) and not isinstance(partial, str) and name in partial
        )
        loader = _field_loader(field, _sub_partial(name, partial), name)
        steps.append((name, loader, field, skip_missing))
    known = frozenset(schema.load_fields)
    plan = tuple(steps)

    def load(data: Any) -> Any:
        if type(data) is not dict or not known.issuperset(data):
            return DEFER
        out = {}
        for name, field_load, field, skip_missing in plan:
            raw = data.get(name, missing)
            if raw is missing:
                if skip_missing:
                    continue
                if field.required:
                    return DEFER
                default = field.load_default
                if default is missing:
                    continue
                out[name] = default() if callable(default) else default
                continue
            value = field_load(raw, data)
            if value is DEFER:
                return DEFER
            out[name] = value
        return out

    return load


def _compilable(schema: ma.Schema) -> bool:
    return (
        not schema.many
        and schema.unknown == ma.RAISE
        and schema.dict_class is dict
        and not any(schema._hooks.values())
    )


def _sub_partial(name: str, partial: Partial) -> Partial:
    """What a nested field's load receives, as ``Schema._deserialize`` passes it on."""
    if isinstance(partial, Collection) and not isinstance(partial, str):
        prefix = name + "."
        return [p[len(prefix) :] for p in partial if p.startswith(prefix)]
    return partial


def _field_loader(field: ma.fields.Field, partial: Partial, attr: str | None) -> FieldLoader:
    """One field's value (never missing) to its loaded value, or ``DEFER``. ``attr`` is the
    field's key in the input when marshmallow names it (a schema's fields; not a list's
    items)."""
    if field.pre_load or field.post_load:
        return _as_marshmallow(field, partial, attr)
    kind = type(field)
    if kind is ma.fields.String:
        convert: Loader = _string
    elif kind is ma.fields.UUID:
        convert = _uuid
    elif kind is ma.fields.List:
        convert = _list(field, partial)  # type: ignore[arg-type]
    elif kind is ma.fields.Nested and not field.many and field.unknown is None:  # type: ignore[attr-defined]
        convert = _nested(field, partial)  # type: ignore[arg-type]
    else:
        return _as_marshmallow(field, partial, attr)
    check = _validator(field.validators)
    allow_none = field.allow_none

    def load(value: Any, data: Any) -> Any:
        if value is None:
            return None if allow_none else DEFER
        loaded = convert(value)
        if loaded is DEFER or (check is not None and not check(loaded)):
            return DEFER
        return loaded

    return load


def _as_marshmallow(field: ma.fields.Field, partial: Partial, attr: str | None) -> FieldLoader:
    """A field the compiler does not take apart: marshmallow's own deserialize, called as
    marshmallow calls it; its refusal defers."""
    kwargs: dict[str, Any] = {} if partial is None else {"partial": partial}

    def load(value: Any, data: Any) -> Any:
        try:
            return field.deserialize(value, attr, data, **kwargs)
        except ma.ValidationError:
            return DEFER

    return load


def _string(value: Any) -> Any:
    return value if type(value) is str else DEFER


def _uuid(value: Any) -> Any:
    if type(value) is not str:
        return DEFER  # marshmallow also takes UUIDs and 16 bytes: JSON gives neither
    try:
        return uuid.UUID(value)
    except ValueError:
        return DEFER


def _list(field: ma.fields.List, partial: Partial) -> Loader:
    # List._deserialize passes its items on without a key or the input.
    inner = _field_loader(field.inner, partial, None)

    def load(value: Any) -> Any:
        if type(value) is not list:
            return DEFER
        out = []
        for item in value:
            loaded = inner(item, None)
            if loaded is DEFER:
                return DEFER
            out.append(loaded)
        return out

    return load


def _nested(field: ma.fields.Nested, partial: Partial) -> Loader:
    # Nested._deserialize loads with the field's schema, partial passed on as given.
    return compile_loader(field.schema, partial)


# --- validators -----------------------------------------------------------------------------


def _validator(validators: list[Any]) -> Callable[[Any], bool] | None:
    """All of a field's validators as one test, ``None`` when it has none."""
    checks = [_one_validator(v) for v in validators]
    if not checks:
        return None
    if len(checks) == 1:
        return checks[0]
    return lambda value: all(check(value) for check in checks)


def _one_validator(validator: Any) -> Callable[[Any], bool]:
    kind = type(validator)
    if kind is ma.validate.Length:
        return _length(validator)
    if kind is ma.validate.OneOf:
        choices = validator.choices
        if all(type(c) is str for c in choices):
            members = frozenset(choices)
            return lambda value: type(value) is str and value in members
    if kind is ma.validate.Regexp:
        regex = validator.regex
        return lambda value: regex.match(value) is not None
    if kind is ma.validate.And:
        return _validator(list(validator.validators)) or (lambda value: True)
    return _called(validator)


def _length(validator: ma.validate.Length) -> Callable[[Any], bool]:
    low, high, equal = validator.min, validator.max, validator.equal
    if equal is not None:
        return lambda value: len(value) == equal
    low = 0 if low is None else low
    if high is None:
        return lambda value: len(value) >= low
    return lambda value: low <= len(value) <= high


def _called(validator: Callable[[Any], Any]) -> Callable[[Any], bool]:
    """Any other validator, as marshmallow calls it: only a raised error fails (its return
    value is ignored, as ``validate.And`` ignores it)."""

    def check(value: Any) -> bool:
        try:
            validator(value)
        except ma.ValidationError:
            return False
        return True

    return check
