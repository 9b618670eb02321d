"""``POST /sync/push``: apply a device's batch of ops, each atomic, answered in order."""

from __future__ import annotations

import functools
import logging
import uuid
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Protocol, cast
from zoneinfo import ZoneInfo

import marshmallow as ma
import sqlalchemy as sa

from server.database import (
    become_writer,
    in_list,
    is_unique_violation,
    on_postgresql,
    one_writer_at_a_time,
    read_phase,
    snapshot,
)
from server.domain import entry_codes
from server.domain.errors import (
    BadRequest,
    DomainError,
    Forbidden,
    NotFound,
    TooLarge,
    ValidationFailed,
)
from server.domain.permissions import Principal
from server.domain.sync import (
    APPLIED,
    CONFLICT,
    DUPLICATE,
    HELD,
    MAX_DATA_DEPTH,
    REJECTED,
    SUPPORTED_SCHEMA_VERSIONS,
    TAKEN,
    decode_cursor,
    encode_cursor,
    ledger_decision,
    nesting_exceeds,
    payload_hash,
    storable,
    unstorable,
)
from server.extensions import Model, db
from server.models import (
    Agency,
    Document,
    Enterprise,
    Hazard,
    Inspection,
    Rectification,
    Scan,
    Task,
    User,
)
from server.models.records import SyncedRecord
from server.models.scoping import bind_agency
from server.models.sync import SyncOp
from server.models.types import utcnow
from server.schemas.compiled import loader_for
from server.schemas.sync import (
    MAX_OPS_PER_PUSH,
    OpSchema,
    unsupported_schema_version_message,
)
from server.services.calendar import working_calendar
from server.services.sync import arrival, feed
from server.services.sync.cache import BatchCache
from server.services.sync.handlers import HANDLERS, load_payload, references
from server.services.sync.outcomes import Applied, ConflictFound, Held, NeedsWriter, OpContext

log = logging.getLogger(__name__)
_op_schema = OpSchema()
_load_op = loader_for(_op_schema)


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
    # What the ledger keeps of the op: ``raw``, unless it holds values no database stores.
    stored: Any = None


class _Valid(Protocol):
    """A ``Prepared`` whose envelope and data passed validation: what ``_valid`` keeps."""

    @property
    def op(self) -> dict[str, Any]: ...
    @property
    def data(self) -> dict[str, Any]: ...


def _prepare(raw: Any) -> Prepared:
    prepared = Prepared(raw, stored=raw)
    if not isinstance(raw, dict):
        return prepared
    try:
        prepared.op = _load_op(raw)
    except ma.ValidationError:
        return prepared
    prepared.digest = payload_hash(raw)
    op = prepared.op
    if nesting_exceeds(op["data"], MAX_DATA_DEPTH):
        prepared.stored = {**raw, "data": {}}  # the op is refused; what no walk should meet
        prepared.error = ValidationFailed(
            f"the op's data nests more than {MAX_DATA_DEPTH} levels deep",
            code="nested_too_deep",
            fields={"data": [f"at most {MAX_DATA_DEPTH} levels of arrays and objects"]},
        )
        return prepared
    problems = unstorable(op["data"])
    if problems:
        # A lenient JSON parser lets these through; no column takes them (PostgreSQL refuses
        # NaN in JSON and NUL in text), so the op is refused and remembered cleaned.
        prepared.stored = storable(raw)
        prepared.error = ValidationFailed(
            "the op's data holds values that cannot be stored", code="invalid_data", fields=problems
        )
        return prepared
    try:
        prepared.data = load_payload(op["entity"], op["data"], op["base_version"])
    except DomainError as exc:
        prepared.error = exc
    return prepared


def _run_handler(ctx: OpContext, op: dict[str, Any], prepared: Prepared) -> dict[str, Any]:
    """Apply one op (``prepared.op``, passed checked); returns its result and ledger fields.

    Handlers check everything before they change anything, so a refused op leaves the
    session untouched and needs no savepoint.
    """
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
    result = _result(op["op_id"], APPLIED, version=applied.version, **applied.extra)
    ctx.cache.carry_number(op["id"], result)
    return {"result": result}


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
    row.device_id = ctx.device_id  # type: ignore[assignment]  # a push comes from a device
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
            outcome = _release_one(ctx, held)
            if outcome is None:
                continue
            status = outcome["result"]["status"]
            if status == APPLIED:
                # A held op passed validation, so it names its record.
                queue.append((held.entity, held.record_id))  # type: ignore[arg-type]
            elif status == HELD:
                waited_for.add(outcome["waiting"])


