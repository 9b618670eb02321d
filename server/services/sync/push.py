"""``POST /sync/push``: apply a device's batch of ops, each atomic, answered in order."""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import marshmallow as ma
import sqlalchemy as sa

from server.domain.errors import BadRequest, DomainError, Forbidden, NotFound, TooLarge
from server.domain.permissions import Principal
from server.domain.sync import (
    APPLIED,
    CONFLICT,
    DUPLICATE,
    HELD,
    REJECTED,
    SUPPORTED_SCHEMA_VERSIONS,
    encode_cursor,
    ledger_decision,
    payload_hash,
)
from server.extensions import db
from server.models import (
    Agency,
    Document,
    Enterprise,
    Hazard,
    Inspection,
    Rectification,
    Scan,
    User,
)
from server.models.sync import SyncOp
from server.models.types import utcnow
from server.schemas.sync import (
    DOCUMENT_TYPES,
    MAX_OPS_PER_PUSH,
    OpSchema,
    unsupported_schema_version_message,
)
from server.services.sync import feed
from server.services.sync.cache import BatchCache
from server.services.sync.handlers import HANDLERS, load_payload, references
from server.services.sync.outcomes import Applied, ConflictFound, Held, OpContext

log = logging.getLogger(__name__)
_op_schema = OpSchema()


class UnsupportedSchemaVersion(BadRequest):
    code = "unsupported_schema_version"


def _error(exc: DomainError) -> dict[str, Any]:
    error: dict[str, Any] = {"code": exc.code, "message": exc.message}
    if exc.fields:
        error["fields"] = exc.fields
    if exc.details:
        error["details"] = exc.details
    return error


def _result(op_id: Any, status: str, **kw: Any) -> dict[str, Any]:
    result = {
        "op_id": str(op_id) if op_id is not None else None,
        "status": status,
        "version": None,
        "errors": None,
        "current": None,
    }
    result.update(kw)
    return result


@dataclass
class Prepared:
    """An op checked as far as it can be without the database."""

    raw: Any
    op: dict[str, Any] | None = None
    data: dict[str, Any] | None = None
    error: DomainError | None = None
    digest: str = ""


def _prepare(raw: Any) -> Prepared:
    prepared = Prepared(raw)
    if not isinstance(raw, dict):
        return prepared
    try:
        prepared.op = _op_schema.load(raw)
    except ma.ValidationError:
        return prepared
    prepared.digest = payload_hash(raw)
    op = prepared.op
    try:
        prepared.data = load_payload(op["entity"], op["data"], op["base_version"])
    except DomainError as exc:
        prepared.error = exc
    return prepared


def _run_handler(ctx: OpContext, prepared: Prepared) -> dict[str, Any]:
    """Apply one op; returns its result and ledger fields.

    Handlers check everything before they change anything, so a refused op leaves the
    session untouched and needs no savepoint.
    """
    op = prepared.op
    if prepared.error is not None:
        return {"result": _result(op["op_id"], REJECTED, errors=_error(prepared.error))}
    try:
        applied: Applied = HANDLERS[op["entity"]](ctx, op["id"], op["base_version"], prepared.data)
    except Held as held:
        return {"result": _result(op["op_id"], HELD), "waiting": (held.entity, held.record_id)}
    except ConflictFound as conflict:
        return {
            "result": _result(
                op["op_id"],
                CONFLICT,
                current=conflict.current,
                errors={"code": "conflict", "fields": list(conflict.fields)},
            )
        }
    except DomainError as exc:
        return {"result": _result(op["op_id"], REJECTED, errors=_error(exc))}
    return {"result": _result(op["op_id"], APPLIED, version=applied.version, **applied.extra)}


def _ledger(
    ctx: OpContext,
    op: dict[str, Any],
    raw: dict[str, Any],
    digest: str,
    outcome: dict[str, Any],
    row: SyncOp | None,
) -> SyncOp | None:
    waiting = outcome.get("waiting")
    if row is None:
        ctx.cache.rows[SyncOp].append(
            {
                "op_id": op["op_id"],
                "agency_id": ctx.agency_id,
                "received_at": ctx.now,
                "device_id": ctx.device_id,
                "user_id": ctx.principal.user_id,
                "entity": op["entity"],
                "record_id": op["id"],
                "payload_hash": digest,
                "payload": raw,
                "status": outcome["result"]["status"],
                "result": outcome["result"],
                "waiting_for_entity": waiting[0] if waiting else None,
                "waiting_for_id": waiting[1] if waiting else None,
                "settled_at": None if waiting else ctx.now,
            }
        )
        return None
    row.device_id = ctx.device_id
    row.user_id = ctx.principal.user_id
    row.entity = op["entity"]
    row.record_id = op["id"]
    row.payload_hash = digest
    row.payload = raw
    row.status = outcome["result"]["status"]
    row.result = outcome["result"]
    row.waiting_for_entity = waiting[0] if waiting else None
    row.waiting_for_id = waiting[1] if waiting else None
    row.settled_at = None if waiting else ctx.now
    return row


