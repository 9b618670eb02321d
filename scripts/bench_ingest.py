"""Benchmark of push ingest on PostgreSQL against the raw write limit of the same machine.

A scratch PostgreSQL database is migrated (``flask db upgrade``) and served by gunicorn with
the project's own gunicorn.conf.py. For each load (1, 8 and 32 phones in one agency, and 8
phones spread over 8 agencies), two phases run one after the other, in the same run:

- bare rows: as many threads as phones, each on its own connection, insert the data of
  batches of 200 inspections as plain rows of an ``inspections``-like table with
  ``executemany``, one transaction per batch (no ledger, audit, feed, checks or HTTP);
- ours: the phones push batches of 200 ``inspection`` ops (about 700 bytes each) back to
  back to ``POST /api/v1/sync/push``, one connection per phone.

Prints rows/s and ops/s committed in each window, the ratio ours / bare, and the batch
latency (p50, p99) of both. Then, in the same run, one phone's pushes through the app in
this process with every statement timed: the rows a batch writes, table by table, and the
bound they set on one phone's ratio. ``--quick`` runs short phases. The scratch database is created
and dropped through ``PG_ADMIN_URL`` (default postgresql://127.0.0.1:5432/test, as
scripts/pg_database.py).

    .venv/bin/python scripts/bench_ingest.py [--quick] [--seconds S] [--workers N]
"""

from __future__ import annotations

import argparse
import json
import os
import runpy
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import sqlalchemy as sa  # noqa: E402 - the path above makes the checkout importable

from scripts.bench_sync import (  # noqa: E402
    CST,
    PASSWORD,
    PG_ADMIN_URL,
    Agency,
    Device,
    PushTally,
    Server,
    analyze,
    conf_workers,
    create_agency,
    make_app,
    migrate,
    pct,
)
from scripts.device_sim import HttpTransport, login  # noqa: E402

BATCH = 200
# (label, agencies, phones)
LOADS = (
    ("1 phone", 1, 1),
    ("8 phones", 1, 8),
    ("32 phones", 1, 32),
    ("8 phones / 8 agencies", 8, 8),
)


# --- the ops --------------------------------------------------------------------------------


class Batches:
    """Batches of 200 new ``inspection`` ops of one phone: the JSON is made once from a
    template and only the ids change, so the clients spend their time sending."""

    def __init__(self, agency: Agency, phone: int) -> None:
        people = agency.inspectors
        me = people[phone % len(people)][0]
        partner = people[(phone + 1) % len(people)][0]
        self.agency = agency
        self.me = me
        self.enterprises = agency.enterprises
        started = datetime(2025, 3, 3, 9, tzinfo=CST) + timedelta(minutes=phone)
        self.started = started
        self.ended = started + timedelta(hours=2)
        self.data = {
            "enterprise_id": "@ENTERPRISE@",
            "scan_id": None,
            "task_id": None,
            "kind": "random",
            "started_at": started.isoformat(),
            "ended_at": self.ended.isoformat(),
            "place": "生产车间",
            "inspector_ids": [str(me), str(partner)],
            "items": [
                {"item": "配电箱防护", "result": "hazard", "note": "门未关闭"},
            ],
            "findings": "发现一般隐患",
            "representative": {"name": "张伟", "title": "安全科长"},
            "signature_attachments": [],
        }
        op = {
            "op_id": "@OP@",
            "entity": "inspection",
            "id": "@ID@",
            "base_version": None,
            "client_time": self.ended.isoformat(),
            "data": self.data,
        }
        self.template = json.dumps(op, ensure_ascii=False)
        self.n = 0

    def _enterprise(self) -> uuid.UUID:
        self.n += 1
        return self.enterprises[self.n % len(self.enterprises)]

    def op_bytes(self) -> int:
        return len(self._op(uuid.uuid4(), uuid.uuid4(), self.enterprises[0]).encode())

    def _op(self, op_id: uuid.UUID, record_id: uuid.UUID, enterprise: uuid.UUID) -> str:
        return (
            self.template.replace("@OP@", str(op_id))
            .replace("@ID@", str(record_id))
            .replace("@ENTERPRISE@", str(enterprise))
        )

    def body(self, device_id: str) -> bytes:
        ops = ",".join(
            self._op(uuid.uuid4(), uuid.uuid4(), self._enterprise()) for _ in range(BATCH)
        )
        return f'{{"device_id":{json.dumps(device_id)},"schema_version":1,"ops":[{ops}]}}'.encode()

    def rows(self) -> list[dict[str, Any]]:
        """The same data as plain rows of the bare table."""
        now = datetime.now(CST)
        return [
            {
                **self.data,
                "id": uuid.uuid4(),
                "agency_id": self.agency.id,
                "enterprise_id": self._enterprise(),
                "started_at": self.started,
                "ended_at": self.ended,
                "version": 1,
                "created_by": self.me,
                "created_at": now,
                "updated_at": now,
            }
            for _ in range(BATCH)
        ]


