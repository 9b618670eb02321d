"""The enterprise's side (企业端): activation, sign-in, its visits across agencies, evaluations,
complaints and rectification reports.

The enterprise is not a user of any agency: its pages never bind the session to an agency, and
every read here is limited by hand to the enterprises registered under the account's USCC.
"""

from __future__ import annotations

import hashlib
import io
import secrets
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from server.domain import hazards as lifecycle
from server.domain import inspections, parties
from server.domain.attachments import normalize_media_type
from server.domain.enterprises import normalize_uscc
from server.domain.errors import Conflict, Forbidden, NotFound, Unauthorized, ValidationFailed
from server.domain.permissions import (
    ADMIN,
    EDIT_ENTERPRISES,
    INSPECTOR,
    Principal,
    require_role,
)
from server.extensions import db
from server.models import (
    Agency,
    Document,
    DrawPlan,
    Enterprise,
    EnterpriseAccount,
    Hazard,
    Inspection,
    Rectification,
    Task,
    User,
    VisitComplaint,
    VisitEvaluation,
)
from server.models.types import utcnow
from server.services import agency_settings, attachments
from server.services.lookup import scalar_or_not_found
from server.services.passwords import burn_time, hash_password, verify_password

# Letters and digits that cannot be misread from paper (no 0/O, 1/I/L).
_CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
_CODE_LENGTH = 8
# The agency's stand-in user for what the enterprise itself records (rectification reports,
# uploaded photos): records need a creating user, and this one can never sign in.
PORTAL_USERNAME_PREFIX = "enterprise-portal:"
PORTAL_FULL_NAME = "企业自行上报"



def _digest(code: str) -> str:
    cleaned = "".join(c for c in code.upper() if c.isalnum())
    return hashlib.sha256(cleaned.encode()).hexdigest()


def _new_code() -> str:
    raw = "".join(secrets.choice(_CODE_ALPHABET) for _ in range(_CODE_LENGTH))
    return f"{raw[:4]}-{raw[4:]}"


@dataclass(frozen=True)
class IssuedCode:
    uscc: str
    activation_code: str
    expires_at: datetime


def issue_activation_code(
    principal: Principal, enterprise_id: uuid.UUID, now: datetime | None = None
) -> IssuedCode:
    """A one-time code for the enterprise's account (a new account, or a new password for one
    that forgot it); shown once, only its hash is kept."""
    require_role(principal, EDIT_ENTERPRISES, "issuing an enterprise's activation code")
    now = now or utcnow()
    enterprise = db.session.get(Enterprise, enterprise_id)
    if enterprise is None or enterprise.agency_id != principal.agency_id:
        raise NotFound("no such enterprise")
    account = db.session.scalar(
        sa.select(EnterpriseAccount).where(EnterpriseAccount.uscc == enterprise.uscc)
    )
    if account is None:
        account = EnterpriseAccount(uscc=enterprise.uscc, failed_attempts=0, session_epoch=0)
        db.session.add(account)
    code = _new_code()
    account.activation_code_hash = _digest(code)
    account.activation_expires_at = now + parties.ACTIVATION_VALID
    account.activation_issued_by = principal.user_id
    db.session.commit()
    return IssuedCode(enterprise.uscc, code, account.activation_expires_at)


def issue_activation_code_by_uscc(
    principal: Principal, uscc: str, now: datetime | None = None
) -> IssuedCode:
    """The same, for the enterprise the agency registered under ``uscc`` (the office form)."""
    require_role(principal, EDIT_ENTERPRISES, "issuing an enterprise's activation code")
    try:
        uscc = normalize_uscc(uscc)
    except ValidationFailed:
        raise NotFound("本机关名录中没有这个统一社会信用代码") from None
    enterprise_id = scalar_or_not_found(
        sa.select(Enterprise.id).where(
            Enterprise.uscc == uscc, Enterprise.agency_id == principal.agency_id
        ),
        "本机关名录中没有这个统一社会信用代码",
    )
    return issue_activation_code(principal, enterprise_id, now)