def _release_held(
    ctx: OpContext, entity: str, record_id: uuid.UUID, waited_for: set[tuple[str, uuid.UUID]]
) -> None:
    """Apply ops that were waiting for ``entity``/``record_id``, and what they unblock.

    An op with several parents (a document naming hazards) may be held again on the next
    missing one; ``waited_for`` learns it, so that parent's arrival later in the batch
    releases it too."""
    ctx.cache.write_rows()  # ops held earlier in this batch must be visible to the query
    queue = [(entity, record_id)]
    while queue:
        want_entity, want_id = queue.pop(0)
        waiting = db.session.scalars(
            sa.select(SyncOp)
            .where(
                SyncOp.status == HELD,
                SyncOp.waiting_for_entity == want_entity,
                SyncOp.waiting_for_id == want_id,
            )
            .order_by(SyncOp.received_at, SyncOp.op_id)
        ).all()
        for held in waiting:
            owner = db.session.get(User, held.user_id)
            principal = Principal(
                user_id=owner.id,
                agency_id=owner.agency_id,
                role=owner.role,
                username=owner.username,
                device_id=held.device_id,
            )
            prepared = _prepare(held.payload)
            op = prepared.op
            held_ctx = replace(ctx, principal=principal, device_id=held.device_id, op_id=held.op_id)
            outcome = _run_handler(held_ctx, prepared)
            _ledger(held_ctx, op, held.payload, held.payload_hash, outcome, held)
            if outcome["result"]["status"] == APPLIED:
                queue.append((op["entity"], op["id"]))
            elif outcome["result"]["status"] == HELD:
                waited_for.add(outcome["waiting"])


def push(
    principal: Principal, body: dict[str, Any], *, entry_key: bytes, now: datetime | None = None
) -> dict[str, Any]:
    """Apply a batch. Every op gets a result; the batch commits once at the end."""
    now = now or utcnow()
    if body["schema_version"] not in SUPPORTED_SCHEMA_VERSIONS:
        raise UnsupportedSchemaVersion(
            unsupported_schema_version_message(body["schema_version"]),
            details={"supported": list(SUPPORTED_SCHEMA_VERSIONS)},
        )
    if len(body["ops"]) > MAX_OPS_PER_PUSH:
        raise TooLarge(f"at most {MAX_OPS_PER_PUSH} ops a push; send the rest in another")
    if principal.device_key is not None and body["device_id"] != principal.device_key:
        raise Forbidden(
            "device_id differs from the device this token was issued to", code="device_mismatch"
        )
    ops: list[Any] = body["ops"]
    # Validation is most of the CPU work: done before the first query, it runs outside the
    # database's write lock, in parallel across workers.
    prepared_ops = [_prepare(raw) for raw in ops]
    agency = db.session.get(Agency, principal.agency_id)
    ctx = OpContext(
        principal=principal,
        agency_id=agency.id,
        agency_abbr=agency.abbr,
        agency_timezone=agency.timezone,
        agency_settings=agency.settings or {},
        device_id=principal.device_id,
        op_id=uuid.uuid4(),
        now=now,
        entry_key=entry_key,
        cache=BatchCache(agency.id),
    )
    parsed = [p.op for p in prepared_ops]
    ids = [op["op_id"] for op in parsed if op is not None]
    previous = (
        {
            row.op_id: row
            for row in db.session.scalars(sa.select(SyncOp).where(SyncOp.op_id.in_(ids)))
        }
        if ids
        else {}
    )
    if ids:
        # Op ids are global; one taken by another agency must not be re-used either.
        fenced = set(previous)
        foreign = (
            set(
                db.session.execute(
                    sa.select(SyncOp.__table__.c.op_id).where(SyncOp.__table__.c.op_id.in_(ids))
                ).scalars()
            )
            - fenced
        )
    else:
        foreign = set()

    _preload(ctx, [op for op in parsed if op is not None])
    waited_for = {
        (entity, record_id)
        for entity, record_id in db.session.execute(
            sa.select(SyncOp.waiting_for_entity, SyncOp.waiting_for_id).where(SyncOp.status == HELD)
        )
    }
    results: list[dict[str, Any]] = []
    rejected_records: dict[str, str] = {}
    seen_in_batch: set[uuid.UUID] = set()
    for prepared in prepared_ops:
        raw, op, digest = prepared.raw, prepared.op, prepared.digest
        if op is None:
            results.append(_invalid_envelope(raw))
            continue
        op_ctx = replace(ctx, op_id=op["op_id"])
        if op["op_id"] in foreign or op["op_id"] in seen_in_batch:
            results.append(
                _result(
                    op["op_id"],
                    REJECTED,
                    errors={
                        "code": "op_id_reused",
                        "message": "this op_id was used for another op",
                    },
                )
            )
            continue
        seen_in_batch.add(op["op_id"])
        row = previous.get(op["op_id"])
        decision = ledger_decision(
            row.status if row else None, row.payload_hash if row else None, digest
        )
        if decision.action == "duplicate":
            results.append(
                {
                    **row.result,
                    "status": DUPLICATE,
                    "op_id": str(op["op_id"]),
                    "original_status": row.status,
                }
            )
            continue
        if decision.action == "reused":
            results.append(
                _result(
                    op["op_id"],
                    REJECTED,
                    errors={
                        "code": "op_id_reused",
                        "message": "this op_id was taken before with different content; "
                        "use a new op_id for a new op",
                    },
                )
            )
            continue
        blocked_by = next(
            (
                rejected_records[r]
                for r in references(op["entity"], op["data"])
                if r in rejected_records
            ),
            None,
        )
        if blocked_by is None and op["base_version"] is not None:
            blocked_by = rejected_records.get(str(op["id"]))
        if blocked_by is not None:
            outcome = {
                "result": _result(
                    op["op_id"],
                    REJECTED,
                    errors={
                        "code": "depends_on_rejected",
                        "message": f"depends on op {blocked_by} of this batch, which was rejected",
                        "details": {"op_id": blocked_by},
                    },
                )
            }
        else:
            outcome = _run_handler(op_ctx, prepared)
        status = outcome["result"]["status"]
        _ledger(op_ctx, op, raw, digest, outcome, row)
        if status == REJECTED:
            rejected_records[str(op["id"])] = str(op["op_id"])
        if status == HELD:
            waited_for.add(outcome["waiting"])
        if status == APPLIED and (op["entity"], op["id"]) in waited_for:
            _release_held(op_ctx, op["entity"], op["id"], waited_for)
        results.append(outcome["result"])
    ctx.cache.write_rows()
    ctx.cache.write_counters()
    db.session.commit()
    return {
        "results": results,
        "cursor": encode_cursor(feed.current_position(db.session, agency.id)),
    }


