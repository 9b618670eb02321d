"""A believable demo agency: a district bureau, its people, its directory and some history.

Everything is made through the services, as the API would make it (inspections, hazards and
documents arrive as sync pushes from the inspectors' phones), so the demo data obeys every
rule the real data does. The whole seed is one transaction: it lands completely or not at all.
"""

from __future__ import annotations

import hashlib
import io
import random
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from server.domain.enterprises import USCC_ALPHABET, uscc_check_character
from server.domain.permissions import Principal
from server.extensions import db
from server.models import Agency, User
from server.services import accounts

DEMO_AGENCY = ("nankai", "天津市南开区应急管理局", "南开")
DEMO_PASSWORD = "demo-pass-2024"

_SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗"
_GIVEN = [
    "伟",
    "芳",
    "娜",
    "敏",
    "静",
    "强",
    "磊",
    "军",
    "洋",
    "勇",
    "艳",
    "杰",
    "涛",
    "明",
    "超",
    "秀英",
    "建华",
    "志刚",
    "海燕",
    "立新",
]
_STREETS = [
    "长虹街道",
    "鼓楼街道",
    "兴南街道",
    "广开街道",
    "万兴街道",
    "学府街道",
    "向阳路街道",
    "嘉陵道街道",
    "王顶堤街道",
    "水上公园街道",
    "体育中心街道",
    "华苑街道",
]
_ROADS = [
    "红旗路",
    "复康路",
    "卫津路",
    "南门外大街",
    "黄河道",
    "白堤路",
    "鞍山西道",
    "咸阳路",
    "长江道",
    "西湖道",
]
_WORDS = [
    "华盛",
    "宏达",
    "津南",
    "鑫源",
    "恒通",
    "金桥",
    "瑞丰",
    "海河",
    "泰和",
    "永盛",
    "中兴",
    "德润",
    "嘉禾",
    "远航",
    "新华",
    "利民",
    "同创",
    "博远",
    "盛世",
    "天元",
]
# (industry, weight, name endings)
_INDUSTRIES = [
    ("machinery", 30, ["机械制造有限公司", "精密机械有限公司", "机电设备有限公司"]),
    ("light_industry", 22, ["食品有限公司", "包装制品有限公司", "家具有限公司", "印刷有限公司"]),
    ("building_materials", 12, ["建材有限公司", "新型建材有限公司", "混凝土有限公司"]),
    ("metallurgy", 10, ["金属制品有限公司", "钢结构有限公司", "铸造有限公司"]),
    ("nonferrous", 6, ["铝业有限公司", "铜材有限公司"]),
    ("textiles", 8, ["纺织有限公司", "服装有限公司"]),
    ("tobacco", 2, ["烟草物流有限公司"]),
    ("commerce_trade", 20, ["商贸有限公司", "物业管理有限公司", "商场有限公司"]),
    ("hazardous_chemicals", 6, ["化工有限公司", "燃气有限公司"]),
]


# Findings as inspectors write them: (description, legal basis, where).
_HAZARDS = [
    ("配电箱未上锁，无警示标识", "《中华人民共和国安全生产法》第三十五条", "配电室"),
    ("安全出口被成品货物堵塞", "《中华人民共和国消防法》第二十八条", "成品仓库"),
    ("焊工未持特种作业操作证上岗", "《中华人民共和国安全生产法》第三十条", "焊接车间"),
    ("冲床传动部位防护罩缺失", "《中华人民共和国安全生产法》第三十六条", "冲压车间"),
    ("应急照明灯损坏，疏散指示标志不亮", "《中华人民共和国消防法》第十六条", "生产车间"),
    ("未建立事故隐患排查治理台账", "《中华人民共和国安全生产法》第四十一条", "安全管理办公室"),
    ("有限空间作业未执行审批制度", "《工贸企业有限空间作业安全规定》第十条", "污水池"),
    ("除尘系统积尘未定期清理", "《工贸企业粉尘防爆安全规定》第十四条", "打磨车间"),
    ("灭火器压力不足未及时更换", "《中华人民共和国消防法》第十六条", "办公楼一层"),
    ("新员工三级安全教育记录缺失", "《中华人民共和国安全生产法》第二十八条", "安全管理办公室"),
    ("叉车司机未持证作业", "《中华人民共和国特种设备安全法》第十四条", "物流仓库"),
    ("化学品未分类隔离存放", "《危险化学品安全管理条例》第二十四条", "原料仓库"),
]
_MAJOR = (
    "液化石油气储罐区可燃气体报警装置失效，储罐根部阀门泄漏",
    "《中华人民共和国安全生产法》第一百一十八条；《工贸企业重大事故隐患判定标准》第四条",
    "储罐区",
)
_CHECKLIST = [
    "安全生产责任制落实",
    "隐患排查治理制度",
    "特种作业人员持证",
    "安全出口与疏散通道",
    "消防设施器材",
    "设备安全防护装置",
    "有限空间与危险作业管理",
]
_HISTORY_DAYS = 120
_INSPECTIONS = 60
_ZONE = ZoneInfo("Asia/Shanghai")


