"""Benchmark of the annual report on SQLite and PostgreSQL: target under 1 s.

Builds one agency with five years of records at ten times seed 002's yearly volume (589
inspections, 20 on-site measures, 277 rectification orders, 285 re-inspections, 100 cases, 80
decisions, 89 legal reviews, 15 exemptions, 6 complaints, 3 transfers a year, times 10),
bulk-loaded with Core inserts (SQLite, a scratch file) and COPY (PostgreSQL, a scratch
database made and dropped with scripts/pg_database.py). Then times, for the last year with the
one before beside it:

- the report service (``reports.annual_report``), each run in a fresh session;
- ``GET /api/v1/reports/annual`` as JSON, CSV and XLSX through the Flask test client;

and prints the median and p95 of each with PASS/FAIL against the 1 s target.

Usage: ``.venv/bin/python scripts/bench_report.py [--scale 1.0] [--years 5] [--runs 20]
[--database sqlite|postgresql|both] [--keep]``. ``--scale 0.05`` is a quick smoke run.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from random import Random
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import sqlalchemy as sa  # noqa: E402

TARGET_MS = 1000.0
LAST_YEAR = 2025
# The report is read in the middle of the following year.
NOW = datetime(LAST_YEAR + 1, 3, 2, 2, 0, tzinfo=UTC)
BEIJING = timedelta(hours=8)
PASSWORD = "bench-pass-1"

# Seed 002's year (its text and tables), per kind of record.
SEED_002_YEAR = {
    "inspections": 589,
    "onsite_measures": 20,
    "stops": 3,
    "rectification_orders": 277,
    "reinspections": 285,
    "cases": 100,
    "entity_decisions": 32,
    "individual_decisions": 48,
    "legal_reviews": 89,
    "exemptions": 15,
    "complaints": 6,
    "transfers": 3,
}
ENTERPRISES_PER_INSPECTION = 0.5
KEY_SHARE = 0.1


def _uuid(rng: Random) -> uuid.UUID:
    return uuid.UUID(int=rng.getrandbits(128), version=4)


def _moment(rng: Random, year: int) -> datetime:
    """A working-hours moment of ``year`` in China, as UTC."""
    day = date(year, 1, 1) + timedelta(days=rng.randrange(360))
    return (
        datetime(day.year, day.month, day.day, 9, tzinfo=UTC)
        - BEIJING
        + timedelta(minutes=rng.randrange(480))
    )


class Rows:
    """Rows per table, completed from the models' column defaults, in insertion order."""

    def __init__(self, metadata: sa.MetaData) -> None:
        self.metadata = metadata
        self.tables: dict[str, list[dict[str, Any]]] = {}

    def add(self, table: str, **values: Any) -> dict[str, Any]:
        columns = self.metadata.tables[table].columns
        row: dict[str, Any] = {}
        for column in columns:
            # A scalar or a callable default, each with its ``arg``.
            default: Any = column.default
            if column.name in values:
                row[column.name] = values[column.name]
            elif default is not None and default.is_scalar:
                row[column.name] = default.arg
            elif default is not None and default.is_callable:
                row[column.name] = default.arg(None)
            else:
                row[column.name] = None
        unknown = set(values) - set(row)
        if unknown:
            raise KeyError(f"{table}: no columns {sorted(unknown)}")
        self.tables.setdefault(table, []).append(row)
        return row

    def count(self) -> int:
        return sum(len(r) for r in self.tables.values())


