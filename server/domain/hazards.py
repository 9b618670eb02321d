"""The hazard (隐患) lifecycle from finding to closure, who may take each step, and overdue rules.

Statuses::

    found ──fix_on_spot──▶ closed (fixed_on_spot)              general
      │       └──────────▶ pending_sign_off                     major
      └──order──▶ ordered ──report_done──▶ reported
                    ▲  │                      │
                    │  └───────reinspect──────┤
                    └──── reinspect: fail ◀───┤
                          reinspect: pass ────┴─▶ closed (reinspection_passed)   general
                                                  pending_sign_off               major
    pending_sign_off ──sign_off (manager)──▶ closed (signed_off)
    found | ordered | reported ──reclassify (lead, manager)──▶ same status, other level

A major hazard (重大事故隐患) reaches ``closed`` only through ``sign_off`` by a manager:
``_fix_on_spot`` and ``_reinspect`` send it to ``pending_sign_off`` instead of closing it.
Beside the main line, a major hazard can be put on the supervised list (``supervise``, 挂牌督办,
with a rectification plan) and production can be stopped (``stop_production``) and resumed
(``lift_stop``) while it is open.

Reclassifying (``reclassify``, 重新认定隐患等级) changes the level of an open hazard, with a
reason, and only from the office: a general hazard found to be major from then on needs a
manager's sign-off to close; a major hazard becomes general only while it is neither on the
supervised list nor under a stop order in force, since both are agency decisions about a major
hazard that end by sign-off or a lifted stop, not by a change of label. A hazard awaiting
sign-off is not reclassified: the manager signs it off or not.

Roles (``server.domain.permissions``):

- ``inspector``: records hazards, fixes on the spot, orders, passes on the enterprise's
  report, re-inspects; what two certificated officers do on site.
- ``lead``: everything except ``sign_off``; supervising, stopping production and
  reclassifying are agency decisions, not a single inspector's.
- ``manager``: everything, and alone signs off major hazards.
- ``admin``: no lifecycle step at all. Administrators run accounts and devices; they hold no
  enforcement certificate, and a document carrying an admin's decision would be void.
  Correcting a wrongly entered record is not an enforcement step and is not modelled here.

Reinspection and ``reinspect`` from ``ordered``: the re-inspection is due within N days of the
enterprise's report *or* of the deadline, whichever comes first, so inspectors may go back once
the deadline has passed even when the enterprise never reported.
"""

from __future__ import annotations

import calendar as _gregorian
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from datetime import date, datetime, timedelta, timezone, tzinfo
from typing import Any, Literal

from server.domain.errors import Conflict, Forbidden, ValidationFailed
from server.domain.permissions import ADMIN, INSPECTOR, LEAD, MANAGER
from server.domain.workdays import DAY_KINDS, DEFAULT_CALENDAR, DayKind, WorkCalendar

Level = Literal["general", "major"]
Status = Literal["found", "ordered", "reported", "pending_sign_off", "closed"]
ClosedHow = Literal["fixed_on_spot", "reinspection_passed", "signed_off"]
Outcome = Literal["pass", "fail"]

GENERAL: Level = "general"
MAJOR: Level = "major"
LEVELS: tuple[Level, ...] = (GENERAL, MAJOR)
LEVEL_LABELS: dict[str, str] = {GENERAL: "一般隐患", MAJOR: "重大事故隐患"}

FOUND: Status = "found"
ORDERED: Status = "ordered"
REPORTED: Status = "reported"
PENDING_SIGN_OFF: Status = "pending_sign_off"
CLOSED: Status = "closed"
STATUSES: tuple[Status, ...] = (FOUND, ORDERED, REPORTED, PENDING_SIGN_OFF, CLOSED)
OPEN_STATUSES = frozenset({FOUND, ORDERED, REPORTED, PENDING_SIGN_OFF})
# A status as printed on pages, lists and exports.
STATUS_LABELS: dict[str, str] = {
    FOUND: "待处理",
    ORDERED: "限期整改中",
    REPORTED: "已报整改待复查",
    PENDING_SIGN_OFF: "待领导销号",
    CLOSED: "已销号",
}
# A hazard list filtered by status ``OPEN`` shows every open status; it sorts by one of SORTS.
OPEN = "open"
SORTS = ("found_at", "deadline", "status", "level", "closed_at")

FIXED_ON_SPOT: ClosedHow = "fixed_on_spot"
REINSPECTION_PASSED: ClosedHow = "reinspection_passed"
SIGNED_OFF: ClosedHow = "signed_off"

