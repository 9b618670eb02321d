"""``POST /sync/push``: apply a device's batch of ops, each atomic, answered in order."""

from __future__ import annotations

import logging
import uuid
from dataclasses import replace
from datetime import datetime
from typing import Any

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
from server.models import Agency, User
from server.models.sync import SyncOp
from server.models.types import utcnow
from server.schemas.sync import MAX_OPS_PER_PUSH, OpSchema, unsupported_schema_version_message
from server.services.sync import feed
from server.services.sync.handlers import HANDLERS, references
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


def _run_handler(ctx: OpContext, op: dict[str, Any]) -> dict[str, Any]:
    """Apply one op inside a savepoint; returns its result and ledger fields."""
    savepoint = db.session.begin_nested()
    state = feed.snapshot(db.session)
    try:
        applied: Applied = HANDLERS[op["entity"]](ctx, op["id"], op["base_version"], op["data"])
    except Held as held:
        savepoint.rollback()
        feed.restore(db.session, state)
        return {"result": _result(op["op_id"], HELD), "waiting": (held.entity, held.record_id)}
    except ConflictFound as conflict:
        savepoint.rollback()
        feed.restore(db.session, state)
        return {
            "result": _result(
                op["op_id"],
                CONFLICT,
                current=conflict.current,
                errors={"code": "conflict", "fields": list(conflict.fields)},
            )
        }
    except DomainError as exc:
        savepoint.rollback()
        feed.restore(db.session, state)
        return {"result": _result(op["op_id"], REJECTED, errors=_error(exc))}
    savepoint.commit()
    return {"result": _result(op["op_id"], APPLIED, version=applied.version, **applied.extra)}


def _ledger(
    ctx: OpContext,
    op: dict[str, Any],
    raw: dict[str, Any],
    digest: str,
    outcome: dict[str, Any],
    row: SyncOp | None,
) -> SyncOp:
    waiting = outcome.get("waiting")
    if row is None:
        row = SyncOp(op_id=op["op_id"], agency_id=ctx.agency_id, received_at=ctx.now)
        db.session.add(row)
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


def _release_held(ctx: OpContext, entity: str, record_id: uuid.UUID) -> None:
    """Apply ops that were waiting for ``entity``/``record_id``, and what they unblock."""
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
            op = _op_schema.load(held.payload)
            held_ctx = replace(ctx, principal=principal, device_id=held.device_id, op_id=held.op_id)
            outcome = _run_handler(held_ctx, op)
            _ledger(held_ctx, op, held.payload, held.payload_hash, outcome, held)
            if outcome["result"]["status"] == APPLIED:
                queue.append((op["entity"], op["id"]))


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
    )
    ops: list[Any] = body["ops"]
    parsed: list[dict[str, Any] | None] = []
    ids = []
    for raw in ops:
        try:
            op = _op_schema.load(raw) if isinstance(raw, dict) else None
        except ma.ValidationError:
            op = None
        parsed.append(op)
        if op is not None:
            ids.append(op["op_id"])
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

    results: list[dict[str, Any]] = []
    rejected_records: dict[str, str] = {}
    seen_in_batch: set[uuid.UUID] = set()
    for raw, op in zip(ops, parsed, strict=True):
        if op is None:
            results.append(_invalid_envelope(raw))
            continue
        op_ctx = replace(ctx, op_id=op["op_id"])
        digest = payload_hash(raw)
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
            outcome = _run_handler(op_ctx, op)
        status = outcome["result"]["status"]
        _ledger(op_ctx, op, raw, digest, outcome, row)
        if status == REJECTED:
            rejected_records[str(op["id"])] = str(op["op_id"])
        if status == APPLIED:
            _release_held(op_ctx, op["entity"], op["id"])
        results.append(outcome["result"])
    db.session.commit()
    return {
        "results": results,
        "cursor": encode_cursor(feed.current_position(db.session, agency.id)),
    }


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
