"""The supervisor's side (监督端): accounts, every agency's entries read-only, evaluations,
complaints and their answers, alerts and the monthly report; and the little the inspecting
agency may see of what enterprises said (aggregates, complaints to reply to)."""

from __future__ import annotations

import csv
import io
import uuid
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from server.domain import parties, supervision
from server.domain.errors import Conflict, Forbidden, NotFound, Unauthorized, ValidationFailed
from server.domain.permissions import RECORD_COMPLAINTS, Principal, require_role
from server.domain.visits import VisitPolicy
from server.extensions import db
from server.models import (
    Agency,
    Attachment,
    ComplaintMessage,
    Enterprise,
    Inspection,
    Scan,
    Supervisor,
    VisitComplaint,
    VisitEvaluation,
)
from server.models.types import utcnow
from server.services.lookup import scalar_or_not_found
from server.services.passwords import burn_time, hash_password, verify_password
from server.services.visit_policy import visit_policy_for

ZONE = ZoneInfo("Asia/Shanghai")


# --- accounts ----------------------------------------------------------------------------------


def create_supervisor(
    username: str, password: str, full_name: str = "", office: str = ""
) -> Supervisor:
    """A supervisor of the whole deployment."""
    username = username.strip()
    if not username:
        raise ValidationFailed("username is required", fields={"username": ["required"]})
    if len(password) < parties.MIN_PASSWORD_LENGTH:
        raise ValidationFailed("password too short", fields={"password": ["at least 8 characters"]})
    if db.session.scalar(sa.select(Supervisor.id).where(Supervisor.username == username)):
        raise Conflict(f"supervisor {username} exists already", code="duplicate_username")
    supervisor = Supervisor(
        username=username,
        password_hash=hash_password(password),
        full_name=full_name.strip(),
        office=office.strip(),
        failed_attempts=0,
    )
    db.session.add(supervisor)
    db.session.commit()
    return supervisor


def sign_in(username: str, password: str, now: datetime | None = None) -> Supervisor:
    """Check the password; five failures in a row lock the account for a while."""
    now = now or utcnow()
    supervisor = db.session.scalar(sa.select(Supervisor).where(Supervisor.username == username))
    if supervisor is None or not supervisor.active:
        burn_time(password)
        raise Unauthorized("用户名或密码错误", code="invalid_credentials")
    if parties.is_locked(supervisor.locked_until, now):
        raise Forbidden("尝试次数过多，请 15 分钟后再试", code="account_locked")
    if not verify_password(supervisor.password_hash, password):
        lock = parties.after_failure(supervisor.failed_attempts, now)
        supervisor.failed_attempts = lock.failed
        supervisor.locked_until = lock.locked_until
        db.session.commit()
        raise Unauthorized("用户名或密码错误", code="invalid_credentials")
    supervisor.failed_attempts = 0
    db.session.commit()
    return supervisor


def supervisor_for_session(supervisor_id: str) -> Supervisor:
    try:
        supervisor = db.session.get(Supervisor, uuid.UUID(supervisor_id))
    except ValueError:
        supervisor = None
    if supervisor is None or not supervisor.active:
        raise Unauthorized("请重新登录", code="session_ended")
    return supervisor


# --- entries -----------------------------------------------------------------------------------


@dataclass
class EntryRow:
    inspection: Inspection
    enterprise: Enterprise
    agency: Agency
    scanned_at: datetime | None


def entries(
    *,
    agency_id: uuid.UUID | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int | None = None,
) -> list[EntryRow]:
    """Every agency's inspections (read-only), with the scan behind each, newest first."""
    stmt = (
        sa.select(Inspection, Enterprise, Agency, Scan.scanned_at)
        .join(Enterprise, Enterprise.id == Inspection.enterprise_id)
        .join(Agency, Agency.id == Inspection.agency_id)
        .outerjoin(Scan, Scan.id == Inspection.scan_id)
        .order_by(Inspection.started_at.desc())
    )
    if agency_id is not None:
        stmt = stmt.where(Inspection.agency_id == agency_id)
    if since is not None:
        stmt = stmt.where(Inspection.started_at >= since)
    if until is not None:
        stmt = stmt.where(Inspection.started_at < until)
    if limit is not None:
        stmt = stmt.limit(limit)
    return [EntryRow(*row) for row in db.session.execute(stmt).all()]


def agencies() -> list[Agency]:
    return list(db.session.scalars(sa.select(Agency).order_by(Agency.name)))


# --- evaluations -------------------------------------------------------------------------------


@dataclass
class EvaluationRow:
    evaluation: VisitEvaluation
    inspection: Inspection
    enterprise: Enterprise
    agency: Agency


