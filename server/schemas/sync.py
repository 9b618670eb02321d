"""Sync push/pull envelopes and the op payloads of schema version 1.

The payload schemas are also the source of ``client_schema/`` (scripts/gen_client_schema.py).
"""

from __future__ import annotations

from typing import Any

import marshmallow as ma

from server.domain.sync import SUPPORTED_SCHEMA_VERSIONS
from server.schemas.fields import Day, LocalDateTime

MAX_OPS_PER_PUSH = 500
MAX_PUSH_BYTES = 4 * 1024 * 1024
SHA256 = ma.validate.Regexp(r"^[0-9a-f]{64}$", error="a lowercase hex sha256")

ENTITIES = ("scan", "inspection", "hazard", "rectification", "document")
INSPECTION_KINDS = ("key", "random", "complaint", "joint", "other")
DOCUMENT_TYPES = (
    "inspection_record",
    "onsite_measures",
    "rectification_order",
    "reinspection_opinion",
    "penalty_decision",
)
ONSITE_MEASURES = ("immediate_fix", "withdraw_workers", "stop_production", "stop_use")
# 包容审慎适用行政强制措施: compulsion not imposed, or limited in scope or in time.
ONSITE_PRUDENCE = ("not_imposed", "narrowed_scope", "shortened_time")


def _text(max_len: int, **kw: Any) -> ma.fields.String:
    return ma.fields.String(validate=ma.validate.Length(max=max_len), **kw)


class Unique(ma.validate.Validator):
    """No item twice: a listed hazard or inspector counts once, and a device is told so."""

    error = "lists {duplicates} more than once"

    def __call__(self, value: Any) -> Any:
        seen: set[Any] = set()
        twice = []
        for item in value:
            if item in seen and item not in twice:
                twice.append(item)
            seen.add(item)
        if twice:
            raise ma.ValidationError(self.error.format(duplicates=", ".join(str(i) for i in twice)))
        return value


def _ids(min_len: int, max_len: int, **kw: Any) -> ma.fields.List:
    """A list of record or user ids, each at most once."""
    return ma.fields.List(
        ma.fields.UUID(),
        validate=[ma.validate.Length(min=min_len or None, max=max_len), Unique()],
        metadata={"uniqueItems": True},
        **kw,
    )


def _attachments(min_len: int = 0, **kw: Any) -> ma.fields.List:
    return ma.fields.List(
        ma.fields.String(validate=SHA256),
        validate=ma.validate.Length(min=min_len, max=50),
        metadata={"description": "sha256 of attachments uploaded beforehand"},
        **kw,
    )


class LocationSchema(ma.Schema):
    lat = ma.fields.Float(required=True, allow_nan=False, validate=ma.validate.Range(-90, 90))
    lng = ma.fields.Float(required=True, allow_nan=False, validate=ma.validate.Range(-180, 180))
    accuracy_m = ma.fields.Float(
        load_default=None, allow_none=True, allow_nan=False, validate=ma.validate.Range(0)
    )


class ScanData(ma.Schema):
    """扫码入企: the raw text the camera read, when and where, and who arrived."""

    MUTABLE: frozenset[str] = frozenset()

    code = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=2000))
    scanned_at = LocalDateTime(required=True)
    location = ma.fields.Nested(LocationSchema, required=True, allow_none=True)
    inspector_ids = _ids(1, 20, required=True)


class ItemSchema(ma.Schema):
    item = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=500))
    result = ma.fields.String(required=True, validate=ma.validate.OneOf(["ok", "hazard", "na"]))
    note = _text(2000, load_default="")


class RepresentativeSchema(ma.Schema):
    name = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=100))
    title = _text(100, load_default="")


class InspectionData(ma.Schema):
    """现场检查记录."""

    MUTABLE = frozenset(
        {
            "ended_at",
            "place",
            "inspector_ids",
            "items",
            "findings",
            "representative",
            "signature_attachments",
        }
    )

    enterprise_id = ma.fields.UUID(required=True)
    scan_id = ma.fields.UUID(required=True, allow_none=True)
    task_id = ma.fields.UUID(required=True, allow_none=True)
    kind = ma.fields.String(required=True, validate=ma.validate.OneOf(INSPECTION_KINDS))
    started_at = LocalDateTime(required=True)
    ended_at = LocalDateTime(required=True, allow_none=True)
    place = ma.fields.String(required=True, validate=ma.validate.Length(max=300))
    inspector_ids = _ids(2, 20, required=True)
    items = ma.fields.List(
        ma.fields.Nested(ItemSchema), required=True, validate=ma.validate.Length(max=500)
    )
    findings = _text(20000, required=True)
    representative = ma.fields.Nested(RepresentativeSchema, required=True, allow_none=True)
    signature_attachments = _attachments(required=True)