def _account(uscc: str) -> EnterpriseAccount | None:
    try:
        uscc = normalize_uscc(uscc)
    except ValidationFailed:
        return None
    return db.session.scalar(sa.select(EnterpriseAccount).where(EnterpriseAccount.uscc == uscc))


def _refuse(account: EnterpriseAccount, now: datetime, message: str) -> Unauthorized:
    lock = parties.after_failure(account.failed_attempts, now)
    account.failed_attempts = lock.failed
    account.locked_until = lock.locked_until
    db.session.commit()
    return Unauthorized(message, code="invalid_credentials")


def _check_not_locked(account: EnterpriseAccount, now: datetime) -> None:
    if parties.is_locked(account.locked_until, now):
        raise Forbidden("尝试次数过多，请 15 分钟后再试", code="account_locked")


def activate(
    uscc: str, code: str, password: str, repeated: str, now: datetime | None = None
) -> EnterpriseAccount:
    """Set the account's password with the agency's one-time code."""
    now = now or utcnow()
    account = _account(uscc)
    wrong = "统一社会信用代码或激活码不正确"
    if account is None or account.activation_code_hash is None:
        burn_time(password)
        raise Unauthorized(wrong, code="invalid_credentials")
    _check_not_locked(account, now)
    expired = account.activation_expires_at is None or account.activation_expires_at < now
    if expired or not secrets.compare_digest(account.activation_code_hash, _digest(code)):
        raise _refuse(account, now, wrong)
    parties.check_password(password, repeated)
    account.password_hash = hash_password(password)
    account.activation_code_hash = None
    account.activation_expires_at = None
    account.activated_at = account.activated_at or now
    account.failed_attempts = 0
    account.locked_until = None
    account.session_epoch += 1
    account.last_login_at = now
    db.session.commit()
    return account


def sign_in(uscc: str, password: str, now: datetime | None = None) -> EnterpriseAccount:
    """Check USCC and password; five failures in a row lock the account for a while."""
    now = now or utcnow()
    account = _account(uscc)
    wrong = "统一社会信用代码或密码不正确"
    if account is None or account.password_hash is None:
        burn_time(password)
        raise Unauthorized(wrong, code="invalid_credentials")
    _check_not_locked(account, now)
    if not verify_password(account.password_hash, password):
        raise _refuse(account, now, wrong)
    account.failed_attempts = 0
    account.last_login_at = now
    db.session.commit()
    return account


def account_for_session(account_id: str, epoch: int) -> EnterpriseAccount:
    try:
        account = db.session.get(EnterpriseAccount, uuid.UUID(account_id))
    except ValueError:
        account = None
    if account is None or account.password_hash is None or account.session_epoch != epoch:
        raise Unauthorized("请重新登录", code="session_ended")
    return account


# --- what the enterprise sees ----------------------------------------------------------------


def registrations(account: EnterpriseAccount) -> list[Enterprise]:
    """The enterprise as each agency of the deployment registered it."""
    return list(
        db.session.scalars(
            sa.select(Enterprise).where(Enterprise.uscc == account.uscc).order_by(Enterprise.name)
        )
    )


@dataclass
class Officer:
    name: str
    department: str
    cert_no: str


@dataclass
class Visit:
    inspection: Inspection
    enterprise: Enterprise
    agency: Agency
    officers: list[Officer]
    purpose: str
    result: str
    scanned: bool
    documents: list[Document] = field(default_factory=list)
    hazards: list[Hazard] = field(default_factory=list)
    evaluation: VisitEvaluation | None = None
    complaints: list[VisitComplaint] = field(default_factory=list)