FIND = "find"
FIX_ON_SPOT = "fix_on_spot"
ORDER = "order"
REPORT_DONE = "report_done"
REINSPECT = "reinspect"
SUPERVISE = "supervise"
STOP_PRODUCTION = "stop_production"
LIFT_STOP = "lift_stop"
SIGN_OFF = "sign_off"
RECLASSIFY = "reclassify"
ACTIONS: tuple[str, ...] = (
    FIX_ON_SPOT,
    ORDER,
    REPORT_DONE,
    REINSPECT,
    SUPERVISE,
    STOP_PRODUCTION,
    LIFT_STOP,
    RECLASSIFY,
    SIGN_OFF,
)
# A step in a hazard's history as printed; ``edit`` is a change to the record synced from a device.
ACTION_LABELS = {
    FIND: "发现隐患",
    FIX_ON_SPOT: "现场整改",
    ORDER: "责令限期整改",
    REPORT_DONE: "企业报告整改完成",
    REINSPECT: "复查",
    SUPERVISE: "挂牌督办",
    STOP_PRODUCTION: "责令停产停业",
    LIFT_STOP: "恢复生产",
    RECLASSIFY: "重新认定隐患等级",
    SIGN_OFF: "领导审批销号",
    "edit": "修改记录",
}

FIND_ROLES = frozenset({INSPECTOR, LEAD, MANAGER})
ROLE_ACTIONS: dict[str, frozenset[str]] = {
    INSPECTOR: frozenset({FIX_ON_SPOT, ORDER, REPORT_DONE, REINSPECT}),
    LEAD: frozenset(ACTIONS) - {SIGN_OFF},
    MANAGER: frozenset(ACTIONS),
    ADMIN: frozenset(),
}

ESCALATION_NONE = 0
ESCALATION_OVERDUE = 1
ESCALATION_LONG_OVERDUE = 2
ESCALATION_PENALTY_CASE = 3
# What the daily job raises on an open hazard, by kind, as printed.
ESCALATION_LABELS = {
    "overdue": "逾期未整改",
    "long_overdue": "逾期较长",
    "penalty_case": "建议立案处罚",
    "reinspection_overdue": "复查逾期",
    "plan_overdue": "督办方案逾期",
    "stop_expired": "停产期限届满",
}

AGE_BUCKETS: tuple[str, ...] = ("0-7", "8-30", "31-90", "91-365", ">365")

# Mainland China has kept UTC+8 all year since 1991; a fixed offset needs no tz database.
CHINA_TZ = timezone(timedelta(hours=8), "Asia/Shanghai")

_SHA256 = re.compile(r"[0-9a-f]{64}")
_MAX_TEXT = 2000


class HazardTransitionError(Conflict):
    """The step is not possible from the hazard's current status (HTTP 409)."""

    code = "illegal_transition"


class HazardActionForbidden(Forbidden):
    """The actor's role may never take this step."""

    code = "role_not_allowed"


class UnknownHazardAction(ValidationFailed):
    code = "unknown_action"