def _release_one(ctx: OpContext, held: SyncOp) -> dict[str, Any] | None:
    """Apply one held op inside a savepoint; ``None`` when it failed and stays held.

    The op belongs to another push, maybe another device: a fault while applying it must
    not fail this batch, or every retry of the batch would fail the same way."""
    savepoint = db.session.begin_nested()
    pending = feed.snapshot(db.session)
    cached = ctx.cache.snapshot()
    try:
        principal = _owner(held)
        held_ctx = replace(ctx, principal=principal, device_id=held.device_id, op_id=held.op_id)
        prepared = _prepare(held.payload)
        if prepared.op is None:
            raise ValueError("the stored payload no longer passes the op envelope")
        outcome = _run_handler(held_ctx, prepared.op, prepared)
        ctx.cache.write_rows()
        savepoint.commit()
    except Exception:
        savepoint.rollback()
        feed.restore(db.session, pending)
        ctx.cache.restore(cached)
        log.exception("held op %s failed while being released; it stays held", held.op_id)
        return None
    _ledger(held_ctx, prepared.op, held.payload, held.payload_hash, outcome, held)
    return outcome


def _owner(held: SyncOp) -> Principal:
    """Who pushed ``held``, from the device it came from: a released op is theirs."""
    owner = db.session.get_one(User, held.user_id)
    return Principal(
        user_id=owner.id,
        agency_id=owner.agency_id,
        role=owner.role,
        username=owner.username,
        device_id=held.device_id,
    )


def release_stranded(entry_key: bytes, now: datetime | None = None) -> int:
    """Release again the held ops whose awaited record is stored: their release failed when
    it arrived (logged then, see ``_release_one``) and no later push of that record would
    wake them. One transaction per agency, its session fenced to it; safe to run at any time.
    Returns how many ops were tried; each one's outcome is in the ledger and its log line."""
    now = now or utcnow()
    tried = 0
    agencies = db.session.scalars(sa.select(Agency.id).order_by(Agency.code)).all()
    db.session.remove()
    for agency_id in agencies:
        bind_agency(db.session, agency_id)
        try:
            tried += _release_stranded_of(agency_id, entry_key, now)
        except Exception:
            db.session.rollback()
            log.exception("releasing the stranded held ops of agency %s failed", agency_id)
        finally:
            db.session.remove()
    return tried


def _release_stranded_of(agency_id: uuid.UUID, entry_key: bytes, now: datetime) -> int:
    awaited: list[tuple[str, uuid.UUID]] = []
    for entity, model in _MODELS.items():
        # Both columns are set on the rows it selects (it matches them on values).
        awaited += db.session.execute(_stranded(agency_id, entity, model)).all()  # type: ignore[arg-type]
    if not awaited:
        return 0
    waited_for: set[tuple[str, uuid.UUID]] = set()
    held = _releasable(set(awaited), waited_for)
    if not held:  # released meanwhile by a push that committed after the query above
        return 0
    ctx = _context(_owner(held[0]), entry_key, now)
    ctx.cache.writer_only()
    _preload(ctx, [_held_item(row) for row in held])
    with db.session.no_autoflush:
        for entity, record_id in awaited:
            _release_held(ctx, entity, record_id, waited_for)
    _write(ctx)
    return len(held)


