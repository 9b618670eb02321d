"""Benchmark of offline sync over HTTP: push capacity, push latency under load, pull cost.

For SQLite and then PostgreSQL, the script migrates a fresh database (``flask db upgrade``),
serves the app with gunicorn on a free loopback port and measures:

- capacity: 50 devices push batches of 100 ops back to back for a fixed time (closed loop,
  one thread and one connection per device); ops/s taken, HTTP 5xx and "database is locked"
  (counted in the server's log) separately; beside it, the same rows inserted with SQLAlchemy
  Core ``executemany`` straight into the same database (records, op ledger, change feed,
  audit trail, members), one transaction per 100 ops;
- latency: Poisson arrivals of 20-op batches at a quarter of the measured capacity, latency
  taken from each batch's intended send time (no coordinated omission);
- pull: 10,000 changes from no cursor at the largest page size, then an incremental pull of
  100 changes after 10,000 and after 1,000,000 changes of history (history loaded with Core
  inserts into ``changes`` and the record tables, ``sync_clocks`` bumped to match).

Prints tables; asserts nothing. ``--quick`` runs short phases and 100,000 changes of history.
PostgreSQL: a scratch database is created and dropped through ``PG_ADMIN_URL`` (default
postgresql://127.0.0.1:5432/test, as scripts/pg_database.py); ``--skip-postgres`` leaves it out.

    .venv/bin/python scripts/bench_sync.py [--quick] [--workers N] [--skip-postgres]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import queue
import random
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import sqlalchemy as sa  # noqa: E402 - the path above makes the checkout importable

from scripts.device_sim import HttpTransport, login  # noqa: E402

SECRET_KEY = "bench-secret-key-not-for-production"
PUBLIC_BASE_URL = "https://enforce.bench.invalid"
PASSWORD = "bench-password"
CST = timezone(timedelta(hours=8))
EVERYONE = uuid.UUID(int=0)
PG_ADMIN_URL = os.environ.get("PG_ADMIN_URL", "postgresql://127.0.0.1:5432/test")
BIN = Path(sys.executable).parent


# --- server ---------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def server_env(database_url: str, workdir: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            "DATABASE_URL": database_url,
            "SECRET_KEY": SECRET_KEY,
            "PUBLIC_BASE_URL": PUBLIC_BASE_URL,
            "ATTACHMENTS_DIR": str(workdir / "attachments"),
            "SCHEDULER_ENABLED": "0",
            "PYTHONPATH": str(ROOT),
        }
    )
    return env


def migrate(database_url: str, workdir: Path) -> None:
    done = subprocess.run(
        [str(BIN / "flask"), "--app", "server", "db", "upgrade"],
        cwd=ROOT,
        env=server_env(database_url, workdir),
        capture_output=True,
        text=True,
    )
    if done.returncode:
        raise RuntimeError(f"flask db upgrade failed:\n{done.stdout}{done.stderr}")


class Server:
    """gunicorn serving the app on a free loopback port; its output goes to a log file."""

    def __init__(self, database_url: str, workdir: Path, workers: int) -> None:
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.log_path = workdir / "server.log"
        self.log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [
                str(BIN / "gunicorn"),
                "--config",
                str(ROOT / "gunicorn.conf.py"),
                "--bind",
                f"127.0.0.1:{self.port}",
                "--workers",
                str(workers),
                "--access-logfile",
                "/dev/null",
                "--error-logfile",
                "-",
                "server:create_app()",
            ],
            cwd=ROOT,
            env=server_env(database_url, workdir),
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        transport = HttpTransport(self.base_url, timeout=5)
        deadline = time.monotonic() + 60
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited; see {self.log_path}")
            try:
                if transport.request("GET", "/healthz").status == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"gunicorn did not come up; see {self.log_path}")
            time.sleep(0.2)
        transport.close()

    def log_count(self, needle: str) -> int:
        self.log.flush()
        return self.log_path.read_bytes().count(needle.encode())

    def cpu_seconds(self) -> float:
        """CPU time of gunicorn and its workers so far (from /proc)."""
        pids = [self.process.pid]
        try:
            children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
            pids += [int(p) for p in children.read_text().split()]
        except OSError:
            pass
        ticks = 0
        for pid in pids:
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
                ticks += int(fields[11]) + int(fields[12])
            except (OSError, IndexError, ValueError):
                pass
        return ticks / os.sysconf("SC_CLK_TCK")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()


def machine_cpu() -> tuple[float, float]:
    """(busy, total) jiffies of the whole machine."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n")[0].split()[1:]]
    idle = values[3] + values[4]
    return float(sum(values) - idle), float(sum(values))


# --- data set-up ----------------------------------------------------------------------------


@dataclass
class Agency:
    id: uuid.UUID
    code: str
    abbr: str
    inspectors: list[tuple[uuid.UUID, str]]  # (user id, username)
    lead: str
    enterprises: list[uuid.UUID]
    codes: dict[uuid.UUID, str] = field(default_factory=dict)


