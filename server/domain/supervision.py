"""The supervisor's alerts on entries into enterprises: what is flagged, and on which entries."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo

HIGH_FREQUENCY = "high_frequency"
MULTI_DEPARTMENT = "multi_department"
NO_SCAN = "no_scan"
LATE_SCAN = "late_scan"
LOW_RATING = "low_rating"
OVERDUE_COMPLAINT = "overdue_complaint"
ALERT_KINDS = (HIGH_FREQUENCY, MULTI_DEPARTMENT, NO_SCAN, LATE_SCAN, LOW_RATING, OVERDUE_COMPLAINT)
ALERT_LABELS = {
    HIGH_FREQUENCY: "高频入企",
    MULTI_DEPARTMENT: "多头检查",
    NO_SCAN: "未扫码",
    LATE_SCAN: "离企前补扫",
    LOW_RATING: "企业差评",
    OVERDUE_COMPLAINT: "投诉逾期未答复",
}
# A scan this long after the inspection began is a late scan (a few minutes at the gate are
# not).
LATE_SCAN_GRACE = timedelta(minutes=10)


@dataclass(frozen=True)
class Entry:
    """One registered entry (an inspection) as the supervisor judges it."""

    inspection_id: str
    agency_id: str
    agency_name: str
    uscc: str
    enterprise_name: str
    started_at: datetime
    scanned_at: datetime | None
    # The yearly cap of this enterprise in this agency's policy (None: none applies).
    cap: int | None


@dataclass(frozen=True)
class Alert:
    kind: str
    agency_id: str
    agency_name: str
    uscc: str
    enterprise_name: str
    at: datetime
    detail: str
    inspection_ids: tuple[str, ...]

    @property
    def label(self) -> str:
        return ALERT_LABELS[self.kind]


def _alert(kind: str, entry: Entry, detail: str, ids: Iterable[str]) -> Alert:
    return Alert(
        kind,
        entry.agency_id,
        entry.agency_name,
        entry.uscc,
        entry.enterprise_name,
        entry.started_at,
        detail,
        tuple(ids),
    )


def scan_alerts(entries: Iterable[Entry]) -> list[Alert]:
    """No scan at all (未扫码), or a scan after the visit began (离企前补扫: allowed in an
    emergency, still flagged)."""
    alerts = []
    for e in entries:
        if e.scanned_at is None:
            alerts.append(_alert(NO_SCAN, e, "检查记录没有扫码入企", [e.inspection_id]))
        elif e.scanned_at - e.started_at > LATE_SCAN_GRACE:
            minutes = int((e.scanned_at - e.started_at) / timedelta(minutes=1))
            alerts.append(
                _alert(LATE_SCAN, e, f"检查开始 {minutes} 分钟后才扫码", [e.inspection_id])
            )
    return alerts


def high_frequency_alerts(entries: Iterable[Entry], zone: tzinfo) -> list[Alert]:
    """An agency's entries into one enterprise in a calendar year beyond its yearly cap (by
    grade, from the plan or the agency's settings): flagged on the entry that passes it."""
    by_key: dict[tuple[str, str, int], list[Entry]] = defaultdict(list)
    for e in entries:
        by_key[(e.agency_id, e.uscc, e.started_at.astimezone(zone).year)].append(e)
    alerts = []
    for group in by_key.values():
        group.sort(key=lambda e: e.started_at)
        cap = group[-1].cap
        if cap is None or len(group) <= cap:
            continue
        for n, e in enumerate(group[cap:], start=cap + 1):
            detail = f"本年度第 {n} 次入企，年度上限 {cap} 次"
            alerts.append(_alert(HIGH_FREQUENCY, e, detail, [x.inspection_id for x in group[:n]]))
    return alerts


def multi_department_alerts(entries: Iterable[Entry], window: timedelta) -> list[Alert]:
    """An enterprise entered by two or more agencies within ``window`` (多头检查): flagged on
    each entry that brings another agency into the window, with the entries behind it."""
    by_uscc: dict[str, list[Entry]] = defaultdict(list)
    for e in entries:
        by_uscc[e.uscc].append(e)
    alerts = []
    for group in by_uscc.values():
        group.sort(key=lambda e: e.started_at)
        for i, e in enumerate(group):
            earlier = [x for x in group[:i] if e.started_at - x.started_at <= window]
            others = {x.agency_id for x in earlier} - {e.agency_id}
            if not others:
                continue
            names = sorted({x.agency_name for x in earlier if x.agency_id in others})
            detail = f"{window.days} 日内已有{'、'.join(names)}入企检查"
            ids = [x.inspection_id for x in earlier] + [e.inspection_id]
            alerts.append(_alert(MULTI_DEPARTMENT, e, detail, ids))
    return alerts


def in_month(moment: datetime, month: date, zone: tzinfo) -> bool:
    local = moment.astimezone(zone)
    return (local.year, local.month) == (month.year, month.month)


def newest_first(alerts: list[Alert]) -> list[Alert]:
    return sorted(alerts, key=lambda a: (a.at, a.kind), reverse=True)
