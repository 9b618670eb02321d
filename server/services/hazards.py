"""The manager's hazards: find, export, count, read one with its history, take a step."""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import Generator, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from typing import Any, NoReturn
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from server import database
from server.domain import hazards as lifecycle
from server.domain import numbering, permissions
from server.domain.enterprises import INDUSTRIES
from server.domain.errors import NotFound, ValidationFailed
from server.domain.permissions import Principal
from server.domain.reporting import format_percent, rectification_rate
from server.domain.reporting_years import rectified_as_of
from server.extensions import AnySelect, db
from server.models import (
    Agency,
    AuditEntry,
    Device,
    Document,
    Enterprise,
    Hazard,
    HazardEscalation,
    RecordMember,
    Rectification,
    User,
)
from server.models.types import utcnow
from server.services import attachments, hazard_counts, hazard_state
from server.services.calendar import working_calendar
from server.services.enterprises import Page

READ_HAZARDS = frozenset({permissions.INSPECTOR, permissions.LEAD, permissions.MANAGER})
OVERSEE_HAZARDS = frozenset({permissions.LEAD, permissions.MANAGER})

OPEN = "open"
# An IN list rather than "!= closed", so the (agency, status, deadline) index serves it.
OPEN_LIST = sorted(lifecycle.OPEN_STATUSES)
OVERDUE_STATUS = lifecycle.ORDERED
SORTS = ("found_at", "deadline", "status", "level", "closed_at")

STATUS_LABELS: dict[str, str] = {
    lifecycle.FOUND: "待处理",
    lifecycle.ORDERED: "限期整改中",
    lifecycle.REPORTED: "已报整改待复查",
    lifecycle.PENDING_SIGN_OFF: "待领导销号",
    lifecycle.CLOSED: "已销号",
}
ACTION_LABELS = {
    lifecycle.FIND: "发现隐患",
    lifecycle.FIX_ON_SPOT: "现场整改",
    lifecycle.ORDER: "责令限期整改",
    lifecycle.REPORT_DONE: "企业报告整改完成",
    lifecycle.REINSPECT: "复查",
    lifecycle.SUPERVISE: "挂牌督办",
    lifecycle.STOP_PRODUCTION: "责令停产停业",
    lifecycle.LIFT_STOP: "恢复生产",
    lifecycle.RECLASSIFY: "重新认定隐患等级",
    lifecycle.SIGN_OFF: "领导审批销号",
    "edit": "修改记录",
}
NO_UNIT_LABEL = "未设科室（大队）"
ESCALATION_LABELS = {
    "overdue": "逾期未整改",
    "long_overdue": "逾期较长",
    "penalty_case": "建议立案处罚",
    "reinspection_overdue": "复查逾期",
    "plan_overdue": "督办方案逾期",
    "stop_expired": "停产期限届满",
}


@dataclass(frozen=True)
class HazardFilters:
    status: str | None = None
    level: str | None = None
    overdue: bool | None = None
    enterprise_id: uuid.UUID | None = None
    industry: str | None = None
    inspector_id: uuid.UUID | None = None
    found_from: date | None = None
    found_to: date | None = None
    supervised: bool | None = None
    penalty_case: bool | None = None


@dataclass
class HazardRow:
    """One line of a list: the hazard, its enterprise and where it stands today."""

    hazard: Hazard
    enterprise_name: str
    industry: str
    today: date
    policy: lifecycle.HazardPolicy
    assessment: lifecycle.Assessment = field(init=False)

    def __post_init__(self) -> None:
        # Only the columns are needed for overdue and escalation; the lifecycle JSON stays put.
        state = lifecycle.HazardState(
            level=self.hazard.level,  # type: ignore[arg-type]
            found_at=self.hazard.found_at,
            status=self.hazard.status,  # type: ignore[arg-type]
            deadline=self.hazard.deadline,
        )
        self.assessment = lifecycle.assess(state, self.today, self.policy)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.hazard, name)

    @property
    def overdue(self) -> bool:
        return self.assessment.overdue

    @property
    def days_overdue(self) -> int:
        return self.assessment.days_overdue

    @property
    def escalation(self) -> int:
        return self.assessment.escalation

    @property
    def status_label(self) -> str:
        return STATUS_LABELS.get(self.hazard.status, self.hazard.status)

    @property
    def level_label(self) -> str:
        return lifecycle.LEVEL_LABELS.get(self.hazard.level, self.hazard.level)

    @property
    def industry_label(self) -> str:
        return INDUSTRIES.get(self.industry, self.industry)


# --- shared pieces ------------------------------------------------------------------------


def agency_of(principal: Principal) -> Agency:
    agency = db.session.get(Agency, principal.agency_id)
    if agency is None:  # the token outlived its agency
        raise NotFound("no such agency")
    return agency