def make_app(database_url: str, workdir: Path) -> Any:
    from server import create_app

    return create_app(
        {
            "SQLALCHEMY_DATABASE_URI": database_url,
            "SECRET_KEY": SECRET_KEY,
            "PUBLIC_BASE_URL": PUBLIC_BASE_URL,
            "ATTACHMENTS_DIR": str(workdir / "attachments"),
            "SCHEDULER_ENABLED": False,
        }
    )


def create_agency(app: Any, code: str, inspectors: int, enterprises: int, seed: int) -> Agency:
    """An agency with certified inspectors, a lead and enterprises, through the services."""
    from server.domain import entry_codes
    from server.extensions import db
    from server.models import Enterprise
    from server.services import accounts
    from server.services.demo import make_uscc
    from server.services.passwords import use_cheap_hashing

    use_cheap_hashing()
    rng = random.Random(seed)
    abbr = code[:4]
    with app.app_context():
        agency = accounts.create_agency(code, f"{code}应急管理局", abbr)
        people = []
        for i in range(inspectors):
            user = accounts.create_user(
                username=f"{code}-inspector{i:03d}",
                agency_code=code,
                role="inspector",
                password=PASSWORD,
                cert_no=f"12010{i:07d}",
                cert_valid_until=date(2030, 12, 31),
            )
            people.append((user.id, user.username))
        accounts.create_user(
            username=f"{code}-lead", agency_code=code, role="lead", password=PASSWORD
        )
        ids = []
        for n in range(enterprises):
            enterprise = Enterprise(
                agency_id=agency.id,
                uscc=make_uscc(rng),
                name=f"天津市{code}{n:04d}机械制造有限公司",
                industry="machinery",
                risk_grade=rng.choice(["good", "medium", "poor"]),
                credit_rating=rng.choice(["A", "B", "C"]),
            )
            db.session.add(enterprise)
            db.session.flush()
            ids.append(enterprise.id)
        db.session.commit()
        key = entry_codes.derive_key(SECRET_KEY)
        result = Agency(agency.id, code, abbr, people, f"{code}-lead", ids)
        for enterprise_id in ids:
            result.codes[enterprise_id] = entry_codes.entry_url(
                PUBLIC_BASE_URL, entry_codes.issue_token(key, enterprise_id, 1)
            )
        db.session.remove()
        return result


# --- ops ------------------------------------------------------------------------------------


class OpFactory:
    """Visits of ten ops: scan, inspection, six hazards, an inspection record and an order."""

    def __init__(self, agency: Agency, seed: int) -> None:
        self.agency = agency
        self.rng = random.Random(seed)
        self.lock = threading.Lock()

    def _id(self) -> str:
        return str(uuid.uuid4())

    def visit(self, device: int) -> list[dict[str, Any]]:
        with self.lock:
            rng = self.rng
            people = self.agency.inspectors
            me = people[device % len(people)][0]
            partner = people[(device + 1) % len(people)][0]
            enterprise = rng.choice(self.agency.enterprises)
            started = datetime(2025, 1, 2, 9, tzinfo=CST) + timedelta(
                days=rng.randrange(300), minutes=rng.randrange(360)
            )
        ended = started + timedelta(hours=2)
        team = [str(me), str(partner)]
        scan_id, inspection_id = self._id(), self._id()
        ops = [
            self._op(
                "scan",
                scan_id,
                {
                    "code": self.agency.codes[enterprise],
                    "scanned_at": started.isoformat(),
                    "location": {"lat": 39.12, "lng": 117.15, "accuracy_m": 8},
                    "inspector_ids": team,
                },
                started,
            ),
            self._op(
                "inspection",
                inspection_id,
                {
                    "enterprise_id": str(enterprise),
                    "scan_id": scan_id,
                    "task_id": None,
                    "kind": "random",
                    "started_at": started.isoformat(),
                    "ended_at": ended.isoformat(),
                    "place": "生产车间",
                    "inspector_ids": team,
                    "items": [
                        {"item": "安全出口畅通", "result": "ok", "note": ""},
                        {"item": "配电箱防护", "result": "hazard", "note": "门未关闭"},
                    ],
                    "findings": "发现一般隐患",
                    "representative": {"name": "张伟", "title": "安全科长"},
                    "signature_attachments": [],
                },
                ended,
            ),
        ]
        hazards = [self._id() for _ in range(6)]
        for hazard_id in hazards:
            ops.append(
                self._op(
                    "hazard",
                    hazard_id,
                    {
                        "inspection_id": inspection_id,
                        "enterprise_id": str(enterprise),
                        "level": "general",
                        "description": "配电箱未上锁，无警示标识",
                        "location": "二号车间",
                        "legal_basis": "《安全生产法》第三十五条",
                        "photo_attachments": [],
                        "fixed_on_spot": False,
                        "deadline": (ended.date() + timedelta(days=15)).isoformat(),
                    },
                    ended,
                )
            )
        for doc_type, covered in (("inspection_record", []), ("rectification_order", hazards[:3])):
            data: dict[str, Any] = {
                "type": doc_type,
                "inspection_id": inspection_id,
                "hazard_ids": covered,
                "issued_at": ended.isoformat(),
                "provisional_number": f"临-{uuid.uuid4().hex[:8]}",
            }
            if doc_type == "rectification_order":
                data["deadline"] = (ended.date() + timedelta(days=20)).isoformat()
            ops.append(self._op("document", self._id(), data, ended))
        return ops

    def _op(self, entity: str, record_id: str, data: dict[str, Any], at: datetime) -> dict:
        return {
            "op_id": self._id(),
            "entity": entity,
            "id": record_id,
            "base_version": None,
            "client_time": at.isoformat(),
            "data": data,
        }

    def batch(self, device: int, size: int) -> list[dict[str, Any]]:
        ops: list[dict[str, Any]] = []
        while len(ops) < size:
            ops.extend(self.visit(device))
        return ops[:size]