class HazardData(ma.Schema):
    """隐患. Editable once recorded: description, location, legal_basis, photo_attachments.

    The level is fixed when the hazard is recorded; changing it later is a lifecycle step
    from the office (``reclassify``), because a major hazard closes only with a manager's
    sign-off.
    """

    MUTABLE = frozenset({"description", "location", "legal_basis", "photo_attachments"})

    inspection_id = ma.fields.UUID(required=True)
    enterprise_id = ma.fields.UUID(required=True)
    level = ma.fields.String(required=True, validate=ma.validate.OneOf(["general", "major"]))
    description = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=5000))
    location = _text(300, required=True)
    legal_basis = _text(2000, required=True)
    photo_attachments = _attachments(required=True)
    fixed_on_spot = ma.fields.Boolean(required=True)
    deadline = Day(required=True, allow_none=True)


class RectificationData(ma.Schema):
    """The enterprise reports a hazard fixed, with evidence."""

    MUTABLE: frozenset[str] = frozenset()

    hazard_id = ma.fields.UUID(required=True)
    reported_at = LocalDateTime(required=True)
    description = _text(5000, required=True)
    evidence_attachments = _attachments(min_len=1, required=True)


class DocumentData(ma.Schema):
    """执法文书; the type's own fields sit beside the common ones."""

    MUTABLE: frozenset[str] = frozenset()

    type = ma.fields.String(required=True, validate=ma.validate.OneOf(DOCUMENT_TYPES))
    inspection_id = ma.fields.UUID(required=True)
    hazard_ids = _ids(0, 200, required=True)
    issued_at = LocalDateTime(required=True)
    provisional_number = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=60))
    # rectification_order (and a failed reinspection_opinion): the deadline, or the period
    # in the agency's calendar or working days; onsite_measures: measures, how long a stop lasts
    deadline = Day(load_default=None, allow_none=True)
    period_days = ma.fields.Integer(
        load_default=None,
        allow_none=True,
        strict=True,
        validate=ma.validate.Range(min=1, max=730),
        metadata={
            "description": "instead of deadline: 整改期限 N 日, counted from issued_at's date in "
            "the agency's deadline unit (calendar or working days); the server sets the date"
        },
    )
    measures = ma.fields.List(
        ma.fields.String(validate=ma.validate.OneOf(ONSITE_MEASURES)), load_default=list
    )
    stop_until = Day(load_default=None, allow_none=True)
    prudence = ma.fields.String(
        load_default=None,
        allow_none=True,
        validate=ma.validate.OneOf(ONSITE_PRUDENCE),
        metadata={
            "description": "onsite_measures: compulsion applied with restraint (包容审慎): "
            "not_imposed (不予实施), narrowed_scope (限缩范围), shortened_time (限缩时间)"
        },
    )
    # reinspection_opinion: passed or not, and the opinion
    outcome = ma.fields.String(
        load_default=None, allow_none=True, validate=ma.validate.OneOf(["pass", "fail"])
    )
    content = _text(20000, load_default="")


PAYLOAD_SCHEMAS: dict[str, type[ma.Schema]] = {
    "scan": ScanData,
    "inspection": InspectionData,
    "hazard": HazardData,
    "rectification": RectificationData,
    "document": DocumentData,
}


class OpSchema(ma.Schema):
    op_id = ma.fields.UUID(required=True)
    entity = ma.fields.String(required=True, validate=ma.validate.OneOf(ENTITIES))
    id = ma.fields.UUID(required=True)
    base_version = ma.fields.Integer(
        required=True, allow_none=True, strict=True, validate=ma.validate.Range(1, 2**31 - 1)
    )
    client_time = LocalDateTime(required=True)
    data = ma.fields.Dict(required=True)


def _op_doc(entity: str, data: type[ma.Schema]) -> type[ma.Schema]:
    """An op of one entity as the OpenAPI document shows it; pushes are checked op by op
    (``OpSchema``, then the entity's payload schema), so these only document."""
    mutable = sorted(getattr(data, "MUTABLE", ()))
    edits = (
        f"an edit (base_version set) sends only the fields it changes, among {', '.join(mutable)}"
        if mutable
        else "never edited: base_version is always null"
    )
    fields = {
        "op_id": ma.fields.UUID(required=True),
        "entity": ma.fields.String(required=True, validate=ma.validate.OneOf([entity])),
        "id": ma.fields.UUID(required=True, metadata={"description": "the record's own id"}),
        "base_version": ma.fields.Integer(
            required=True,
            allow_none=True,
            metadata={"description": "null: create; the version edited otherwise"},
        ),
        "client_time": LocalDateTime(required=True),
        "data": ma.fields.Nested(
            data,
            required=True,
            metadata={"description": f"a create sends every field; {edits}"},
        ),
    }
    name = "".join(part.capitalize() for part in entity.split("_")) + "Op"
    return type(name, (ma.Schema,), fields)