def policy_of(agency: Agency) -> lifecycle.HazardPolicy:
    return hazard_state.policy_for(agency.settings, agency.timezone)


def local_today(agency: Agency, now: datetime | None = None) -> date:
    return (now or utcnow()).astimezone(ZoneInfo(agency.timezone)).date()


def local_midnight(agency: Agency, day: date) -> datetime:
    """The instant ``day`` begins in the agency's zone (found_at is stored in UTC)."""
    return datetime.combine(day, time.min, tzinfo=ZoneInfo(agency.timezone))


def _require_read(principal: Principal) -> None:
    permissions.require_role(principal, READ_HAZARDS, "reading hazards")


def _filtered(agency: Agency, filters: HazardFilters, today: date) -> AnySelect:
    """Hazards of the agency matching ``filters``, joined to their enterprise."""
    stmt = (
        sa.select(Hazard, Enterprise.name, Enterprise.industry)
        .join(Enterprise, Enterprise.id == Hazard.enterprise_id)
        .where(Hazard.agency_id == agency.id)
    )
    return _apply_filters(stmt, agency, filters, today)


def _apply_filters(
    stmt: AnySelect, agency: Agency, f: HazardFilters, today: date
) -> AnySelect:
    if f.status == OPEN:
        stmt = stmt.where(Hazard.status.in_(OPEN_LIST))
    elif f.status is not None:
        stmt = stmt.where(Hazard.status == f.status)
    if f.level is not None:
        stmt = stmt.where(Hazard.level == f.level)
    overdue = sa.and_(Hazard.status == OVERDUE_STATUS, Hazard.deadline < today)
    if f.overdue is True:
        stmt = stmt.where(overdue)
    elif f.overdue is False:
        stmt = stmt.where(sa.not_(overdue))
    if f.enterprise_id is not None:
        stmt = stmt.where(Hazard.enterprise_id == f.enterprise_id)
    if f.industry is not None:
        stmt = stmt.where(Hazard.industry == f.industry)
    if f.inspector_id is not None:
        stmt = stmt.where(
            sa.exists().where(
                RecordMember.entity == "inspection",
                RecordMember.record_id == Hazard.inspection_id,
                RecordMember.user_id == f.inspector_id,
            )
        )
    if f.found_from is not None:
        stmt = stmt.where(Hazard.found_at >= local_midnight(agency, f.found_from))
    if f.found_to is not None:
        stmt = stmt.where(Hazard.found_at < local_midnight(agency, f.found_to + timedelta(1)))
    if f.supervised is not None:
        stmt = stmt.where(Hazard.supervised.is_(f.supervised))
    if f.penalty_case is not None:
        flagged = sa.exists().where(
            HazardEscalation.hazard_id == Hazard.id, HazardEscalation.kind == "penalty_case"
        )
        stmt = stmt.where(flagged if f.penalty_case else sa.not_(flagged))
    return stmt


def _check_period(f: HazardFilters) -> None:
    if f.found_from and f.found_to and f.found_to < f.found_from:
        raise ValidationFailed(
            "found_to is before found_from", fields={"found_to": ["before found_from"]}
        )


def _order(sort: str) -> list[Any]:
    name = sort.lstrip("-")
    if name not in SORTS:
        raise ValidationFailed(f"cannot sort by {sort}", fields={"sort": ["unknown field"]})
    column = getattr(Hazard, name)
    # NULLS LAST only where there can be nulls: an order an index gives must not name it.
    nulls = Hazard.__table__.c[name].nullable
    if sort.startswith("-"):
        return [column.desc().nulls_last() if nulls else column.desc(), Hazard.id.desc()]
    return [column.asc().nulls_last() if nulls else column.asc(), Hazard.id]


# --- lists and export -----------------------------------------------------------------------


def list_hazards(
    principal: Principal,
    filters: HazardFilters,
    *,
    sort: str = "-found_at",
    page: int = 1,
    per_page: int = 50,
    now: datetime | None = None,
) -> Page:
    """One page of the agency's hazards matching ``filters``, with a total."""
    _require_read(principal)
    _check_period(filters)
    agency = agency_of(principal)
    today = local_today(agency, now)
    policy = policy_of(agency)
    count = _apply_filters(
        sa.select(sa.func.count(Hazard.id)).where(Hazard.agency_id == agency.id),
        agency,
        filters,
        today,
    )
    total = db.session.scalar(count) or 0
    # The page's ids first, from the indexes alone; only those rows are then read in full
    # (hazard rows are wide: the lifecycle JSON, descriptions).
    ids = (
        _apply_filters(
            sa.select(Hazard.id).where(Hazard.agency_id == agency.id),
            agency,
            filters,
            today,
        )
        .order_by(*_order(sort))
        .limit(per_page)
        .offset((page - 1) * per_page)
    )
    rows = db.session.execute(
        sa.select(Hazard, Enterprise.name, Enterprise.industry)
        .join(Enterprise, Enterprise.id == Hazard.enterprise_id)
        .where(Hazard.id.in_(ids.scalar_subquery()))
        .order_by(*_order(sort))
    ).all()
    items = [HazardRow(h, name, industry, today, policy) for h, name, industry in rows]
    return Page(items, page, per_page, total)


