"""The monthly supervision report of one agency: entries, alerts, ratings, complaints."""

from __future__ import annotations

import csv
import io
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, time

from openpyxl import Workbook

from server.domain import parties, supervision
from server.models import Agency
from server.services import supervision as service
from server.services.lookup import get_or_not_found


@dataclass
class MonthlyReport:
    agency: Agency
    month: date
    figures: list[tuple[str, str]] = field(default_factory=list)
    alerts: list[supervision.Alert] = field(default_factory=list)


def monthly(agency_id: uuid.UUID, month: date, now: datetime) -> MonthlyReport:
    """Every figure from the records of that agency and that month (local time)."""
    agency = get_or_not_found(Agency, agency_id, "没有这个执法机关")
    zone = service.ZONE

    def within(moment: datetime) -> bool:
        return supervision.in_month(moment, month, zone)

    start = datetime.combine(month, time(0), zone)
    end = datetime.combine(
        date(month.year + month.month // 12, month.month % 12 + 1, 1), time(0), zone
    )
    entries = service.entries(agency_id=agency_id, since=start, until=end)
    since = service.alerts_since(date(month.year, 1, 1))
    alerts = [
        a
        for a in service.alerts(now, since=since)
        if a.agency_id == str(agency_id) and within(a.at)
    ]
    ratings = [
        r.evaluation.rating
        for r in service.evaluations(agency_id)
        if within(r.evaluation.created_at)
    ]
    complaints = [
        r
        for r in service.complaints()
        if r.agency.id == agency_id and within(r.complaint.created_at)
    ]
    today = now.astimezone(zone).date()
    scanned = sum(1 for r in entries if r.scanned_at is not None)
    average = f"{sum(ratings) / len(ratings):.2f}" if ratings else "—"
    report = MonthlyReport(agency=agency, month=month, alerts=alerts)
    report.figures = [
        ("入企检查（次）", str(len(entries))),
        ("扫码入企（次）", str(scanned)),
        ("涉及企业（家）", str(len({r.enterprise.uscc for r in entries}))),
        *[
            (f"预警：{supervision.ALERT_LABELS[k]}", str(sum(1 for a in alerts if a.kind == k)))
            for k in supervision.ALERT_KINDS
        ],
        ("企业评价（条）", str(len(ratings))),
        ("平均评分", average),
        (
            f"差评（{parties.LOW_RATING} 星及以下）",
            str(sum(1 for r in ratings if r <= parties.LOW_RATING)),
        ),
        ("收到投诉（件）", str(len(complaints))),
        (
            "已答复或办结（件）",
            str(sum(1 for c in complaints if c.complaint.status != parties.COMPLAINT_OPEN)),
        ),
        ("逾期未答复（件）", str(sum(1 for c in complaints if c.overdue(today)))),
    ]
    return report


_ALERT_HEADER = ["类型", "企业", "统一社会信用代码", "时间", "说明", "涉及检查记录"]


def _alert_row(a: supervision.Alert) -> list[str]:
    return [
        a.label,
        a.enterprise_name,
        a.uscc,
        a.at.astimezone(service.ZONE).strftime("%Y-%m-%d %H:%M"),
        a.detail,
        " ".join(a.inspection_ids),
    ]


def _title(report: MonthlyReport) -> str:
    return f"{report.agency.name} {report.month:%Y年%m月} 行政执法监督月报"


def to_csv(report: MonthlyReport) -> str:
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out)
    writer.writerow([_title(report)])
    writer.writerow(["项目", "数值"])
    writer.writerows(report.figures)
    writer.writerow([])
    writer.writerow(_ALERT_HEADER)
    writer.writerows(_alert_row(a) for a in report.alerts)
    return out.getvalue()


def to_xlsx(report: MonthlyReport) -> bytes:
    book = Workbook()
    sheet = book.worksheets[0]  # a new workbook's one sheet, the active one
    sheet.title = "月报"
    sheet.append([_title(report)])
    sheet.append(["项目", "数值"])
    for label, value in report.figures:
        sheet.append([label, value])
    alerts = book.create_sheet("预警明细")
    alerts.append(_ALERT_HEADER)
    for a in report.alerts:
        alerts.append(_alert_row(a))
    sheet.column_dimensions["A"].width = 28
    for column, width in zip("ABCDEF", (14, 30, 22, 18, 40, 40), strict=True):
        alerts.column_dimensions[column].width = width
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