def _officers(ids: list[str], agency: Agency, outside: list[dict[str, Any]]) -> list[Officer]:
    wanted = []
    for raw in ids:
        try:
            wanted.append(uuid.UUID(str(raw)))
        except ValueError:
            continue
    users = {u.id: u for u in db.session.scalars(sa.select(User).where(User.id.in_(wanted)))}
    officers = [
        Officer(users[i].display_name, users[i].unit or agency.name, users[i].cert_no or "—")
        for i in wanted
        if i in users
    ]
    officers += [
        Officer(o.get("name", ""), o.get("department", ""), o.get("certificate_no", "—"))
        for o in outside
    ]
    return officers


def _visit(
    inspection: Inspection, enterprise: Enterprise, agency: Agency, *, full: bool, account_id: Any
) -> Visit:
    task = db.session.get(Task, inspection.task_id) if inspection.task_id else None
    purpose = inspections.KIND_LABELS.get(inspection.kind, inspection.kind)
    if task is not None:
        purpose = f"{purpose}：{task.title}"
    hazards = list(
        db.session.scalars(
            sa.select(Hazard).where(Hazard.inspection_id == inspection.id).order_by(Hazard.found_at)
        )
    )
    if not hazards:
        result = inspection.findings or "未发现隐患"
    else:
        major = sum(1 for h in hazards if h.level == lifecycle.MAJOR)
        result = f"发现隐患 {len(hazards)} 处" + (f"（其中重大隐患 {major} 处）" if major else "")
    visit = Visit(
        inspection=inspection,
        enterprise=enterprise,
        agency=agency,
        officers=_officers(
            inspection.inspector_ids, agency, task.outside_inspectors if task is not None else []
        ),
        purpose=purpose,
        result=result,
        scanned=inspection.scan_id is not None,
    )
    if full:
        visit.hazards = hazards
        visit.documents = list(
            db.session.scalars(
                sa.select(Document)
                .where(Document.inspection_id == inspection.id)
                .order_by(Document.issued_at)
            )
        )
        visit.evaluation = db.session.scalar(
            sa.select(VisitEvaluation).where(
                VisitEvaluation.inspection_id == inspection.id,
                VisitEvaluation.account_id == account_id,
            )
        )
        visit.complaints = list(
            db.session.scalars(
                sa.select(VisitComplaint)
                .where(
                    VisitComplaint.inspection_id == inspection.id,
                    VisitComplaint.account_id == account_id,
                )
                .order_by(VisitComplaint.created_at)
            )
        )
    return visit


def visits(account: EnterpriseAccount) -> list[Visit]:
    """Every registered entry into the enterprise, by any agency, newest first."""
    rows = db.session.execute(
        sa.select(Inspection, Enterprise, Agency)
        .join(Enterprise, Enterprise.id == Inspection.enterprise_id)
        .join(Agency, Agency.id == Inspection.agency_id)
        .where(Enterprise.uscc == account.uscc)
        .order_by(Inspection.started_at.desc())
    ).all()
    return [_visit(i, e, a, full=False, account_id=account.id) for i, e, a in rows]


def visit(account: EnterpriseAccount, inspection_id: uuid.UUID) -> Visit:
    row = db.session.execute(
        sa.select(Inspection, Enterprise, Agency)
        .join(Enterprise, Enterprise.id == Inspection.enterprise_id)
        .join(Agency, Agency.id == Inspection.agency_id)
        .where(Inspection.id == inspection_id, Enterprise.uscc == account.uscc)
    ).first()
    if row is None:
        raise NotFound("没有这次检查的记录")
    return _visit(*row, full=True, account_id=account.id)


def any_visit(inspection_id: uuid.UUID) -> Visit:
    """One visit in full, whoever's (the supervisor's read-only view)."""
    row = db.session.execute(
        sa.select(Inspection, Enterprise, Agency)
        .join(Enterprise, Enterprise.id == Inspection.enterprise_id)
        .join(Agency, Agency.id == Inspection.agency_id)
        .where(Inspection.id == inspection_id)
    ).first()
    if row is None:
        raise NotFound("没有这次检查的记录")
    return _visit(*row, full=True, account_id=None)