CSV_COLUMNS = (
    "隐患编号",
    "企业名称",
    "统一社会信用代码",
    "行业",
    "隐患等级",
    "隐患描述",
    "隐患位置",
    "发现时间",
    "状态",
    "整改期限",
    "是否逾期",
    "逾期天数",
    "挂牌督办",
    "销号时间",
)


def _cell(value: Any) -> str:
    # A cell that starts like a formula is run by Excel; quote it so it stays text.
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def export_csv(
    principal: Principal,
    filters: HazardFilters,
    *,
    sort: str = "-found_at",
    now: datetime | None = None,
) -> Generator[str, None, None]:
    """Every matching hazard as CSV with Chinese headers, BOM first so Excel reads UTF-8."""
    permissions.require_role(principal, OVERSEE_HAZARDS, "exporting hazards")
    _check_period(filters)
    agency = agency_of(principal)
    today = local_today(agency, now)
    policy = policy_of(agency)
    zone = ZoneInfo(agency.timezone)
    # Rows come 500 at a time, as they are written out; the default order is the index's.
    stmt = (
        _filtered(agency, filters, today)
        .add_columns(Enterprise.uscc)
        .order_by(*_order(sort))
        .execution_options(yield_per=500)
    )
    database.without_jit(db.session)
    buffer = io.StringIO()
    writer = csv.writer(buffer)

    def flush() -> str:
        text = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        return text

    writer.writerow(CSV_COLUMNS)
    yield "\ufeff" + flush()
    for n, (hazard, name, industry, uscc) in enumerate(db.session.execute(stmt), 1):
        row = HazardRow(hazard, name, industry, today, policy)
        writer.writerow(
            [
                _cell(v)
                for v in (
                    hazard.id,
                    name,
                    uscc,
                    row.industry_label,
                    row.level_label,
                    hazard.description,
                    hazard.location,
                    hazard.found_at.astimezone(zone).strftime("%Y-%m-%d %H:%M"),
                    row.status_label,
                    hazard.deadline.isoformat() if hazard.deadline else "",
                    "是" if row.overdue else "否",
                    row.days_overdue or "",
                    "是" if hazard.supervised else "否",
                    hazard.closed_at.astimezone(zone).strftime("%Y-%m-%d")
                    if hazard.closed_at
                    else "",
                )
            ]
        )
        if n % 500 == 0:
            yield flush()
    yield flush()


# --- aggregates -----------------------------------------------------------------------------


def _period(
    agency: Agency, year: int | None, found_from: date | None, found_to: date | None
) -> tuple[date | None, date | None]:
    if year is not None:
        if found_from or found_to:
            raise ValidationFailed(
                "give a year or a period, not both",
                fields={"year": ["either this"], "found_from": ["or this"]},
            )
        return date(year, 1, 1), date(year, 12, 31)
    return found_from, found_to


def _months(start: date, end: date) -> list[date]:
    """First days of the months from ``start``'s to ``end``'s, at most 24 (the last ones)."""
    months = []
    current = start.replace(day=1)
    while current <= end:
        months.append(current)
        current = lifecycle.add_months(current, 1)
    return months[-24:]