_MODELS = {
    "scan": Scan,
    "inspection": Inspection,
    "hazard": Hazard,
    "rectification": Rectification,
    "document": Document,
}
_REFERENCES = {
    "enterprise_id": Enterprise,
    "scan_id": Scan,
    "inspection_id": Inspection,
    "hazard_id": Hazard,
}


def _uuid(value: Any) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None


def _preload(ctx: OpContext, ops: list[dict[str, Any]]) -> None:
    """Read what the batch refers to in a handful of queries, and lock the document
    counters it will number from, in a fixed order."""
    wanted: dict[type, set[uuid.UUID]] = {}
    shas: set[str] = set()
    counters: set[tuple[str, int]] = set()
    zone = ZoneInfo(ctx.agency_timezone)
    for op in ops:
        wanted.setdefault(_MODELS[op["entity"]], set()).add(op["id"])
        data = op["data"] if isinstance(op["data"], dict) else {}
        for key, model in _REFERENCES.items():
            ref = _uuid(data.get(key)) if data.get(key) else None
            if ref:
                wanted.setdefault(model, set()).add(ref)
        for ref in data.get("hazard_ids") or []:
            if ref := _uuid(ref):
                wanted.setdefault(Hazard, set()).add(ref)
        for key in ("photo_attachments", "evidence_attachments", "signature_attachments"):
            if isinstance(data.get(key), list):
                shas.update(s for s in data[key] if isinstance(s, str))
        if op["entity"] == "document" and op["base_version"] is None:
            try:
                issued = datetime.fromisoformat(data["issued_at"]).astimezone(zone)
                counters.add((str(data["type"]), issued.year))
            except (KeyError, TypeError, ValueError):
                pass
    for model, ids in wanted.items():
        ctx.cache.preload(model, ids)
    ctx.cache.preload_attachments(shas)
    ctx.cache.lock_counters(c for c in counters if c[0] in DOCUMENT_TYPES)


def _invalid_envelope(raw: Any) -> dict[str, Any]:
    op_id = raw.get("op_id") if isinstance(raw, dict) else None
    try:
        if not isinstance(raw, dict):
            raise ma.ValidationError({"_schema": ["an op is an object"]})
        _op_schema.load(raw)
        fields: Any = {}
    except ma.ValidationError as err:
        fields = err.messages
    return _result(
        op_id if isinstance(op_id, str) else None,
        REJECTED,
        errors={
            "code": "invalid_op",
            "message": "the op envelope does not pass validation",
            "fields": fields,
        },
    )


def op_result(principal: Principal, op_id: uuid.UUID) -> dict[str, Any]:
    """The current result of an op pushed earlier (a held op settles later)."""
    row = db.session.get(SyncOp, op_id)
    if row is None:
        raise NotFound("no such op")
    return row.result
