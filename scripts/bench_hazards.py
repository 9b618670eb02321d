"""Benchmark of the manager's hazard queries and the daily overdue job on PostgreSQL.

Loads N hazards (default 1,000,000) over M enterprises (default 50,000) of one agency into a
scratch database with COPY, then times, through the service layer:

- open + overdue hazards of one industry (the overdue page), and open hazards of one industry;
- one enterprise's history, and one hazard with its full history;
- the aggregates of a year and the 12-month open/closed series (the dashboard);
- the daily overdue job, first run and an idempotent second run.

Usage: ``.venv/bin/python scripts/bench_hazards.py [--hazards N] [--enterprises M] [--keep]``.
The database ``bench_hazards`` on ``PG_ADMIN_URL``'s server is created and dropped unless
``--database-url`` names an existing one.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from random import Random
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import psycopg  # noqa: E402

from server.domain.enterprises import INDUSTRIES  # noqa: E402

TODAY = date(2026, 1, 15)
# 09:05 in Beijing on TODAY: when the job and the manager look.
NOW = datetime(2026, 1, 15, 1, 5, tzinfo=UTC)
FIRST_DAY = date(2021, 1, 1)
BEIJING = timedelta(hours=8)
INSPECTORS = 200
PER_INSPECTION = 4

ENTERPRISE_COLUMNS = (
    "id agency_id uscc name address region industry legal_representative contact_phone "
    "is_key risk_grade credit_rating seriously_dishonest entry_code_version version "
    "created_at updated_at"
).split()
INSPECTION_COLUMNS = (
    "id agency_id version field_versions created_by created_at updated_at enterprise_id kind "
    "started_at ended_at place inspector_ids items findings signature_attachments"
).split()
HAZARD_COLUMNS = (
    "id agency_id version field_versions created_by created_at updated_at inspection_id "
    "enterprise_id level description location legal_basis photo_attachments fixed_on_spot "
    "found_at lifecycle status deadline supervised closed_at"
).split()
DESCRIPTIONS = (
    "配电箱未上锁，无警示标识",
    "消防通道堆放杂物",
    "储罐区未设置可燃气体报警器",
    "冲压机光电保护装置失效",
    "有限空间作业未审批",
    "安全出口指示灯损坏",
)


def _uuid(rng: Random) -> uuid.UUID:
    return uuid.UUID(int=rng.getrandbits(128), version=4)


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def _hazard(rng: Random, found_at: datetime, level: str) -> dict[str, Any]:
    """A plausible lifecycle for a hazard of this age: old ones mostly closed."""
    found_on = (found_at + BEIJING).date()
    age = (TODAY - found_on).days
    closed_share = 0.97 if age > 365 else 0.85 if age > 90 else 0.4
    state: dict[str, Any] = {
        "level": level,
        "found_at": found_at.isoformat(),
        "status": "found",
        "deadline": None,
        "ordered_on": None,
        "order_count": 0,
        "reported_at": None,
        "last_reinspection": None,
        "reinspected_at": None,
        "failed_reinspections": 0,
        "supervised": False,
        "plan": None,
        "stop": None,
        "closed_how": None,
        "closed_at": None,
        "signed_off_by": None,
    }
    if rng.random() < 0.3:
        closed_at = found_at + timedelta(hours=2)
        if rng.random() < closed_share:
            state.update(status="closed", closed_how="fixed_on_spot", closed_at=_iso(closed_at))
            return state
    if rng.random() < 0.08 and age < 60:
        return state
    deadline = found_on + timedelta(days=rng.choice((7, 15, 30, 60)))
    state.update(status="ordered", deadline=deadline.isoformat(), ordered_on=found_on.isoformat())
    state["order_count"] = 1
    if rng.random() < closed_share:
        done = min(found_at + timedelta(days=rng.randint(3, 70)), NOW - timedelta(days=1))
        state.update(
            status="closed",
            reported_at=_iso(done - timedelta(days=2)),
            last_reinspection="pass",
            reinspected_at=_iso(done),
            closed_how="signed_off" if level == "major" else "reinspection_passed",
            closed_at=_iso(done),
        )
        return state
    roll = rng.random()
    if roll < 0.25 and deadline < TODAY:
        reported = datetime.combine(deadline, datetime.min.time(), UTC) - timedelta(days=1)
        state.update(status="reported", reported_at=_iso(max(reported, found_at)))
    elif roll < 0.3 and level == "major":
        state.update(status="pending_sign_off", last_reinspection="pass")
    if level == "major" and state["status"] != "closed" and rng.random() < 0.5:
        state["supervised"] = True
        state["plan"] = {
            "responsible_person": "企业主要负责人",
            "measures": "停用设备，更换部件",
            "funds_fen": 5_000_000,
            "deadline": (found_on + timedelta(days=180)).isoformat(),
            "emergency_arrangements": "设置警戒区",
        }
    return state


def load(url: str, hazards: int, enterprises: int, seed: int = 7) -> dict[str, Any]:
    """Create the agency and its people with the app, the bulk rows with COPY."""
    from flask_migrate import upgrade

    from server import create_app
    from server.extensions import db
    from server.services import accounts

    app = create_app(
        {"SQLALCHEMY_DATABASE_URI": url, "SCHEDULER_ENABLED": False, "SECRET_KEY": "bench"}
    )
    rng = Random(seed)
    with app.app_context():
        upgrade(directory=str(ROOT / "server" / "migrations"), revision="head")
        agency = accounts.create_agency("bench", "基准测试应急管理局", "基准")
        manager = accounts.create_user(
            username="bench-manager", agency_code="bench", role="manager", password="bench-pass-1"
        )
        inspectors = [
            accounts.create_user(
                username=f"bench-inspector-{i}",
                agency_code="bench",
                role="inspector",
                password="bench-pass-1",
                cert_no=f"1201{i:06d}",
            ).id
            for i in range(INSPECTORS)
        ]
        agency_id, manager_id = agency.id, manager.id
        db.session.remove()
        db.engine.dispose()

    psycopg_url = url.replace("postgresql+psycopg://", "postgresql://")
    industries = list(INDUSTRIES)
    started = time.perf_counter()
    with psycopg.connect(psycopg_url) as conn:
        dropped = _drop_indexes(conn, ("enterprises", "inspections", "hazards", "record_members"))
        try:
            conn.execute("SET session_replication_role = replica")  # no FK checks while loading
        except psycopg.Error:
            conn.rollback()
        created = datetime(2020, 12, 1, tzinfo=UTC)
        enterprise_ids = [_uuid(rng) for _ in range(enterprises)]
        enterprise_industry = [rng.choice(industries) for _ in range(enterprises)]
        with conn.cursor() as cur:
            with cur.copy(f"COPY enterprises ({', '.join(ENTERPRISE_COLUMNS)}) FROM STDIN") as cp:
                for i, eid in enumerate(enterprise_ids):
                    cp.write_row(
                        (
                            eid,
                            agency_id,
                            f"91120{i:013d}",
                            f"基准企业{i:05d}有限公司",
                            "",
                            "",
                            enterprise_industry[i],
                            "",
                            "",
                            i % 20 == 0,
                            "good",
                            "A",
                            False,
                            1,
                            1,
                            created,
                            created,
                        )
                    )
            span = (TODAY - FIRST_DAY).days * 86400
            base = datetime.combine(FIRST_DAY, datetime.min.time(), UTC) - BEIJING
            inspection_count = hazards // PER_INSPECTION
            inspections = []
            with cur.copy(f"COPY inspections ({', '.join(INSPECTION_COLUMNS)}) FROM STDIN") as cp:
                for _ in range(inspection_count):
                    iid = _uuid(rng)
                    e = rng.randrange(enterprises)
                    at = base + timedelta(seconds=rng.randrange(span))
                    team = rng.sample(inspectors, 2)
                    inspections.append((iid, enterprise_ids[e], at, team))
                    cp.write_row(
                        (
                            iid,
                            agency_id,
                            1,
                            "{}",
                            team[0],
                            at,
                            at,
                            enterprise_ids[e],
                            "random",
                            at,
                            at + timedelta(hours=2),
                            "",
                            json.dumps([str(t) for t in team]),
                            "[]",
                            "",
                            "[]",
                        )
                    )
            with cur.copy("COPY record_members (entity, record_id, user_id) FROM STDIN") as cp:
                for iid, _, _, team in inspections:
                    for user in team:
                        cp.write_row(("inspection", iid, user))
            with cur.copy(f"COPY hazards ({', '.join(HAZARD_COLUMNS)}) FROM STDIN") as cp:
                for n in range(hazards):
                    iid, eid, at, team = inspections[n % inspection_count]
                    level = "major" if rng.random() < 0.015 else "general"
                    state = _hazard(rng, at, level)
                    cp.write_row(
                        (
                            _uuid(rng),
                            agency_id,
                            1,
                            "{}",
                            team[0],
                            at,
                            at,
                            iid,
                            eid,
                            level,
                            rng.choice(DESCRIPTIONS),
                            "车间",
                            "《安全生产法》",
                            "[]",
                            state["closed_how"] == "fixed_on_spot",
                            at,
                            json.dumps(state),
                            state["status"],
                            state["deadline"],
                            state["supervised"],
                            state["closed_at"],
                        )
                    )
        conn.execute("SET session_replication_role = DEFAULT")
        loaded = time.perf_counter() - started
        started = time.perf_counter()
        for statement in dropped:
            conn.execute(statement)
        conn.commit()
        conn.autocommit = True
        conn.execute("VACUUM ANALYZE")
        indexed = time.perf_counter() - started
    return {
        "app": app,
        "agency_id": agency_id,
        "manager_id": manager_id,
        "enterprise_ids": enterprise_ids,
        "load_s": loaded,
        "index_s": indexed,
    }


def _drop_indexes(conn: psycopg.Connection, tables: tuple[str, ...]) -> list[str]:
    """Drop the plain indexes of ``tables``; returns the statements that rebuild them."""
    rows = conn.execute(
        """SELECT i.indexname, i.indexdef FROM pg_indexes i
           JOIN pg_class c ON c.relname = i.indexname
           JOIN pg_index x ON x.indexrelid = c.oid
           WHERE i.tablename = ANY(%s) AND NOT x.indisprimary AND NOT x.indisunique""",
        (list(tables),),
    ).fetchall()
    for name, _ in rows:
        conn.execute(f'DROP INDEX "{name}"')
    return [definition for _, definition in rows]


def _timed(fn: Callable[[], Any], runs: int, reset: Callable[[], None]) -> list[float]:
    times = []
    for _ in range(runs):
        reset()
        started = time.perf_counter()
        fn()
        times.append((time.perf_counter() - started) * 1000)
    return times


def _report(name: str, times: list[float]) -> str:
    ordered = sorted(times)
    p95 = ordered[max(int(round(0.95 * len(ordered))) - 1, 0)]
    line = f"{name:<44} p50 {statistics.median(ordered):8.1f} ms   p95 {p95:8.1f} ms"
    print(line, flush=True)
    return line


def measure(ctx: dict[str, Any], runs: int, seed: int = 11) -> None:
    from server.domain.permissions import Principal
    from server.extensions import db
    from server.models.scoping import bind_agency
    from server.services import escalation, hazards

    app = ctx["app"]
    rng = Random(seed)
    principal = Principal(
        user_id=ctx["manager_id"], agency_id=ctx["agency_id"], role="manager", username="m"
    )
    industries = list(INDUSTRIES)

    with app.app_context():

        def reset() -> None:
            # A fresh session per request, fenced to the agency as a request's would be.
            db.session.remove()
            bind_agency(db.session, ctx["agency_id"])

        def overdue_industry() -> None:
            filters = hazards.HazardFilters(overdue=True, industry=rng.choice(industries))
            hazards.list_hazards(principal, filters, sort="deadline", now=NOW)

        def open_industry() -> None:
            filters = hazards.HazardFilters(status="open", industry=rng.choice(industries))
            hazards.list_hazards(principal, filters, now=NOW)

        def enterprise_history() -> None:
            filters = hazards.HazardFilters(enterprise_id=rng.choice(ctx["enterprise_ids"]))
            hazards.list_hazards(principal, filters, now=NOW)

        sample_ids = [
            row[0]
            for row in db.session.execute(
                db.text("SELECT id FROM hazards TABLESAMPLE SYSTEM (1) LIMIT 500")
            )
        ]

        def hazard_history() -> None:
            hazards.hazard_detail(principal, rng.choice(sample_ids), now=NOW)

        def year_aggregates() -> None:
            hazards.aggregates(principal, year=2025, now=NOW)

        def all_time_aggregates() -> None:
            hazards.aggregates(principal, now=NOW)

        def dashboard_series() -> None:
            hazards.open_vs_closed(principal, now=NOW)

        print(f"\nqueries through the service layer ({runs} runs each)")
        _report("open + overdue, one industry (page 1)", _timed(overdue_industry, runs, reset))
        _report("open, one industry (page 1)", _timed(open_industry, runs, reset))
        _report("one enterprise's history", _timed(enterprise_history, runs, reset))
        _report("one hazard with its full history", _timed(hazard_history, runs, reset))
        _report("aggregates of a year (2025)", _timed(year_aggregates, max(runs // 2, 5), reset))
        _report("12-month open/closed series", _timed(dashboard_series, max(runs // 2, 5), reset))
        _report("aggregates of all time", _timed(all_time_aggregates, 5, reset))

        db.session.remove()
        started = time.perf_counter()
        first = escalation.run_daily(NOW, webhook_url="")
        first_s = time.perf_counter() - started
        started = time.perf_counter()
        second = escalation.run_daily(NOW, webhook_url="")
        second_s = time.perf_counter() - started
        print("\ndaily overdue job")
        print(f"first run   {first_s:8.2f} s   ({first})")
        print(f"second run  {second_s:8.2f} s   ({second})")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hazards", type=int, default=1_000_000)
    parser.add_argument("--enterprises", type=int, default=50_000)
    parser.add_argument("--runs", type=int, default=40)
    parser.add_argument("--database-url", help="an existing, empty PostgreSQL database")
    parser.add_argument("--keep", action="store_true", help="keep the scratch database")
    args = parser.parse_args(argv)
    name = "bench_hazards"
    url = args.database_url
    if url is None:
        subprocess.run(
            [sys.executable, str(ROOT / "scripts" / "pg_database.py"), "drop", name], check=True
        )
        subprocess.run(
            [sys.executable, str(ROOT / "scripts" / "pg_database.py"), "create", name], check=True
        )
        host = os.environ.get("BENCH_PG_HOST", "127.0.0.1:5432")
        url = f"postgresql+psycopg://{host}/{name}"
    try:
        print(f"loading {args.hazards:,} hazards over {args.enterprises:,} enterprises ...")
        ctx = load(url, args.hazards, args.enterprises)
        print(f"COPY {ctx['load_s']:.1f} s, indexes and ANALYZE {ctx['index_s']:.1f} s")
        measure(ctx, args.runs)
    finally:
        if args.database_url is None and not args.keep:
            subprocess.run(
                [sys.executable, str(ROOT / "scripts" / "pg_database.py"), "drop", name],
                check=False,
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
