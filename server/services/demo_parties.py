"""The other two parties in the demo: enterprises with accounts who rated and complained, a
neighbouring bureau that registered one of them too, and a supervisor with alerts to see.

Runs after ``demo.seed_demo`` on the demo agency's history, through the same services the
pages use, in one transaction.
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

import sqlalchemy as sa

from server.extensions import db
from server.models import Enterprise, EnterpriseAccount, Inspection, Supervisor, User
from server.models.scoping import unbind_agency
from server.services import accounts, demo, enterprise_portal, supervision
from server.services.demo import DEMO_AGENCY, DEMO_PASSWORD, all_or_nothing

NEIGHBOUR = ("hexi", "天津市河西区应急管理局", "河西")
SUPERVISOR = ("jiandu", "孙立新", "天津市南开区司法局行政执法监督科")
ENTERPRISE_PASSWORD = "qiye-demo-2024"
_COMMENTS = {
    5: ["检查规范，讲解清楚，帮助我们找到了隐患", "执法人员专业、文明"],
    4: ["整改要求明确", "出示了执法证，流程规范"],
    3: ["检查时间较长，影响了部分生产", ""],
    2: ["同一周内被检查了两次"],
    1: ["检查人员态度生硬，未说明检查依据"],
}


@dataclass
class PartiesSummary:
    created: bool
    enterprise_uscc: str = ""
    enterprise_name: str = ""
    enterprise_password: str = ENTERPRISE_PASSWORD
    pending_uscc: str = ""
    pending_name: str = ""
    activation_code: str = ""
    supervisor: tuple[str, str] = ("", "")
    counts: dict[str, int] = field(default_factory=dict)


def _login(username: str, device: str, now: datetime) -> Any:
    """A principal as the demo's, without the fence its login puts on the session: this seed
    works across agencies, and every service it calls names its agency itself."""
    principal = demo._login(username, device, now)
    unbind_agency(db.session)
    return principal


def _visited(agency_id: uuid.UUID) -> list[tuple[Enterprise, list[Inspection]]]:
    """The agency's enterprises by how often they were visited, most first."""
    rows = db.session.execute(
        sa.select(Enterprise, Inspection)
        .join(Inspection, Inspection.enterprise_id == Enterprise.id)
        .where(Enterprise.agency_id == agency_id)
        .order_by(Inspection.started_at)
    ).all()
    by_firm: dict[uuid.UUID, tuple[Enterprise, list[Inspection]]] = {}
    for enterprise, inspection in rows:
        by_firm.setdefault(enterprise.id, (enterprise, []))[1].append(inspection)
    return sorted(by_firm.values(), key=lambda pair: (-len(pair[1]), pair[0].uscc))