@dataclass(frozen=True)
class SeedSummary:
    created: bool
    agency_code: str
    enterprises: int
    logins: list[tuple[str, str, str]]
    history: dict[str, int] = field(default_factory=dict)


def make_uscc(rng: random.Random, division: str = "120104") -> str:
    """A well-formed USCC (registration 9 = market regulation, category 1 = enterprise)."""
    body = "91" + division + "".join(rng.choice(USCC_ALPHABET) for _ in range(9))
    return body + uscc_check_character(body)


def _person(rng: random.Random) -> str:
    return rng.choice(_SURNAMES) + rng.choice(_GIVEN)


def has_any_agency() -> bool:
    return db.session.scalar(sa.select(Agency.id).limit(1)) is not None


@contextmanager
def all_or_nothing() -> Iterator[None]:
    """Run service calls, each of which commits, as one transaction.

    The session joins an outer transaction on its own connection; the services' commits
    become savepoints, and only leaving the block without an error commits the whole.
    """
    factory = db.session.session_factory
    saved = dict(factory.kw)
    db.session.remove()
    connection = db.engine.connect()
    outer = connection.begin()
    factory.configure(bind=connection, join_transaction_mode="create_savepoint")
    try:
        yield
        db.session.flush()
        outer.commit()
    except BaseException:
        outer.rollback()
        raise
    finally:
        db.session.remove()
        factory.kw.clear()
        factory.kw.update(saved)
        connection.close()


def _unit(username: str, role: str) -> str:
    # Two brigades of five inspectors; the lead heads the first.
    if role == "lead":
        return "执法一大队"
    if role == "inspector":
        return "执法一大队" if int(username[-2:]) <= 5 else "执法二大队"
    return ""


def seed_demo(
    *,
    now: datetime,
    entry_key: bytes,
    base_url: str,
    rng: random.Random | None = None,
    enterprises: int = 240,
) -> SeedSummary:
    """Create the demo agency unless it exists. Returns the printed login details."""
    rng = rng or random.Random(20240101)
    code, name, abbr = DEMO_AGENCY
    logins = [("lead", "lead"), ("manager", "manager"), ("admin", "admin")] + [
        (f"inspector{i:02d}", "inspector") for i in range(1, 11)
    ]
    printed = [(u, r, DEMO_PASSWORD) for u, r in logins]
    if db.session.scalar(sa.select(Agency.id).where(Agency.code == code)) is not None:
        return SeedSummary(False, code, 0, printed)
    with all_or_nothing():
        accounts.create_agency(code, name, abbr)
        for username, role in logins:
            cert = f"12010420{rng.randrange(10**5):05d}" if role in {"inspector", "lead"} else None
            accounts.create_user(
                username=username,
                agency_code=code,
                role=role,
                password=DEMO_PASSWORD,
                full_name=_person(rng),
                cert_no=cert,
                cert_valid_until=date(2028, 12, 31) if cert else None,
                unit=_unit(username, role),
            )
        bureau = _Bureau(rng, now, entry_key, base_url)
        bureau.directory(enterprises)
        bureau.history()
    return SeedSummary(True, code, enterprises, printed, bureau.counts)