def build(rows: Rows, agency_id: uuid.UUID, people: dict[str, Any], scale: float, years: int):
    """Five years of one agency's enforcement records, at ``scale`` × ten × seed 002."""
    rng = Random(20240101)
    per_year = {k: max(1, round(v * 10 * scale)) for k, v in SEED_002_YEAR.items()}
    n_enterprises = max(10, round(per_year["inspections"] * ENTERPRISES_PER_INSPECTION))
    created = datetime(2020, 1, 1, tzinfo=UTC)
    enterprises = []
    for i in range(n_enterprises):
        key = i < n_enterprises * KEY_SHARE
        enterprises.append(
            rows.add(
                "enterprises",
                id=_uuid(rng),
                agency_id=agency_id,
                uscc=f"91430{i:013d}",
                name=f"基准企业{i:05d}有限公司",
                industry="machinery",
                is_key=key,
                risk_grade=rng.choice(("good", "good", "medium", "poor")),
                credit_rating=rng.choice(("A", "A", "B", "C")),
                created_at=created,
                updated_at=created,
            )["id"]
        )
    key_enterprises = enterprises[: int(n_enterprises * KEY_SHARE)]
    ordinary = enterprises[len(key_enterprises) :]
    inspector = people["inspectors"][0]
    team = [str(u) for u in people["inspectors"][:2]]
    manager = people["manager"]
    serials: dict[tuple[str, int], int] = {}

    def serial(kind: str, year: int) -> int:
        serials[(kind, year)] = serials.get((kind, year), 0) + 1
        return serials[(kind, year)]

    def record(table: str, at: datetime, **values: Any) -> dict[str, Any]:
        return rows.add(
            table,
            id=_uuid(rng),
            agency_id=agency_id,
            created_by=inspector,
            created_at=at,
            updated_at=at,
            **values,
        )

    def document(doc_type: str, inspection: dict[str, Any], at: datetime, hazards, **body):
        year = (at + BEIJING).year
        n = serial(doc_type, year)
        return record(
            "documents",
            at,
            type=doc_type,
            inspection_id=inspection["id"],
            enterprise_id=inspection["enterprise_id"],
            hazard_ids=hazards,
            issued_at=at,
            provisional_number=f"临-{n}",
            year=year,
            serial=n,
            number=f"（基准）应急{doc_type}〔{year}〕{n}号",
            body=body,
        )

    for year in range(LAST_YEAR - years + 1, LAST_YEAR + 1):
        plan_id = _uuid(rng)
        rows.add(
            "annual_plans",
            id=plan_id,
            agency_id=agency_id,
            year=year,
            planned_general=round(per_year["inspections"] * 0.8),
            yearly_caps={"credit:A": 2, "risk:poor": 4},
            created_at=created,
            updated_at=created,
        )
        for e in key_enterprises:
            rows.add(
                "annual_plan_items",
                plan_id=plan_id,
                enterprise_id=e,
                planned=2,
                agency_id=agency_id,
            )

        inspections = []
        for n in range(per_year["inspections"]):
            at = _moment(rng, year)
            key_visit = n < 2 * len(key_enterprises)
            enterprise = (
                key_enterprises[n % len(key_enterprises)] if key_visit else rng.choice(ordinary)
            )
            kind = "key" if key_visit else rng.choice(("random",) * 8 + ("complaint", "joint"))
            inspections.append(
                record(
                    "inspections",
                    at,
                    enterprise_id=enterprise,
                    kind=kind,
                    started_at=at,
                    ended_at=at + timedelta(hours=2),
                    inspector_ids=team,
                )
            )

        for n, inspection in enumerate(inspections):
            ordered = n < per_year["rectification_orders"]
            found = inspection["started_at"]
            closed = found + timedelta(days=20) if ordered or rng.random() < 0.9 else None
            hazard = record(
                "hazards",
                found,
                inspection_id=inspection["id"],
                enterprise_id=inspection["enterprise_id"],
                industry="machinery",  # the enterprise's, kept on the hazard
                level="major" if rng.random() < 0.01 else "general",
                description="消防通道堆放杂物",
                fixed_on_spot=not ordered,
                found_at=found,
                lifecycle={"status": "closed" if closed else "ordered"},
                status="closed" if closed else "ordered",
                deadline=(found + BEIJING).date() + timedelta(days=15) if ordered else None,
                closed_at=closed,
            )
            if ordered:
                document(
                    "rectification_order",
                    inspection,
                    found,
                    [str(hazard["id"])],
                    deadline=hazard["deadline"].isoformat(),
                )
        for n in range(per_year["reinspections"]):
            inspection = inspections[n % per_year["rectification_orders"]]
            document(
                "reinspection_opinion",
                inspection,
                inspection["started_at"]
                + timedelta(days=5 + n // per_year["rectification_orders"]),
                [],
                outcome="pass",
            )
        for n in range(per_year["onsite_measures"]):
            inspection = inspections[-1 - n]
            stop = n < per_year["stops"]
            document(
                "onsite_measures",
                inspection,
                inspection["started_at"],
                [],
                measures=["stop_production"] if stop else ["immediate_fix"],
                **({"prudence": "shortened_time"} if stop else {}),
            )

        decisions = per_year["entity_decisions"] + per_year["individual_decisions"]
        for n in range(per_year["cases"]):
            opened = date(year, 1, 5) + timedelta(days=n % 340)
            enterprise = rng.choice(ordinary)
            at = datetime.combine(opened, datetime.min.time(), UTC)
            case_id = _uuid(rng)
            outcome = (
                "decided"
                if n < decisions
                else "exempted"
                if n < decisions + per_year["exemptions"]
                else "open"
            )
            transferred = n >= per_year["cases"] - per_year["transfers"]
            rows.add(
                "penalty_cases",
                id=case_id,
                agency_id=agency_id,
                enterprise_id=enterprise,
                opened_on=opened,
                source="inspection",
                status=outcome,
                closed_on=opened + timedelta(days=5) if outcome != "open" else None,
                transferred_on=opened + timedelta(days=9) if transferred else None,
                transferred_to="公安机关" if transferred else "",
                opened_by=inspector,
                created_at=at,
                updated_at=at,
            )
            if n < per_year["legal_reviews"]:
                rows.add(
                    "legal_reviews",
                    id=_uuid(rng),
                    agency_id=agency_id,
                    case_id=case_id,
                    reviewed_on=opened + timedelta(days=3),
                    opinion="approved",
                    reviewer_id=manager,
                    created_at=at,
                    updated_at=at,
                )
            decided = opened + timedelta(days=5)
            if outcome == "decided":
                on_entity = n < per_year["entity_decisions"]
                fine = rng.randrange(100_000, 5_000_000, 100)
                published = datetime.combine(decided, datetime.min.time(), UTC) + timedelta(
                    days=rng.choice((1, 2, 3, 12))
                )
                deadline = decided + timedelta(days=9)
                s = serial("penalty_decision", year)
                rows.add(
                    "penalty_decisions",
                    id=_uuid(rng),
                    agency_id=agency_id,
                    case_id=case_id,
                    enterprise_id=enterprise,
                    decided_on=decided,
                    year=year,
                    serial=s,
                    number=f"（基准）应急罚〔{year}〕{s}号",
                    entity_fine_fen=fine if on_entity else 0,
                    individual_fine_fen=0 if on_entity else fine,
                    individuals=[]
                    if on_entity
                    else [{"name": "责任人", "title": "", "fine_fen": fine}],
                    other_penalties=["confiscation"] if on_entity and n % 7 == 0 else [],
                    confiscated_fen=50_000 if on_entity and n % 7 == 0 else 0,
                    accident=n % 10 == 0,
                    lenient=n % 13 == 0,
                    publication_deadline=deadline,
                    published_on=published.date(),
                    published_at=published,
                    published_late=published.date() > deadline,
                    issued_by=manager,
                    created_at=at,
                    updated_at=at,
                )
            elif outcome == "exempted":
                rows.add(
                    "penalty_exemptions",
                    id=_uuid(rng),
                    agency_id=agency_id,
                    case_id=case_id,
                    enterprise_id=enterprise,
                    decided_on=decided,
                    party="entity",
                    list_item="免罚清单第3项",
                    amount_not_imposed_fen=250_000,
                    decided_by=manager,
                    created_at=at,
                    updated_at=at,
                )
        for n in range(per_year["complaints"]):
            received = date(year, 2, 1) + timedelta(days=n % 300)
            at = datetime.combine(received, datetime.min.time(), UTC)
            rows.add(
                "complaints",
                id=_uuid(rng),
                agency_id=agency_id,
                received_on=received,
                channel="phone",
                summary="群众举报",
                handled_on=received + timedelta(days=3),
                recorded_by=inspector,
                created_at=at,
                updated_at=at,
            )


def _chunks(items: list[dict[str, Any]], size: int = 5000) -> Iterator[list[dict[str, Any]]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def load_sqlite(engine: sa.Engine, rows: Rows) -> None:
    with engine.begin() as conn:
        for name, items in rows.tables.items():
            table = rows.metadata.tables[name]
            for chunk in _chunks(items):
                conn.execute(table.insert(), chunk)


def load_postgresql(url: str, rows: Rows) -> None:
    import psycopg

    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://")) as conn:
        with conn.cursor() as cur:
            for name, items in rows.tables.items():
                table = rows.metadata.tables[name]
                columns = [c for c in table.columns]
                json_columns = {c.name for c in columns if isinstance(c.type, sa.JSON)}
                names = ", ".join(f'"{c.name}"' for c in columns)
                with cur.copy(f'COPY "{name}" ({names}) FROM STDIN') as copy:
                    for row in items:
                        copy.write_row(
                            [
                                json.dumps(row[c.name]) if c.name in json_columns else row[c.name]
                                for c in columns
                            ]
                        )
        conn.commit()
        conn.autocommit = True
        conn.execute("VACUUM ANALYZE")


def _stats(times: list[float]) -> tuple[float, float]:
    ordered = sorted(times)
    p95 = ordered[max(int(round(0.95 * len(ordered))) - 1, 0)]
    return statistics.median(ordered), p95


def run(database: str, url: str, scale: float, years: int, runs: int) -> list[tuple[str, bool]]:
    from flask_migrate import upgrade

    from server import create_app
    from server.domain.permissions import Principal
    from server.extensions import db
    from server.models.scoping import bind_agency
    from server.services import accounts, reports
    from server.services.passwords import use_cheap_hashing

    use_cheap_hashing()
    app = create_app(
        {"SQLALCHEMY_DATABASE_URI": url, "SCHEDULER_ENABLED": False, "SECRET_KEY": "bench"}
    )
    with app.app_context():
        upgrade(directory=str(ROOT / "server" / "migrations"), revision="head")
        agency = accounts.create_agency("bench", "基准测试应急管理局", "基准")
        manager = accounts.create_user(
            username="bench-manager", agency_code="bench", role="manager", password=PASSWORD
        )
        inspectors = [
            accounts.create_user(
                username=f"bench-inspector-{i}",
                agency_code="bench",
                role="inspector",
                password=PASSWORD,
                cert_no=f"1201{i:06d}",
            ).id
            for i in range(4)
        ]
        agency_id, manager_id = agency.id, manager.id
        rows = Rows(db.metadata)
        build(rows, agency_id, {"manager": manager_id, "inspectors": inspectors}, scale, years)
        started = time.perf_counter()
        if database == "sqlite":
            load_sqlite(db.engine, rows)
        else:
            db.session.remove()
            load_postgresql(url, rows)
        loaded = time.perf_counter() - started
        inspections = len(rows.tables["inspections"])
        print(
            f"\n{database}: {rows.count():,} rows loaded in {loaded:.1f} s "
            f"({inspections:,} inspections over {years} years, scale {scale})",
            flush=True,
        )
        principal = Principal(
            user_id=manager_id, agency_id=agency_id, role="manager", username="bench-manager"
        )

        def service() -> None:
            db.session.remove()
            bind_agency(db.session, agency_id)
            reports.annual_report(principal, LAST_YEAR, NOW)

        results = [("report service", _timed(service, runs))]
        db.session.remove()

    client = app.test_client()
    login = client.post(
        "/api/v1/auth/login",
        json={"username": "bench-manager", "password": PASSWORD, "device_id": "bench"},
    )
    headers = {"Authorization": f"Bearer {login.get_json()['access_token']}"}
    for fmt in ("json", "csv", "xlsx"):

        def get(fmt: str = fmt) -> None:
            response = client.get(
                "/api/v1/reports/annual",
                query_string={"year": LAST_YEAR, "format": fmt},
                headers=headers,
            )
            assert response.status_code == 200, response.get_data(as_text=True)[:300]

        results.append((f"GET /api/v1/reports/annual {fmt}", _timed(get, runs)))

    verdicts = []
    for name, times in results:
        median, p95 = _stats(times)
        ok = p95 < TARGET_MS
        verdicts.append((f"{database}: {name}", ok))
        print(
            f"{database:<10} {name:<34} median {median:8.1f} ms   p95 {p95:8.1f} ms   "
            f"{'PASS' if ok else 'FAIL'} (< {TARGET_MS:.0f} ms)",
            flush=True,
        )
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
    return verdicts


def _timed(fn: Callable[[], Any], runs: int) -> list[float]:
    fn()  # warm up: the first request compiles templates and statements
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        times.append((time.perf_counter() - started) * 1000)
    return times


def _pg_database(action: str, name: str) -> None:
    subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "pg_database.py"), action, name], check=True
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0, help="of 10 × seed 002's year")
    parser.add_argument("--years", type=int, default=5)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--database", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--pg-name", default="bench_report", help="scratch PostgreSQL database")
    parser.add_argument("--keep", action="store_true", help="keep the scratch databases")
    args = parser.parse_args(argv)
    verdicts: list[tuple[str, bool]] = []
    if args.database in ("sqlite", "both"):
        scratch = Path(tempfile.mkdtemp(prefix="bench_report_"))
        path = scratch / "report.db"
        try:
            verdicts += run("sqlite", f"sqlite:///{path}", args.scale, args.years, args.runs)
        finally:
            if args.keep:
                print(f"kept {path}")
            else:
                shutil.rmtree(scratch, ignore_errors=True)
    if args.database in ("postgresql", "both"):
        _pg_database("drop", args.pg_name)
        _pg_database("create", args.pg_name)
        host = os.environ.get("BENCH_PG_HOST", "127.0.0.1:5432")
        try:
            verdicts += run(
                "postgresql",
                f"postgresql+psycopg://{host}/{args.pg_name}",
                args.scale,
                args.years,
                args.runs,
            )
        finally:
            if not args.keep:
                _pg_database("drop", args.pg_name)
    failed = [name for name, ok in verdicts if not ok]
    print(f"\n{'FAIL: ' + ', '.join(failed) if failed else 'PASS: every p95 < 1 s'}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