def seed_parties(
    *, now: datetime, entry_key: bytes, base_url: str, rng: random.Random | None = None
) -> PartiesSummary:
    """Add the other parties to the demo agency unless a supervisor exists already."""
    rng = rng or random.Random(20240606)
    if db.session.scalar(sa.select(Supervisor.id).limit(1)) is not None:
        return PartiesSummary(False)
    summary = PartiesSummary(True, supervisor=(SUPERVISOR[0], DEMO_PASSWORD))
    with all_or_nothing():
        code, _, _ = DEMO_AGENCY
        agency = accounts.get_agency_by_code(code)
        manager = _login("manager", "demo-office-manager", now)
        visited = _visited(agency.id)
        if len(visited) < 8:
            raise RuntimeError("the demo agency has too little history for the other parties")
        supervision.create_supervisor(SUPERVISOR[0], DEMO_PASSWORD, SUPERVISOR[1], SUPERVISOR[2])
        supervisor = db.session.scalar(sa.select(Supervisor))
        assert supervisor is not None  # created just above

        # The main enterprise: visited most, also registered by the neighbouring bureau, which
        # came two days after one of the district's visits without scanning (多头检查, 未扫码).
        main, main_visits = visited[0]
        _neighbour_visit(main, main_visits[-1].started_at + timedelta(days=2), now)
        _late_scan(main, now - timedelta(days=5), now, entry_key, base_url)
        accounts_made = []
        for enterprise, visits in visited[:7]:
            issued = enterprise_portal.issue_activation_code(manager, enterprise.id, now)
            account = enterprise_portal.activate(
                enterprise.uscc,
                issued.activation_code,
                ENTERPRISE_PASSWORD,
                ENTERPRISE_PASSWORD,
                now,
            )
            accounts_made.append((account, enterprise, visits))
        summary.enterprise_uscc, summary.enterprise_name = main.uscc, main.name

        ratings = 0
        for n, (account, _, visits) in enumerate(accounts_made):
            for visit in visits[-2:]:
                rating = 1 if n == 1 and visit is visits[-1] else rng.choice([2, 3, 4, 4, 5, 5, 5])
                rated_at = min(visit.started_at + timedelta(days=1), now)
                enterprise_portal.evaluate(
                    account, visit.id, rating, rng.choice(_COMMENTS[rating]), rated_at
                )
                ratings += 1
        summary.counts["ratings"] = ratings

        # Three complaints: one answered and closed, one past its deadline, one just made.
        (a1, _, v1), (a2, _, v2), (a3, _, v3) = accounts_made[1:4]
        closed = enterprise_portal.complain(
            a1,
            v1[-1].id,
            "检查人员未说明检查依据，要求提供的资料与检查无关。",
            [],
            max(v1[-1].started_at + timedelta(days=1), now - timedelta(days=40)),
        )
        supervision.reply_to_complaint(
            manager, closed.id, "已核实：检查依据为年度双随机抽查计划，已向企业说明。", now
        )
        supervision.answer_complaint(
            supervisor,
            closed.id,
            "经核实，检查合法；已要求执法人员入企时先说明依据。办结。",
            close=True,
            now=now,
        )
        enterprise_portal.complain(
            a2,
            v2[-1].id,
            "同一周内两个部门先后来检查同样的内容，影响生产。",
            [],
            now - timedelta(days=20),
        )
        enterprise_portal.complain(
            a3, v3[-1].id, "现场检查记录上的整改期限与口头告知不一致。", [], now
        )
        summary.counts["complaints"] = 3

        # An enterprise whose account is waiting for its code (to try activation).
        pending, _ = visited[7]
        issued = enterprise_portal.issue_activation_code(manager, pending.id, now)
        summary.pending_uscc, summary.pending_name = pending.uscc, pending.name
        summary.activation_code = issued.activation_code
    summary.counts["enterprise accounts"] = db.session.scalars(
        sa.select(sa.func.count(EnterpriseAccount.id))
    ).one()
    summary.counts["alerts"] = len(supervision.alerts(now))
    return summary


