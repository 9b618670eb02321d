"""A believable demo agency: a district bureau, its inspectors, and a few hundred enterprises."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa

from server.domain.enterprises import USCC_ALPHABET, uscc_check_character
from server.extensions import db
from server.models import Agency, Enterprise
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


@dataclass(frozen=True)
class SeedSummary:
    created: bool
    agency_code: str
    enterprises: int
    logins: list[tuple[str, str, str]]


def make_uscc(rng: random.Random, division: str = "120104") -> str:
    """A well-formed USCC (registration 9 = market regulation, category 1 = enterprise)."""
    body = "91" + division + "".join(rng.choice(USCC_ALPHABET) for _ in range(9))
    return body + uscc_check_character(body)


def _person(rng: random.Random) -> str:
    return rng.choice(_SURNAMES) + rng.choice(_GIVEN)


def _unit(username: str, role: str) -> str:
    # Two brigades of five inspectors; the lead heads the first.
    if role == "lead":
        return "执法一大队"
    if role == "inspector":
        return "执法一大队" if int(username[-2:]) <= 5 else "执法二大队"
    return ""


def has_any_agency() -> bool:
    return db.session.scalar(sa.select(Agency.id).limit(1)) is not None


def seed_demo(rng: random.Random | None = None, enterprises: int = 240) -> SeedSummary:
    """Create the demo agency unless it exists. Returns the printed login details."""
    rng = rng or random.Random(20240101)
    code, name, abbr = DEMO_AGENCY
    logins = [("lead", "lead"), ("manager", "manager"), ("admin", "admin")] + [
        (f"inspector{i:02d}", "inspector") for i in range(1, 11)
    ]
    if db.session.scalar(sa.select(Agency).where(Agency.code == code)) is not None:
        return SeedSummary(False, code, 0, [(u, r, DEMO_PASSWORD) for u, r in logins])
    accounts.create_agency(code, name, abbr)
    for username, role in logins:
        cert = None
        if role in {"inspector", "lead"}:
            cert = f"12010420{rng.randrange(10**5):05d}"
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
    agency = accounts.get_agency_by_code(code)
    weights = [w for _, w, _ in _INDUSTRIES]
    used: set[str] = set()
    for _ in range(enterprises):
        industry, _, endings = rng.choices(_INDUSTRIES, weights=weights)[0]
        uscc = make_uscc(rng)
        while uscc in used:
            uscc = make_uscc(rng)
        used.add(uscc)
        word = rng.choice(_WORDS) + rng.choice(_WORDS)
        risk = rng.choices(["good", "medium", "poor"], weights=[90, 7, 3])[0]
        credit = rng.choices(["A", "B", "C", "D"], weights=[85, 10, 4, 1])[0]
        db.session.add(
            Enterprise(
                agency_id=agency.id,
                uscc=uscc,
                name=f"天津市{word}{rng.choice(endings)}",
                address=f"天津市南开区{rng.choice(_ROADS)}{rng.randrange(1, 400)}号",
                region=rng.choice(_STREETS),
                industry=industry,
                legal_representative=_person(rng),
                contact_phone=f"022-{rng.randrange(2000_0000, 2999_9999)}",
                latitude=round(39.10 + rng.random() * 0.08, 6),
                longitude=round(117.10 + rng.random() * 0.10, 6),
                is_key=industry == "hazardous_chemicals" or rng.random() < 0.12,
                risk_grade=risk,
                credit_rating=credit,
                seriously_dishonest=credit == "D" and rng.random() < 0.5,
            )
        )
    db.session.commit()
    return SeedSummary(True, code, enterprises, [(u, r, DEMO_PASSWORD) for u, r in logins])