def _stranded(
    agency_id: uuid.UUID, entity: str, model: type[SyncedRecord]
) -> sa.Select[str | None, uuid.UUID | None]:
    """Records of ``entity`` stored that held ops of the agency still wait for (by the
    waiting index: agency, entity, id)."""
    return (
        sa.select(SyncOp.waiting_for_entity, SyncOp.waiting_for_id)
        .distinct()
        .where(
            SyncOp.agency_id == agency_id,
            SyncOp.waiting_for_entity == entity,
            SyncOp.status == HELD,
            sa.exists().where(
                model.id == SyncOp.waiting_for_id, model.agency_id == SyncOp.agency_id
            ),
        )
    )


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
    pulled_to = decode_cursor(body.get("cursor"))
    # Validation is most of the CPU work: done before the first query, it runs outside the
    # database's write lock, in parallel across workers.
    prepared_ops = [_prepare(raw) for raw in body["ops"]]
    for attempt in range(1, _ATTEMPTS + 1):
        try:
            results = _apply(principal, prepared_ops, entry_key, now)
            break
        except sa.exc.IntegrityError as exc:
            # A concurrent request stored one of the batch's keys first (the device's own
            # retry of this batch racing the original, or another agency's record with the
            # same id): run again, and the ledger, the records and the fences now see it.
            db.session.rollback()
            if not is_unique_violation(exc) or attempt == _ATTEMPTS:
                raise
            log.info("push met a concurrent insert of the same key; applying it again")
    # Not the feed's head: adopting that would skip other devices' changes made since this
    # device last pulled, and this push's own changes, whose server-side fields (numbers,
    # statuses, times) the device only learns by pulling them.
    return {"results": results, "cursor": encode_cursor(pulled_to)}


# A batch runs again after meeting a concurrent insert of one of its keys; a third clash
# in a row is a fault worth a 5xx (the device retries later).
_ATTEMPTS = 3


def _apply(
    principal: Principal, prepared_ops: list[Prepared], entry_key: bytes, now: datetime
) -> list[dict[str, Any]]:
    results = None
    if _fits_snapshot(prepared_ops):
        results = _push_on_snapshot(principal, prepared_ops, entry_key, now)
    if results is None:
        results = _push_as_writer(principal, prepared_ops, entry_key, now)
    return results


def _fits_snapshot(prepared_ops: list[Prepared]) -> bool:
    """Whether to apply the batch on a snapshot first: on SQLite (one writer at a time),
    when it only creates. An edit may merge with, conflict with or take members from what
    is current, and goes to the writer at once."""
    if not one_writer_at_a_time():
        return False
    return all(p.op is None or p.op["base_version"] is None for p in prepared_ops)


def _push_on_snapshot(
    principal: Principal, prepared_ops: list[Prepared], entry_key: bytes, now: datetime
) -> list[dict[str, Any]] | None:
    """Apply the batch on a read-only snapshot, then write it as the writer if nothing it
    read changed meanwhile; ``None`` (nothing written) when it must run as the writer.

    SQLite has one writer at a time, and a batch used to hold the writer lock while its
    handlers ran. Here they run beside the writer; the lock is held for the check (a few
    indexed look-ups), the inserts and the commit. The check: the ledger entries of the
    batch's op ids, the held ops waiting for its records (none, or it would release them),
    and every record and attachment it read (see ``BatchCache.unchanged``). Concurrent
    batches creating their own records pass it; one that met a record changed or created
    meanwhile runs again as the writer, so every batch gets the results it would have got
    as the writer alone."""
    try:
        with snapshot():
            ctx = _context(principal, entry_key, now)
            _read_ahead(ctx, _valid(prepared_ops))
            ctx.cache.optimistic = True
            results, taken = _apply_batch(ctx, prepared_ops)
    except NeedsWriter:
        db.session.rollback()
        return None
    become_writer(db.session)
    ctx.cache.optimistic = False
    op_ids = [p.op["op_id"] for p in prepared_ops if p.op is not None]
    keys = {(p.op["entity"], p.op["id"]) for p in _valid(prepared_ops)}
    with db.session.no_autoflush:  # nothing is written before the check passes
        current = (
            _ledger_entries(ctx.agency_id, op_ids, rows=False)[2] == taken
            and not _releasable(keys, set())
            and ctx.cache.unchanged()
        )
    if not current:
        db.session.rollback()
        return None
    _write(ctx)
    return results


def _push_as_writer(
    principal: Principal, prepared_ops: list[Prepared], entry_key: bytes, now: datetime
) -> list[dict[str, Any]]:
    with read_phase():
        ctx = _context(principal, entry_key, now)
        _read_ahead(ctx, _valid(prepared_ops))
    results, _ = _apply_batch(ctx, prepared_ops)
    _write(ctx)
    return results


