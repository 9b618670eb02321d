"""Hazards as stored rows ↔ the domain's ``HazardState``; one place that applies a step."""

from __future__ import annotations

import dataclasses
import functools
import types
import typing
import uuid
from datetime import date, datetime
from typing import Any

from server.domain import hazards as lifecycle
from server.domain.hazards import HazardEvent, HazardPolicy, HazardState, Transition
from server.domain.workdays import DEFAULT_CALENDAR, WorkCalendar
from server.services import agency_settings

_PLAIN = frozenset({str, int, float, bool, type(None)})


def _dump(value: Any) -> Any:
    kind: type = type(value)
    if kind in _PLAIN:  # most of a state's values, checked first (a hazard dumps one per op)
        return value
    names = _field_names(kind)
    if names is not None:
        return {name: _dump(getattr(value, name)) for name in names}
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, dict | types.MappingProxyType):
        return {str(k): _dump(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_dump(v) for v in value]
    return value


@functools.cache
def _field_names(kind: type) -> tuple[str, ...] | None:
    """The fields of a dataclass, in order; ``None`` for any other type."""
    if not dataclasses.is_dataclass(kind):
        return None
    return tuple(f.name for f in dataclasses.fields(kind))


def _load(hint: Any, value: Any) -> Any:
    if value is None:
        return None
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        inner = [a for a in typing.get_args(hint) if a is not type(None)]
        return _load(inner[0], value) if len(inner) == 1 else value
    if hint is datetime:
        return datetime.fromisoformat(value)
    if hint is date:
        return date.fromisoformat(value)
    if hint is uuid.UUID:
        return uuid.UUID(value)
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        hints = _hints(hint)
        return hint(
            **{
                f.name: _load(hints[f.name], value.get(f.name))
                for f in dataclasses.fields(hint)
                if f.name in value
            }
        )
    return value


@functools.cache
def _hints(cls: type) -> dict[str, Any]:
    # Resolving string annotations compiles code; once per class, not once per row.
    return typing.get_type_hints(cls)


def state_to_json(state: HazardState) -> dict[str, Any]:
    return _dump(state)


def state_from_json(data: dict[str, Any]) -> HazardState:
    return _load(HazardState, data)


def policy_for(settings: dict[str, Any] | None, timezone: str) -> HazardPolicy:
    """The agency's hazard policy (``settings["hazards"]``) in its own zone.

    Stored values that are unknown or invalid are logged and left out (their defaults apply):
    a typo in the settings must not stop every hazard page and every sync.
    """
    return agency_settings.hazard_policy(settings, timezone)


def event_to_json(event: HazardEvent) -> dict[str, Any]:
    return _dump(event)


def transition(
    state: HazardState,
    action: str,
    *,
    role: str,
    actor_id: uuid.UUID,
    now: datetime,
    device_id: uuid.UUID | None,
    payload: dict[str, Any],
    policy: HazardPolicy,
    calendar: WorkCalendar = DEFAULT_CALENDAR,
) -> tuple[HazardState, HazardEvent]:
    return lifecycle.apply(
        state,
        Transition(
            action=action,
            actor_role=role,
            actor_id=actor_id,
            now=now,
            device_id=device_id,
            payload=payload,
        ),
        policy,
        calendar,
    )
