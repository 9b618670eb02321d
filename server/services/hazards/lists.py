"""The manager's hazard list and its CSV export."""

from __future__ import annotations

import csv
import io
from collections.abc import Generator
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from server import database
from server.domain import permissions
from server.domain.permissions import Principal
from server.extensions import db
from server.models import (
    Enterprise,
    Hazard,
)
from server.services.hazards.common import (
    OVERSEE_HAZARDS,
    HazardFilters,
    HazardRow,
    agency_of,
    apply_filters,
    check_period,
    filtered,
    local_today,
    policy_of,
    require_read,
    sort_order,
)
from server.services.paging import Page, sliced


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
    require_read(principal)
    check_period(filters)
    agency = agency_of(principal)
    today = local_today(agency, now)
    policy = policy_of(agency)
    count = apply_filters(
        sa.select(sa.func.count(Hazard.id)).where(Hazard.agency_id == agency.id),
        agency,
        filters,
        today,
    )
    total = db.session.scalar(count) or 0
    # The page's ids first, from the indexes alone; only those rows are then read in full
    # (hazard rows are wide: the lifecycle JSON, descriptions).
    ids = (
        apply_filters(
            sa.select(Hazard.id).where(Hazard.agency_id == agency.id),
            agency,
            filters,
            today,
        )
    )
    ids = sliced(ids.order_by(*sort_order(sort)), page, per_page)
    rows = db.session.execute(
        sa.select(Hazard, Enterprise.name, Enterprise.industry)
        .join(Enterprise, Enterprise.id == Hazard.enterprise_id)
        .where(Hazard.id.in_(ids.scalar_subquery()))
        .order_by(*sort_order(sort))
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
    check_period(filters)
    agency = agency_of(principal)
    today = local_today(agency, now)
    policy = policy_of(agency)
    zone = ZoneInfo(agency.timezone)
    # Rows come 500 at a time, as they are written out; the default order is the index's.
    stmt = (
        filtered(agency, filters, today)
        .add_columns(Enterprise.uscc)
        .order_by(*sort_order(sort))
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