def _context(principal: Principal, entry_key: bytes, now: datetime) -> OpContext:
    agency = db.session.get_one(Agency, principal.agency_id)
    cache = BatchCache(agency.id)
    cache.agency = agency  # what needs the row later (the visit policy) takes it from here
    return OpContext.for_agency(
        principal, agency, op_id=uuid.uuid4(), now=now, entry_key=entry_key, cache=cache
    )


def _valid(prepared_ops: list[Prepared]) -> list[_Valid]:
    """The ops whose envelope and data passed validation."""
    return cast(
        "list[_Valid]", [p for p in prepared_ops if p.op is not None and p.data is not None]
    )


def _apply_batch(
    ctx: OpContext, prepared_ops: list[Prepared]
) -> tuple[list[dict[str, Any]], frozenset[tuple[Any, ...]]]:
    """Every op's result, and what the ledger held of the batch's op ids beforehand."""
    op_ids = [p.op["op_id"] for p in prepared_ops if p.op is not None]
    previous, foreign, taken = _ledger_entries(ctx.agency_id, op_ids)
    batch = _valid(prepared_ops)
    # The batch's records that held ops wait for, and the held ops they may release.
    waited_for: set[tuple[str, uuid.UUID]] = set()
    releasable = _releasable({(p.op["entity"], p.op["id"]) for p in batch}, waited_for)
    if releasable:
        ctx.cache.writer_only()  # releasing an op writes (and reads) the ledger as it is
    _preload(
        ctx,
        [(p.op["entity"], p.op["id"], p.op["base_version"], p.data) for p in batch]
        + [_held_item(row) for row in releasable],
    )
    # No autoflush: the batch's records are flushed once, at its end (see BatchCache).
    with db.session.no_autoflush:
        results = _apply_ops(ctx, prepared_ops, previous, foreign, waited_for)
    return results, taken


def _write(ctx: OpContext) -> None:
    ctx.cache.write_rows()
    ctx.cache.write_counters()
    db.session.commit()


_LEDGER = SyncOp.__table__


@functools.cache
def _taken(postgresql: bool) -> sa.Select[Any]:
    # Unscoped (table columns): op ids are global, one taken by another agency is not re-used.
    return sa.select(_LEDGER.c.op_id, _LEDGER.c.agency_id, _LEDGER.c.status).where(
        in_list(_LEDGER.c.op_id, "ids", postgresql=postgresql)
    )


@functools.cache
def _ours(postgresql: bool) -> sa.Select[Any]:
    return sa.select(SyncOp).where(in_list(SyncOp.op_id, "ids", postgresql=postgresql))


def _ledger_entries(
    agency_id: uuid.UUID, op_ids: list[uuid.UUID], *, rows: bool = True
) -> tuple[dict[uuid.UUID, SyncOp], set[uuid.UUID], frozenset[tuple[Any, ...]]]:
    """The batch's ops already in the ledger: this agency's entries (unless not ``rows``),
    the op ids another agency took, and (op id, agency, status) of each. A batch of new ops
    costs one query."""
    if not op_ids:
        return {}, set(), frozenset()
    postgresql = on_postgresql()
    taken = db.session.execute(_taken(postgresql), {"ids": op_ids}).all()
    stamp = frozenset(tuple(row) for row in taken)
    ours = [op_id for op_id, owner, _ in taken if owner == agency_id]
    foreign = {op_id for op_id, owner, _ in taken if owner != agency_id}
    if not ours or not rows:
        return {}, foreign, stamp
    entries = {row.op_id: row for row in db.session.scalars(_ours(postgresql), {"ids": ours})}
    return entries, foreign, stamp