def _neighbour_visit(enterprise: Enterprise, at: datetime, now: datetime) -> None:
    """河西 registers the same enterprise and inspects it once, without scanning."""
    from server.schemas.enterprises import EnterpriseInputSchema
    from server.schemas.sync import PushSchema
    from server.services import enterprises
    from server.services.sync import push

    code, name, abbr = NEIGHBOUR
    accounts.create_agency(code, name, abbr)
    for username, role, person, cert in (
        ("hexi-lead", "lead", "周建华", "120103200011"),
        ("hexi-insp01", "inspector", "吴海燕", "120103200027"),
        ("hexi-insp02", "inspector", "郭志刚", "120103200035"),
    ):
        accounts.create_user(
            username=username,
            agency_code=code,
            role=role,
            password=DEMO_PASSWORD,
            full_name=person,
            cert_no=cert,
            cert_valid_until=date(2028, 12, 31),
            unit="执法监察支队",
        )
    lead = _login("hexi-lead", "demo-hexi-lead", min(at, now))
    data: dict[str, Any] = EnterpriseInputSchema().load(
        {
            "uscc": enterprise.uscc,
            "name": enterprise.name,
            "address": enterprise.address,
            "industry": enterprise.industry,
            "risk_grade": enterprise.risk_grade,
            "credit_rating": enterprise.credit_rating,
            "is_key": enterprise.is_key,
        }
    )
    theirs = enterprises.create_enterprise(lead, data)
    phone = _login("hexi-insp01", "demo-hexi-phone", min(at, now))
    team = [
        str(u.id)
        for u in db.session.scalars(
            sa.select(User).where(User.username.in_(["hexi-insp01", "hexi-insp02"]))
        )
    ]
    at = min(at, now - timedelta(hours=3))
    op = {
        "op_id": str(uuid.uuid4()),
        "entity": "inspection",
        "id": str(uuid.uuid4()),
        "base_version": None,
        "client_time": at.isoformat(),
        "data": {
            "enterprise_id": str(theirs.id),
            "scan_id": None,
            "task_id": None,
            "kind": "other",
            "started_at": at.isoformat(),
            "ended_at": (at + timedelta(hours=2)).isoformat(),
            "place": theirs.address,
            "inspector_ids": team,
            "items": [{"item": "有限空间作业审批", "result": "ok", "note": ""}],
            "findings": "",
            "representative": {"name": enterprise.legal_representative, "title": "法定代表人"},
            "signature_attachments": [],
        },
    }
    body = PushSchema().load({"device_id": phone.device_key, "schema_version": 1, "ops": [op]})
    results = push.push(phone, body, entry_key=b"", now=now)["results"]
    unbind_agency(db.session)
    if results[0]["status"] != "applied":
        raise RuntimeError(f"the neighbour's visit was refused: {results[0]}")


def _late_scan(
    enterprise: Enterprise, started: datetime, now: datetime, entry_key: bytes, base_url: str
) -> None:
    """An urgent check after a tip-off, the gate code scanned only before leaving (离企前补扫)."""
    from server.schemas.sync import PushSchema
    from server.services.entry_codes import gate_code
    from server.services.sync import push

    phone = _login("inspector01", "demo-phone-01", now)
    team = [
        str(u.id)
        for u in db.session.scalars(
            sa.select(User).where(User.username.in_(["inspector01", "inspector02"]))
        )
    ]
    scan_id, inspection_id = str(uuid.uuid4()), str(uuid.uuid4())
    scanned = started + timedelta(minutes=95)

    def op(entity: str, record_id: str, data: dict[str, Any]) -> dict[str, Any]:
        return {
            "op_id": str(uuid.uuid4()),
            "entity": entity,
            "id": record_id,
            "base_version": None,
            "client_time": scanned.isoformat(),
            "data": data,
        }

    ops = [
        op(
            "scan",
            scan_id,
            {
                "code": gate_code(enterprise, entry_key, base_url).url,
                "scanned_at": scanned.isoformat(),
                "location": {"lat": enterprise.latitude, "lng": enterprise.longitude},
                "inspector_ids": team,
            },
        ),
        op(
            "inspection",
            inspection_id,
            {
                "enterprise_id": str(enterprise.id),
                "scan_id": scan_id,
                "task_id": None,
                "kind": "complaint",
                "started_at": started.isoformat(),
                "ended_at": (started + timedelta(minutes=100)).isoformat(),
                "place": enterprise.address,
                "inspector_ids": team,
                "items": [{"item": "群众举报：夜间违规动火作业", "result": "ok", "note": ""}],
                "findings": "举报情况不属实",
                "representative": {"name": enterprise.legal_representative, "title": "法定代表人"},
                "signature_attachments": [],
            },
        ),
    ]
    body = PushSchema().load({"device_id": phone.device_key, "schema_version": 1, "ops": ops})
    results = push.push(phone, body, entry_key=entry_key, now=now)["results"]
    unbind_agency(db.session)
    refused = [r for r in results if r["status"] != "applied"]
    if refused:
        raise RuntimeError(f"the late-scan visit was refused: {refused}")