@dataclass(frozen=True)
class HazardPolicy:
    """Per-agency settings for deadlines, re-inspection and escalation."""

    # 复查: within this many days of the enterprise's report or of the deadline.
    reinspection_days: int = 10
    reinspection_unit: DayKind = "calendar"
    # Unit of an order's ``period_days`` ("整改期限 15 日").
    deadline_unit: DayKind = "calendar"
    # Calendar days past the deadline before escalation level 2, and before a penalty case
    # is flagged (level 3).
    escalate_after_days: int = 10
    penalty_case_after_days: int = 30
    max_major_deadline_months: int = 12
    # The longest order a general hazard gets; ``None`` for no limit of its own.
    max_general_deadline_months: int | None = 12
    max_stop_months: int = 6
    # The zone whose calendar dates deadlines are written in.
    timezone: tzinfo = CHINA_TZ

    def __post_init__(self) -> None:
        for name in ("reinspection_days", "escalate_after_days", "penalty_case_after_days"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1")
        if self.escalate_after_days > self.penalty_case_after_days:
            raise ValueError("escalate_after_days must not exceed penalty_case_after_days")
        for name in ("max_major_deadline_months", "max_stop_months"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1")
        if self.max_general_deadline_months is not None and self.max_general_deadline_months < 1:
            raise ValueError("max_general_deadline_months must be at least 1 or None")
        for name in ("reinspection_unit", "deadline_unit"):
            if getattr(self, name) not in DAY_KINDS:
                raise ValueError(f"{name} must be one of {', '.join(DAY_KINDS)}")

    def local_date(self, moment: datetime) -> date:
        return moment.astimezone(self.timezone).date()


DEFAULT_POLICY = HazardPolicy()


@dataclass(frozen=True)
class RectificationPlan:
    """The 治理方案 a supervised (挂牌督办) major hazard must have."""

    responsible_person: str
    measures: str
    funds_fen: int
    deadline: date
    emergency_arrangements: str


@dataclass(frozen=True)
class StopOrder:
    """责令暂时停产停业: in force from ``ordered_on`` until lifted; never beyond ``until``."""

    ordered_on: date
    until: date
    scope: str
    document_id: str | None = None
    lifted_at: datetime | None = None
    lift_basis: str | None = None

    @property
    def in_force(self) -> bool:
        return self.lifted_at is None


@dataclass(frozen=True)
class HazardState:
    level: Level
    found_at: datetime
    status: Status = FOUND
    deadline: date | None = None
    ordered_on: date | None = None
    order_count: int = 0
    reported_at: datetime | None = None
    last_reinspection: Outcome | None = None
    reinspected_at: datetime | None = None
    failed_reinspections: int = 0
    supervised: bool = False
    plan: RectificationPlan | None = None
    stop: StopOrder | None = None
    closed_how: ClosedHow | None = None
    closed_at: datetime | None = None
    signed_off_by: uuid.UUID | None = None

    @property
    def is_open(self) -> bool:
        return self.status != CLOSED

    @property
    def stop_in_force(self) -> bool:
        return self.stop is not None and self.stop.in_force


@dataclass(frozen=True)
class Transition:
    """A request to move a hazard on: what, by whom, from which device, when, with what.

    ``payload`` holds the action's fields (see ``apply``); dates may be ``date`` objects or
    ``YYYY-MM-DD`` strings, times aware ``datetime`` objects or RFC 3339 strings.
    """

    action: str
    actor_role: str
    actor_id: uuid.UUID
    now: datetime
    device_id: uuid.UUID | None = None
    payload: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        _require_aware(self.now)


@dataclass(frozen=True)
class HazardEvent:
    """What one step did, kept for the audit trail (全程留痕)."""

    action: str
    actor_role: str
    actor_id: uuid.UUID
    device_id: uuid.UUID | None
    at: datetime
    from_status: Status | None
    to_status: Status
    evidence: tuple[str, ...] = ()
    documents: tuple[str, ...] = ()
    note: str | None = None
    details: Mapping[str, Any] = field(default_factory=dict)
    # field name -> (before, after), for every HazardState field the step changed.
    changes: Mapping[str, tuple[Any, Any]] = field(default_factory=dict)


@dataclass(frozen=True)
class Assessment:
    """Where an open hazard stands on a given day; the daily overdue job stores this."""

    is_open: bool
    overdue: bool
    days_overdue: int
    escalation: int
    penalty_case: bool
    reinspection_due_on: date | None
    reinspection_overdue: bool
    stop_expired: bool
    plan_overdue: bool


# --- who may do what, and when ------------------------------------------------------------


def _legal(state: HazardState, action: str) -> bool:
    """Whether ``action`` is possible from ``state``, whoever asks."""
    major = state.level == MAJOR
    if action in (FIX_ON_SPOT, ORDER):
        return state.status == FOUND
    if action == REPORT_DONE:
        return state.status == ORDERED
    if action == REINSPECT:
        return state.status in (ORDERED, REPORTED)
    if action == SUPERVISE:
        return major and state.status in (FOUND, ORDERED, REPORTED) and not state.supervised
    if action == STOP_PRODUCTION:
        return major and state.status in (FOUND, ORDERED, REPORTED) and not state.stop_in_force
    if action == LIFT_STOP:
        return state.stop_in_force
    if action == RECLASSIFY:
        # The target is the other level; a major hazard under agency measures stays major.
        return state.status in (FOUND, ORDERED, REPORTED) and (
            not major or (not state.supervised and not state.stop_in_force)
        )
    if action == SIGN_OFF:
        return state.status == PENDING_SIGN_OFF
    return False


def allowed_actions(state: HazardState, role: str) -> list[str]:
    """The actions ``role`` may take on ``state`` now, in ``ACTIONS`` order.

    A transition with one of these actions and a valid payload succeeds; any other action
    raises ``HazardActionForbidden`` or ``HazardTransitionError``.
    """
    permitted = ROLE_ACTIONS.get(role, frozenset())
    return [a for a in ACTIONS if a in permitted and _legal(state, a)]


def open_hazard(
    level: str,
    *,
    actor_role: str,
    actor_id: uuid.UUID,
    now: datetime,
    device_id: uuid.UUID | None = None,
    note: str | None = None,
) -> tuple[HazardState, HazardEvent]:
    """Record a newly found hazard; the first event of every hazard's history."""
    if level not in LEVELS:
        raise ValidationFailed(
            f"hazard level must be general or major, not {level!r}",
            code="invalid_level",
            fields={"level": "general or major"},
        )
    if actor_role not in FIND_ROLES:
        raise HazardActionForbidden(f"a {actor_role} may not record hazards")
    _require_aware(now)
    state = HazardState(level=level, found_at=now)
    event = HazardEvent(
        action=FIND,
        actor_role=actor_role,
        actor_id=actor_id,
        device_id=device_id,
        at=now,
        from_status=None,
        to_status=FOUND,
        note=_optional_text({"note": note}, "note"),
        details={"level": level},
    )
    return state, event


def apply(
    state: HazardState,
    transition: Transition,
    policy: HazardPolicy = DEFAULT_POLICY,
    calendar: WorkCalendar = DEFAULT_CALENDAR,
) -> tuple[HazardState, HazardEvent]:
    """Take one step; return the new state and the event recording it.

    Checks run in this order: unknown action (``unknown_action``, 422), role
    (``role_not_allowed``, 403), current status (``illegal_transition``, 409), payload (422
    with a code per rule). Payload fields by action:

    - ``fix_on_spot``: ``evidence_attachments`` (sha256 list, at least one), ``note``.
    - ``order``: ``deadline`` *or* ``period_days`` (counted in ``policy.deadline_unit`` from
      the day of the order), ``document_id`` (the 责令限期整改指令书), ``note``.
    - ``report_done``: ``evidence_attachments`` (at least one), ``reported_at`` (default
      ``now``), ``description``.
    - ``reinspect``: ``outcome`` (``pass``/``fail``), ``opinion_document_id`` (the 整改复查意见书,
      required), ``evidence_attachments``, ``note``; on ``fail`` a new ``deadline`` or
      ``period_days`` as for ``order``.
    - ``supervise``: ``responsible_person``, ``measures``, ``funds_fen``, ``deadline``,
      ``emergency_arrangements``, ``document_id``.
    - ``stop_production``: ``until``, ``scope``, ``document_id`` (现场处理措施决定书).
    - ``lift_stop``: after a passed re-inspection nothing more; otherwise ``review_passed``
      (true) and ``review_opinion``. ``document_id``.
    - ``reclassify``: ``level`` (the other level), ``reason`` (required).
    - ``sign_off``: ``note``.
    """
    action = transition.action
    if action not in ACTIONS:
        raise UnknownHazardAction(
            f"unknown hazard action {action!r}",
            fields={"action": f"must be one of {', '.join(ACTIONS)}"},
        )
    role = transition.actor_role
    if action not in ROLE_ACTIONS.get(role, frozenset()):
        raise HazardActionForbidden(
            f"a {role} may not {action.replace('_', ' ')} a hazard",
            details={"action": action, "role": role},
        )
    if not _legal(state, action):
        allowed = allowed_actions(state, role)
        raise HazardTransitionError(
            f"cannot {action.replace('_', ' ')} a {state.level} hazard that is {state.status}"
            + (f"; possible now: {', '.join(allowed)}" if allowed else ""),
            details={"status": state.status, "allowed": allowed},
        )
    step = _STEPS[action]
    new_state, extra = step(state, transition, policy, calendar)
    event = HazardEvent(
        action=action,
        actor_role=role,
        actor_id=transition.actor_id,
        device_id=transition.device_id,
        at=transition.now,
        from_status=state.status,
        to_status=new_state.status,
        evidence=extra.evidence,
        documents=extra.documents,
        note=extra.note,
        details=extra.details,
        changes=_diff(state, new_state),
    )
    return new_state, event


# --- the steps --------------------------------------------------------------------------


@dataclass
class _Extra:
    evidence: tuple[str, ...] = ()
    documents: tuple[str, ...] = ()
    note: str | None = None
    details: dict[str, Any] = field(default_factory=dict)


def _fix_on_spot(
    state: HazardState, t: Transition, policy: HazardPolicy, calendar: WorkCalendar
) -> tuple[HazardState, _Extra]:
    evidence = _attachments(t.payload, "evidence_attachments", required=True)
    extra = _Extra(evidence=evidence, note=_optional_text(t.payload, "note"))
    if state.level == MAJOR:
        # Even fixed before the inspectors left, a major hazard is closed by a manager.
        return replace(state, status=PENDING_SIGN_OFF), extra
    return replace(state, status=CLOSED, closed_how=FIXED_ON_SPOT, closed_at=t.now), extra


def _order(
    state: HazardState, t: Transition, policy: HazardPolicy, calendar: WorkCalendar
) -> tuple[HazardState, _Extra]:
    today = policy.local_date(t.now)
    deadline = _deadline(state, t.payload, today, policy, calendar)
    document = _optional_text(t.payload, "document_id")
    new = replace(
        state,
        status=ORDERED,
        deadline=deadline,
        ordered_on=today,
        order_count=state.order_count + 1,
    )
    return new, _Extra(documents=_present(document), note=_optional_text(t.payload, "note"))


def _report_done(
    state: HazardState, t: Transition, policy: HazardPolicy, calendar: WorkCalendar
) -> tuple[HazardState, _Extra]:
    evidence = _attachments(t.payload, "evidence_attachments", required=True)
    reported_at = _datetime(t.payload, "reported_at", default=t.now)
    if reported_at > t.now:
        raise ValidationFailed(
            "the enterprise cannot have reported in the future",
            code="reported_in_future",
            fields={"reported_at": "must not be later than now"},
        )
    if reported_at < state.found_at:
        raise ValidationFailed(
            "the report is dated before the hazard was found",
            code="reported_before_found",
            fields={"reported_at": "must not be earlier than when the hazard was found"},
        )
    new = replace(state, status=REPORTED, reported_at=reported_at)
    return new, _Extra(evidence=evidence, note=_optional_text(t.payload, "description"))


def _reinspect(
    state: HazardState, t: Transition, policy: HazardPolicy, calendar: WorkCalendar
) -> tuple[HazardState, _Extra]:
    outcome = t.payload.get("outcome")
    if outcome not in ("pass", "fail"):
        raise ValidationFailed(
            "a re-inspection either passes or fails",
            code="invalid_outcome",
            fields={"outcome": "pass or fail"},
        )
    # Every re-inspection here follows a rectification order, so it always issues a
    # 整改复查意见书; without one the closure has no legal footing.
    opinion = _optional_text(t.payload, "opinion_document_id")
    if opinion is None:
        raise ValidationFailed(
            "a re-inspection needs its 整改复查意见书",
            code="opinion_document_required",
            fields={"opinion_document_id": "required"},
        )
    extra = _Extra(
        evidence=_attachments(t.payload, "evidence_attachments", required=False),
        documents=(opinion,),
        note=_optional_text(t.payload, "note"),
        details={"outcome": outcome},
    )
    common = replace(state, last_reinspection=outcome, reinspected_at=t.now)
    if outcome == "fail":
        today = policy.local_date(t.now)
        deadline = _deadline(state, t.payload, today, policy, calendar)
        new = replace(
            common,
            status=ORDERED,
            deadline=deadline,
            ordered_on=today,
            order_count=state.order_count + 1,
            reported_at=None,
            failed_reinspections=state.failed_reinspections + 1,
        )
        return new, extra
    if state.level == MAJOR:
        return replace(common, status=PENDING_SIGN_OFF), extra
    return replace(common, status=CLOSED, closed_how=REINSPECTION_PASSED, closed_at=t.now), extra


def _supervise(
    state: HazardState, t: Transition, policy: HazardPolicy, calendar: WorkCalendar
) -> tuple[HazardState, _Extra]:
    p = t.payload
    today = policy.local_date(t.now)
    errors: dict[str, str] = {}
    texts: dict[str, str] = {}
    for name in ("responsible_person", "measures", "emergency_arrangements"):
        value = p.get(name)
        if isinstance(value, list | tuple) and name == "measures":
            value = "\n".join(str(v).strip() for v in value if str(v).strip())
        if not isinstance(value, str) or not value.strip():
            errors[name] = "required"
        elif len(value) > _MAX_TEXT:
            errors[name] = f"at most {_MAX_TEXT} characters"
        else:
            texts[name] = value.strip()
    funds = p.get("funds_fen")
    if isinstance(funds, bool) or not isinstance(funds, int) or funds < 0:
        errors["funds_fen"] = "a whole number of fen, zero or more"
    deadline: date | None = None
    try:
        deadline = _date(p, "deadline")
    except ValidationFailed as exc:
        errors.update(exc.fields)
    latest = add_months(today, policy.max_major_deadline_months)
    if deadline is None:
        errors.setdefault("deadline", "required")
    elif deadline < today:
        errors["deadline"] = "must not be in the past"
    elif deadline > latest:
        errors["deadline"] = f"at most {policy.max_major_deadline_months} months, {latest}"
    if errors or deadline is None or not isinstance(funds, int):
        raise ValidationFailed(
            "the rectification plan is incomplete or invalid: " + ", ".join(sorted(errors)),
            code="invalid_rectification_plan",
            fields=errors,
        )
    plan = RectificationPlan(
        responsible_person=texts["responsible_person"],
        measures=texts["measures"],
        funds_fen=funds,
        deadline=deadline,
        emergency_arrangements=texts["emergency_arrangements"],
    )
    document = _optional_text(p, "document_id")
    return replace(state, supervised=True, plan=plan), _Extra(documents=_present(document))


def _stop_production(
    state: HazardState, t: Transition, policy: HazardPolicy, calendar: WorkCalendar
) -> tuple[HazardState, _Extra]:
    today = policy.local_date(t.now)
    until = _date(t.payload, "until")
    if until is None:
        raise ValidationFailed(
            "a stop order states until when it runs",
            code="stop_until_required",
            fields={"until": "required"},
        )
    latest = add_months(today, policy.max_stop_months)
    if until <= today:
        raise ValidationFailed(
            "a stop order must run past today",
            code="stop_until_in_past",
            fields={"until": "must be after today"},
        )
    if until > latest:
        raise ValidationFailed(
            f"a stop order lasts at most {policy.max_stop_months} months, until {latest}",
            code="stop_too_long",
            fields={"until": f"at most {latest}"},
            details={"latest": latest.isoformat()},
        )
    scope = _optional_text(t.payload, "scope")
    if scope is None:
        raise ValidationFailed(
            "say what stops: the whole site, a workshop, a facility",
            code="stop_scope_required",
            fields={"scope": "required"},
        )
    document = _optional_text(t.payload, "document_id")
    stop = StopOrder(ordered_on=today, until=until, scope=scope, document_id=document)
    return replace(state, stop=stop), _Extra(
        documents=_present(document), note=_optional_text(t.payload, "note")
    )


def _lift_stop(
    state: HazardState, t: Transition, policy: HazardPolicy, calendar: WorkCalendar
) -> tuple[HazardState, _Extra]:
    assert state.stop is not None
    opinion = _optional_text(t.payload, "review_opinion")
    basis: str
    if state.last_reinspection == "pass":
        basis = REINSPECTION_PASSED
    elif t.payload.get("review_passed") is True and opinion is not None:
        basis = "review"
    else:
        raise ValidationFailed(
            "production resumes only after a passed re-inspection or a passed review",
            code="stop_review_required",
            fields={"review_passed": "must be true", "review_opinion": "required"},
        )
    document = _optional_text(t.payload, "document_id")
    stop = replace(state.stop, lifted_at=t.now, lift_basis=basis)
    return replace(state, stop=stop), _Extra(
        documents=_present(document), note=opinion, details={"basis": basis}
    )


def _reclassify(
    state: HazardState, t: Transition, policy: HazardPolicy, calendar: WorkCalendar
) -> tuple[HazardState, _Extra]:
    target = t.payload.get("level")
    other = GENERAL if state.level == MAJOR else MAJOR
    if target != other:
        raise ValidationFailed(
            f"a {state.level} hazard can only be reclassified as {other}",
            code="invalid_level",
            fields={"level": f"must be {other}"},
        )
    reason = _optional_text(t.payload, "reason")
    if reason is None:
        raise ValidationFailed(
            "say why the hazard is reclassified",
            code="reason_required",
            fields={"reason": "required"},
        )
    details = {"from_level": state.level, "to_level": other}
    return replace(state, level=other), _Extra(note=reason, details=details)


def _sign_off(
    state: HazardState, t: Transition, policy: HazardPolicy, calendar: WorkCalendar
) -> tuple[HazardState, _Extra]:
    stop = state.stop
    if stop is not None and stop.in_force:
        # The hazard has passed re-inspection and a manager signs it closed: that is the
        # review a stop order waits for, so closing also lets production resume.
        stop = replace(stop, lifted_at=t.now, lift_basis=SIGNED_OFF)
    new = replace(
        state,
        status=CLOSED,
        closed_how=SIGNED_OFF,
        closed_at=t.now,
        signed_off_by=t.actor_id,
        stop=stop,
    )
    return new, _Extra(note=_optional_text(t.payload, "note"))


_STEPS = {
    FIX_ON_SPOT: _fix_on_spot,
    ORDER: _order,
    REPORT_DONE: _report_done,
    REINSPECT: _reinspect,
    SUPERVISE: _supervise,
    STOP_PRODUCTION: _stop_production,
    LIFT_STOP: _lift_stop,
    RECLASSIFY: _reclassify,
    SIGN_OFF: _sign_off,
}


# --- the daily overdue job ----------------------------------------------------------------


def assess(
    state: HazardState,
    today: date,
    policy: HazardPolicy = DEFAULT_POLICY,
    calendar: WorkCalendar = DEFAULT_CALENDAR,
) -> Assessment:
    """Overdue, re-inspection and escalation status of ``state`` on ``today`` (local date).

    - overdue: ``ordered`` and ``today`` is after the deadline (the deadline day itself is
      still in time). A report, even a late one, stops the clock.
    - escalation: 0 none, 1 overdue, 2 more than ``escalate_after_days`` overdue, 3 more than
      ``penalty_case_after_days`` overdue, which flags a penalty case.
    - re-inspection due: ``reinspection_days`` after the report or the deadline, whichever
      came first; overdue when that has passed and nobody has re-inspected.
    """
    open_ = state.is_open
    overdue = state.status == ORDERED and state.deadline is not None and today > state.deadline
    days_overdue = (today - state.deadline).days if overdue and state.deadline else 0
    if not overdue:
        escalation = ESCALATION_NONE
    elif days_overdue > policy.penalty_case_after_days:
        escalation = ESCALATION_PENALTY_CASE
    elif days_overdue > policy.escalate_after_days:
        escalation = ESCALATION_LONG_OVERDUE
    else:
        escalation = ESCALATION_OVERDUE

    due: date | None = None
    if state.status in (ORDERED, REPORTED) and state.deadline is not None:
        trigger = state.deadline
        if state.status == REPORTED and state.reported_at is not None:
            trigger = min(trigger, policy.local_date(state.reported_at))
        due = _later(trigger, policy.reinspection_days, policy.reinspection_unit, calendar)

    stop_expired = state.stop_in_force and state.stop is not None and today > state.stop.until
    plan_overdue = (
        state.plan is not None
        and state.status in (FOUND, ORDERED, REPORTED)
        and today > state.plan.deadline
    )
    return Assessment(
        is_open=open_,
        overdue=overdue,
        days_overdue=days_overdue,
        escalation=escalation,
        penalty_case=escalation == ESCALATION_PENALTY_CASE,
        reinspection_due_on=due,
        reinspection_overdue=due is not None and today > due,
        stop_expired=stop_expired,
        plan_overdue=plan_overdue,
    )


def _later(start: date, n: int, unit: DayKind, calendar: WorkCalendar) -> date | None:
    """``start`` plus ``n`` days, or None past the last date Python knows (9999-12-31).

    Dates from outside are bounded, but a row stored before they were must not make every
    list that assesses it fail.
    """
    try:
        return calendar.add_days(start, n, unit)
    except OverflowError:
        return None


def age_bucket(found_on: date, today: date) -> str:
    """Age of a hazard in days, bucketed as in ``AGE_BUCKETS``.

    A ``found_on`` after ``today`` (a device clock ahead of time) counts as age 0 rather than
    stopping the daily job.
    """
    age = max((today - found_on).days, 0)
    if age <= 7:
        return "0-7"
    if age <= 30:
        return "8-30"
    if age <= 90:
        return "31-90"
    if age <= 365:
        return "91-365"
    return ">365"


def add_months(start: date, months: int) -> date:
    """Same day ``months`` later, or the month's last day (31 Jan + 1 month = 28/29 Feb)."""
    index = start.year * 12 + start.month - 1 + months
    year, month = divmod(index, 12)
    last = _gregorian.monthrange(year, month + 1)[1]
    return date(year, month + 1, min(start.day, last))


# --- payload helpers ------------------------------------------------------------------------


def _deadline(
    state: HazardState,
    payload: Mapping[str, Any],
    today: date,
    policy: HazardPolicy,
    calendar: WorkCalendar,
) -> date:
    return order_deadline(
        state.level, _date(payload, "deadline"), payload.get("period_days"), today, policy, calendar
    )


def order_deadline(
    level: str,
    deadline: date | None,
    period_days: Any,
    today: date,
    policy: HazardPolicy = DEFAULT_POLICY,
    calendar: WorkCalendar = DEFAULT_CALENDAR,
) -> date:
    """The deadline of an order given ``today``: a date, or a period in the agency's days.

    ``period_days`` (整改期限 N 日) counts in ``policy.deadline_unit`` from ``today``, calendar or
    working days as the agency sets it. The deadline is not in the past and not beyond
    ``latest_deadline`` for the hazard's level. A device's order document and a step from the
    office both come here.
    """
    if deadline is not None and period_days is not None:
        raise ValidationFailed(
            "give a deadline or a period in days, not both",
            code="deadline_ambiguous",
            fields={"deadline": "either this", "period_days": "or this"},
        )
    if period_days is not None:
        if isinstance(period_days, bool) or not isinstance(period_days, int) or period_days < 1:
            raise ValidationFailed(
                "the period is a whole number of days, at least 1",
                code="invalid_period",
                fields={"period_days": "an integer >= 1"},
            )
        latest = latest_deadline(level, today, policy)
        deadline = _later(today, period_days, policy.deadline_unit, calendar)
        if deadline is None or (latest is not None and deadline > latest):
            raise ValidationFailed(
                f"a {level} hazard's deadline is at most {latest}; {period_days} days is longer",
                code="deadline_too_far",
                fields={"period_days": f"ends at most on {latest}"},
                details={"latest": latest.isoformat() if latest else None},
            )
    if deadline is None:
        raise ValidationFailed(
            "an order needs a deadline",
            code="deadline_required",
            fields={"deadline": "required (or period_days)"},
        )
    if deadline < today:
        raise ValidationFailed(
            f"the deadline {deadline} is already past",
            code="deadline_in_past",
            fields={"deadline": "must not be before today"},
        )
    latest = latest_deadline(level, today, policy)
    if latest is not None and deadline > latest:
        months = _max_months(level, policy)
        raise ValidationFailed(
            f"a {level} hazard's deadline is at most {months} months away, {latest}",
            code="deadline_too_far",
            fields={"deadline": f"at most {latest}"},
            details={"latest": latest.isoformat()},
        )
    return deadline


def _max_months(level: str, policy: HazardPolicy) -> int | None:
    if level == MAJOR:
        return policy.max_major_deadline_months
    return policy.max_general_deadline_months


def latest_deadline(level: str, today: date, policy: HazardPolicy = DEFAULT_POLICY) -> date | None:
    """The latest deadline an order issued ``today`` may set for a hazard of ``level``."""
    months = _max_months(level, policy)
    return None if months is None else add_months(today, months)


def _date(payload: Mapping[str, Any], name: str) -> date | None:
    value = payload.get(name)
    if value is None:
        return None
    if isinstance(value, datetime):
        raise ValidationFailed(
            f"{name} is a date, not a time", code="invalid_date", fields={name: "YYYY-MM-DD"}
        )
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    raise ValidationFailed(
        f"{name} is not a date", code="invalid_date", fields={name: "YYYY-MM-DD"}
    )


def _datetime(payload: Mapping[str, Any], name: str, *, default: datetime) -> datetime:
    value = payload.get(name)
    if value is None:
        return default
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            value = None
    if not isinstance(value, datetime) or value.utcoffset() is None:
        raise ValidationFailed(
            f"{name} is not a time with an offset",
            code="invalid_datetime",
            fields={name: "RFC 3339 time with offset"},
        )
    return value


def _attachments(payload: Mapping[str, Any], name: str, *, required: bool) -> tuple[str, ...]:
    value = payload.get(name) or []
    if not isinstance(value, list | tuple) or not all(
        isinstance(v, str) and _SHA256.fullmatch(v.lower()) for v in value
    ):
        raise ValidationFailed(
            f"{name} must list attachments by sha256",
            code="invalid_attachments",
            fields={name: "a list of sha256 hex digests"},
        )
    if required and not value:
        raise ValidationFailed(
            "this step needs photo or video evidence",
            code="evidence_required",
            fields={name: "at least one attachment"},
        )
    return tuple(dict.fromkeys(v.lower() for v in value))


def _optional_text(payload: Mapping[str, Any], name: str) -> str | None:
    value = payload.get(name)
    if value is None:
        return None
    if isinstance(value, uuid.UUID):
        return str(value)
    if not isinstance(value, str) or len(value) > _MAX_TEXT:
        raise ValidationFailed(
            f"{name} must be text of at most {_MAX_TEXT} characters",
            code="invalid_text",
            fields={name: f"text, at most {_MAX_TEXT} characters"},
        )
    return value.strip() or None


def _require_aware(now: datetime) -> None:
    # A naive time has no single calendar date in China; refuse it before it skews a deadline.
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be an aware datetime")


def _present(value: str | None) -> tuple[str, ...]:
    return () if value is None else (value,)


def _diff(before: HazardState, after: HazardState) -> dict[str, tuple[Any, Any]]:
    return {
        f.name: (getattr(before, f.name), getattr(after, f.name))
        for f in fields(HazardState)
        if getattr(before, f.name) != getattr(after, f.name)
    }