@dataclass
class PushTally:
    ops: int = 0
    statuses: Counter[str] = field(default_factory=Counter)
    http: Counter[int] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)
    latencies: list[float] = field(default_factory=list)
    # (finished at, ops applied) per batch
    finished: list[tuple[float, int]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, status: int, body: Any, latency: float) -> None:
        with self.lock:
            self.http[status] += 1
            self.latencies.append(latency)
            if status == 200:
                applied = sum(1 for r in body["results"] if r["status"] == "applied")
                self.finished.append((time.perf_counter(), applied))
                for result in body["results"]:
                    self.statuses[result["status"]] += 1
                    if result["status"] == "rejected":
                        self.errors[(result.get("errors") or {}).get("code", "?")] += 1
                self.ops += len(body["results"])


@dataclass
class Device:
    index: int
    device_id: str
    headers: dict[str, str]


def login_devices(base_url: str, agency: Agency, count: int) -> list[Device]:
    transport = HttpTransport(base_url)
    devices = []
    for i in range(count):
        _, username = agency.inspectors[i % len(agency.inspectors)]
        account = login(transport, username, PASSWORD, f"{agency.code}-phone-{i:03d}")
        devices.append(Device(i, account.device_id, account.headers))
    transport.close()
    return devices


# --- capacity -------------------------------------------------------------------------------


@dataclass
class Capacity:
    seconds: float  # the window
    drain_s: float  # until the last batch in flight at the end of the window was answered
    applied_in_window: int
    tally: PushTally
    client_cpu: float  # share of one core
    server_cpu: float  # share of one core (gunicorn + workers)
    machine_busy: float  # share of all cores
    locked: int

    @property
    def ops_per_s(self) -> float:
        return self.applied_in_window / self.seconds

    @property
    def http_5xx(self) -> int:
        return sum(n for code, n in self.tally.http.items() if code >= 500)