def bare_table(metadata: sa.MetaData) -> sa.Table:
    """An ``inspections``-like table: the record's columns, its primary key, no more."""
    return sa.Table(
        "bench_bare_inspections",
        metadata,
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column("agency_id", sa.Uuid, nullable=False),
        sa.Column("enterprise_id", sa.Uuid, nullable=False),
        sa.Column("scan_id", sa.Uuid),
        sa.Column("task_id", sa.Uuid),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True)),
        sa.Column("place", sa.String(300), nullable=False),
        sa.Column("inspector_ids", sa.JSON, nullable=False),
        sa.Column("items", sa.JSON, nullable=False),
        sa.Column("findings", sa.Text, nullable=False),
        sa.Column("representative", sa.JSON),
        sa.Column("signature_attachments", sa.JSON, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("created_by", sa.Uuid, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )


# --- the phases -----------------------------------------------------------------------------


@dataclass
class Phase:
    seconds: float
    committed: int = 0  # rows or ops committed within the window
    latencies: list[float] = field(default_factory=list)
    errors: dict[str, int] = field(default_factory=dict)
    http_5xx: int = 0

    @property
    def rate(self) -> float:
        return self.committed / self.seconds


def run_threads(work: list[Any], seconds: float) -> float:
    """Start one thread per callable (each given the window's end), join them; the end."""
    box = {"stop_at": 0.0}  # set once every thread exists
    start = threading.Event()

    def runner(fn: Any) -> None:
        start.wait()
        fn(box["stop_at"])

    threads = [threading.Thread(target=runner, args=(fn,)) for fn in work]
    for thread in threads:
        thread.start()
    box["stop_at"] = time.perf_counter() + seconds
    start.set()
    for thread in threads:
        thread.join()
    return box["stop_at"]


def bare(engine: sa.Engine, table: sa.Table, sources: list[Batches], seconds: float) -> Phase:
    phase = Phase(seconds)
    lock = threading.Lock()
    insert = table.insert()

    def one(source: Batches) -> Any:
        def run(stop_at: float) -> None:
            with engine.connect() as conn:
                while time.perf_counter() < stop_at:
                    rows = source.rows()
                    began = time.perf_counter()
                    conn.execute(insert, rows)
                    conn.commit()
                    done = time.perf_counter()
                    with lock:
                        phase.latencies.append(done - began)
                        if done <= stop_at:
                            phase.committed += len(rows)

        return run

    run_threads([one(s) for s in sources], seconds)
    return phase


def ours(server: Server, devices: list[Device], sources: list[Batches], seconds: float) -> Phase:
    phase = Phase(seconds)
    tally = PushTally()
    transport = HttpTransport(server.base_url, timeout=300)

    def one(device: Device, source: Batches) -> Any:
        headers = {**device.headers, "Content-Type": "application/json"}

        def run(stop_at: float) -> None:
            while time.perf_counter() < stop_at:
                body = source.body(device.device_id)
                began = time.perf_counter()
                try:
                    reply = transport.request(
                        "POST", "/api/v1/sync/push", headers=headers, data=body
                    )
                except OSError as exc:
                    with tally.lock:
                        tally.errors[f"connection {type(exc).__name__}"] += 1
                    continue
                tally.record(
                    reply.status,
                    reply.json() if reply.status == 200 else None,
                    time.perf_counter() - began,
                )
            transport.close()

        return run

    stop_at = run_threads([one(d, s) for d, s in zip(devices, sources, strict=True)], seconds)
    phase.committed = sum(n for at, n in tally.finished if at <= stop_at)
    phase.latencies = tally.latencies
    other = {k: v for k, v in tally.statuses.items() if k != "applied"}
    phase.errors = {**{f"status {k}": v for k, v in other.items()}, **tally.errors}
    phase.http_5xx = sum(n for code, n in tally.http.items() if code >= 500)
    for code, n in tally.http.items():
        if code != 200:
            phase.errors[f"HTTP {code}"] = n
    return phase


# --- where one phone's batch goes ----------------------------------------------------------


@dataclass
class Cost:
    pushes: int
    wall: float  # seconds a push, in this process
    cpu: float  # CPU seconds of this process a push
    # statement kind -> (statements, rows, seconds) a push
    statements: dict[str, tuple[float, float, float]] = field(default_factory=dict)


def _kind(statement: str) -> str:
    words = statement.split(None, 3)
    if words[:2] == ["INSERT", "INTO"]:
        return f"INSERT {words[2]}"
    return "other statements"


def batch_cost(app: Any, agency: Agency, pushes: int = 30) -> Cost:
    """One phone's pushes of 200 new inspections through the app in this process (Flask's
    test client, nothing else running), every statement timed from the driver's call to
    its return: what a batch writes, table by table, and what the rest costs. The garbage
    collector is set as gunicorn.conf.py sets it in each worker."""
    from server.extensions import db

    client = app.test_client()
    _, username = agency.inspectors[0]
    reply = client.post(
        "/api/v1/auth/login",
        json={"username": username, "password": PASSWORD, "device_id": "cost-phone"},
    )
    headers = {
        "Authorization": f"Bearer {reply.get_json()['access_token']}",
        "Content-Type": "application/json",
    }
    source = Batches(agency, 0)
    tally: dict[str, list[float]] = {}
    started: dict[int, float] = {}

    def before(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        started[id(cursor)] = time.perf_counter()

    def after(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        spent = time.perf_counter() - started.pop(id(cursor))
        row = tally.setdefault(_kind(statement), [0.0, 0.0, 0.0])
        row[0] += 1
        row[1] += max(cursor.rowcount, 0) if statement.startswith("INSERT") else 0
        row[2] += spent

    def push() -> None:
        reply = client.post("/api/v1/sync/push", data=source.body("cost-phone"), headers=headers)
        results = reply.get_json()["results"]
        if reply.status_code != 200 or any(r["status"] != "applied" for r in results):
            raise RuntimeError(f"a push was not applied: {reply.status_code}")

    for _ in range(5):
        push()  # warm up: statements compiled and prepared, caches filled
    runpy.run_path(str(ROOT / "gunicorn.conf.py"))["post_worker_init"](None)
    with app.app_context():
        engine = db.engine
    sa.event.listen(engine, "before_cursor_execute", before)
    sa.event.listen(engine, "after_cursor_execute", after)
    try:
        began, cpu = time.perf_counter(), time.process_time()
        for _ in range(pushes):
            push()
        wall, cpu = time.perf_counter() - began, time.process_time() - cpu
    finally:
        sa.event.remove(engine, "before_cursor_execute", before)
        sa.event.remove(engine, "after_cursor_execute", after)
    return Cost(
        pushes,
        wall / pushes,
        cpu / pushes,
        {k: (n / pushes, rows / pushes, t / pushes) for k, (n, rows, t) in tally.items()},
    )


# --- one run --------------------------------------------------------------------------------


@contextmanager
def database() -> Iterator[str]:
    name = f"bench_ingest_{os.getpid()}"
    script = ROOT / "scripts" / "pg_database.py"
    subprocess.run([sys.executable, str(script), "create", name], check=True)
    try:
        base = PG_ADMIN_URL.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://")
        yield f"{base}/{name}"
    finally:
        subprocess.run([sys.executable, str(script), "drop", name], check=True)


def run(args: argparse.Namespace) -> list[tuple[str, Phase, Phase]]:
    results: list[tuple[str, Phase, Phase]] = []
    with tempfile.TemporaryDirectory(prefix="bench-ingest-") as tmp, database() as url:
        workdir = Path(tmp)
        migrate(url, workdir)
        app = make_app(url, workdir)
        most = max(phones for _, _, phones in LOADS)
        agencies = [create_agency(app, "ingest0", most, 20, seed=1)]
        agencies += [create_agency(app, f"ingest{i}", 2, 20, seed=1 + i) for i in range(1, 8)]
        from server.extensions import db

        with app.app_context():
            engine = db.engine
            metadata = sa.MetaData()
            table = bare_table(metadata)
            metadata.create_all(engine)
            analyze(engine)
            args.workers = args.workers or conf_workers(url)
            server = Server(url, workdir, args.workers)
            try:
                args.op_bytes = Batches(agencies[0], 0).op_bytes()
                for label, n_agencies, phones in LOADS:
                    sources = [
                        Batches(agencies[i % n_agencies], i // n_agencies) for i in range(phones)
                    ]
                    devices = signed_in(server.base_url, agencies, n_agencies, phones, label)
                    print(f"{label}: bare rows, {args.seconds:.0f} s", flush=True)
                    raw = bare(engine, table, sources, args.seconds)
                    print(f"{label}: pushes, {args.seconds:.0f} s", flush=True)
                    pushed = ours(server, devices, sources, args.seconds)
                    results.append((label, raw, pushed))
                    analyze(engine)
                args.tracebacks = server.log_count("Traceback")
                print("one phone's batch, in this process", flush=True)
                args.cost = batch_cost(app, create_agency(app, "ingestc", 2, 20, seed=9))
            finally:
                server.stop()
                engine.dispose()
    return results


def signed_in(
    base_url: str, agencies: list[Agency], n_agencies: int, phones: int, label: str
) -> list[Device]:
    """One signed-in device per phone, phone i of agency i mod ``n_agencies``."""
    transport = HttpTransport(base_url)
    devices = []
    for i in range(phones):
        agency = agencies[i % n_agencies]
        _, username = agency.inspectors[(i // n_agencies) % len(agency.inspectors)]
        device_id = f"{agency.code}-{label.replace(' ', '')}-{i:03d}"
        account = login(transport, username, PASSWORD, device_id)
        devices.append(Device(i, account.device_id, account.headers))
    transport.close()
    return devices


def report(results: list[tuple[str, Phase, Phase]], args: argparse.Namespace) -> None:
    print()
    print(
        f"ingest benchmark, PostgreSQL — {os.cpu_count()} cores, {args.workers} gunicorn "
        f"workers, batches of {BATCH} inspection ops of {args.op_bytes} bytes, "
        f"{args.seconds:.0f} s a phase"
    )
    print()
    print(
        f"{'load':<24}{'bare rows/s':>12}{'p50 ms':>8}{'p99 ms':>8}"
        f"{'ours ops/s':>12}{'p50 ms':>8}{'p99 ms':>8}{'ours/bare':>11}"
    )
    for label, raw, pushed in results:
        rl = [x * 1000 for x in raw.latencies]
        ol = [x * 1000 for x in pushed.latencies]
        ratio = pushed.rate / raw.rate if raw.rate else float("nan")
        print(
            f"{label:<24}{raw.rate:>12,.0f}{pct(rl, 0.5):>8.0f}{pct(rl, 0.99):>8.0f}"
            f"{pushed.rate:>12,.0f}{pct(ol, 0.5):>8.0f}{pct(ol, 0.99):>8.0f}{ratio:>11.3f}"
        )
    for label, _, pushed in results:
        if pushed.errors:
            print(f"  {label}: {pushed.errors}")
    if getattr(args, "tracebacks", 0):
        print(f"  {args.tracebacks} tracebacks in the server log")
    print(
        "  committed within the window; latency per batch of 200 (bare: executemany + commit;"
        "\n  ours: the HTTP request)"
    )


def report_cost(cost: Cost, results: list[tuple[str, Phase, Phase]]) -> None:
    print()
    print(
        f"one phone's batch of {BATCH} in this process (Flask's test client, {cost.pushes} "
        f"pushes): {cost.wall * 1000:.0f} ms, of which CPU of this process {cost.cpu * 1000:.0f} ms"
    )
    print(f"{'statements':<28}{'a batch':>8}{'rows':>8}{'ms':>8}")
    waited = 0.0
    for kind, (n, rows, seconds) in sorted(cost.statements.items(), key=lambda kv: -kv[1][2]):
        print(f"{kind:<28}{n:>8.1f}{rows:>8.0f}{seconds * 1000:>8.1f}")
        waited += seconds
    bare_p50 = pct([x * 1000 for x in results[0][1].latencies], 0.5) if results else 0.0
    if waited and bare_p50:
        print(
            f"  one phone's batches go one after another: its statements alone take "
            f"{waited * 1000:.0f} ms a batch,\n  where the bare thread writes one in "
            f"{bare_p50:.0f} ms (p50 above); with no other cost at all, one phone would reach "
            f"{bare_p50 / (waited * 1000):.2f}"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="phases of 5 s")
    parser.add_argument("--seconds", type=float, help="length of each phase (default 15 s)")
    parser.add_argument(
        "--workers", type=int, help="gunicorn workers (default: gunicorn.conf.py's)"
    )
    args = parser.parse_args(argv)
    args.seconds = args.seconds or (5.0 if args.quick else 15.0)
    began = time.perf_counter()
    results = run(args)
    report(results, args)
    report_cost(args.cost, results)
    print(f"\ntotal {time.perf_counter() - began:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