def _login(username: str, device: str, now: datetime) -> Principal:
    """The principal of a user on a device, as the API would see it after a login."""
    result = accounts.login(
        username=username,
        password=DEMO_PASSWORD,
        device_key=device,
        device_name="演示数据",
        ttl=timedelta(hours=1),
        now=now,
    )
    return accounts.authenticate(result.access_token, now=now)


def _photo(rgb: tuple[int, int, int]) -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (64, 48), rgb).save(out, format="PNG")
    return out.getvalue()


@dataclass
class _Hazard:
    id: str
    inspection_id: str
    enterprise_id: str
    deadline: date
    found: datetime
    major: bool = False


class _Bureau:
    """Builds the directory and a few months of field work of the demo agency."""

    def __init__(self, rng: random.Random, now: datetime, entry_key: bytes, base_url: str):
        self.rng = rng
        self.now = now
        self.entry_key = entry_key
        self.base_url = base_url
        start = now - timedelta(days=_HISTORY_DAYS)
        self.manager = _login("manager", "demo-office-manager", start)
        self.lead = _login("lead", "demo-office-lead", start)
        self.phones = [
            _login(f"inspector{i:02d}", f"demo-phone-{i:02d}", start) for i in (1, 3, 5, 7, 9)
        ]
        users = {u.username: u for u in db.session.scalars(sa.select(User))}
        self.teams = [
            [str(users[f"inspector{i:02d}"].id), str(users[f"inspector{i + 1:02d}"].id)]
            for i in (1, 3, 5, 7, 9)
        ]
        self.enterprises: list[Any] = []
        self.photos: list[str] = []
        self.counts: dict[str, int] = {}

    # --- the directory --------------------------------------------------------------------

    def directory(self, count: int) -> None:
        from server.schemas.enterprises import EnterpriseInputSchema
        from server.services import enterprises

        rng = self.rng
        schema = EnterpriseInputSchema()
        weights = [w for _, w, _ in _INDUSTRIES]
        usccs: set[str] = set()
        names: set[str] = set()
        for _ in range(count):
            industry, _, endings = rng.choices(_INDUSTRIES, weights=weights)[0]
            uscc = make_uscc(rng)
            while uscc in usccs:
                uscc = make_uscc(rng)
            usccs.add(uscc)
            name = f"天津市{rng.choice(_WORDS)}{rng.choice(_WORDS)}{rng.choice(endings)}"
            while name in names:  # two companies never share a registered name
                name = f"天津市{rng.choice(_WORDS)}{rng.choice(_WORDS)}{rng.choice(endings)}"
            names.add(name)
            credit = rng.choices(["A", "B", "C", "D"], weights=[85, 10, 4, 1])[0]
            data = schema.load(
                {
                    "uscc": uscc,
                    "name": name,
                    "address": f"天津市南开区{rng.choice(_ROADS)}{rng.randrange(1, 400)}号",
                    "region": rng.choice(_STREETS),
                    "industry": industry,
                    "legal_representative": _person(rng),
                    "contact_phone": f"022-{rng.randrange(2000_0000, 2999_9999)}",
                    "latitude": round(39.10 + rng.random() * 0.08, 6),
                    "longitude": round(117.10 + rng.random() * 0.10, 6),
                    "is_key": industry == "hazardous_chemicals" or rng.random() < 0.12,
                    "risk_grade": rng.choices(["good", "medium", "poor"], weights=[90, 7, 3])[0],
                    "credit_rating": credit,
                    "seriously_dishonest": credit == "D" and rng.random() < 0.5,
                }
            )
            self.enterprises.append(enterprises.create_enterprise(self.manager, data))

    # --- field work -----------------------------------------------------------------------

    def _push(self, phone: Principal, ops: list[dict[str, Any]], at: datetime) -> None:
        from server.schemas.sync import PushSchema
        from server.services.sync import push

        body = PushSchema().load({"device_id": phone.device_key, "schema_version": 1, "ops": ops})
        results = push.push(phone, body, entry_key=self.entry_key, now=at)["results"]
        refused = [r for r in results if r["status"] != "applied"]
        if refused:
            raise RuntimeError(f"demo history refused by the service: {refused[:2]}")
        for op in ops:
            key = op["entity"] if op["entity"] != "document" else op["data"]["type"]
            self.counts[key] = self.counts.get(key, 0) + 1

    def _op(self, entity: str, data: dict[str, Any], at: datetime) -> dict[str, Any]:
        return {
            "op_id": str(uuid.UUID(int=self.rng.getrandbits(128), version=4)),
            "entity": entity,
            "id": str(uuid.UUID(int=self.rng.getrandbits(128), version=4)),
            "base_version": None,
            "client_time": at.isoformat(),
            "data": data,
        }

    def _document(
        self, doc_type: str, inspection_id: str, hazard_ids: list[str], at: datetime, **fields: Any
    ) -> dict[str, Any]:
        serial = self.rng.randrange(1000, 9999)
        data = {
            "type": doc_type,
            "inspection_id": inspection_id,
            "hazard_ids": hazard_ids,
            "issued_at": at.isoformat(),
            "provisional_number": f"临-{at:%m%d}-{serial}",
            **fields,
        }
        return self._op("document", data, at)

    def _upload_photos(self) -> None:
        from server.services import attachments

        for rgb in ((180, 60, 50), (90, 120, 160), (200, 180, 90)):
            content = _photo(rgb)
            sha = hashlib.sha256(content).hexdigest()
            attachments.put_attachment(
                self.phones[0],
                sha,
                io.BytesIO(content),
                content_type="image/png",
                content_length=len(content),
                content_range=None,
                now=self.now - timedelta(days=_HISTORY_DAYS),
            )
            self.photos.append(sha)

    def _visit_days(self) -> list[datetime]:
        """Working-day mornings and afternoons over the last months, in the agency's zone."""
        today = self.now.astimezone(_ZONE).date()
        days = [today - timedelta(days=n) for n in range(_HISTORY_DAYS, 1, -1)]
        days = [d for d in days if d.weekday() < 5]
        picked = sorted(self.rng.sample(days, min(_INSPECTIONS, len(days))))
        return [
            datetime.combine(d, time(self.rng.choice([9, 10, 14, 15]), 0), _ZONE).astimezone(UTC)
            for d in picked
        ]

    def history(self) -> None:
        """Scans, inspections, hazards to closure (or not), documents, a draw and a case."""
        self._upload_photos()
        ordered: list[tuple[Principal, _Hazard]] = []
        key_firms = [e for e in self.enterprises if e.is_key]
        major_firm = next(e for e in key_firms if e.industry == "hazardous_chemicals")
        visits = self._visit_days()
        major_visit = visits[len(visits) // 3]
        for started in visits:
            team_no = self.rng.randrange(len(self.teams))
            phone, team = self.phones[team_no], self.teams[team_no]
            if started == major_visit:
                firm = major_firm
            elif self.rng.random() < 0.35:
                firm = self.rng.choice(key_firms)
            else:
                firm = self.rng.choice(self.enterprises)
            ordered += self._inspect(phone, team, firm, started, major=started == major_visit)
        overdue = self._follow_up(ordered)
        self._draw()
        self._case(overdue or [h for _, h in ordered])

    def _inspect(
        self, phone: Principal, team: list[str], firm: Any, started: datetime, *, major: bool
    ) -> list[tuple[Principal, _Hazard]]:
        from server.services.entry_codes import gate_code

        rng = self.rng
        ended = started + timedelta(minutes=rng.choice([90, 120, 150]))
        scan = self._op(
            "scan",
            {
                "code": gate_code(firm, self.entry_key, self.base_url).url,
                "scanned_at": (started - timedelta(minutes=3)).isoformat(),
                "location": {
                    "lat": firm.latitude + rng.uniform(-0.0003, 0.0003),
                    "lng": firm.longitude + rng.uniform(-0.0003, 0.0003),
                    "accuracy_m": rng.choice([5, 8, 12]),
                },
                "inspector_ids": team,
            },
            started,
        )
        findings = rng.sample(_HAZARDS, rng.choice([0, 1, 1, 2, 2, 3]))
        found = [(*f, "general") for f in findings] + ([(*_MAJOR, "major")] if major else [])
        inspection = self._op(
            "inspection",
            {
                "enterprise_id": str(firm.id),
                "scan_id": scan["id"],
                "task_id": None,
                "kind": "key" if firm.is_key else rng.choice(["random", "random", "complaint"]),
                "started_at": started.isoformat(),
                "ended_at": ended.isoformat(),
                "place": "生产经营场所",
                "inspector_ids": team,
                "items": [
                    {"item": item, "result": "ok", "note": ""} for item in rng.sample(_CHECKLIST, 5)
                ]
                + [{"item": f[0], "result": "hazard", "note": f[2]} for f in findings],
                "findings": f"检查发现隐患{len(found)}处" if found else "未发现隐患",
                "representative": {"name": _person(rng), "title": "安全负责人"},
                "signature_attachments": [],
            },
            started,
        )
        ops = [scan, inspection]
        hazards: list[_Hazard] = []
        local_day = started.astimezone(_ZONE).date()
        for description, basis, where, level in found:
            on_spot = level == "general" and rng.random() < 0.4
            days = 90 if level == "major" else rng.choice([10, 15, 30])
            op = self._op(
                "hazard",
                {
                    "inspection_id": inspection["id"],
                    "enterprise_id": str(firm.id),
                    "level": level,
                    "description": description,
                    "location": where,
                    "legal_basis": basis,
                    "photo_attachments": [rng.choice(self.photos)],
                    "fixed_on_spot": on_spot,
                    "deadline": None,
                },
                started,
            )
            ops.append(op)
            if not on_spot:
                deadline = local_day + timedelta(days=days)
                hazards.append(
                    _Hazard(
                        op["id"],
                        inspection["id"],
                        str(firm.id),
                        deadline,
                        started,
                        level == "major",
                    )
                )
        record_hazards = [o["id"] for o in ops if o["entity"] == "hazard"]
        ops.append(self._document("inspection_record", inspection["id"], record_hazards, ended))
        for hazard in hazards:
            ops.append(
                self._document(
                    "rectification_order",
                    inspection["id"],
                    [hazard.id],
                    ended,
                    deadline=hazard.deadline.isoformat(),
                )
            )
        self._push(phone, ops, ended + timedelta(minutes=40))
        for hazard in hazards:
            if hazard.major:
                self._supervise(hazard)
        return [(phone, h) for h in hazards]

    def _supervise(self, hazard: _Hazard) -> None:
        from server.schemas.hazards import TransitionSchema
        from server.services.hazards.steps import take_step

        at = hazard.found + timedelta(days=2)
        local = at.astimezone(_ZONE).date()
        payload = TransitionSchema().load(
            {
                "action": "supervise",
                "responsible_person": "企业主要负责人 " + _person(self.rng),
                "measures": "更换储罐根部阀门，修复并联网可燃气体报警装置，整改期间储罐区停用",
                "funds_fen": 18_000_000,
                "deadline": (local + timedelta(days=80)).isoformat(),
                "emergency_arrangements": "储罐区设置警戒，配备应急物资，专人24小时值守",
            }
        )
        action = payload.pop("action")
        take_step(self.manager, uuid.UUID(hazard.id), action, payload, now=at)
        self.counts["supervised"] = self.counts.get("supervised", 0) + 1

    def _follow_up(self, ordered: list[tuple[Principal, _Hazard]]) -> list[_Hazard]:
        """Reports and re-inspections after the deadlines: most close, some run overdue.

        Returns the hazards left overdue.
        """
        today = self.now.astimezone(_ZONE).date()
        steps: list[tuple[datetime, Principal, dict[str, Any]]] = []
        overdue: list[_Hazard] = []
        for phone, hazard in ordered:
            if hazard.major:
                continue  # the supervised major hazard is still being put right
            days_left = (hazard.deadline - today).days
            roll = self.rng.random()
            if days_left < -10:
                outcome = "closed" if roll < 0.85 else "overdue"
            elif days_left < 0:
                outcome = "reported" if roll < 0.5 else "overdue"
            else:
                outcome = "reported" if roll < 0.3 else "ordered"
            if outcome == "overdue":
                overdue.append(hazard)
            if outcome in ("overdue", "ordered"):
                continue
            reported = min(
                datetime.combine(hazard.deadline, time(10, 0), _ZONE).astimezone(UTC)
                - timedelta(days=self.rng.randrange(0, 4)),
                self.now - timedelta(hours=6),
            )
            report = self._op(
                "rectification",
                {
                    "hazard_id": hazard.id,
                    "reported_at": reported.isoformat(),
                    "description": "已按指令书要求完成整改，附整改后照片",
                    "evidence_attachments": [self.rng.choice(self.photos)],
                },
                reported,
            )
            steps.append((reported, phone, report))
            if outcome == "closed":
                again = reported + timedelta(days=self.rng.randrange(2, 8))
                opinion = self._document(
                    "reinspection_opinion",
                    hazard.inspection_id,
                    [hazard.id],
                    again,
                    outcome="pass",
                    content="经复查，隐患已整改完毕",
                )
                steps.append((again, phone, opinion))
        for at, phone, op in sorted(steps, key=lambda s: s[0]):
            self._push(phone, [op], at + timedelta(minutes=30))
        return overdue

    def _draw(self) -> None:
        from server.schemas.draws import DrawPlanInputSchema
        from server.services.draws.plans import create_plan
        from server.services.draws.running import run_plan

        data = DrawPlanInputSchema().load(
            {
                "name": f"{self.now.astimezone(_ZONE).year}年一般企业双随机抽查",
                "strata_by": ["risk"],
                "rates": {"risk:good": "0.05", "risk:medium": "0.2", "risk:poor": "1"},
                "default_rate": "0",
                "team_size": 2,
                "due_days": 20,
                "due_day_kind": "working",
                "period": "quarter",
            }
        )
        plan = create_plan(self.lead, data, now=self.now - timedelta(days=1))
        run_plan(self.lead, plan.id, now=self.now - timedelta(hours=2))
        self.counts["draws"] = 1

    def _case(self, overdue: list[_Hazard]) -> None:
        """A penalty case against the enterprise whose order has been overdue the longest."""
        from server.schemas.cases import CaseInputSchema, DecisionInputSchema, ReviewInputSchema
        from server.services.cases.proceedings import issue_decision, open_case, record_review
        from server.services.cases.publication import publish

        today = self.now.astimezone(_ZONE).date()
        hazard = min(overdue, key=lambda h: h.deadline)
        opened = today - timedelta(days=14)
        case = open_case(
            self.manager,
            CaseInputSchema().load(
                {
                    "enterprise_id": hazard.enterprise_id,
                    "opened_on": opened.isoformat(),
                    "inspection_ids": [hazard.inspection_id],
                    "hazard_ids": [hazard.id],
                }
            ),
            self.now,
        )
        record_review(
            self.manager,
            case.id,
            ReviewInputSchema().load(
                {"reviewed_on": (opened + timedelta(days=5)).isoformat(), "opinion": "approved"}
            ),
            self.now,
        )
        decision = issue_decision(
            self.manager,
            case.id,
            DecisionInputSchema().load(
                {
                    "decided_on": (opened + timedelta(days=8)).isoformat(),
                    "entity_fine_fen": 3_000_000,
                    "individuals": [
                        {"name": _person(self.rng), "title": "主要负责人", "fine_fen": 500_000}
                    ],
                }
            ),
            self.now,
        )
        publish(
            self.manager,
            decision.id,
            {"published_on": opened + timedelta(days=10)},
            self.now,
        )
        self.counts["cases"] = 1
