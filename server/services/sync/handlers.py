"""What each op entity does when it is applied: checks, references, side effects."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from server.domain import entry_codes, numbering
from server.domain import hazards as lifecycle
from server.domain.errors import ValidationFailed
from server.domain.inspections import check_arrivals, check_team, check_times
from server.domain.permissions import INSPECTOR
from server.domain.workdays import WorkCalendar
from server.extensions import db
from server.models import Enterprise, Task
from server.models.records import (
    Document,
    Hazard,
    Inspection,
    RecordMember,
    Rectification,
    Scan,
    SyncedRecord,
)
from server.schemas.sync import (
    PAYLOAD_SCHEMAS,
    HazardData,
    InspectionData,
)
from server.services import hazard_state
from server.services import tasks as draw_tasks
from server.services.calendar import working_calendar
from server.services.sync import arrival, feed
from server.services.sync.outcomes import Applied, Held, OpContext
from server.services.sync.records import (
    audit,
    columns,
    create,
    edit,
    immutable_fields,
    load,
    same_as_stored,
    serialize,
)


def _zone(ctx: OpContext) -> ZoneInfo:
    return ZoneInfo(ctx.agency_timezone)


def _local_date(ctx: OpContext, moment: datetime) -> date:
    return moment.astimezone(_zone(ctx)).date()


def _enterprise(ctx: OpContext, enterprise_id: uuid.UUID) -> Enterprise:
    enterprise = ctx.cache.get(Enterprise, enterprise_id)
    if enterprise is None:
        raise ValidationFailed(
            "no such enterprise in your agency's directory",
            code="unknown_enterprise",
            fields={"enterprise_id": ["not in the directory"]},
        )
    return enterprise


def _require(ctx: OpContext, model: type[SyncedRecord], entity: str, record_id: uuid.UUID) -> Any:
    record = ctx.cache.get(model, record_id)
    if record is None:
        raise Held(entity, record_id)
    return record


def _check_attachments(ctx: OpContext, shas: Iterable[str]) -> None:
    missing = ctx.cache.missing_attachments(shas)
    if missing:
        raise ValidationFailed(
            "upload these attachments, then send the op again: " + ", ".join(missing),
            code="attachment_missing",
            details={"missing": missing},
        )


def _existing(ctx: OpContext, model: type[SyncedRecord], record_id: uuid.UUID) -> Any:
    return ctx.cache.get(model, record_id)


def _idempotent_create(
    ctx: OpContext, entity: str, existing: Any, values: dict[str, Any]
) -> Applied:
    """A create for an id that exists: harmless if identical, otherwise a conflict."""
    from server.services.sync.outcomes import ConflictFound

    if same_as_stored(existing, values):
        return Applied(existing.version)
    raise ConflictFound(serialize(existing, _zone(ctx)), tuple(sorted(values)))


def _add_members(ctx: OpContext, entity: str, record: Any, user_ids: Iterable[str]) -> None:
    ctx.cache.rows[RecordMember].extend(
        {"entity": entity, "record_id": record.id, "user_id": user_id}
        for user_id in {uuid.UUID(str(u)) for u in user_ids}
    )


def _set_members(ctx: OpContext, entity: str, record: Any, user_ids: Iterable[str]) -> None:
    ctx.cache.write_rows()
    wanted = {uuid.UUID(str(u)) for u in user_ids}
    have = set(
        db.session.scalars(
            sa.select(RecordMember.user_id).where(
                RecordMember.entity == entity, RecordMember.record_id == record.id
            )
        )
    )
    for user_id in wanted - have:
        db.session.add(RecordMember(entity=entity, record_id=record.id, user_id=user_id))
    for user_id in have - wanted:
        db.session.execute(
            sa.delete(RecordMember).where(
                RecordMember.entity == entity,
                RecordMember.record_id == record.id,
                RecordMember.user_id == user_id,
            )
        )
        feed.tombstone_for(db.session, ctx.agency_id, entity, record.id, record.version, user_id)


def _submitter_in_team(ctx: OpContext, team: Iterable[uuid.UUID]) -> None:
    if ctx.principal.role == INSPECTOR and ctx.principal.user_id not in set(team):
        raise ValidationFailed(
            "an inspector records only inspections they take part in",
            code="not_in_team",
            fields={"inspector_ids": ["must include you"]},
        )


# --- scan -----------------------------------------------------------------------------------


def apply_scan(
    ctx: OpContext, record_id: uuid.UUID, base_version: int | None, data: dict[str, Any]
) -> Applied:
    if base_version is not None:
        raise ValidationFailed("a scan is recorded once and never edited", code="immutable_record")
    code = entry_codes.parse_scanned_text(ctx.entry_key, data["code"])
    enterprise = ctx.cache.get(Enterprise, code.enterprise_id)
    if enterprise is None:
        # Unfenced look-up only to tell the two cases apart; nothing of the row is returned.
        with db.session.no_autoflush:
            elsewhere = db.session.execute(
                sa.select(sa.literal(1))
                .select_from(Enterprise.__table__)
                .where(Enterprise.__table__.c.id == code.enterprise_id)
            ).first()
        if elsewhere:
            raise entry_codes.EntryCodeOtherAgency(
                "this code belongs to another agency's enterprise"
            )
        raise entry_codes.EntryCodeUnknownEnterprise("no enterprise carries this code")
    if code.version < enterprise.entry_code_version:
        raise entry_codes.EntryCodeRevoked(
            "this code was replaced; the enterprise has a newer one at its gate"
        )
    if code.version > enterprise.entry_code_version:
        raise entry_codes.EntryCodeForged("this code version was never issued")
    check_arrivals(data["inspector_ids"], ctx.cache.officers())
    team = [str(u) for u in data["inspector_ids"]]
    location = data["location"] or {}
    values = {
        "enterprise_id": enterprise.id,
        "code_version": code.version,
        "scanned_at": data["scanned_at"],
        "latitude": location.get("lat"),
        "longitude": location.get("lng"),
        "accuracy_m": location.get("accuracy_m"),
        "inspector_ids": team,
    }
    existing = _existing(ctx, Scan, record_id)
    if existing is not None:
        return _idempotent_create(ctx, "scan", existing, values)
    warnings = arrival.warnings_for(ctx, enterprise, data["scanned_at"], team)
    scan = Scan(id=record_id, received_at=ctx.now, warnings=warnings, **values)
    applied = create(ctx, "scan", scan, values)
    _add_members(ctx, "scan", scan, {*team, str(ctx.principal.user_id)})
    card = arrival.enterprise_card(ctx, enterprise, data["scanned_at"], warnings)
    applied.extra = {"card": card, "warnings": warnings}
    return applied


# --- inspection -----------------------------------------------------------------------------


def apply_inspection(
    ctx: OpContext, record_id: uuid.UUID, base_version: int | None, data: dict[str, Any]
) -> Applied:
    if base_version is not None:
        immutable_fields(data, InspectionData.MUTABLE)
        if "signature_attachments" in data:
            _check_attachments(ctx, data["signature_attachments"])
        record = _require(ctx, Inspection, "inspection", record_id)
        values = columns(data)
        if "ended_at" in data:
            check_times(record.started_at, data["ended_at"])
        if "inspector_ids" in data:
            check_team(
                data["inspector_ids"],
                ctx.cache.officers(),
                _local_date(ctx, record.started_at),
            )
            _submitter_in_team(ctx, data["inspector_ids"])
        applied = edit(ctx, "inspection", record, base_version, values, _zone(ctx))
        if "inspector_ids" in values:
            _set_members(ctx, "inspection", record, record.inspector_ids)
        return applied
    enterprise = _enterprise(ctx, data["enterprise_id"])
    check_team(
        data["inspector_ids"],
        ctx.cache.officers(),
        _local_date(ctx, data["started_at"]),
    )
    _submitter_in_team(ctx, data["inspector_ids"])
    check_times(data["started_at"], data["ended_at"])
    task = None
    if data["task_id"] is not None:
        task = draw_tasks.check_completion(
            ctx.cache.get(Task, data["task_id"]),
            enterprise_id=enterprise.id,
            inspection_id=record_id,
            user_id=ctx.principal.user_id,
            role=ctx.principal.role,
        )
    _check_attachments(ctx, data["signature_attachments"])
    if data["scan_id"] is not None:
        scan = _require(ctx, Scan, "scan", data["scan_id"])
        if scan.enterprise_id != enterprise.id:
            raise ValidationFailed(
                "the scan was made at another enterprise",
                code="scan_mismatch",
                fields={"scan_id": ["scanned at another enterprise"]},
            )
    values = columns(data)
    existing = _existing(ctx, Inspection, record_id)
    if existing is not None:
        return _idempotent_create(ctx, "inspection", existing, values)
    inspection = Inspection(id=record_id, **values)
    applied = create(ctx, "inspection", inspection, values)
    _add_members(ctx, "inspection", inspection, inspection.inspector_ids)
    if task is not None:
        draw_tasks.complete(task, inspection.id, data["ended_at"] or data["started_at"])
    if data["scan_id"] is None:
        applied.extra = {
            "warnings": [{"code": "no_scan", "message": "recorded without a gate scan"}]
        }
    return applied


# --- hazard ---------------------------------------------------------------------------------


def apply_hazard(
    ctx: OpContext, record_id: uuid.UUID, base_version: int | None, data: dict[str, Any]
) -> Applied:
    if base_version is not None:
        immutable_fields(data, HazardData.MUTABLE)
        if "photo_attachments" in data:
            _check_attachments(ctx, data["photo_attachments"])
        record = _require(ctx, Hazard, "hazard", record_id)
        return edit(ctx, "hazard", record, base_version, columns(data), _zone(ctx))
    # What the device can fix by itself is refused before the op waits for its parent, so
    # it learns it in this answer rather than from a held op that fails later.
    _check_attachments(ctx, data["photo_attachments"])
    inspection = _require(ctx, Inspection, "inspection", data["inspection_id"])
    if inspection.enterprise_id != data["enterprise_id"]:
        raise ValidationFailed(
            "the hazard's enterprise is not the inspection's",
            code="enterprise_mismatch",
            fields={"enterprise_id": ["differs from the inspection's enterprise"]},
        )
    values = columns(data)
    values["proposed_deadline"] = values.pop("deadline")
    existing = _existing(ctx, Hazard, record_id)
    if existing is not None:
        return _idempotent_create(ctx, "hazard", existing, values)
    state, event = lifecycle.open_hazard(
        data["level"],
        actor_role=ctx.principal.role,
        actor_id=ctx.principal.user_id,
        now=inspection.started_at,
        device_id=ctx.device_id,
    )
    fixed = None
    if data["fixed_on_spot"]:
        fixed = plan_step(
            ctx,
            None,
            lifecycle.FIX_ON_SPOT,
            {"evidence_attachments": data["photo_attachments"]},
            at=inspection.ended_at or inspection.started_at,
            state=state,
        )
    hazard = Hazard(id=record_id, found_at=inspection.started_at, **values)
    _store_state(hazard, state)
    applied = create(ctx, "hazard", hazard, values)
    if fixed is not None:
        commit_step(ctx, hazard, lifecycle.FIX_ON_SPOT, fixed)
        applied.version = hazard.version
    return applied


# --- rectification --------------------------------------------------------------------------


def apply_rectification(
    ctx: OpContext, record_id: uuid.UUID, base_version: int | None, data: dict[str, Any]
) -> Applied:
    if base_version is not None:
        raise ValidationFailed(
            "a rectification report is never edited; send a new one", code="immutable_record"
        )
    _check_attachments(ctx, data["evidence_attachments"])
    hazard = _require(ctx, Hazard, "hazard", data["hazard_id"])
    values = columns(data)
    existing = _existing(ctx, Rectification, record_id)
    if existing is not None:
        return _idempotent_create(ctx, "rectification", existing, values)
    planned = plan_step(
        ctx,
        hazard,
        lifecycle.REPORT_DONE,
        {
            "evidence_attachments": data["evidence_attachments"],
            "reported_at": data["reported_at"],
            "description": data["description"],
        },
        at=data["reported_at"],
    )
    commit_step(ctx, hazard, lifecycle.REPORT_DONE, planned)
    report = Rectification(id=record_id, enterprise_id=hazard.enterprise_id, **values)
    return create(ctx, "rectification", report, values)


def _store_state(hazard: Hazard, state: lifecycle.HazardState) -> None:
    hazard.lifecycle = hazard_state.state_to_json(state)
    # The level column follows the lifecycle (a reclassification changes both).
    hazard.level = state.level
    hazard.status = state.status
    hazard.deadline = state.deadline
    hazard.supervised = state.supervised
    hazard.closed_at = state.closed_at


def plan_step(
    ctx: OpContext,
    hazard: Hazard | None,
    action: str,
    payload: dict[str, Any],
    *,
    at: datetime,
    state: lifecycle.HazardState | None = None,
) -> tuple[lifecycle.HazardState, lifecycle.HazardEvent]:
    """Work out one step through ``server/domain/hazards.py`` without changing anything yet.

    ``at`` is when the step happened on site (a device's time, never later than now). Raises
    the domain's errors, so an op is refused before any record was touched.
    """
    policy = hazard_state.policy_for(ctx.agency_settings, ctx.agency_timezone)
    if state is None:
        # Only a step on a stored hazard comes without ``state``.
        state = hazard_state.state_from_json(hazard.lifecycle)  # type: ignore[union-attr]
    return hazard_state.transition(
        state,
        action,
        role=ctx.principal.role,
        actor_id=ctx.principal.user_id,
        now=min(at, ctx.now),
        device_id=ctx.device_id,
        payload=payload,
        policy=policy,
        calendar=_calendar(ctx),
    )


def _calendar(ctx: OpContext) -> WorkCalendar:
    """The working days, for deadlines set in working days (national: every agency's)."""
    with db.session.no_autoflush:  # the batch writes in one flush at its end
        return working_calendar()


def commit_step(
    ctx: OpContext,
    hazard: Hazard,
    action: str,
    planned: tuple[lifecycle.HazardState, lifecycle.HazardEvent],
) -> None:
    """Store a planned step on the hazard and in the audit trail."""
    new_state, event = planned
    before = hazard.status
    _store_state(hazard, new_state)
    hazard.version += 1
    versions = dict(hazard.field_versions or {})
    for name in ("level", "status", "deadline", "supervised", "closed_at"):
        versions[name] = hazard.version
    hazard.field_versions = versions
    audit(
        ctx,
        "hazard",
        hazard,
        action,
        {"status": [before, new_state.status], "event": [None, hazard_state.event_to_json(event)]},
    )


# --- document -------------------------------------------------------------------------------


def _document_rules(ctx: OpContext, data: dict[str, Any], hazards: list[Hazard]) -> dict[str, Any]:
    """The type's own fields: check them and return the document body."""
    doc_type = data["type"]
    issued_on = _local_date(ctx, data["issued_at"])
    body: dict[str, Any] = {"content": data["content"]}
    if doc_type == "penalty_decision":
        raise ValidationFailed(
            "penalty decisions are issued from a penalty case, not from a device",
            code="not_issued_from_device",
        )
    if doc_type == "rectification_order":
        if not hazards:
            raise ValidationFailed(
                "an order names the hazards it covers", fields={"hazard_ids": ["at least one"]}
            )
        _order_deadline(ctx, data, hazards, issued_on, body)
    if doc_type == "onsite_measures":
        if not data["measures"]:
            raise ValidationFailed("name the measures taken", fields={"measures": ["at least one"]})
        body["measures"] = data["measures"]
        if data.get("prudence"):
            body["prudence"] = data["prudence"]
        if "stop_production" in data["measures"] or "stop_use" in data["measures"]:
            stop = data["stop_until"]
            months = hazard_state.policy_for(
                ctx.agency_settings, ctx.agency_timezone
            ).max_stop_months
            latest = lifecycle.add_months(issued_on, months)
            if stop is None or stop < issued_on or stop > latest:
                raise ValidationFailed(
                    f"a stop order lasts at most {months} months (until {latest} at the latest)",
                    code="stop_too_long",
                    fields={"stop_until": [f"required, between {issued_on} and {latest}"]},
                )
            body["stop_until"] = stop.isoformat()
    if doc_type == "reinspection_opinion":
        if data["outcome"] is None:
            raise ValidationFailed(
                "say whether the re-inspection passed", fields={"outcome": ["pass or fail"]}
            )
        body["outcome"] = data["outcome"]
        if data["outcome"] == "fail":
            _order_deadline(ctx, data, hazards, issued_on, body)
    if "deadline" not in body and data.get("period_days") is not None:
        raise ValidationFailed(
            "period_days belongs to a rectification order or a failed re-inspection",
            code="period_not_applicable",
            fields={"period_days": ["only for rectification_order or outcome fail"]},
        )
    return body


def _order_deadline(
    ctx: OpContext,
    data: dict[str, Any],
    hazards: list[Hazard],
    issued_on: date,
    body: dict[str, Any],
) -> None:
    """An order's deadline: given, or ``period_days`` in the agency's calendar or working days.

    The same rule as an order from the office (``lifecycle.order_deadline``), for every level
    among the hazards named, so one document never sets a deadline one of them may not have.
    """
    if data["deadline"] is None and data.get("period_days") is None:
        raise ValidationFailed(
            "an order needs a deadline or a period in days",
            code="deadline_required",
            fields={"deadline": ["required (or period_days)"]},
        )
    policy = hazard_state.policy_for(ctx.agency_settings, ctx.agency_timezone)
    calendar = _calendar(ctx)
    levels = sorted({h.level for h in hazards}) or [lifecycle.GENERAL]
    deadlines = {
        lifecycle.order_deadline(
            level, data["deadline"], data.get("period_days"), issued_on, policy, calendar
        )
        for level in levels
    }
    (deadline,) = deadlines
    body["deadline"] = deadline.isoformat()
    if data.get("period_days") is not None:
        body["period_days"] = data["period_days"]
        body["deadline_unit"] = policy.deadline_unit


def apply_document(
    ctx: OpContext, record_id: uuid.UUID, base_version: int | None, data: dict[str, Any]
) -> Applied:
    if base_version is not None:
        raise ValidationFailed("an issued document is never edited", code="immutable_record")
    inspection = _require(ctx, Inspection, "inspection", data["inspection_id"])
    hazards = [_require(ctx, Hazard, "hazard", h) for h in data["hazard_ids"]]
    for hazard in hazards:
        if hazard.enterprise_id != inspection.enterprise_id:
            raise ValidationFailed(
                "a hazard of another enterprise is listed",
                code="enterprise_mismatch",
                fields={"hazard_ids": [str(hazard.id)]},
            )
    existing = _existing(ctx, Document, record_id)
    if existing is not None:
        ctx.cache.number_documents()  # one created earlier in this batch shows its number
        values = {
            "type": data["type"],
            "inspection_id": data["inspection_id"],
            "provisional_number": data["provisional_number"],
        }
        return _idempotent_create(ctx, "document", existing, values)
    body = _document_rules(ctx, data, hazards)
    if data["type"] == "reinspection_opinion":
        ctx.cache.writer_only()  # the orders issued so far, committed a moment ago included
        orders = ctx.cache.read(
            Document,
            sa.select(Document.hazard_ids).where(
                Document.type == "rectification_order",
                Document.enterprise_id == inspection.enterprise_id,
            ),
        ).scalars()
        covered = {h for ids in orders for h in ids} | {
            h
            for d in ctx.cache.touched(Document)
            if d.type == "rectification_order" and d.enterprise_id == inspection.enterprise_id
            for h in d.hazard_ids
        }
        numbering.check_document_prerequisites(
            "reinspection_opinion", [str(h.id) for h in hazards], covered
        )
    document_id = str(record_id)
    steps = []
    for hazard in hazards:
        step = _document_step(data, body, hazard, document_id)
        if step is not None:
            planned = plan_step(ctx, hazard, step[0], step[1], at=data["issued_at"])
            steps.append((hazard, step[0], planned))
    year = _local_date(ctx, data["issued_at"]).year
    numbering.format_number(ctx.agency_abbr, data["type"], year, 1)  # refuses a bad abbreviation
    for hazard, action, planned in steps:
        commit_step(ctx, hazard, action, planned)
    values = {
        "type": data["type"],
        "inspection_id": inspection.id,
        "enterprise_id": inspection.enterprise_id,
        "hazard_ids": [str(h.id) for h in hazards],
        "issued_at": data["issued_at"],
        "provisional_number": data["provisional_number"],
        "body": body,
    }
    document = Document(id=record_id, year=year, **values)
    applied = create(ctx, "document", document, values)
    # Everything is checked: the serial is taken when the batch is written, so a refused op
    # never leaves a gap.
    ctx.cache.number_later(document, ctx.agency_abbr)
    applied.extra = {"number": None}
    return applied


def _document_step(
    data: dict[str, Any], body: dict[str, Any], hazard: Hazard, document_id: str
) -> tuple[str, dict[str, Any]] | None:
    """The hazard step a document takes for each hazard it names, if any.

    The deadline is the document's, worked out once (``_order_deadline``), so the paper and
    every hazard it names agree on the day.
    """
    if data["type"] == "rectification_order":
        return lifecycle.ORDER, {"deadline": body["deadline"], "document_id": document_id}
    if data["type"] == "reinspection_opinion":
        return lifecycle.REINSPECT, {
            "outcome": data["outcome"],
            "deadline": body.get("deadline"),
            "opinion_document_id": document_id,
        }
    stops = {"stop_production", "stop_use"} & set(data["measures"])
    if data["type"] == "onsite_measures" and stops and hazard.level == lifecycle.MAJOR:
        return lifecycle.STOP_PRODUCTION, {
            "until": data["stop_until"],
            "document_id": document_id,
            "scope": "、".join(sorted(stops)),
        }
    return None


def load_payload(entity: str, data: Any, base_version: int | None) -> dict[str, Any]:
    """Validate an op's data (all fields to create, the changed ones to edit)."""
    return load(PAYLOAD_SCHEMAS[entity], data, partial=base_version is not None)


HANDLERS: dict[str, Callable[[OpContext, uuid.UUID, int | None, Any], Applied]] = {
    "scan": apply_scan,
    "inspection": apply_inspection,
    "hazard": apply_hazard,
    "rectification": apply_rectification,
    "document": apply_document,
}


def references(entity: str, data: Any) -> list[str]:
    """Record ids an op's data points at (for failing dependents of a rejected op)."""
    if not isinstance(data, dict):
        return []
    refs = [data.get(k) for k in ("scan_id", "inspection_id", "hazard_id")]
    hazard_ids = data.get("hazard_ids")
    if isinstance(hazard_ids, list):
        refs.extend(hazard_ids)
    return [str(r) for r in refs if isinstance(r, str)]