def aggregates(
    principal: Principal,
    *,
    year: int | None = None,
    found_from: date | None = None,
    found_to: date | None = None,
    industry: str | None = None,
    level: str | None = None,
    as_of: date | None = None,
    blocking_limit: int = 100,
    now: datetime | None = None,
) -> dict[str, Any]:
    """Counts of the hazards found in a period (all time by default) and its rectification.

    ``rectification`` says "355 found, 5 major, 100% rectified" for the period and lists the
    hazards that keep the rate from 100% (oldest first, ``blocking_total`` in all). A hazard
    counts as rectified when it was closed by the end of ``as_of``, which defaults to the
    period's last day (today for a period not over yet, or no period): a past year's figure
    stays what it was at the year's end, and ``as_of`` asks for it on another day.

    The whole months of the period are read from the monthly counts (services/hazard_counts.py),
    the days at its edges and what depends on today (overdue, ages, the blocking hazards)
    from the hazards.
    """
    permissions.require_role(principal, OVERSEE_HAZARDS, "hazard statistics")
    agency = agency_of(principal)
    today = local_today(agency, now)
    start, end = _period(agency, year, found_from, found_to)
    filters = HazardFilters(industry=industry, level=level, found_from=start, found_to=end)
    _check_period(filters)
    as_of = as_of or rectified_as_of(end, today)
    as_of_end = local_midnight(agency, as_of + timedelta(1))
    closed_by = sa.and_(Hazard.status == lifecycle.CLOSED, Hazard.closed_at < as_of_end)

    def scoped_by(f: HazardFilters) -> hazard_counts.Scoped:
        def scoped(*columns: Any) -> AnySelect:
            stmt = sa.select(*columns).select_from(Hazard).where(Hazard.agency_id == agency.id)
            return _apply_filters(stmt, agency, f, today)

        return scoped

    scoped = scoped_by(filters)
    cover = hazard_counts.coverage(start, end)
    edges = [replace(filters, found_from=a, found_to=b) for a, b in cover.edges]

    states = hazard_counts.monthly_counts(agency.id, cover, industry=industry, level=level)
    for edge in edges:
        states += hazard_counts.live_counts(scoped_by(edge))
    by_status: dict[str, int] = {s: 0 for s in lifecycle.STATUSES}
    by_level: dict[str, int] = {lvl: 0 for lvl in lifecycle.LEVELS}
    industries: dict[str, dict[str, int]] = {}
    total = major = closed_now = supervised_open = 0
    for status, lvl, ind, supervised, n in states:
        by_status[status] = by_status.get(status, 0) + n
        by_level[lvl] = by_level.get(lvl, 0) + n
        entry = industries.setdefault(ind, {"total": 0, "open": 0, "overdue": 0})
        entry["total"] += n
        total += n
        if lvl == lifecycle.MAJOR:
            major += n
        if status == lifecycle.CLOSED:
            closed_now += n
        else:
            entry["open"] += n
            supervised_open += n if supervised else 0

    # What depends on today, or on as_of, from the few hazards it concerns (index ranges).
    overdue_n = 0
    for ind, n in db.session.execute(
        scoped(Hazard.industry, sa.func.count())
        .where(Hazard.status == OVERDUE_STATUS, Hazard.deadline < today)
        .group_by(Hazard.industry)
    ):
        industries.setdefault(ind, {"total": 0, "open": 0, "overdue": 0})["overdue"] += n
        overdue_n += n
    # Closed now but not by the end of as_of: none when as_of is today.
    closed_later = sum(
        db.session.scalar(scoped(sa.func.count()).where(Hazard.status == lifecycle.CLOSED, when))
        or 0
        for when in (Hazard.closed_at >= as_of_end, Hazard.closed_at.is_(None))
    )
    closed = closed_now - closed_later

    # Age of what is still open, bucketed on local dates as the domain does.
    cuts = [(7, "0-7"), (30, "8-30"), (90, "31-90"), (365, "91-365")]
    bucket = sa.case(
        *[
            (Hazard.found_at >= local_midnight(agency, today - timedelta(days)), label)
            for days, label in cuts
        ],
        else_=">365",
    )
    ages: dict[str, int] = dict(
        db.session.execute(
            scoped(bucket, sa.func.count()).where(Hazard.status.in_(OPEN_LIST)).group_by(bucket)
        ).all()
    )

    users, units = hazard_counts.monthly_finders(agency.id, cover, industry=industry, level=level)
    for edge in edges:
        more_users, more_units = hazard_counts.live_finders(scoped_by(edge))
        users, units = users + more_users, units + more_units
    by_inspector, by_team = _by_people(users, units)

    blocking_rows = (
        db.session.execute(
            _filtered(agency, filters, today)
            .where(sa.not_(closed_by))
            .order_by(Hazard.found_at, Hazard.id)
            .limit(blocking_limit)
        ).all()
        if blocking_limit > 0
        else []
    )
    policy = policy_of(agency)
    rate = rectification_rate(closed, total)
    label = f"{start.year}年" if year is not None and start else "统计期内"
    if as_of != rectified_as_of(end, today):
        label = f"{label}（截至{as_of.year}年{as_of.month}月{as_of.day}日）"
    summary = (
        f"{label}共排查发现隐患{total}处，其中重大事故隐患{major}处，"
        f"已整改{closed}处，整改率{format_percent(rate)}"
    )
    return {
        "as_of": today,
        "found_from": start,
        "found_to": end,
        "total": total,
        "by_status": by_status,
        "by_level": by_level,
        "by_industry": [
            {"industry": k, "label": INDUSTRIES.get(k, k), **v}
            for k, v in sorted(industries.items(), key=lambda kv: (-kv[1]["total"], kv[0]))
        ],
        "by_inspector": by_inspector,
        "by_team": by_team,
        "age_buckets": {b: ages.get(b, 0) for b in lifecycle.AGE_BUCKETS},
        "overdue": overdue_n,
        "supervised_open": supervised_open,
        "rectification": {
            "as_of": as_of,
            "found": total,
            "major": major,
            "closed": closed,
            "open": total - closed,
            "rate": rate,
            "rate_display": format_percent(rate),
            "summary": summary,
            "blocking_total": total - closed,
            "blocking": [HazardRow(h, n, i, today, policy) for h, n, i in blocking_rows],
        },
    }