def _apply_ops(
    ctx: OpContext,
    prepared_ops: list[Prepared],
    previous: dict[uuid.UUID, SyncOp],
    foreign: set[uuid.UUID],
    waited_for: set[tuple[str, uuid.UUID]],
) -> list[dict[str, Any]]:
    """Each op of the batch in order: its result, its ledger entry, the held ops it releases."""
    results: list[dict[str, Any]] = []
    rejected_records: dict[str, str] = {}
    seen_in_batch: dict[uuid.UUID, tuple[str, dict[str, Any]]] = {}
    for prepared in prepared_ops:
        raw, op, digest = prepared.raw, prepared.op, prepared.digest
        if op is None:
            results.append(_invalid_envelope(raw))
            continue
        op_ctx = replace(ctx, op_id=op["op_id"])
        if op["op_id"] in seen_in_batch:
            results.append(_again_in_batch(ctx, op["op_id"], digest, *seen_in_batch[op["op_id"]]))
            continue
        if op["op_id"] in foreign:
            results.append(_reused(op["op_id"], "this op_id was used for another op"))
            continue
        row = previous.get(op["op_id"])
        decision = ledger_decision(
            row.status if row else None, row.payload_hash if row else None, digest
        )
        if decision.action == "duplicate" and row is not None:  # only a stored op is a duplicate
            result = _duplicate(op["op_id"], row.result, row.status)
            seen_in_batch[op["op_id"]] = (digest, result)
            results.append(result)
            continue
        if decision.action == "reused":
            result = _reused(
                op["op_id"],
                "this op_id was taken before with different content; use a new op_id for a new op",
            )
            seen_in_batch[op["op_id"]] = ("", result)
            results.append(result)
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
        outcome: dict[str, Any]
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
            outcome = _run_handler(op_ctx, op, prepared)
        status = outcome["result"]["status"]
        _ledger(op_ctx, op, prepared.stored, digest, outcome, row)
        seen_in_batch[op["op_id"]] = (digest, outcome["result"])
        if status == REJECTED:
            rejected_records[str(op["id"])] = str(op["op_id"])
        if status == HELD:
            waited_for.add(outcome["waiting"])
        if status == APPLIED and (op["entity"], op["id"]) in waited_for:
            _release_held(op_ctx, op["entity"], op["id"], waited_for)
        results.append(outcome["result"])
    return results


def _reused(op_id: uuid.UUID, message: str) -> dict[str, Any]:
    return _result(op_id, REJECTED, errors={"code": "op_id_reused", "message": message})


def _duplicate(op_id: uuid.UUID, original: dict[str, Any], status: str) -> dict[str, Any]:
    return {**original, "status": DUPLICATE, "op_id": str(op_id), "original_status": status}


def _again_in_batch(
    ctx: OpContext, op_id: uuid.UUID, digest: str, first_digest: str, first: dict[str, Any]
) -> dict[str, Any]:
    """An op_id met a second time in one batch: the same content is a duplicate of the first
    (answered as it stands now: a held first may have been released meanwhile)."""
    if digest != first_digest:
        return _reused(op_id, "this op_id was used for another op earlier in this batch")
    status = first.get("original_status") or first["status"]
    ctx.cache.number_documents()  # the first may be a document still without its number
    if status not in TAKEN:
        # Nothing was taken: the same content meets the same answer.
        return dict(first)
    if status == HELD:
        ctx.cache.write_rows()
        row = db.session.get(SyncOp, op_id)
        if row is not None:
            return _duplicate(op_id, row.result, row.status)
    return _duplicate(op_id, {k: v for k, v in first.items() if k != "original_status"}, status)


@functools.cache
def _waiting(postgresql: bool) -> sa.Select[Any]:
    return sa.select(SyncOp).where(
        SyncOp.status == HELD,
        in_list(SyncOp.waiting_for_entity, "entities", postgresql=postgresql),
        in_list(SyncOp.waiting_for_id, "ids", postgresql=postgresql),
    )


def _releasable(
    batch: set[tuple[str, uuid.UUID]], waited_for: set[tuple[str, uuid.UUID]]
) -> list[SyncOp]:
    """Held ops this batch may release: those waiting for its records, for theirs, and so on
    (more than will be released when a check fails, never fewer). Every record found waited
    for is added to ``waited_for``. Reads only the held ops of these records (by index),
    however long the ledger."""
    found: dict[uuid.UUID, SyncOp] = {}
    seen: set[tuple[str, uuid.UUID]] = set()
    frontier = set(batch)
    while frontier:
        seen |= frontier
        rows = db.session.scalars(
            _waiting(on_postgresql()),
            {"entities": list({e for e, _ in frontier}), "ids": list({i for _, i in frontier})},
        )
        unblocked: set[tuple[str, uuid.UUID]] = set()
        for row in rows:
            key = (row.waiting_for_entity, row.waiting_for_id)
            if key in frontier:
                waited_for.add(key)
                found.setdefault(row.op_id, row)
                if row.record_id is not None:
                    unblocked.add((row.entity, row.record_id))
        frontier = unblocked - seen
    return list(found.values())


