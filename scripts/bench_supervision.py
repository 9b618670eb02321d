"""Benchmark of the supervisor's alert page and monthly report over a city's entries.

Loads a deployment of A agencies (default 10, a city and its districts) that share E
enterprises (default 5,000, each registered by two agencies) and N inspections (default
40,000 over the last two years, one in ten without a scan, some scanned late) into a scratch
database, then times, through the pages, and prints p50/p95 against a target of p95 < 2 s:

- the alert list (entries from the start of last year: the default view);
- the alert CSV export;
- one agency's monthly report as XLSX.

Usage: ``.venv/bin/python scripts/bench_supervision.py [--inspections N] [--runs R]
[--database-url URL]`` (SQLite in a temporary file unless a URL is given; the URL's database
is emptied first). Exits 1 when a target is missed.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from random import Random

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import sqlalchemy as sa  # noqa: E402
from flask_migrate import upgrade  # noqa: E402

from server import create_app  # noqa: E402
from server.extensions import db  # noqa: E402
from server.models import Agency, Enterprise, Inspection, Scan, Supervisor, User  # noqa: E402
from server.services import supervision  # noqa: E402
from server.services.demo import make_uscc  # noqa: E402
from server.services.passwords import use_cheap_hashing  # noqa: E402

NOW = datetime(2026, 6, 15, 2, 0, tzinfo=UTC)
TARGET_P95 = 2.0
PASSWORD = "bench-password-1"


def _load(agencies: int, enterprises: int, inspections: int, rng: Random) -> uuid.UUID:
    now = NOW
    agency_ids = [uuid.uuid4() for _ in range(agencies)]
    db.session.execute(
        sa.insert(Agency),
        [
            {
                "id": a,
                "code": f"a{i}",
                "name": f"第{i}区应急管理局",
                "abbr": f"区{i}",
                "timezone": "Asia/Shanghai",
                "settings": {},
                "created_at": now,
                "updated_at": now,
            }
            for i, a in enumerate(agency_ids)
        ],
    )
    users = {a: uuid.uuid4() for a in agency_ids}
    db.session.execute(
        sa.insert(User),
        [
            {
                "id": u,
                "agency_id": a,
                "username": f"insp-{i}",
                "password_hash": "x",
                "role": "inspector",
                "full_name": f"执法{i}",
                "unit": "",
                "cert_no": f"C{i}",
                "active": True,
                "created_at": now,
                "updated_at": now,
            }
            for i, (a, u) in enumerate(users.items())
        ],
    )
    firms: list[tuple[uuid.UUID, uuid.UUID]] = []
    rows = []
    for _ in range(enterprises):
        uscc = make_uscc(rng)
        for agency in rng.sample(agency_ids, 2):
            firm = uuid.uuid4()
            firms.append((firm, agency))
            rows.append(
                {
                    "id": firm,
                    "agency_id": agency,
                    "uscc": uscc,
                    "name": f"企业{uscc[-6:]}",
                    "address": "",
                    "region": "",
                    "industry": "machinery",
                    "legal_representative": "",
                    "contact_phone": "",
                    "is_key": False,
                    "risk_grade": "good",
                    "credit_rating": rng.choice("AABC"),
                    "seriously_dishonest": False,
                    "entry_code_version": 1,
                    "version": 1,
                    "created_at": now,
                    "updated_at": now,
                }
            )
    db.session.execute(sa.insert(Enterprise), rows)
    scans, visits = [], []
    for _ in range(inspections):
        firm, agency = rng.choice(firms)
        started = now - timedelta(minutes=rng.randrange(2 * 365 * 24 * 60))
        base = {
            "agency_id": agency,
            "version": 1,
            "field_versions": {},
            "created_by": users[agency],
            "created_at": started,
            "updated_at": started,
        }
        scan_id = None
        if rng.random() > 0.1:
            scan_id = uuid.uuid4()
            late = timedelta(minutes=40) if rng.random() < 0.02 else timedelta(minutes=-3)
            scans.append(
                {
                    **base,
                    "id": scan_id,
                    "enterprise_id": firm,
                    "code_version": 1,
                    "scanned_at": started + late,
                    "received_at": started + late,
                    "inspector_ids": [],
                    "warnings": [],
                }
            )
        visits.append(
            {
                **base,
                "id": uuid.uuid4(),
                "enterprise_id": firm,
                "scan_id": scan_id,
                "kind": "random",
                "started_at": started,
                "place": "",
                "inspector_ids": [],
                "items": [],
                "findings": "",
                "signature_attachments": [],
            }
        )
    for chunk in range(0, len(scans), 5000):
        db.session.execute(sa.insert(Scan), scans[chunk : chunk + 5000])
    for chunk in range(0, len(visits), 5000):
        db.session.execute(sa.insert(Inspection), visits[chunk : chunk + 5000])
    db.session.commit()
    supervision.create_supervisor("bench", PASSWORD)
    return agency_ids[0]


def _time(runs: int, call) -> tuple[float, float]:
    took = []
    for _ in range(runs):
        start = time.perf_counter()
        call()
        took.append(time.perf_counter() - start)
    took.sort()
    return statistics.median(took), took[max(0, int(len(took) * 0.95) - 1)]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--agencies", type=int, default=10)
    parser.add_argument("--enterprises", type=int, default=5000)
    parser.add_argument("--inspections", type=int, default=40_000)
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--database-url")
    args = parser.parse_args()
    use_cheap_hashing()
    with tempfile.TemporaryDirectory() as scratch:
        url = args.database_url or f"sqlite:///{scratch}/bench.db"
        app = create_app(
            {
                "SQLALCHEMY_DATABASE_URI": url,
                "SECRET_KEY": "bench",
                "SCHEDULER_ENABLED": False,
                "ATTACHMENTS_DIR": f"{scratch}/attachments",
            }
        )
        with app.app_context():
            db.drop_all()
            with db.engine.begin() as conn:
                conn.execute(sa.text("DROP TABLE IF EXISTS alembic_version"))
            upgrade(directory=str(ROOT / "server" / "migrations"), revision="head")
            started = time.perf_counter()
            agency = _load(args.agencies, args.enterprises, args.inspections, Random(7))
            assert db.session.scalar(sa.select(sa.func.count(Supervisor.id))) == 1
            print(
                f"loaded {args.inspections} inspections, {args.enterprises * 2} registrations, "
                f"{args.agencies} agencies on {db.engine.dialect.name} in "
                f"{time.perf_counter() - started:.1f} s"
            )
            found = supervision.alerts(NOW)
            print(f"alerts from the start of last year: {len(found)}")
        client = app.test_client()
        page = client.get("/supervise/login").get_data(as_text=True)
        token = page.split('name="csrf_token" value="')[1].split('"')[0]
        client.post(
            "/supervise/login",
            data={"csrf_token": token, "username": "bench", "password": PASSWORD},
        )
        month = f"{NOW:%Y-%m}"
        cases = {
            "alert list": "/supervise/",
            "alert CSV": "/supervise/alerts.csv",
            "monthly report XLSX": f"/supervise/report.xlsx?agency={agency}&month={month}",
        }
        failed = False
        for name, path in cases.items():
            assert client.get(path).status_code == 200, path
            p50, p95 = _time(args.runs, lambda path=path: client.get(path))
            ok = p95 < TARGET_P95
            failed |= not ok
            print(
                f"{name:<22} p50 {p50 * 1000:7.0f} ms  p95 {p95 * 1000:7.0f} ms  "
                f"{'PASS' if ok else 'FAIL'} (p95 < {TARGET_P95:.0f} s)"
            )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