def open_hazards(account: EnterpriseAccount) -> list[tuple[Hazard, Agency, bool]]:
    """Open hazards with their agency and whether a rectification can be reported now."""
    rows = db.session.execute(
        sa.select(Hazard, Agency)
        .join(Enterprise, Enterprise.id == Hazard.enterprise_id)
        .join(Agency, Agency.id == Hazard.agency_id)
        .where(Enterprise.uscc == account.uscc, Hazard.status.in_(lifecycle.OPEN_STATUSES))
        .order_by(Hazard.deadline.is_(None), Hazard.deadline, Hazard.found_at)
    ).all()
    return [(h, a, h.status == lifecycle.ORDERED) for h, a in rows]


@dataclass(frozen=True)
class Notice:
    agency: Agency
    plan_name: str
    task: Task


def notices(account: EnterpriseAccount) -> list[Notice]:
    """检查预告: open drawn tasks for the enterprise, from plans that give notice."""
    rows = db.session.execute(
        sa.select(Task, DrawPlan.name, Agency)
        .join(DrawPlan, DrawPlan.id == Task.plan_id)
        .join(Enterprise, Enterprise.id == Task.enterprise_id)
        .join(Agency, Agency.id == Task.agency_id)
        .where(
            Enterprise.uscc == account.uscc,
            DrawPlan.advance_notice.is_(True),
            Task.status == "open",
        )
        .order_by(Task.due_date)
    ).all()
    return [Notice(agency, plan_name, task) for task, plan_name, agency in rows]


def set_advance_notice(principal: Principal, plan_id: uuid.UUID, notice: bool) -> DrawPlan:
    """Whether the plan's drawn enterprises see their task before the visit."""
    from server.services.draws.plans import get_plan

    plan = get_plan(principal, plan_id)
    plan.advance_notice = notice
    db.session.commit()
    return plan


# --- what the enterprise does ----------------------------------------------------------------


@dataclass(frozen=True)
class Photo:
    content: bytes
    content_type: str | None


def _portal_principal(agency: Agency) -> Principal:
    """The agency's stand-in user for the enterprise's own records (created once).

    The row is an inactive admin: never listed among inspectors, never drawn, never signed in.
    Its principal acts as an inspector, the role that takes down an enterprise's report.
    """
    username = PORTAL_USERNAME_PREFIX + agency.code
    user = db.session.scalar(sa.select(User).where(User.username == username))
    if user is None:
        user = User(
            agency_id=agency.id,
            username=username,
            # Nobody knows a password that matches: the account can never sign in.
            password_hash=hash_password(secrets.token_urlsafe(32)),
            role=ADMIN,
            full_name=PORTAL_FULL_NAME,
            active=False,
        )
        db.session.add(user)
        db.session.commit()
    return Principal(user_id=user.id, agency_id=agency.id, role=INSPECTOR, username=username)


def is_portal_user(user: User) -> bool:
    return user.username.startswith(PORTAL_USERNAME_PREFIX)


def _store_photos(principal: Principal, photos: list[Photo], now: datetime) -> list[str]:
    shas = []
    for photo in photos:
        if not photo.content:
            continue
        if not normalize_media_type(photo.content_type).startswith("image/"):
            raise ValidationFailed("只能上传照片", fields={"photos": ["images only"]})
        sha = hashlib.sha256(photo.content).hexdigest()
        attachments.put_attachment(
            principal,
            sha,
            io.BytesIO(photo.content),
            content_type=photo.content_type,
            content_length=len(photo.content),
            content_range=None,
            now=now,
        )
        shas.append(sha)
    return shas