# name in the OpenAPI document → schema; registered by server/api (components/schemas).
OP_DOC_SCHEMAS: dict[str, type[ma.Schema]] = {
    schema.__name__: schema
    for schema in (_op_doc(entity, data) for entity, data in PAYLOAD_SCHEMAS.items())
}


class PushSchema(ma.Schema):
    device_id = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=100))
    schema_version = ma.fields.Integer(required=True, strict=True)
    cursor = ma.fields.String(
        load_default=None,
        allow_none=True,
        validate=ma.validate.Length(max=200),
        metadata={
            "description": "the device's pull cursor (the last next_cursor it received), if "
            "any; the answer's cursor is derived from it"
        },
    )
    # Ops are validated one by one so that one bad op never blocks the others.
    ops = ma.fields.List(
        # A null op is refused alone, like any other bad op.
        ma.fields.Raw(
            allow_none=True,
            metadata={
                "oneOf": [{"$ref": f"#/components/schemas/{name}"} for name in OP_DOC_SCHEMAS],
                "discriminator": {
                    "propertyName": "entity",
                    "mapping": {
                        entity: f"#/components/schemas/{name}"
                        for entity, name in zip(PAYLOAD_SCHEMAS, OP_DOC_SCHEMAS, strict=True)
                    },
                },
            }
        ),
        required=True,
        metadata={
            "description": f"at most {MAX_OPS_PER_PUSH} ops and {MAX_PUSH_BYTES} bytes a push "
            "(413 beyond); each op is checked by itself, so one bad op never blocks the others"
        },
    )


class OpResultSchema(ma.Schema):
    op_id = ma.fields.String(required=True, allow_none=True)
    status = ma.fields.String(
        required=True,
        validate=ma.validate.OneOf(["applied", "duplicate", "held", "conflict", "rejected"]),
    )
    original_status = ma.fields.String(
        validate=ma.validate.OneOf(["applied", "held"]),
        metadata={
            "description": "duplicate: the status the op has now (a held op may since "
            "have been applied)"
        },
    )
    version = ma.fields.Integer(allow_none=True)
    errors = ma.fields.Dict(allow_none=True)
    current = ma.fields.Dict(allow_none=True)
    number = ma.fields.String(allow_none=True, metadata={"description": "document number"})
    card = ma.fields.Dict(allow_none=True, metadata={"description": "scan: the enterprise card"})
    warnings = ma.fields.List(ma.fields.Dict(), allow_none=True)


class PushResultSchema(ma.Schema):
    results = ma.fields.List(ma.fields.Nested(OpResultSchema), required=True)
    cursor = ma.fields.String(
        required=True,
        metadata={
            "description": "a pull cursor this device may adopt without missing a change: "
            "the cursor it sent with the push (the start of the feed if it sent none). The "
            "server never moves it past this push's own changes, because pulling them brings "
            "what the device cannot know by itself (document numbers, hazard statuses, server "
            "times), nor past other devices' changes the device has not pulled"
        },
    )


class PullQuerySchema(ma.Schema):
    cursor = ma.fields.String(load_default=None, validate=ma.validate.Length(max=200))
    limit = ma.fields.Integer(load_default=500, validate=ma.validate.Range(min=1, max=5000))


class ChangeSchema(ma.Schema):
    entity = ma.fields.String(required=True)
    id = ma.fields.UUID(required=True)
    version = ma.fields.Integer(required=True)
    deleted = ma.fields.Boolean(required=True)
    data = ma.fields.Dict(allow_none=True)


class PullResultSchema(ma.Schema):
    changes = ma.fields.List(ma.fields.Nested(ChangeSchema), required=True)
    next_cursor = ma.fields.String(required=True)
    has_more = ma.fields.Boolean(required=True)


def unsupported_schema_version_message(version: Any) -> str:
    supported = ", ".join(str(v) for v in SUPPORTED_SCHEMA_VERSIONS)
    return f"schema_version {version!r} is not supported; this server speaks {supported}"