def _by_people(
    users: list[hazard_counts.FinderCount], units: list[hazard_counts.FinderCount]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Hazards per member of the finding team, and per unit (科室/大队) of its members.

    A member counts each hazard their inspection found; a unit counts it once however many of
    its members were on the team, and a joint team of two units counts for both, so the units'
    totals may add up to more than the hazards found.
    """

    def summed(rows: list[hazard_counts.FinderCount]) -> dict[Any, list[int]]:
        out: dict[Any, list[int]] = {}
        for r in rows:
            entry = out.setdefault(r.key, [0, 0])
            entry[0] += int(r.n or 0)
            entry[1] += int(r.n_open or 0)
        return {k: v for k, v in out.items() if v[0] > 0}

    per_user, per_unit = summed(users), summed(units)
    people = (
        {u.id: u for u in db.session.scalars(sa.select(User).where(User.id.in_(list(per_user))))}
        if per_user
        else {}
    )
    ranked = sorted(
        (u for u in per_user if u in people), key=lambda u: (-per_user[u][0], people[u].username)
    )
    by_inspector = [
        {
            "user_id": u,
            "name": people[u].display_name,
            "total": per_user[u][0],
            "open": per_user[u][1],
        }
        for u in ranked
    ]
    by_team = [
        {"unit": unit or "", "label": unit or NO_UNIT_LABEL, "total": n, "open": n_open}
        for unit, (n, n_open) in sorted(
            per_unit.items(), key=lambda item: (-item[1][0], item[0] or "")
        )
    ]
    return by_inspector, by_team


def open_vs_closed(
    principal: Principal, *, months: int = 12, now: datetime | None = None
) -> list[dict[str, Any]]:
    """Per month: hazards found, hazards closed, and how many stood open at the month's end."""
    permissions.require_role(principal, OVERSEE_HAZARDS, "hazard statistics")
    agency = agency_of(principal)
    today = local_today(agency, now)
    first = lifecycle.add_months(today.replace(day=1), -(months - 1))
    starts = _months(first, today)
    edges = [local_midnight(agency, m) for m in starts] + [
        local_midnight(agency, lifecycle.add_months(starts[-1], 1))
    ]
    since = edges[0]

    found_in = hazard_counts.monthly_found(agency.id, starts[0], starts[-1])
    found = [found_in.get(m, 0) for m in starts]
    # Closures since the first month, per month, and how many of them were found before it:
    # one range of the (agency, closed_at, found_at) index.
    month = sa.case(*[(Hazard.closed_at < edge, i) for i, edge in enumerate(edges[1:])])
    closed_in: dict[int | None, int] = {}
    closed_since = 0
    for i, n, found_before in db.session.execute(
        sa.select(
            month, sa.func.count(), sa.func.sum(sa.case((Hazard.found_at < since, 1), else_=0))
        )
        .where(Hazard.agency_id == agency.id, Hazard.closed_at >= since)
        .group_by(month)
    ):
        closed_in[i] = n
        closed_since += found_before or 0
    closed = [closed_in.get(i, 0) for i in range(len(starts))]
    # Open when the first month began: found before it and not closed before it (still open,
    # or closed since).
    still_open = (
        db.session.scalar(
            sa.select(sa.func.count()).where(
                Hazard.agency_id == agency.id,
                Hazard.found_at < since,
                Hazard.status.in_(OPEN_LIST),
            )
        )
        or 0
    )
    series = []
    standing = still_open + closed_since
    for m, f, c in zip(starts, found, closed, strict=True):
        standing += f - c
        series.append({"month": m.strftime("%Y-%m"), "found": f, "closed": c, "open": standing})
    return series


# --- one hazard -----------------------------------------------------------------------------


def get_hazard(principal: Principal, hazard_id: uuid.UUID) -> Hazard:
    """One hazard of the caller's agency (another agency's is simply not found)."""
    _require_read(principal)
    hazard = db.session.scalar(
        sa.select(Hazard).where(Hazard.id == hazard_id, Hazard.agency_id == principal.agency_id)
    )
    if hazard is None:
        raise NotFound("no such hazard")
    return hazard


def _event_from_audit(entry: AuditEntry, hazard: Hazard) -> dict[str, Any]:
    changes = entry.changes or {}
    event = (changes.get("event") or [None, None])[1]
    if entry.action == "create":
        return {
            "action": lifecycle.FIND,
            "at": hazard.found_at,
            "from_status": None,
            "to_status": lifecycle.FOUND,
            "evidence": list(hazard.photo_attachments or []),
            "documents": [],
            "note": None,
            "details": {"level": (changes.get("level") or [None, hazard.level])[1]},
        }
    if event:
        return {
            "action": event["action"],
            "at": datetime.fromisoformat(event["at"]),
            "from_status": event.get("from_status"),
            "to_status": event.get("to_status"),
            "evidence": list(event.get("evidence") or []),
            "documents": list(event.get("documents") or []),
            "note": event.get("note"),
            "details": dict(event.get("details") or {}),
        }
    return {
        "action": entry.action,
        "at": entry.at,
        "from_status": None,
        "to_status": None,
        "evidence": [],
        "documents": [],
        "note": None,
        "details": {"changes": changes},
    }


def hazard_detail(
    principal: Principal, hazard_id: uuid.UUID, *, now: datetime | None = None
) -> dict[str, Any]:
    """The hazard, where it stands, what the caller may do next and every step so far."""
    hazard = get_hazard(principal, hazard_id)
    agency = agency_of(principal)
    today = local_today(agency, now)
    policy = policy_of(agency)
    state = hazard_state.state_from_json(hazard.lifecycle)
    enterprise = db.session.get(Enterprise, hazard.enterprise_id)
    entries = db.session.scalars(
        sa.select(AuditEntry)
        .where(
            AuditEntry.agency_id == agency.id,
            AuditEntry.entity == "hazard",
            AuditEntry.record_id == hazard.id,
        )
        .order_by(AuditEntry.id)
    ).all()
    events = [(entry, _event_from_audit(entry, hazard)) for entry in entries]
    user_ids = {e.user_id for e, _ in events if e.user_id}
    device_ids = {e.device_id for e, _ in events if e.device_id}
    doc_ids = set()
    for _, ev in events:
        for d in ev["documents"]:
            try:
                doc_ids.add(uuid.UUID(str(d)))
            except ValueError:
                continue
    users = (
        {u.id: u for u in db.session.scalars(sa.select(User).where(User.id.in_(user_ids)))}
        if user_ids
        else {}
    )
    devices = (
        {d.id: d for d in db.session.scalars(sa.select(Device).where(Device.id.in_(device_ids)))}
        if device_ids
        else {}
    )
    docs = (
        {
            str(d.id): d
            for d in db.session.scalars(
                sa.select(Document).where(Document.id.in_(doc_ids), Document.agency_id == agency.id)
            )
        }
        if doc_ids
        else {}
    )
    history = []
    for entry, ev in events:
        user = users.get(entry.user_id) if entry.user_id else None
        device = devices.get(entry.device_id) if entry.device_id else None
        history.append(
            {
                **ev,
                "label": ACTION_LABELS.get(ev["action"], ev["action"]),
                "recorded_at": entry.at,
                "version": entry.version,
                "by": {
                    "id": entry.user_id,
                    "name": user.display_name if user else None,
                    "role": user.role if user else None,
                },
                "device": {"id": device.id, "name": device.name} if device else None,
                "op_id": entry.op_id,
                "documents": [
                    {
                        "id": d,
                        "number": docs[d].number if d in docs else None,
                        "type": docs[d].type if d in docs else None,
                    }
                    for d in ev["documents"]
                ],
            }
        )
    reports = db.session.scalars(
        sa.select(Rectification)
        .where(Rectification.hazard_id == hazard.id, Rectification.agency_id == agency.id)
        .order_by(Rectification.reported_at)
    ).all()
    escalations = db.session.scalars(
        sa.select(HazardEscalation)
        .where(HazardEscalation.hazard_id == hazard.id)
        .order_by(HazardEscalation.raised_on, HazardEscalation.level)
    ).all()
    assessment = lifecycle.assess(state, today, policy, working_calendar(agency))
    return {
        "hazard": hazard,
        "enterprise": enterprise,
        "state": state,
        "lifecycle": hazard.lifecycle,
        "status_label": STATUS_LABELS.get(hazard.status, hazard.status),
        "level_label": lifecycle.LEVEL_LABELS.get(hazard.level, hazard.level),
        "assessment": assessment,
        "allowed_actions": lifecycle.allowed_actions(state, principal.role),
        "history": history,
        "rectifications": reports,
        "escalations": escalations,
        "photos": _photos(hazard, history, reports),
    }


def _photos(hazard: Hazard, history: list[dict[str, Any]], reports: Sequence[Any]) -> list[str]:
    seen: dict[str, None] = dict.fromkeys(hazard.photo_attachments or [])
    for ev in history:
        seen.update(dict.fromkeys(ev["evidence"]))
    for report in reports:
        seen.update(dict.fromkeys(report.evidence_attachments or []))
    return list(seen)


def inspectors(principal: Principal) -> list[User]:
    """The agency's enforcement officers, for a filter by inspector (who finds hazards)."""
    _require_read(principal)
    return list(
        db.session.scalars(
            sa.select(User)
            .where(
                User.agency_id == principal.agency_id,
                User.role.in_(sorted(lifecycle.FIND_ROLES)),
            )
            .order_by(User.unit, User.full_name, User.username)
        )
    )


def later_evidence(principal: Principal, hazard_ids: list[uuid.UUID]) -> dict[uuid.UUID, list[str]]:
    """Photos of what was done about each hazard after it was found, oldest first.

    The enterprise's rectification reports and the evidence of every later step (fixed on the
    spot, re-inspected); the finding photos are left out, a page shows them beside these.
    """
    _require_read(principal)
    if not hazard_ids:
        return {}
    found: dict[uuid.UUID, dict[str, None]] = {h: {} for h in hazard_ids}
    for hazard_id, changes in db.session.execute(
        sa.select(AuditEntry.record_id, AuditEntry.changes)
        .where(
            AuditEntry.agency_id == principal.agency_id,
            AuditEntry.entity == "hazard",
            AuditEntry.record_id.in_(hazard_ids),
            AuditEntry.action != "create",
        )
        .order_by(AuditEntry.id)
    ):
        event = ((changes or {}).get("event") or [None, None])[1] or {}
        found[hazard_id].update(dict.fromkeys(event.get("evidence") or []))
    for hazard_id, shas in db.session.execute(
        sa.select(Rectification.hazard_id, Rectification.evidence_attachments)
        .where(
            Rectification.agency_id == principal.agency_id,
            Rectification.hazard_id.in_(hazard_ids),
        )
        .order_by(Rectification.reported_at)
    ):
        found[hazard_id].update(dict.fromkeys(shas or []))
    return {h: list(shas) for h, shas in found.items()}


# --- a step from the office ------------------------------------------------------------------


# The document an office step may cite, by action and field. Other citations (a supervision
# notice, a review for lifting a stop) are papers of types not modelled here: they need only be
# a document of the hazard's enterprise.
_CITED_TYPES = {
    (lifecycle.ORDER, "document_id"): "rectification_order",
    (lifecycle.REINSPECT, "opinion_document_id"): "reinspection_opinion",
    (lifecycle.STOP_PRODUCTION, "document_id"): "onsite_measures",
}
# The steps whose document the office issues itself when none is cited.
_ISSUED_BY_OFFICE = {
    lifecycle.ORDER: ("document_id", "rectification_order"),
    lifecycle.REINSPECT: ("opinion_document_id", "reinspection_opinion"),
}


def _cited_documents(hazard: Hazard) -> set[str]:
    """Ids of the documents already recorded in this hazard's history."""
    cited: set[str] = set()
    for changes in db.session.scalars(
        sa.select(AuditEntry.changes).where(
            AuditEntry.agency_id == hazard.agency_id,
            AuditEntry.entity == "hazard",
            AuditEntry.record_id == hazard.id,
        )
    ):
        event = ((changes or {}).get("event") or [None, None])[1] or {}
        cited.update(str(d) for d in event.get("documents") or [])
    return cited


def _check_documents(hazard: Hazard, action: str, payload: dict[str, Any]) -> None:
    """A cited document is of the hazard's enterprise, of the step's type, names the hazard
    and was not used for a step of this hazard before (one paper, one step)."""
    cited: set[str] | None = None
    for name in ("document_id", "opinion_document_id"):
        value = payload.get(name)
        if value is None:
            continue

        def refuse(why: str, code: str = "unknown_document", field: str = name) -> NoReturn:
            raise ValidationFailed(f"{field}: {why}", code=code, fields={field: [why]})

        try:
            doc_id = uuid.UUID(str(value))
        except ValueError:
            refuse("names no document")
        document = db.session.scalar(
            sa.select(Document).where(Document.id == doc_id, Document.agency_id == hazard.agency_id)
        )
        if document is None:
            refuse("not a document of your agency")
        if document.enterprise_id != hazard.enterprise_id:
            refuse("a document of another enterprise", "document_mismatch")
        wanted = _CITED_TYPES.get((action, name))
        if wanted is not None:
            if document.type != wanted:
                label = numbering.DOCUMENT_TYPES[wanted].title
                refuse(f"must be a {wanted} ({label})", "wrong_document_type")
            if str(hazard.id) not in (document.hazard_ids or []):
                refuse("does not name this hazard", "document_mismatch")
            cited = _cited_documents(hazard) if cited is None else cited
            if str(doc_id) in cited:
                refuse(
                    "already recorded for this hazard; an order or opinion issued on a device "
                    "takes its step when it is synced",
                    "document_already_used",
                )
        payload[name] = str(doc_id)


def _next_serial(agency_id: uuid.UUID, doc_type: str, year: int) -> int:
    """The next serial of ``doc_type``, from the row-locked counter the device documents use."""
    from server.services.sync.cache import BatchCache

    counters = BatchCache(agency_id)
    serial = counters.next_serial(doc_type, year)
    counters.write_counters()
    return serial


def _issue_document(
    ctx: Any,
    agency: Agency,
    hazard: Hazard,
    document_id: uuid.UUID,
    doc_type: str,
    body: dict[str, Any],
) -> Document:
    """A numbered document the office issues for one hazard (an order or an opinion)."""
    from server.services.sync.records import create

    year = local_today(agency, ctx.now).year
    numbering.format_number(agency.abbr, doc_type, year, 1)  # refuses a bad abbreviation
    serial = _next_serial(agency.id, doc_type, year)
    values = {
        "type": doc_type,
        "inspection_id": hazard.inspection_id,
        "enterprise_id": hazard.enterprise_id,
        "hazard_ids": [str(hazard.id)],
        "issued_at": ctx.now,
        "provisional_number": "",
        "body": body,
    }
    document = Document(
        id=document_id,
        year=year,
        serial=serial,
        number=numbering.format_number(agency.abbr, doc_type, year, serial),
        **values,
    )
    create(ctx, "document", document, values)
    return document


def _document_body(
    action: str, payload: dict[str, Any], state: lifecycle.HazardState, policy: Any
) -> dict[str, Any]:
    body: dict[str, Any] = {"content": payload.get("note") or ""}
    if action == lifecycle.REINSPECT:
        body["outcome"] = payload["outcome"]
        if payload["outcome"] != "fail":
            return body
    assert state.deadline is not None
    body["deadline"] = state.deadline.isoformat()
    if payload.get("period_days") is not None:
        body["period_days"] = payload["period_days"]
        body["deadline_unit"] = policy.deadline_unit
    return body


def take_step(
    principal: Principal,
    hazard_id: uuid.UUID,
    action: str,
    payload: dict[str, Any],
    *,
    now: datetime | None = None,
) -> Hazard:
    """Apply one lifecycle step sent from the office; recorded like a device's step."""
    from server.services.sync import handlers
    from server.services.sync.outcomes import OpContext
    from server.services.sync.records import create

    _require_read(principal)
    now = now or utcnow()
    stmt = sa.select(Hazard).where(Hazard.id == hazard_id, Hazard.agency_id == principal.agency_id)
    if db.session.get_bind().dialect.name == "postgresql":
        # Two offices acting on one hazard at once: the second sees the first's result.
        stmt = stmt.with_for_update()
    hazard = db.session.scalar(stmt)
    if hazard is None:
        raise NotFound("no such hazard")
    agency = agency_of(principal)
    payload = {k: v for k, v in payload.items() if v is not None}
    _check_documents(hazard, action, payload)
    issued: tuple[uuid.UUID, str] | None = None
    if action in _ISSUED_BY_OFFICE:
        name, doc_type = _ISSUED_BY_OFFICE[action]
        if name not in payload:
            # An order or re-inspection from the office is on paper too: the server issues
            # its numbered document, after the step's checks, so a refusal leaves no gap.
            issued = (uuid.uuid4(), doc_type)
            payload[name] = str(issued[0])
    evidence = payload.get("evidence_attachments") or []
    missing = attachments.missing_attachments(agency.id, evidence)
    if missing:
        raise ValidationFailed(
            "upload these attachments first: " + ", ".join(missing),
            code="attachment_missing",
            fields={"evidence_attachments": ["not uploaded"]},
            details={"missing": missing},
        )
    ctx = OpContext.for_agency(
        principal,
        agency,
        op_id=None,
        now=now,
    )
    planned = handlers.plan_step(ctx, hazard, action, payload, at=now)
    if issued is not None:
        body = _document_body(action, payload, planned[0], policy_of(agency))
        _issue_document(ctx, agency, hazard, issued[0], issued[1], body)
    handlers.commit_step(ctx, hazard, action, planned)
    if action == lifecycle.REPORT_DONE:
        # The enterprise's report, taken down at the office, is a record like a device's.
        values = {
            "hazard_id": hazard.id,
            "reported_at": planned[0].reported_at,
            "description": payload.get("description") or "",
            "evidence_attachments": list(evidence),
        }
        report = Rectification(id=uuid.uuid4(), enterprise_id=hazard.enterprise_id, **values)
        create(ctx, "rectification", report, values)
    db.session.commit()
    return hazard