def _held_item(row: SyncOp) -> tuple[str, uuid.UUID, int | None, dict[str, Any]]:
    prepared = _prepare(row.payload)
    if prepared.op is None or prepared.data is None:
        # Held ops passed validation when they arrived, so each names its record.
        return (row.entity, row.record_id, None, {})  # type: ignore[return-value]
    return (prepared.op["entity"], prepared.op["id"], prepared.op["base_version"], prepared.data)


_MODELS = {
    "scan": Scan,
    "inspection": Inspection,
    "hazard": Hazard,
    "rectification": Rectification,
    "document": Document,
}
# Ops whose deadlines count working days.
_DEADLINES = frozenset({"hazard", "document", "rectification"})
_REFERENCES = {
    "enterprise_id": Enterprise,
    "scan_id": Scan,
    "inspection_id": Inspection,
    "hazard_id": Hazard,
}


def _preload(
    ctx: OpContext, items: list[tuple[str, uuid.UUID, int | None, dict[str, Any]]]
) -> None:
    """Read what the batch refers to in a handful of queries, lock the records it may
    change, and name the document counters it will number from (its own documents' and
    those of held documents it may release; locked together when it first numbers). Locks
    are taken in a fixed order so that concurrent batches never deadlock on them.

    ``items`` are ops whose data passed validation: every value has its declared type."""
    wanted: dict[type[Model], set[uuid.UUID]] = {}
    changing: dict[type[Model], set[uuid.UUID]] = {}
    shas: set[str] = set()
    counters: set[tuple[str, int]] = set()
    zone = ZoneInfo(ctx.agency_timezone)
    for entity, record_id, base_version, data in items:
        wanted.setdefault(_MODELS[entity], set()).add(record_id)
        # What the batch may change: edited records, the hazards documents and reports step
        # forward, the tasks inspections complete.
        if base_version is not None:
            changing.setdefault(_MODELS[entity], set()).add(record_id)
        if entity in ("document", "rectification"):
            hazards = set(data.get("hazard_ids") or ())
            if isinstance(data.get("hazard_id"), uuid.UUID):
                hazards.add(data["hazard_id"])
            changing.setdefault(Hazard, set()).update(hazards)
        if entity == "inspection" and isinstance(data.get("task_id"), uuid.UUID):
            changing.setdefault(Task, set()).add(data["task_id"])
        for key, model in _REFERENCES.items():
            if isinstance(data.get(key), uuid.UUID):
                wanted.setdefault(model, set()).add(data[key])
        wanted.setdefault(Hazard, set()).update(data.get("hazard_ids") or ())
        for key in ("photo_attachments", "evidence_attachments", "signature_attachments"):
            shas.update(data.get(key) or ())
        if entity == "document" and base_version is None and "issued_at" in data:
            counters.add((data["type"], data["issued_at"].astimezone(zone).year))
    # Locked first, in one order of tables and ids, so concurrent batches never deadlock.
    for model in sorted(changing, key=lambda m: m.__tablename__):
        ctx.cache.preload(model, changing[model], lock=True)
    ctx.cache.preload_many(wanted)
    ctx.cache.preload_attachments(shas)
    ctx.cache.expect_counters(counters)


def _read_ahead(ctx: OpContext, batch: list[_Valid]) -> None:
    """What the batch reads but never changes, read before it waits for SQLite's writer
    lock (see ``read_phase``): the history its scans answer with, the officers, the working
    calendar. Visit warnings and cards may so miss a batch committed a moment before, as
    two concurrent batches on PostgreSQL miss each other."""
    visits: list[tuple[uuid.UUID, datetime]] = []
    for prepared in batch:
        op, data = prepared.op, prepared.data
        if op["entity"] != "scan" or op["base_version"] is not None:
            continue
        try:
            code = entry_codes.parse_scanned_text(ctx.entry_key, data["code"])
        except DomainError:
            continue  # its handler refuses it
        visits.append((code.enterprise_id, data["scanned_at"]))
    zone = ZoneInfo(ctx.agency_timezone)
    arrival.preload(ctx.cache, ctx.agency_id, zone, visits, ctx.principal.user_id)
    ctx.cache.officers()
    if any(p.op["entity"] in _DEADLINES for p in batch):
        working_calendar()


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