def evaluations(
    agency_id: uuid.UUID | None = None, inspection_id: uuid.UUID | None = None
) -> list[EvaluationRow]:
    """Every rating with who rated (the supervisor's view only)."""
    stmt = (
        sa.select(VisitEvaluation, Inspection, Enterprise, Agency)
        .join(Inspection, Inspection.id == VisitEvaluation.inspection_id)
        .join(Enterprise, Enterprise.id == Inspection.enterprise_id)
        .join(Agency, Agency.id == VisitEvaluation.agency_id)
        .order_by(VisitEvaluation.created_at.desc())
    )
    if agency_id is not None:
        stmt = stmt.where(VisitEvaluation.agency_id == agency_id)
    if inspection_id is not None:
        stmt = stmt.where(VisitEvaluation.inspection_id == inspection_id)
    return [EvaluationRow(*row) for row in db.session.execute(stmt).all()]


def rating_summary(principal: Principal) -> parties.RatingSummary:
    """What the inspecting agency may know of its ratings: an average over enough of them."""
    require_role(principal, RECORD_COMPLAINTS, "reading the ratings summary")
    ratings = db.session.scalars(
        sa.select(VisitEvaluation.rating).where(VisitEvaluation.agency_id == principal.agency_id)
    ).all()
    return parties.summarize_ratings(list(ratings))


# --- complaints --------------------------------------------------------------------------------


@dataclass
class ComplaintRow:
    complaint: VisitComplaint
    inspection: Inspection
    enterprise: Enterprise
    agency: Agency

    def overdue(self, today: date) -> bool:
        return parties.is_overdue(self.complaint.status, self.complaint.answer_due, today)


def _complaint_rows(*where: sa.ColumnElement[bool]) -> list[ComplaintRow]:
    stmt = (
        sa.select(VisitComplaint, Inspection, Enterprise, Agency)
        .join(Inspection, Inspection.id == VisitComplaint.inspection_id)
        .join(Enterprise, Enterprise.id == Inspection.enterprise_id)
        .join(Agency, Agency.id == VisitComplaint.agency_id)
        .where(*where)
        .order_by(VisitComplaint.created_at.desc())
    )
    return [ComplaintRow(*row) for row in db.session.execute(stmt).all()]


def complaints(
    status: str | None = None, inspection_id: uuid.UUID | None = None
) -> list[ComplaintRow]:
    where = []
    if status:
        where.append(VisitComplaint.status == status)
    if inspection_id is not None:
        where.append(VisitComplaint.inspection_id == inspection_id)
    return _complaint_rows(*where)


def complaint(complaint_id: uuid.UUID) -> ComplaintRow:
    rows = _complaint_rows(VisitComplaint.id == complaint_id)
    if not rows:
        raise NotFound("没有这件投诉")
    return rows[0]


def complaint_photo(complaint_id: uuid.UUID, sha256: str) -> tuple[bytes, str]:
    """A photo sent with a complaint, held as the visited agency's attachment."""
    from server.services import attachments

    found = complaint(complaint_id).complaint
    if sha256 not in found.photo_attachments:
        raise NotFound("没有这张照片")
    content = attachments.stored_content(found.agency_id, sha256, attachments.max_bytes())
    stored = db.session.get(Attachment, sha256)
    if content is None or stored is None or not stored.content_type.startswith("image/"):
        raise NotFound("没有这张照片")
    return content, stored.content_type


def _message_text(text: str) -> str:
    text = text.strip()
    if not text:
        raise ValidationFailed("请填写内容", fields={"text": ["required"]})
    if len(text) > parties.MAX_COMMENT:
        raise ValidationFailed("内容过长", fields={"text": [f"at most {parties.MAX_COMMENT}"]})
    return text


def answer_complaint(
    supervisor: Supervisor, complaint_id: uuid.UUID, text: str, *, close: bool, now: datetime
) -> VisitComplaint:
    """The supervisor answers a complaint, and may close it with that answer."""
    row = complaint(complaint_id)
    found = row.complaint
    if found.status == parties.COMPLAINT_CLOSED:
        raise Conflict("投诉已办结", code="complaint_closed")
    db.session.add(
        ComplaintMessage(
            complaint_id=found.id,
            author=parties.BY_SUPERVISOR,
            supervisor_id=supervisor.id,
            text=_message_text(text),
            at=now,
        )
    )
    found.status = parties.COMPLAINT_CLOSED if close else parties.COMPLAINT_ANSWERED
    if close:
        found.closed_at = now
    db.session.commit()
    return found


def agency_complaints(principal: Principal) -> list[VisitComplaint]:
    """The complaints about the agency's visits, for it to reply to."""
    require_role(principal, RECORD_COMPLAINTS, "reading complaints about visits")
    return list(
        db.session.scalars(
            sa.select(VisitComplaint)
            .where(VisitComplaint.agency_id == principal.agency_id)
            .order_by(VisitComplaint.created_at.desc())
        )
    )


def reply_to_complaint(
    principal: Principal, complaint_id: uuid.UUID, text: str, now: datetime
) -> VisitComplaint:
    """The inspecting agency's reply to a complaint about one of its visits."""
    require_role(principal, RECORD_COMPLAINTS, "replying to a complaint")
    found = scalar_or_not_found(
        sa.select(VisitComplaint).where(
            VisitComplaint.id == complaint_id, VisitComplaint.agency_id == principal.agency_id
        ),
        "no such complaint",
    )
    if found.status == parties.COMPLAINT_CLOSED:
        raise Conflict("the complaint is closed", code="complaint_closed")
    db.session.add(
        ComplaintMessage(
            complaint_id=found.id,
            author=parties.BY_AGENCY,
            user_id=principal.user_id,
            text=_message_text(text),
            at=now,
        )
    )
    db.session.commit()
    db.session.refresh(found)
    return found


