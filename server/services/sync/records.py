"""Generic record plumbing for sync: serialize, audit, create and merge edits."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import marshmallow as ma
import sqlalchemy as sa

from server import jsoncodec
from server.domain.errors import ValidationFailed
from server.domain.sync import merge
from server.extensions import db
from server.models.records import SyncedRecord
from server.models.sync import AuditEntry
from server.schemas.common import partial_update
from server.schemas.compiled import loader_for
from server.services.sync.outcomes import Applied, ConflictFound, OpContext

HIDDEN = {"agency_id", "field_versions"}
# Values JSON takes as they are (the common case, checked first).
_PLAIN = frozenset({str, int, float, bool})


def to_json(value: Any, zone: ZoneInfo | None = None) -> Any:
    kind = type(value)
    if value is None or kind in _PLAIN:
        return value
    # Plain items are taken as they are without a call each (most of an audit entry's).
    if kind is list or kind is tuple:
        return [v if v is None or type(v) in _PLAIN else to_json(v, zone) for v in value]
    if kind is dict:
        return {
            k: v if v is None or type(v) in _PLAIN else to_json(v, zone) for k, v in value.items()
        }
    if kind is uuid.UUID:
        return str(value)
    if isinstance(value, datetime):
        return value.astimezone(zone).isoformat() if zone else value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, list | tuple):
        return [to_json(v, zone) for v in value]
    if isinstance(value, dict):
        return {k: to_json(v, zone) for k, v in value.items()}
    return value


def serialize(record: Any, zone: ZoneInfo | None = None) -> dict[str, Any]:
    """A record as devices see it in pulls and in ``current`` of a conflict."""
    out: dict[str, Any] = {}
    hidden = HIDDEN | getattr(type(record), "__not_synced__", frozenset())
    for column in sa.inspect(type(record)).columns:
        if column.key in hidden:
            continue
        out[column.key] = to_json(getattr(record, column.key), zone)
    return out


_LOADERS: dict[tuple[type[ma.Schema], bool], Callable[[Any], Any]] = {}


def load(schema_cls: type[ma.Schema], data: Any, *, partial: bool = False) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise ValidationFailed("data must be an object", code="invalid_data")
    loader = _LOADERS.get((schema_cls, partial))
    if loader is None:
        # Building a schema deep-copies its fields; one instance per kind serves every op,
        # compiled once (see schemas/compiled.py).
        schema = partial_update(schema_cls) if partial else schema_cls()
        loader = _LOADERS[(schema_cls, partial)] = loader_for(schema)
    try:
        return loader(data)
    except ma.ValidationError as err:
        raise ValidationFailed(
            "the op's data does not pass validation",
            code="invalid_data",
            fields=err.messages if isinstance(err.messages, dict) else {"_schema": err.messages},
        ) from None


def columns(data: dict[str, Any]) -> dict[str, Any]:
    """Loaded values as they sit in columns: UUIDs inside JSON as strings."""
    out: dict[str, Any] = {}
    for key, value in data.items():
        if isinstance(value, list):
            out[key] = [str(v) if isinstance(v, uuid.UUID) else v for v in value]
        elif isinstance(value, dict):
            out[key] = to_json(value)
        else:
            out[key] = value
    return out


def audit(ctx: OpContext, entity: str, record: Any, action: str, changes: dict[str, Any]) -> None:
    row = {
        "agency_id": ctx.agency_id,
        "at": ctx.now,
        "user_id": ctx.principal.user_id,
        "device_id": ctx.device_id,
        "op_id": ctx.op_id,
        "entity": entity,
        "record_id": record.id,
        "action": action,
        "version": record.version,
        "changes": None,
    }
    if ctx.cache is not None:
        # Inserted as a row at the batch's end: the changes as they are now, as JSON text.
        row["changes"] = jsoncodec.frozen(changes) or to_json(changes)
        ctx.cache.rows[AuditEntry].append(row)
    else:
        row["changes"] = to_json(changes)
        db.session.add(AuditEntry(**row))


def create(ctx: OpContext, entity: str, record: SyncedRecord, values: dict[str, Any]) -> Applied:
    if ctx.cache is not None and ctx.cache.taken_elsewhere(type(record), record.id):
        # Ids are global; one another agency's record holds is refused alone, saying no more
        # than that it cannot be used (not whose it is, nor what it is).
        raise ValidationFailed(
            "this record id cannot be used; give the record a new id and send it again",
            code="id_unavailable",
            fields={"id": ["cannot be used"]},
        )
    record.version = 1
    record.field_versions = {k: 1 for k in values}
    record.created_by = ctx.principal.user_id
    record.created_on_device = ctx.device_id
    record.agency_id = ctx.agency_id
    if ctx.cache is not None:
        ctx.cache.create(record)
    else:
        db.session.add(record)
    audit(ctx, entity, record, "create", {k: [None, v] for k, v in values.items()})
    return Applied(record.version)


def same_as_stored(record: Any, values: dict[str, Any]) -> bool:
    return all(getattr(record, k) == v for k, v in values.items())


def edit(
    ctx: OpContext,
    entity: str,
    record: SyncedRecord,
    base_version: int,
    values: dict[str, Any],
    zone: ZoneInfo,
) -> Applied:
    """Apply a device's edit made against ``base_version``, merging field by field."""
    current = {k: getattr(record, k) for k in values}
    outcome = merge(
        base_version=base_version,
        server_version=record.version,
        field_versions=record.field_versions or {},
        current=current,
        incoming=values,
    )
    if outcome.kind == "ahead":
        raise ValidationFailed(
            f"base_version {base_version} is ahead of the server's {record.version}",
            code="base_version_ahead",
        )
    if outcome.kind == "conflict":
        raise ConflictFound(serialize(record, zone), outcome.conflicting)
    if not outcome.changes:
        return Applied(record.version)
    before = {k: getattr(record, k) for k in outcome.changes}
    record.version += 1
    versions = dict(record.field_versions or {})
    for key, value in outcome.changes.items():
        setattr(record, key, value)
        versions[key] = record.version
    record.field_versions = versions
    audit(ctx, entity, record, "edit", {k: [before[k], v] for k, v in outcome.changes.items()})
    return Applied(record.version)


def immutable_fields(data: dict[str, Any], mutable: frozenset[str]) -> None:
    fixed = sorted(set(data) - mutable)
    if fixed:
        raise ValidationFailed(
            "these fields cannot change once the record exists: " + ", ".join(fixed),
            code="immutable_field",
            fields={f: ["cannot change once the record exists"] for f in fixed},
        )