def capacity(server: Server, agency: Agency, devices: list[Device], seconds: float) -> Capacity:
    factory = OpFactory(agency, seed=11)
    # Batches are built ahead so the clients spend their time sending.
    ready: list[list[list[dict[str, Any]]]] = [[] for _ in devices]
    transport = HttpTransport(server.base_url, timeout=120)
    tally = PushTally()
    stop_at = 0.0
    locked_before = server.log_count("database is locked")

    def run(device: Device) -> None:
        mine = ready[device.index]
        while time.perf_counter() < stop_at:
            ops = mine.pop() if mine else factory.batch(device.index, 100)
            began = time.perf_counter()
            try:
                reply = transport.request(
                    "POST",
                    "/api/v1/sync/push",
                    headers=device.headers,
                    json={"device_id": device.device_id, "schema_version": 1, "ops": ops},
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

    for device in devices:
        ready[device.index] = [factory.batch(device.index, 100) for _ in range(4)]
    threads = [threading.Thread(target=run, args=(d,)) for d in devices]
    cpu0, server0, machine0 = time.process_time(), server.cpu_seconds(), machine_cpu()
    began = time.perf_counter()
    stop_at = began + seconds
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - began
    cpu1, server1, machine1 = time.process_time(), server.cpu_seconds(), machine_cpu()
    return Capacity(
        seconds=seconds,
        drain_s=elapsed - seconds,
        applied_in_window=sum(n for at, n in tally.finished if at <= stop_at),
        tally=tally,
        client_cpu=(cpu1 - cpu0) / elapsed,
        server_cpu=(server1 - server0) / elapsed,
        machine_busy=(machine1[0] - machine0[0]) / max(machine1[1] - machine0[1], 1.0),
        locked=server.log_count("database is locked") - locked_before,
    )


# --- the same rows, written straight with Core ----------------------------------------------


def tables() -> dict[str, sa.Table]:
    from server.models import Enterprise
    from server.models.records import Document, Hazard, Inspection, RecordMember, Scan
    from server.models.sync import AuditEntry, Change, SyncClock, SyncOp

    return {
        "scan": Scan.__table__,
        "inspection": Inspection.__table__,
        "hazard": Hazard.__table__,
        "document": Document.__table__,
        "members": RecordMember.__table__,
        "ops": SyncOp.__table__,
        "changes": Change.__table__,
        "audit": AuditEntry.__table__,
        "clock": SyncClock.__table__,
        "enterprise": Enterprise.__table__,
    }


def _common(agency_id: uuid.UUID, user: uuid.UUID, now: datetime) -> dict[str, Any]:
    return {
        "agency_id": agency_id,
        "version": 1,
        "field_versions": {},
        "created_by": user,
        "created_on_device": None,
        "created_at": now,
        "updated_at": now,
    }


def inspection_row(
    agency_id: uuid.UUID, user: uuid.UUID, enterprise: uuid.UUID, now: datetime, **kw: Any
) -> dict[str, Any]:
    return {
        **_common(agency_id, user, now),
        "id": kw.get("id") or uuid.uuid4(),
        "enterprise_id": enterprise,
        "scan_id": kw.get("scan_id"),
        "task_id": None,
        "kind": "random",
        "started_at": now,
        "ended_at": now,
        "place": "生产车间",
        "inspector_ids": [str(user)],
        "items": [{"item": "安全出口畅通", "result": "ok", "note": ""}],
        "findings": "发现一般隐患",
        "representative": {"name": "张伟", "title": "安全科长"},
        "signature_attachments": [],
    }


def hazard_row(
    agency_id: uuid.UUID,
    user: uuid.UUID,
    enterprise: uuid.UUID,
    inspection: uuid.UUID,
    now: datetime,
) -> dict[str, Any]:
    return {
        **_common(agency_id, user, now),
        "id": uuid.uuid4(),
        "inspection_id": inspection,
        "enterprise_id": enterprise,
        "level": "general",
        "description": "配电箱未上锁，无警示标识",
        "location": "二号车间",
        "legal_basis": "《安全生产法》第三十五条",
        "photo_attachments": [],
        "fixed_on_spot": False,
        "proposed_deadline": now.date(),
        "found_at": now,
        "lifecycle": {"level": "general", "status": "found", "found_at": now.isoformat()},
        "status": "found",
        "deadline": None,
        "supervised": False,
        "closed_at": None,
    }


def change_row(agency_id: uuid.UUID, entity: str, record: uuid.UUID, seq: int) -> dict:
    return {
        "agency_id": agency_id,
        "seq": seq,
        "entity": entity,
        "record_id": record,
        "version": 1,
        "deleted": False,
        "audience": EVERYONE,
    }


def raw_insert(
    engine: sa.Engine, agency: Agency, device_db_id: uuid.UUID, n_ops: int
) -> tuple[int, float]:
    """The rows of ``n_ops`` ops (same mix as the pushes), 100 ops a transaction."""
    t = tables()
    user = agency.inspectors[0][0]
    now = datetime.now(UTC)
    agency_id = agency.id
    with engine.begin() as conn:
        seq = conn.scalar(sa.select(t["clock"].c.seq).where(t["clock"].c.agency_id == agency_id))
        if seq is None:
            conn.execute(sa.insert(t["clock"]).values(agency_id=agency_id, seq=0))
            seq = 0
    serial = 0
    done = 0
    began = time.perf_counter()
    while done < n_ops:
        rows: dict[str, list[dict[str, Any]]] = {name: [] for name in t}
        records: list[tuple[str, uuid.UUID]] = []
        for _ in range(10):
            enterprise = agency.enterprises[done % len(agency.enterprises)]
            scan = {
                **_common(agency_id, user, now),
                "id": uuid.uuid4(),
                "enterprise_id": enterprise,
                "code_version": 1,
                "scanned_at": now,
                "received_at": now,
                "latitude": 39.12,
                "longitude": 117.15,
                "accuracy_m": 8.0,
                "inspector_ids": [str(user)],
                "warnings": [],
            }
            inspection = inspection_row(agency_id, user, enterprise, now, scan_id=scan["id"])
            hazards = [
                hazard_row(agency_id, user, enterprise, inspection["id"], now) for _ in range(6)
            ]
            rows["scan"].append(scan)
            rows["inspection"].append(inspection)
            rows["hazard"].extend(hazards)
            records += [("scan", scan["id"]), ("inspection", inspection["id"])]
            records += [("hazard", h["id"]) for h in hazards]
            for doc_type in ("inspection_record", "rectification_order"):
                serial += 1
                document = {
                    **_common(agency_id, user, now),
                    "id": uuid.uuid4(),
                    "type": doc_type,
                    "inspection_id": inspection["id"],
                    "enterprise_id": enterprise,
                    "hazard_ids": [str(h["id"]) for h in hazards[:3]],
                    "issued_at": now,
                    "provisional_number": "临-1",
                    "year": 2025,
                    "serial": serial,
                    "number": f"（{agency.abbr}）应急检记〔2025〕{serial}号",
                    "body": {"content": ""},
                }
                rows["document"].append(document)
                records.append(("document", document["id"]))
            for entity, record_id in (("scan", scan["id"]), ("inspection", inspection["id"])):
                rows["members"].append({"entity": entity, "record_id": record_id, "user_id": user})
        for entity, record_id in records:
            seq += 1
            op_id = uuid.uuid4()
            rows["changes"].append(change_row(agency_id, entity, record_id, seq))
            payload = {"op_id": str(op_id), "entity": entity, "id": str(record_id), "data": {}}
            rows["ops"].append(
                {
                    "op_id": op_id,
                    "agency_id": agency_id,
                    "device_id": device_db_id,
                    "user_id": user,
                    "entity": entity,
                    "record_id": record_id,
                    "payload_hash": hashlib.sha256(str(op_id).encode()).hexdigest(),
                    "payload": payload,
                    "status": "applied",
                    "result": {"op_id": str(op_id), "status": "applied", "version": 1},
                    "waiting_for_entity": None,
                    "waiting_for_id": None,
                    "received_at": now,
                    "settled_at": now,
                }
            )
            rows["audit"].append(
                {
                    "agency_id": agency_id,
                    "at": now,
                    "user_id": user,
                    "device_id": device_db_id,
                    "op_id": op_id,
                    "entity": entity,
                    "record_id": record_id,
                    "action": "create",
                    "version": 1,
                    "changes": {"description": [None, "配电箱未上锁"]},
                }
            )
        with engine.begin() as conn:
            for name in ("scan", "inspection", "hazard", "document", "members", "ops", "audit"):
                conn.execute(sa.insert(t[name]), rows[name])
            conn.execute(sa.insert(t["changes"]), rows["changes"])
            conn.execute(
                sa.update(t["clock"]).where(t["clock"].c.agency_id == agency_id).values(seq=seq)
            )
        done += len(records)
    return done, time.perf_counter() - began


# --- latency --------------------------------------------------------------------------------


def latency(
    server: Server, agency: Agency, devices: list[Device], ops_per_s: float, seconds: float
) -> tuple[PushTally, float, float]:
    """Open loop: 20-op batches arrive as a Poisson process at ``ops_per_s``."""
    rate = ops_per_s / 20
    rng = random.Random(5)
    arrivals = []
    at = 0.0
    while True:
        at += rng.expovariate(rate)
        if at > seconds:
            break
        arrivals.append(at)
    factory = OpFactory(agency, seed=12)
    batches = [factory.batch(i % len(devices), 20) for i in range(len(arrivals))]
    transport = HttpTransport(server.base_url, timeout=120)
    tally = PushTally()
    work: queue.Queue[tuple[float, int] | None] = queue.Queue()

    def worker() -> None:
        while True:
            item = work.get()
            if item is None:
                transport.close()
                return
            intended, n = item
            device = devices[n % len(devices)]
            try:
                reply = transport.request(
                    "POST",
                    "/api/v1/sync/push",
                    headers=device.headers,
                    json={"device_id": device.device_id, "schema_version": 1, "ops": batches[n]},
                )
            except OSError as exc:
                with tally.lock:
                    tally.errors[f"connection {type(exc).__name__}"] += 1
                continue
            tally.record(
                reply.status,
                reply.json() if reply.status == 200 else None,
                time.perf_counter() - intended,
            )

    pool = [threading.Thread(target=worker) for _ in range(64)]
    for thread in pool:
        thread.start()
    began = time.perf_counter()
    for n, offset in enumerate(arrivals):
        intended = began + offset
        delay = intended - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
        work.put((intended, n))
    for _ in pool:
        work.put(None)
    for thread in pool:
        thread.join()
    return tally, rate, time.perf_counter() - began


# --- pull -----------------------------------------------------------------------------------


def _bound(table: sa.Table, dialect: sa.Dialect) -> Any:
    """Encode values as ``table``'s column types would bind them on ``dialect``."""

    def encode(column: str, value: Any) -> Any:
        processor = table.c[column].type._cached_bind_processor(dialect)
        return processor(value) if processor else value

    return encode


def load_history(
    engine: sa.Engine, agency: Agency, first_seq: int, count: int, chunk: int = 50_000
) -> float:
    """``count`` inspections and their change rows, feed positions after ``first_seq``.

    Every history row has the same content but its id, so the rows are built from a template
    and written without per-value conversion by SQLAlchemy: the load is bound by the database.
    """
    t = tables()
    user = agency.inspectors[0][0]
    now = datetime(2025, 3, 1, 2, tzinfo=UTC)
    postgres = engine.dialect.name == "postgresql"
    sample = inspection_row(agency.id, user, agency.enterprises[0], now)
    sample = {k: v for k, v in sample.items() if v is not None}
    change_sample = change_row(agency.id, "inspection", EVERYONE, 0)
    if postgres:
        encode_i, encode_c = _pg_value(t["inspection"]), _pg_value(t["changes"])
    else:
        encode_i = _bound(t["inspection"], engine.dialect)
        encode_c = _bound(t["changes"], engine.dialect)
    template = {k: encode_i(k, v) for k, v in sample.items()}
    change_template = {k: encode_c(k, v) for k, v in change_sample.items()}
    enterprises = [encode_i("enterprise_id", e) for e in agency.enterprises]
    began = time.perf_counter()
    seq = first_seq
    left = count
    while left:
        n = min(chunk, left)
        inspections, changes = [], []
        for i in range(n):
            record_id = encode_i("id", uuid.uuid4())
            row = dict(template)
            row["id"] = record_id
            row["enterprise_id"] = enterprises[i % len(enterprises)]
            inspections.append(row)
            seq += 1
            change = dict(change_template)
            change["record_id"] = record_id
            change["seq"] = seq
            changes.append(change)
        with engine.begin() as conn:
            _bulk(conn, t["inspection"], inspections)
            _bulk(conn, t["changes"], changes)
            _set_clock(conn, agency.id, seq)
        left -= n
    return time.perf_counter() - began


def _pg_value(table: sa.Table) -> Any:
    """Values as PostgreSQL array elements: JSON as text, the rest as psycopg adapts it."""

    def encode(column: str, value: Any) -> Any:
        if isinstance(table.c[column].type, sa.JSON):
            return json.dumps(value, ensure_ascii=False)
        return value

    return encode


def _bulk(conn: sa.Connection, table: sa.Table, rows: list[dict[str, Any]]) -> None:
    """Rows already encoded for the column types. SQLite: ``executemany`` on an untyped
    table. PostgreSQL: one ``INSERT ... SELECT FROM unnest(arrays)`` per chunk, one array per
    column (psycopg's row-by-row executemany and long VALUES lists are both far slower)."""
    names = list(rows[0])
    if conn.dialect.name != "postgresql":
        light = sa.table(table.name, *[sa.column(n) for n in names])
        conn.execute(sa.insert(light), rows)
        return
    # Columns holding the same object in every row (from the template) go as one value.
    same = {n for n in names if all(row[n] is rows[0][n] for row in rows)}
    varying = [n for n in names if n not in same]
    picks, arrays, params = [], [], []
    for n in names:
        column_type = table.c[n].type
        sql_type = (
            "text"
            if isinstance(column_type, sa.JSON)
            else column_type.compile(dialect=conn.dialect)
        )
        cast = "::json" if isinstance(column_type, sa.JSON) else ""
        if n in same:
            picks.append(f"%s::{sql_type}{cast}")
            params.append(rows[0][n])
        else:
            picks.append(f'u."{n}"{cast}')
    for n in varying:
        column_type = table.c[n].type
        sql_type = (
            "text"
            if isinstance(column_type, sa.JSON)
            else column_type.compile(dialect=conn.dialect)
        )
        arrays.append(f"%s::{sql_type}[]")
        params.append([row[n] for row in rows])
    quoted = ", ".join(f'"{n}"' for n in names)
    sql = (
        f'INSERT INTO "{table.name}" ({quoted}) SELECT {", ".join(picks)} '
        f"FROM unnest({', '.join(arrays)}) AS u({', '.join(varying)})"
    )
    conn.exec_driver_sql(sql, tuple(params))


def add_recent(engine: sa.Engine, agency: Agency, first_seq: int, count: int = 100) -> int:
    """``count`` new hazards (visible to every inspector) at the head of the feed."""
    t = tables()
    user = agency.inspectors[0][0]
    now = datetime(2025, 3, 2, 2, tzinfo=UTC)
    enterprise = agency.enterprises[0]
    inspection = inspection_row(agency.id, user, enterprise, now)
    hazards = [hazard_row(agency.id, user, enterprise, inspection["id"], now) for _ in range(count)]
    seq = first_seq
    changes = []
    for hazard in hazards:
        seq += 1
        changes.append(change_row(agency.id, "hazard", hazard["id"], seq))
    with engine.begin() as conn:
        conn.execute(sa.insert(t["inspection"]), [inspection])
        conn.execute(sa.insert(t["hazard"]), hazards)
        conn.execute(sa.insert(t["changes"]), changes)
        _set_clock(conn, agency.id, seq)
    return seq


def _set_clock(conn: sa.Connection, agency_id: uuid.UUID, seq: int) -> None:
    clock = tables()["clock"]
    updated = conn.execute(
        sa.update(clock).where(clock.c.agency_id == agency_id).values(seq=seq)
    ).rowcount
    if not updated:
        conn.execute(sa.insert(clock).values(agency_id=agency_id, seq=seq))


def analyze(engine: sa.Engine) -> None:
    with engine.begin() as conn:
        conn.exec_driver_sql("ANALYZE")


def pull_all(
    transport: HttpTransport, device: Device, cursor: str | None, limit: int
) -> tuple[int, float]:
    began = time.perf_counter()
    seen = 0
    while True:
        query: dict[str, Any] = {"limit": limit}
        if cursor:
            query["cursor"] = cursor
        reply = transport.request("GET", "/api/v1/sync/pull", headers=device.headers, query=query)
        if reply.status != 200:
            raise RuntimeError(f"pull: HTTP {reply.status} {reply.body[:300]!r}")
        body = reply.json()
        seen += len(body["changes"])
        cursor = body["next_cursor"]
        if not body["has_more"]:
            return seen, time.perf_counter() - began


def timed_pulls(
    transport: HttpTransport, device: Device, cursor: str, repeats: int
) -> tuple[int, float, float]:
    times = []
    seen = 0
    pull_all(transport, device, cursor, 500)  # warm the worker that answers first
    for _ in range(repeats):
        seen, elapsed = pull_all(transport, device, cursor, 500)
        times.append(elapsed)
    times.sort()
    return seen, statistics.median(times), times[int(len(times) * 0.9) - 1]


@dataclass
class PullResult:
    full_changes: int = 0
    full_s: float = 0.0
    load_s: dict[int, float] = field(default_factory=dict)
    incremental: dict[tuple[int, str], tuple[int, float, float]] = field(default_factory=dict)


def pull_bench(
    server: Server, engine: sa.Engine, agency: Agency, base_url: str, sizes: list[int]
) -> PullResult:
    from server.domain.sync import encode_cursor

    transport = HttpTransport(base_url, timeout=600)
    inspector = login_devices(base_url, agency, 1)[0]
    lead_account = login(transport, agency.lead, PASSWORD, f"{agency.code}-lead-desk")
    lead = Device(-1, lead_account.device_id, lead_account.headers)
    result = PullResult()
    with engine.begin() as conn:
        clock = tables()["clock"]
        seq = conn.scalar(sa.select(clock.c.seq).where(clock.c.agency_id == agency.id)) or 0
    history = 0
    for size in sizes:
        result.load_s[size] = load_history(engine, agency, seq, size - history)
        seq += size - history
        history = size
        analyze(engine)
        if size == sizes[0]:
            result.full_changes, result.full_s = pull_all(transport, lead, None, 5000)
        head = seq
        seq = add_recent(engine, agency, seq, 100)
        for who, device in (("inspector", inspector), ("lead", lead)):
            result.incremental[(size, who)] = timed_pulls(
                transport, device, encode_cursor(head), repeats=15
            )
    transport.close()
    return result


# --- one database ---------------------------------------------------------------------------


@contextmanager
def database(kind: str, workdir: Path) -> Iterator[str]:
    if kind == "sqlite":
        yield f"sqlite:///{workdir / 'bench.db'}"
        return
    name = f"bench_sync_{os.getpid()}"
    script = ROOT / "scripts" / "pg_database.py"
    subprocess.run([sys.executable, str(script), "create", name], check=True)
    try:
        base = PG_ADMIN_URL.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://")
        yield f"{base}/{name}"
    finally:
        subprocess.run([sys.executable, str(script), "drop", name], check=True)


def run_one(kind: str, args: argparse.Namespace) -> dict[str, Any]:
    out: dict[str, Any] = {"kind": kind}
    with tempfile.TemporaryDirectory(prefix=f"bench-sync-{kind}-") as tmp:
        workdir = Path(tmp)
        with database(kind, workdir) as url:
            migrate(url, workdir)
            app = make_app(url, workdir)
            field_agency = create_agency(app, "bench", 50, 200, seed=1)
            raw_agency = create_agency(app, "rawins", 2, 200, seed=2)
            pull_agency = create_agency(app, "history", 2, 20, seed=3)
            from server.extensions import db

            with app.app_context():
                engine = db.engine
                server = Server(url, workdir, args.workers)
                try:
                    devices = login_devices(server.base_url, field_agency, 50)
                    raw_device = login_devices(server.base_url, raw_agency, 1)[0]
                    print(
                        f"[{kind}] capacity: 50 devices x 100-op batches, {args.capacity_s:.0f} s",
                        flush=True,
                    )
                    cap = capacity(server, field_agency, devices, args.capacity_s)
                    out["capacity"] = cap
                    device_db_id = _device_db_id(engine, raw_device.device_id)
                    n_raw = max(1000, min(int(cap.tally.ops), args.raw_cap))
                    print(f"[{kind}] raw Core inserts of {n_raw} ops", flush=True)
                    out["raw"] = raw_insert(engine, raw_agency, device_db_id, n_raw)
                    target = max(cap.ops_per_s, 1.0) / 4
                    print(
                        f"[{kind}] latency: Poisson 20-op batches at {target:.0f} ops/s, "
                        f"{args.latency_s:.0f} s",
                        flush=True,
                    )
                    out["latency"] = latency(server, field_agency, devices, target, args.latency_s)
                    out["latency_target"] = target
                    print(f"[{kind}] pull: history of {args.history[-1]:,} changes", flush=True)
                    out["pull"] = pull_bench(
                        server, engine, pull_agency, server.base_url, args.history
                    )
                    out["locked_total"] = server.log_count("database is locked")
                    out["tracebacks"] = server.log_count("Traceback")
                finally:
                    server.stop()
                    engine.dispose()
    return out


def _device_db_id(engine: sa.Engine, device_key: str) -> uuid.UUID:
    from server.models.accounts import Device as DeviceRow

    table = DeviceRow.__table__
    with engine.connect() as conn:
        return conn.scalar(sa.select(table.c.id).where(table.c.device_key == device_key))


# --- report ---------------------------------------------------------------------------------


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def print_report(results: list[dict[str, Any]], args: argparse.Namespace) -> None:
    print()
    print(
        f"sync benchmark — {os.cpu_count()} cores, gunicorn {args.workers} sync workers, "
        f"{'quick' if args.quick else 'full'} run"
    )
    print()
    print("capacity (50 devices, closed loop, 100-op batches)")
    header = (
        f"{'db':<12}{'ops/s':>8}{'batches':>9}{'p50 ms':>8}{'p99 ms':>8}{'5xx':>6}"
        f"{'locked':>8}{'rejected':>10}{'raw ops/s':>11}{'ours/raw':>10}"
        f"{'client cpu':>12}{'server cpu':>12}{'machine':>9}"
    )
    print(header)
    for r in results:
        cap: Capacity = r["capacity"]
        raw_ops, raw_s = r["raw"]
        raw_rate = raw_ops / raw_s
        lat = [x * 1000 for x in cap.tally.latencies]
        print(
            f"{r['kind']:<12}{cap.ops_per_s:>8.0f}{len(lat):>9}{pct(lat, 0.5):>8.0f}"
            f"{pct(lat, 0.99):>8.0f}{cap.http_5xx:>6}{cap.locked:>8}"
            f"{cap.tally.statuses['rejected']:>10}{raw_rate:>11.0f}"
            f"{cap.ops_per_s / raw_rate:>10.3f}{cap.client_cpu:>11.0%}{cap.server_cpu:>11.0%}"
            f"{cap.machine_busy:>9.0%}"
        )
    for r in results:
        cap = r["capacity"]
        other = {k: v for k, v in cap.tally.statuses.items() if k != "applied"}
        if other or cap.tally.errors:
            print(f"  {r['kind']}: other statuses {dict(other)}, errors {dict(cap.tally.errors)}")
    for r in results:
        cap = r["capacity"]
        print(
            f"  {r['kind']}: ops/s counts batches answered within the {cap.seconds:.0f} s window; "
            f"the batches in flight at its end took {cap.drain_s:.1f} s more"
        )
    print("  (client/server cpu: share of one core; machine: share of all cores)")
    print()
    print("latency (open loop, Poisson arrivals of 20-op batches at capacity / 4)")
    print(
        f"{'db':<12}{'ops/s':>8}{'batches':>9}{'p50 ms':>8}{'p90 ms':>8}{'p99 ms':>8}"
        f"{'max ms':>8}{'5xx':>6}{'errors':>8}"
    )
    for r in results:
        tally, rate, elapsed = r["latency"]
        lat = [x * 1000 for x in tally.latencies]
        errors = sum(tally.errors.values())
        print(
            f"{r['kind']:<12}{r['latency_target']:>8.0f}{len(lat):>9}{pct(lat, 0.5):>8.0f}"
            f"{pct(lat, 0.9):>8.0f}{pct(lat, 0.99):>8.0f}{max(lat, default=0):>8.0f}"
            f"{sum(n for c, n in tally.http.items() if c >= 500):>6}{errors:>8}"
        )
    print()
    print("pull")
    sizes = args.history
    print(
        f"{'db':<12}{'full pull s':>12}{'changes':>9}"
        + "".join(f"{'insp ms @' + format(s, ','):>20}{'lead ms':>9}" for s in sizes)
        + f"{'ratio':>8}{'load s':>8}"
    )
    for r in results:
        p: PullResult = r["pull"]
        cells = "".join(
            f"{p.incremental[(s, 'inspector')][1] * 1000:>20.1f}"
            f"{p.incremental[(s, 'lead')][1] * 1000:>9.1f}"
            for s in sizes
        )
        ratio = (
            p.incremental[(sizes[-1], "inspector")][1] / p.incremental[(sizes[0], "inspector")][1]
        )
        print(
            f"{r['kind']:<12}{p.full_s:>12.2f}{p.full_changes:>9}{cells}{ratio:>8.2f}"
            f"{sum(p.load_s.values()):>8.0f}"
        )
    print(
        "  incremental: median of 15 pulls of the 100 newest changes (cursor just before them);"
        " ratio: inspector, largest history / smallest"
    )
    for r in results:
        if r.get("tracebacks"):
            print(f"  {r['kind']}: {r['tracebacks']} tracebacks in the server log")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="short phases, 100k history")
    parser.add_argument("--workers", type=int, default=2 * (os.cpu_count() or 1) + 1)
    parser.add_argument("--skip-postgres", action="store_true")
    parser.add_argument("--skip-sqlite", action="store_true")
    args = parser.parse_args(argv)
    args.capacity_s = 6.0 if args.quick else 20.0
    args.latency_s = 6.0 if args.quick else 20.0
    args.history = [10_000, 100_000] if args.quick else [10_000, 1_000_000]
    args.raw_cap = 5_000 if args.quick else 30_000
    kinds = [
        k
        for k, skip in (("sqlite", args.skip_sqlite), ("postgresql", args.skip_postgres))
        if not skip
    ]
    began = time.perf_counter()
    results = [run_one(kind, args) for kind in kinds]
    print_report(results, args)
    print(f"\ntotal {time.perf_counter() - began:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
