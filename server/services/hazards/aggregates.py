"""Counts of hazards by month, level, industry, unit and people, and open against closed."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timedelta
from typing import Any

import sqlalchemy as sa

from server.domain import hazards as lifecycle
from server.domain import permissions
from server.domain.dates import chinese_date
from server.domain.enterprises import INDUSTRIES
from server.domain.errors import ValidationFailed
from server.domain.permissions import Principal
from server.domain.reporting import format_percent, rectification_rate
from server.domain.reporting_years import rectified_as_of
from server.extensions import db
from server.models import (
    Agency,
    Hazard,
    User,
)
from server.services import hazard_counts
from server.services.hazards.common import (
    NO_UNIT_LABEL,
    OPEN_LIST,
    OVERDUE_STATUS,
    OVERSEE_HAZARDS,
    HazardFilters,
    HazardRow,
    agency_of,
    apply_filters,
    check_period,
    filtered,
    local_midnight,
    local_today,
    policy_of,
)


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
    check_period(filters)
    as_of = as_of or rectified_as_of(end, today)
    as_of_end = local_midnight(agency, as_of + timedelta(1))
    closed_by = sa.and_(Hazard.status == lifecycle.CLOSED, Hazard.closed_at < as_of_end)

    def scoped_by(f: HazardFilters) -> hazard_counts.Scoped:
        def scoped(*columns: Any) -> sa.Select[Any]:
            stmt = sa.select(*columns).select_from(Hazard).where(Hazard.agency_id == agency.id)
            return apply_filters(stmt, agency, f, today)

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
            filtered(agency, filters, today)
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
        label = f"{label}（截至{chinese_date(as_of)}）"
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