def evaluate(
    account: EnterpriseAccount,
    inspection_id: uuid.UUID,
    rating: int,
    comment: str,
    now: datetime | None = None,
) -> VisitEvaluation:
    """Rate a visit once; the rating goes to the supervisor, never to the inspecting agency."""
    now = now or utcnow()
    found = visit(account, inspection_id)
    comment = comment.strip()
    parties.check_rating(rating, comment)
    if found.evaluation is not None:
        raise Conflict("这次检查已评价过", code="already_evaluated")
    evaluation = VisitEvaluation(
        agency_id=found.agency.id,
        inspection_id=inspection_id,
        account_id=account.id,
        rating=rating,
        comment=comment,
        created_at=now,
    )
    db.session.add(evaluation)
    try:
        db.session.commit()
    except sa.exc.IntegrityError:
        db.session.rollback()
        raise Conflict("这次检查已评价过", code="already_evaluated") from None
    return evaluation


def complain(
    account: EnterpriseAccount,
    inspection_id: uuid.UUID,
    text: str,
    photos: list[Photo],
    now: datetime | None = None,
) -> VisitComplaint:
    """Complain about a visit; the supervisor answers within the agency's deadline."""
    now = now or utcnow()
    found = visit(account, inspection_id)
    photos = [p for p in photos if p.content]
    parties.check_complaint(text, len(photos))
    shas = _store_photos(_portal_principal(found.agency), photos, now)
    days = agency_settings.complaint_answer_days(found.agency.settings)
    complaint = VisitComplaint(
        agency_id=found.agency.id,
        inspection_id=inspection_id,
        account_id=account.id,
        text=text.strip(),
        photo_attachments=shas,
        status=parties.COMPLAINT_OPEN,
        answer_due=parties.answer_due(now.astimezone(ZoneInfo(found.agency.timezone)).date(), days),
        created_at=now,
    )
    db.session.add(complaint)
    db.session.commit()
    return complaint


def report_rectification(
    account: EnterpriseAccount,
    hazard_id: uuid.UUID,
    description: str,
    photos: list[Photo],
    now: datetime | None = None,
) -> Rectification:
    """The enterprise reports a hazard fixed: the same ``rectification`` record and lifecycle
    step a device's report makes, created by the agency's enterprise stand-in user."""
    from server.services.sync import handlers
    from server.services.sync.outcomes import OpContext
    from server.services.sync.records import create

    now = now or utcnow()
    row = db.session.execute(
        sa.select(Hazard, Enterprise)
        .join(Enterprise, Enterprise.id == Hazard.enterprise_id)
        .where(Hazard.id == hazard_id, Enterprise.uscc == account.uscc)
    ).first()
    if row is None:
        raise NotFound("没有这处隐患")
    hazard = row[0]
    photos = [p for p in photos if p.content]
    if not photos:
        raise ValidationFailed("请上传整改后的照片", fields={"photos": ["required"]})
    if len(photos) > parties.MAX_PHOTOS:
        raise ValidationFailed(
            f"照片不超过 {parties.MAX_PHOTOS} 张", fields={"photos": ["too many"]}
        )
    agency = db.session.get_one(Agency, hazard.agency_id)
    principal = _portal_principal(agency)
    shas = _store_photos(principal, photos, now)
    hazard = db.session.get_one(Hazard, hazard_id)
    payload = {
        "evidence_attachments": shas,
        "reported_at": now,
        "description": description.strip(),
    }
    ctx = OpContext.for_agency(principal, agency, op_id=None, now=now)
    planned = handlers.plan_step(ctx, hazard, lifecycle.REPORT_DONE, payload, at=now)
    handlers.commit_step(ctx, hazard, lifecycle.REPORT_DONE, planned)
    values = {
        "hazard_id": hazard.id,
        "reported_at": planned[0].reported_at,
        "description": description.strip(),
        "evidence_attachments": shas,
    }
    report = Rectification(id=uuid.uuid4(), enterprise_id=hazard.enterprise_id, **values)
    create(ctx, "rectification", report, values)
    db.session.commit()
    return report