# --- alerts ------------------------------------------------------------------------------------


def _judged(since: datetime) -> tuple[list[supervision.Entry], timedelta]:
    """The entries from ``since`` as the alert rules read them (only the columns they need:
    a city's two years of entries load in a fraction of the time whole rows take), and the
    widest repeat-visit window of the agencies (多头检查)."""
    agencies = {a.id: a for a in db.session.scalars(sa.select(Agency))}
    rows = db.session.execute(
        sa.select(
            Inspection.id,
            Inspection.agency_id,
            Inspection.started_at,
            Scan.scanned_at,
            Enterprise.uscc,
            Enterprise.name,
            Enterprise.is_key,
            Enterprise.credit_rating,
            Enterprise.risk_grade,
        )
        .join(Enterprise, Enterprise.id == Inspection.enterprise_id)
        .outerjoin(Scan, Scan.id == Inspection.scan_id)
        .where(Inspection.started_at >= since)
    ).all()
    policies: dict[tuple[uuid.UUID, int], VisitPolicy] = {}
    judged = []
    for row in rows:
        year = row.started_at.astimezone(ZONE).year
        key = (row.agency_id, year)
        if key not in policies:
            policies[key] = visit_policy_for(agencies[row.agency_id], year)
        judged.append(
            supervision.Entry(
                inspection_id=str(row.id),
                agency_id=str(row.agency_id),
                agency_name=agencies[row.agency_id].name,
                uscc=row.uscc,
                enterprise_name=row.name,
                started_at=row.started_at,
                scanned_at=row.scanned_at,
                cap=policies[key].cap_for(
                    is_key=row.is_key,
                    credit_rating=row.credit_rating,
                    risk_grade=row.risk_grade,
                ),
            )
        )
    this_year = utcnow().astimezone(ZONE).year
    days = max(
        (visit_policy_for(a, this_year).repeat_within_days for a in agencies.values()),
        default=7,
    )
    return judged, timedelta(days=days)


def alerts_since(day: date) -> datetime:
    """Where the entries an alert list reads begin: a month before ``day``, so that the
    first entries after it are judged with the visits just before them."""
    return datetime.combine(day - timedelta(days=31), time(0), ZONE)


def alerts(
    now: datetime, kind: str | None = None, *, since: datetime | None = None
) -> list[supervision.Alert]:
    """Alerts over the deployment, newest first, each naming the entries behind it.

    Entries are read from ``since`` on (by default from the start of last year, local time):
    the yearly caps count calendar years, so a year's counts need no earlier entry."""
    if since is None:
        local = now.astimezone(ZONE)
        since = alerts_since(date(local.year - 1, 1, 1))
    judged, window = _judged(since)
    found = supervision.scan_alerts(judged)
    found += supervision.high_frequency_alerts(judged, ZONE)
    found += supervision.multi_department_alerts(judged, window)
    for row in evaluations():
        if row.evaluation.rating <= parties.LOW_RATING:
            found.append(
                supervision.Alert(
                    supervision.LOW_RATING,
                    str(row.agency.id),
                    row.agency.name,
                    row.enterprise.uscc,
                    row.enterprise.name,
                    row.evaluation.created_at,
                    f"评分 {row.evaluation.rating} 星：{row.evaluation.comment[:60]}",
                    (str(row.inspection.id),),
                )
            )
    today = now.astimezone(ZONE).date()
    for c in complaints(parties.COMPLAINT_OPEN):
        if c.overdue(today):
            found.append(
                supervision.Alert(
                    supervision.OVERDUE_COMPLAINT,
                    str(c.agency.id),
                    c.agency.name,
                    c.enterprise.uscc,
                    c.enterprise.name,
                    c.complaint.created_at,
                    f"答复期限 {c.complaint.answer_due.isoformat()}，已逾期",
                    (str(c.inspection.id),),
                )
            )
    if kind:
        found = [a for a in found if a.kind == kind]
    return supervision.newest_first(found)


ALERT_CSV_HEADER = ["类型", "机关", "统一社会信用代码", "企业", "时间", "说明", "涉及检查记录"]


def alerts_csv(alerts_: list[supervision.Alert]) -> str:
    out = io.StringIO()
    out.write("\ufeff")  # Excel opens UTF-8 CSV as such only with the BOM
    writer = csv.writer(out)
    writer.writerow(ALERT_CSV_HEADER)
    for a in alerts_:
        writer.writerow(
            [
                a.label,
                a.agency_name,
                a.uscc,
                a.enterprise_name,
                a.at.astimezone(ZONE).strftime("%Y-%m-%d %H:%M"),
                a.detail,
                " ".join(a.inspection_ids),
            ]
        )
    return out.getvalue()
