"""Inspectors' phones working offline against the HTTP API, with a flaky link, then the checks.

Each simulated device belongs to a two-person team. Teams visit enterprises: they scan the gate
code, record the inspection, hazards (some fixed on the spot), documents, and later the
enterprises' rectification reports; both partners edit the same hazards from their own phones.
Photos are random bytes uploaded as attachments, some of them cut halfway and resumed.

Sync is deliberately messy: random batch sizes, whole batches re-sent, answers lost, batches
taken from the middle of the outbox, a partner's hazards arriving before the inspection they
belong to (``held``), ops sent before their photos (``attachment_missing``, then re-sent
unchanged), and concurrent edits of one hazard (merged, or ``conflict`` and re-applied on top of
the server's record). Everything is drawn from one ``random.Random(seed)``: a run is replayable.

At the end the simulator checks (``Report.failures`` lists what broke):

1. every record it created exists exactly once on the server, in the state the ops imply, and
   no held op is left unsettled;
2. document numbers per (type, year) are exactly 1..n;
3. a device pulling from no cursor in small pages ends with the same state as the device that
   pulled incrementally throughout;
4. every op result has one of the five statuses and every re-sent taken op came back
   ``duplicate``.

Two transports perform the requests: ``FlaskTransport`` (a Flask test client, used by the tests)
and ``HttpTransport`` (``http.client`` against a base URL, used by the CLI and the benchmark).

Setting up: ``setup_in_app`` creates an agency, certified inspectors and a lead directly through
the account services of a Flask app, then logs everyone in and adds enterprises through the API.
``setup_demo`` uses the accounts of ``flask --app server demo seed`` (inspector01..inspector10 and
lead, password ``demo-pass-2024``) and the demo enterprises; with more devices than demo
inspectors, accounts are reused on extra phones (two phones of one team never share an account).

CLI, against a running server that holds the demo data::

    python scripts/device_sim.py --base-url http://127.0.0.1:5000 --inspectors 20 --seed 1
"""

from __future__ import annotations

import argparse
import hashlib
import http.client
import io
import json as jsonlib
import random
import sys
import threading
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlencode, urlsplit

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

API = "/api/v1"
STATUSES = frozenset({"applied", "duplicate", "held", "conflict", "rejected"})
TAKEN = frozenset({"applied", "held"})
RECORD_ENTITIES = ("scan", "inspection", "hazard", "document", "rectification")
DEMO_PASSWORD = "demo-pass-2024"
SIM_PASSWORD = "sim-device-pass"
# Devices keep local time; the agency is in Asia/Shanghai.
CST = timezone(timedelta(hours=8))
# Visits fall around a new year, so numbering per (type, year) and the agency's local year are
# both exercised; all of it lies in the past, as a device's times must.
WINDOW_START = datetime(2024, 12, 16, 8, 0, tzinfo=CST)
WINDOW_DAYS = 28


# --- transports -----------------------------------------------------------------------------


@dataclass
class Reply:
    status: int
    headers: dict[str, str]  # names in lower case
    body: bytes

    def json(self) -> Any:
        return jsonlib.loads(self.body) if self.body else None


class Transport(Protocol):
    def request(
        self,
        method: str,
        path: str,
        headers: dict[str, str] | None = None,
        json: Any = None,
        data: bytes | None = None,
        query: dict[str, Any] | None = None,
    ) -> Reply: ...


class FlaskTransport:
    """Requests through a Flask test client (in-process, no sockets)."""

    def __init__(self, client: Any) -> None:
        self.client = client

    def request(
        self,
        method: str,
        path: str,
        headers: dict[str, str] | None = None,
        json: Any = None,
        data: bytes | None = None,
        query: dict[str, Any] | None = None,
    ) -> Reply:
        kw: dict[str, Any] = {"method": method, "headers": headers or {}, "query_string": query}
        if json is not None:
            kw["json"] = json
        elif data is not None:
            kw["data"] = data
        response = self.client.open(path, **kw)
        return Reply(
            response.status_code,
            {k.lower(): v for k, v in response.headers.items()},
            response.get_data(),
        )


class HttpTransport:
    """Requests over HTTP/1.1 keep-alive connections, one per thread."""

    def __init__(self, base_url: str, timeout: float = 60.0) -> None:
        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https"):
            raise ValueError(f"not an http(s) URL: {base_url}")
        self.https = parts.scheme == "https"
        self.host = parts.hostname or "127.0.0.1"
        self.port = parts.port or (443 if self.https else 80)
        self.prefix = parts.path.rstrip("/")
        self.timeout = timeout
        self._local = threading.local()

    def _connection(self) -> http.client.HTTPConnection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            cls = http.client.HTTPSConnection if self.https else http.client.HTTPConnection
            conn = cls(self.host, self.port, timeout=self.timeout)
            self._local.conn = conn
        return conn

    def close(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None

    def request(
        self,
        method: str,
        path: str,
        headers: dict[str, str] | None = None,
        json: Any = None,
        data: bytes | None = None,
        query: dict[str, Any] | None = None,
    ) -> Reply:
        url = self.prefix + path
        if query:
            url += "?" + urlencode({k: v for k, v in query.items() if v is not None})
        send = dict(headers or {})
        body = data
        if json is not None:
            body = jsonlib.dumps(json, ensure_ascii=False).encode()
            send["Content-Type"] = "application/json"
        for attempt in (1, 2):
            conn = self._connection()
            fresh = conn.sock is None
            try:
                conn.request(method, url, body=body, headers=send)
                response = conn.getresponse()
                payload = response.read()
            except (http.client.HTTPException, OSError):
                self.close()
                # A kept-alive connection the server closed meanwhile: reconnect once.
                if attempt == 2 or fresh:
                    raise
                continue
            if response.getheader("Connection", "").lower() == "close":
                self.close()
            return Reply(response.status, {k.lower(): v for k, v in response.getheaders()}, payload)
        raise AssertionError("unreachable")


class RoundRobinTransport:
    """Each request to the next of several hosts in turn, as a load balancer without session
    affinity sends them: a device's batches, chunks and pulls land on every host."""

    def __init__(self, transports: list[Transport]) -> None:
        self.transports = list(transports)
        self._turn = 0
        self._lock = threading.Lock()

    def request(self, *args: Any, **kwargs: Any) -> Reply:
        with self._lock:
            transport = self.transports[self._turn % len(self.transports)]
            self._turn += 1
        return transport.request(*args, **kwargs)

    def close(self) -> None:
        for transport in self.transports:
            close = getattr(transport, "close", None)
            if close is not None:
                close()


# --- accounts and setup ---------------------------------------------------------------------


@dataclass
class Account:
    user_id: str
    username: str
    role: str
    device_id: str
    headers: dict[str, str]


@dataclass
class Field:
    """Who plays and where: logged-in devices, a lead who sees everything, enterprises."""

    inspectors: list[Account]
    lead: Account
    enterprises: list[str]
    # True when the agency held no records before the run: then the server's record counts
    # must equal the simulator's exactly, not merely include them.
    fresh: bool
    # Op and record ids are global on a server: runs with the same seed need their own ids.
    namespace: str = ""


class SimError(RuntimeError):
    """The server answered something the protocol does not allow (or set-up failed)."""


def expect(reply: Reply, *statuses: int, what: str) -> Reply:
    if reply.status not in statuses:
        raise SimError(f"{what}: HTTP {reply.status} {reply.body[:500]!r}")
    return reply


def login(transport: Transport, username: str, password: str, device_id: str) -> Account:
    reply = transport.request(
        "POST",
        f"{API}/auth/login",
        json={
            "username": username,
            "password": password,
            "device_id": device_id,
            "device_name": "simulated phone",
        },
    )
    body = expect(reply, 200, what=f"log in {username}").json()
    return Account(
        user_id=str(body["user"]["id"]),
        username=username,
        role=body["user"]["role"],
        device_id=device_id,
        headers={"Authorization": f"Bearer {body['access_token']}"},
    )


def setup_in_app(
    app: Any,
    transport: Transport,
    *,
    inspectors: int = 6,
    enterprises: int = 8,
    seed: int = 1,
    agency_code: str = "simbureau",
    agency_abbr: str = "模拟",
) -> Field:
    """A new agency with certified inspectors, a lead and enterprises; everyone logged in.

    Accounts are made through the account services inside ``app`` (no CLI round trips);
    enterprises through ``POST /enterprises`` as the lead.
    """
    from server.extensions import db
    from server.services import accounts
    from server.services.demo import make_uscc

    rng = random.Random(seed * 7919 + 17)
    inspectors += inspectors % 2
    with app.app_context():
        accounts.create_agency(agency_code, f"{agency_abbr}应急管理局", agency_abbr)
        for i in range(inspectors):
            accounts.create_user(
                username=f"{agency_code}-inspector{i:02d}",
                agency_code=agency_code,
                role="inspector",
                password=SIM_PASSWORD,
                full_name=f"检查员{i:02d}",
                cert_no=f"1201042{i:05d}",
                cert_valid_until=date(2030, 12, 31),
            )
        accounts.create_user(
            username=f"{agency_code}-lead",
            agency_code=agency_code,
            role="lead",
            password=SIM_PASSWORD,
            cert_no="120104299999",
            cert_valid_until=date(2030, 12, 31),
        )
        db.session.remove()
    phones = [
        login(
            transport, f"{agency_code}-inspector{i:02d}", SIM_PASSWORD, f"{agency_code}-phone-{i}"
        )
        for i in range(inspectors)
    ]
    lead = login(transport, f"{agency_code}-lead", SIM_PASSWORD, f"{agency_code}-lead-desk")
    ids = []
    for n in range(enterprises):
        reply = transport.request(
            "POST",
            f"{API}/enterprises",
            headers=lead.headers,
            json={
                "uscc": make_uscc(rng),
                "name": f"天津市模拟{n:03d}机械制造有限公司",
                "address": f"天津市南开区红旗路{n + 1}号",
                "industry": rng.choice(["machinery", "light_industry", "metallurgy"]),
                "risk_grade": rng.choice(["good", "medium", "poor"]),
                "credit_rating": rng.choice(["A", "B", "C"]),
                "is_key": rng.random() < 0.2,
            },
        )
        ids.append(expect(reply, 201, what="create enterprise").json()["id"])
    return Field(inspectors=phones, lead=lead, enterprises=ids, fresh=True, namespace=agency_code)


def setup_demo(
    transport: Transport,
    *,
    inspectors: int = 20,
    enterprises: int = 30,
    password: str = DEMO_PASSWORD,
    run_tag: str = "sim",
) -> Field:
    """Log in the demo accounts (``flask demo seed``) on ``inspectors`` phones."""
    inspectors += inspectors % 2
    names = [f"inspector{i:02d}" for i in range(1, 11)]
    phones = [
        login(transport, names[i % len(names)], password, f"{run_tag}-phone-{i:03d}")
        for i in range(inspectors)
    ]
    lead = login(transport, "lead", password, f"{run_tag}-lead-desk")
    reply = transport.request(
        "GET",
        f"{API}/enterprises",
        headers=lead.headers,
        query={"per_page": max(1, min(enterprises, 500)), "sort": "name"},
    )
    items = expect(reply, 200, what="list enterprises").json()["items"]
    if not items:
        raise SimError("the demo agency has no enterprises; run `flask --app server demo seed`")
    return Field(
        inspectors=phones,
        lead=lead,
        enterprises=[e["id"] for e in items],
        fresh=False,
        namespace=run_tag,
    )


def decode_gate_code(png: bytes) -> str:
    """The text a phone camera reads from the gate's QR image."""
    import zxingcpp
    from PIL import Image

    results = zxingcpp.read_barcodes(
        Image.open(io.BytesIO(png)),
        formats=zxingcpp.BarcodeFormat.QRCode,  # type: ignore[arg-type]  # one format: the set of it
    )
    if len(results) != 1:
        raise SimError(f"the gate QR image decodes to {len(results)} codes")
    return results[0].text


# --- what the simulator tracks --------------------------------------------------------------


@dataclass
class Blob:
    sha: str
    content: bytes
    late: bool  # sent only after an op naming it was rejected
    cut: bool  # the first upload attempt stops halfway
    uploaded: bool = False
    cut_done: bool = False


@dataclass
class OpRecord:
    op: dict[str, Any]
    device: SimDevice
    attachments: list[str]
    # for edits: (hazard id, field, value, mode)
    edit: tuple[str, str, str, str] | None = None
    known: str | None = None  # the last status the device learned (duplicates resolved)
    sends: int = 0
    applied_push: int | None = None
    unanswered_since: int | None = None
    resolved: bool = False
    was_held: bool = False
    result: dict[str, Any] | None = None

    @property
    def op_id(self) -> str:
        return str(self.op["op_id"])


@dataclass
class HazardPlan:
    id: str
    level: str
    fixed: bool
    device: SimDevice
    description: str
    location: str
    ordered: bool = False
    rectify_by: SimDevice | None = None
    rectified: bool = False
    edit_mode: str | None = None  # "merge" | "conflict"
    edited: bool = False


@dataclass
class Visit:
    team: tuple[SimDevice, SimDevice]
    enterprise_id: str
    inspection_id: str
    started_at: datetime
    ended_at: datetime
    hazards: list[HazardPlan]


class SimDevice:
    """One phone: an outbox of ops, photos not yet sent, what it pulled, its cursor."""

    def __init__(self, account: Account, transport: Transport, index: int) -> None:
        self.account = account
        self.transport = transport
        self.index = index
        self.outbox: list[OpRecord] = []
        self.blobs: dict[str, Blob] = {}
        self.held: list[OpRecord] = []
        self.state: dict[tuple[str, str], dict[str, Any]] = {}
        self.cursor: str | None = None
        self.counter = 0

    @property
    def user_id(self) -> str:
        return self.account.user_id

    @property
    def headers(self) -> dict[str, str]:
        return self.account.headers

    def name(self) -> str:
        return f"phone {self.index} ({self.account.username})"


@dataclass
class Settings:
    target_ops: int = 300
    max_chunk: int = 12
    p_visit: float = 0.35
    p_sync: float = 0.6
    p_pull: float = 0.4
    p_lost: float = 0.08  # the answer to a push never arrives
    p_retry: float = 0.12  # a batch is sent twice
    p_reorder: float = 0.25  # a batch is taken from the middle of the outbox
    p_new_op_id: float = 0.3  # after a lost answer, the record is re-queued under a new op_id
    p_late_photo: float = 0.25
    p_cut_upload: float = 0.3
    p_edit: float = 0.4
    p_rectify: float = 0.6
    pull_limit: int = 100
    fresh_pull_limit: int = 7
    max_drain_rounds: int = 60
    verify_ledger_sample: int = 200


@dataclass
class Report:
    seed: int
    devices: int
    ops_created: Counter[str] = field(default_factory=Counter)
    statuses: Counter[str] = field(default_factory=Counter)
    events: Counter[str] = field(default_factory=Counter)
    server_counts: dict[str, int] = field(default_factory=dict)
    documents_by_type_year: dict[str, int] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)
    findings: list[str] = field(default_factory=list)
    elapsed_s: float = 0.0
    requests: int = 0

    @property
    def ok(self) -> bool:
        return not self.failures

    def fail(self, message: str) -> None:
        if len(self.failures) < 200:
            self.failures.append(message)
        elif len(self.failures) == 200:
            self.failures.append("... more failures left out")

    def summary(self) -> str:
        lines = [
            f"device simulator: seed {self.seed}, {self.devices} devices, "
            f"{sum(self.ops_created.values())} ops created in {self.elapsed_s:.1f} s "
            f"({self.requests} requests)",
            "  ops created:   " + _fmt(self.ops_created),
            "  results:       " + _fmt(self.statuses),
            "  chaos:         " + _fmt(self.events),
            "  server counts: " + _fmt(Counter(self.server_counts)),
            "  documents:     " + _fmt(Counter(self.documents_by_type_year)),
        ]
        for finding in self.findings:
            lines.append(f"  finding: {finding}")
        if self.failures:
            lines.append(f"  FAILED: {len(self.failures)} invariant violations")
            lines.extend(f"    - {f}" for f in self.failures[:40])
        else:
            lines.append("  invariants 1-4 hold")
        return "\n".join(lines)


def _fmt(counter: Counter[str]) -> str:
    return ", ".join(f"{k} {v}" for k, v in sorted(counter.items())) or "-"


def _iso(moment: datetime) -> str:
    return moment.isoformat()


def sha256(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


# --- the simulation -------------------------------------------------------------------------


class Simulator:
    def __init__(
        self,
        transport: Transport,
        setup: Field,
        *,
        seed: int = 1,
        settings: Settings | None = None,
    ) -> None:
        self.transport = transport
        self.field = setup
        self.seed = seed
        self.rng = random.Random(seed)
        # Ids come from their own stream: the same seed makes the same choices in another
        # agency or on another run without re-using ids the server has seen.
        self.id_rng = random.Random(f"{seed}/{setup.namespace}")
        self.cfg = settings or Settings()
        self.devices = [SimDevice(a, transport, i) for i, a in enumerate(setup.inspectors)]
        self.teams = [
            (self.devices[i], self.devices[i + 1]) for i in range(0, len(self.devices) - 1, 2)
        ]
        if not self.teams:
            raise SimError("two devices at least: inspections are made by teams of two")
        self.lead = SimDevice(setup.lead, transport, -1)
        self.report = Report(seed=seed, devices=len(self.devices))
        self.ops: dict[str, OpRecord] = {}
        self.created: dict[str, set[str]] = defaultdict(set)
        self.visits: list[Visit] = []
        self.codes: dict[str, str] = {}
        self.pushes = 0
        self.doc_numbers: dict[str, str] = {}
        self.ops_generated = 0

    # -- plumbing ------------------------------------------------------------------------

    def _request(self, method: str, path: str, **kw: Any) -> Reply:
        self.report.requests += 1
        return self.transport.request(method, path, **kw)

    def _gate_code(self, enterprise_id: str) -> str:
        if enterprise_id not in self.codes:
            reply = self._request(
                "GET",
                f"{API}/enterprises/{enterprise_id}/entry-code",
                headers=self.lead.headers,
                query={"format": "png"},
            )
            expect(reply, 200, what="gate code image")
            self.codes[enterprise_id] = decode_gate_code(reply.body)
        return self.codes[enterprise_id]

    def _uuid(self) -> str:
        return str(uuid.UUID(int=self.id_rng.getrandbits(128), version=4))

    def _op(
        self,
        device: SimDevice,
        entity: str,
        data: dict[str, Any],
        *,
        at: datetime,
        record_id: str | None = None,
        base_version: int | None = None,
        attachments: Iterable[str] = (),
        edit: tuple[str, str, str, str] | None = None,
    ) -> OpRecord:
        record = OpRecord(
            op={
                "op_id": self._uuid(),
                "entity": entity,
                "id": record_id or self._uuid(),
                "base_version": base_version,
                "client_time": _iso(at),
                "data": data,
            },
            device=device,
            attachments=list(attachments),
            edit=edit,
        )
        self.ops[record.op_id] = record
        device.outbox.append(record)
        self.report.ops_created[entity if edit is None else f"{entity}_edit"] += 1
        self.ops_generated += 1
        if base_version is None:
            self.created[entity].add(record.op["id"])
        return record

    def _photo(self, device: SimDevice, *, allow_late: bool = True) -> str:
        size = self.rng.choice([700, 3_000, 12_000, 40_000, 90_000])
        content = self.rng.randbytes(size)
        digest = sha256(content)
        device.blobs[digest] = Blob(
            sha=digest,
            content=content,
            late=allow_late and self.rng.random() < self.cfg.p_late_photo,
            cut=size >= 12_000 and self.rng.random() < self.cfg.p_cut_upload,
        )
        return digest

    # -- a visit: what a team records offline --------------------------------------------

    def _start_visit(self, team: tuple[SimDevice, SimDevice]) -> None:
        rng = self.rng
        recorder, partner = team if rng.random() < 0.5 else (team[1], team[0])
        members = [team[0].user_id, team[1].user_id]
        enterprise_id = rng.choice(self.field.enterprises)
        day = WINDOW_START + timedelta(days=rng.randrange(WINDOW_DAYS))
        if rng.random() < 0.08:
            # A night inspection on New Year's Eve: its documents are dated in the new year.
            started = datetime(2024, 12, 31, 22, 40, tzinfo=CST)
            ended = started + timedelta(hours=2)
        else:
            started = day + timedelta(minutes=rng.randrange(0, 7 * 60))
            ended = started + timedelta(minutes=rng.randrange(40, 180))
        scan = self._op(
            recorder,
            "scan",
            {
                "code": self._gate_code(enterprise_id),
                "scanned_at": _iso(started - timedelta(minutes=3)),
                "location": {
                    "lat": round(39.1 + rng.random() * 0.08, 6),
                    "lng": round(117.1 + rng.random() * 0.1, 6),
                    "accuracy_m": rng.choice([5, 8, 15, 30]),
                },
                "inspector_ids": members,
            },
            at=started - timedelta(minutes=3),
        )
        signatures = [self._photo(recorder)] if rng.random() < 0.3 else []
        inspection = self._op(
            recorder,
            "inspection",
            {
                "enterprise_id": enterprise_id,
                "scan_id": scan.op["id"],
                "task_id": None,
                "kind": rng.choice(["random", "key", "complaint", "other"]),
                "started_at": _iso(started),
                "ended_at": _iso(ended),
                "place": rng.choice(["生产车间", "仓库", "配电室", "锅炉房"]),
                "inspector_ids": members,
                "items": [
                    {"item": "安全出口畅通", "result": "ok", "note": ""},
                    {"item": "配电箱防护", "result": rng.choice(["ok", "hazard"]), "note": ""},
                    {"item": "特种作业持证", "result": rng.choice(["ok", "na"]), "note": ""},
                ],
                "findings": "现场检查情况见附页",
                "representative": {"name": "张伟", "title": "安全科长"},
                "signature_attachments": signatures,
            },
            at=ended,
            attachments=signatures,
        )
        inspection_id = inspection.op["id"]
        visit = Visit(team, enterprise_id, inspection_id, started, ended, [])
        for _ in range(rng.choice([0, 1, 1, 2, 2, 3, 4])):
            finder = rng.choice(team)
            fixed = rng.random() < 0.3
            photos = [
                self._photo(finder) for _ in range(rng.choice([1, 1, 2] if fixed else [0, 1, 2]))
            ]
            plan = HazardPlan(
                id=self._uuid(),
                level="major" if rng.random() < 0.15 else "general",
                fixed=fixed,
                device=finder,
                description=rng.choice(
                    [
                        "配电箱未上锁，无警示标识",
                        "消防通道堆放杂物",
                        "安全出口指示灯损坏",
                        "气瓶未固定",
                    ]
                ),
                location=rng.choice(["一号车间", "二号车间", "仓库东侧", "配电室"]),
            )
            self._op(
                finder,
                "hazard",
                {
                    "inspection_id": inspection_id,
                    "enterprise_id": enterprise_id,
                    "level": plan.level,
                    "description": plan.description,
                    "location": plan.location,
                    "legal_basis": "《安全生产法》第四十一条",
                    "photo_attachments": photos,
                    "fixed_on_spot": fixed,
                    "deadline": None
                    if fixed
                    else (ended.date() + timedelta(days=rng.randrange(7, 30))).isoformat(),
                },
                record_id=plan.id,
                at=ended,
                attachments=photos,
            )
            visit.hazards.append(plan)
        all_hazards = [h.id for h in visit.hazards]
        self._document(rng.choice(team), visit, "inspection_record", all_hazards)
        open_hazards = [h for h in visit.hazards if not h.fixed]
        if open_hazards and rng.random() < 0.85:
            self._document(
                rng.choice(team),
                visit,
                "rectification_order",
                [h.id for h in open_hazards],
                deadline=(ended.astimezone(CST).date() + timedelta(days=rng.randrange(10, 40))),
            )
            for plan in open_hazards:
                plan.ordered = True
                if rng.random() < self.cfg.p_rectify:
                    plan.rectify_by = rng.choice(team)
        elif rng.random() < 0.2:
            self._document(
                rng.choice(team), visit, "onsite_measures", [], measures=["withdraw_workers"]
            )
        for plan in visit.hazards:
            if rng.random() < self.cfg.p_edit:
                plan.edit_mode = rng.choice(["merge", "conflict"])
        self.visits.append(visit)

    def _document(
        self,
        device: SimDevice,
        visit: Visit,
        doc_type: str,
        hazard_ids: list[str],
        *,
        deadline: date | None = None,
        measures: list[str] | None = None,
    ) -> None:
        device.counter += 1
        data: dict[str, Any] = {
            "type": doc_type,
            "inspection_id": visit.inspection_id,
            "hazard_ids": hazard_ids,
            "issued_at": _iso(visit.ended_at),
            "provisional_number": f"临-{device.index:03d}-{device.counter}",
            "content": "依据《安全生产法》现场检查",
        }
        if deadline is not None:
            data["deadline"] = deadline.isoformat()
        if measures is not None:
            data["measures"] = measures
        self._op(device, "document", data, at=visit.ended_at)

    # -- follow-ups that need what a device pulled ---------------------------------------

    def _follow_ups(self) -> None:
        for visit in self.visits:
            for plan in visit.hazards:
                key = ("hazard", plan.id)
                if plan.rectify_by is not None and not plan.rectified:
                    seen = plan.rectify_by.state.get(key)
                    if seen is not None and seen["status"] == "ordered":
                        self._rectify(plan, visit)
                if plan.edit_mode is not None and not plan.edited:
                    a, b = visit.team
                    sa_, sb = a.state.get(key), b.state.get(key)
                    if sa_ is not None and sb is not None and sa_["version"] == sb["version"]:
                        self._edit_pair(plan, visit, int(sa_["version"]))

    def _rectify(self, plan: HazardPlan, visit: Visit) -> None:
        device = plan.rectify_by
        assert device is not None
        plan.rectified = True
        evidence = [self._photo(device) for _ in range(self.rng.choice([1, 1, 2]))]
        reported = visit.ended_at + timedelta(days=self.rng.randrange(1, 6), hours=2)
        self._op(
            device,
            "rectification",
            {
                "hazard_id": plan.id,
                "reported_at": _iso(reported),
                "description": "已整改完毕，附整改后照片",
                "evidence_attachments": evidence,
            },
            at=reported,
            attachments=evidence,
        )

    def _edit_pair(self, plan: HazardPlan, visit: Visit, version: int) -> None:
        plan.edited = True
        a, b = visit.team
        at = visit.ended_at + timedelta(hours=1)
        fields = (
            ("description", "location")
            if plan.edit_mode == "merge"
            else (
                "description",
                "description",
            )
        )
        for device, name in zip((a, b), fields, strict=True):
            value = f"{getattr(plan, name)}（{device.index}号机补充{self.rng.randrange(1000)}）"
            self._op(
                device,
                "hazard",
                {name: value},
                record_id=plan.id,
                base_version=version,
                at=at,
                edit=(plan.id, name, value, plan.edit_mode or "merge"),
            )
        # Edits go out at once, from both phones: the point is that they cross.
        self._push(a, [r for r in a.outbox if r.edit and r.edit[0] == plan.id])
        self._push(b, [r for r in b.outbox if r.edit and r.edit[0] == plan.id])

    # -- attachments ---------------------------------------------------------------------

    def _upload(self, device: SimDevice, blob: Blob) -> None:
        """One upload attempt; a cut upload stops after its first chunk the first time."""
        path = f"{API}/attachments/{blob.sha}"
        total = len(blob.content)
        headers = {**device.headers, "Content-Type": "image/jpeg"}
        if blob.cut and not blob.cut_done:
            half = total // 2
            for _ in range(2 if self.rng.random() < 0.3 else 1):
                reply = self._request(
                    "PUT",
                    path,
                    headers={**headers, "Content-Range": f"bytes 0-{half - 1}/{total}"},
                    data=blob.content[:half],
                )
                if reply.status != 202:
                    self.report.fail(f"first chunk of {blob.sha[:12]}: HTTP {reply.status}")
            blob.cut_done = True
            self.report.events["upload_cut"] += 1
            return
        if blob.cut:
            reply = self._request("HEAD", path, headers=device.headers)
            offset = int(reply.headers.get("upload-offset", "-1"))
            if reply.status != 404 or offset != total // 2:
                self.report.fail(
                    f"HEAD of a cut upload {blob.sha[:12]}: HTTP {reply.status}, "
                    f"Upload-Offset {offset}, expected 404 and {total // 2}"
                )
                offset = max(offset, 0)
            reply = self._request(
                "PUT",
                path,
                headers={**headers, "Content-Range": f"bytes {offset}-{total - 1}/{total}"},
                data=blob.content[offset:],
            )
            self.report.events["upload_resumed"] += 1
        else:
            reply = self._request("PUT", path, headers=headers, data=blob.content)
            self.report.events["upload_whole"] += 1
        if reply.status not in (200, 201):
            self.report.fail(f"upload of {blob.sha[:12]}: HTTP {reply.status} {reply.body[:200]!r}")
            return
        blob.uploaded = True

    def _upload_pending(self, device: SimDevice, *, everything: bool = False) -> None:
        for blob in list(device.blobs.values()):
            if not blob.uploaded and (everything or not blob.late):
                self._upload(device, blob)

    def _upload_now(self, device: SimDevice, shas: Iterable[str]) -> None:
        for sha in shas:
            blob = device.blobs.get(sha)
            if blob is None:
                self.report.fail(f"{device.name()} was asked for {sha[:12]}, which it never had")
                continue
            for _ in range(3):
                if blob.uploaded:
                    break
                self._upload(device, blob)

    # -- push and its answers ------------------------------------------------------------

    def _push(self, device: SimDevice, batch: list[OpRecord], *, lose: bool = False) -> None:
        if not batch:
            return
        self.pushes += 1
        index = self.pushes
        reply = self._request(
            "POST",
            f"{API}/sync/push",
            headers=device.headers,
            json={
                "device_id": device.account.device_id,
                "schema_version": 1,
                "ops": [r.op for r in batch],
            },
        )
        for record in batch:
            record.sends += 1
        if reply.status >= 500:
            self.report.events["push_5xx"] += 1
            self.report.fail(f"push answered HTTP {reply.status}: {reply.body[:300]!r}")
            return
        if reply.status != 200:
            self.report.fail(f"push answered HTTP {reply.status}: {reply.body[:300]!r}")
            return
        results = reply.json()["results"]
        if len(results) != len(batch):
            self.report.fail(f"push of {len(batch)} ops answered {len(results)} results")
            return
        if lose:
            # The link dropped before the answer arrived: the device learns nothing.
            self.report.events["answer_lost"] += 1
            for record in batch:
                if record.unanswered_since is None:
                    record.unanswered_since = index
            self._maybe_new_op_ids(device, batch)
            return
        for record, result in zip(batch, results, strict=True):
            self._answer(device, record, result, index)

    def _maybe_new_op_ids(self, device: SimDevice, batch: list[OpRecord]) -> None:
        """Some clients rebuild their queue after a crash and give ops new ids."""
        for record in batch:
            if (
                record.op["entity"] in ("scan", "inspection", "document", "rectification")
                and record.op["base_version"] is None
                and record in device.outbox
                and self.rng.random() < self.cfg.p_new_op_id
            ):
                twin = OpRecord(
                    op={**record.op, "op_id": self._uuid()},
                    device=device,
                    attachments=record.attachments,
                )
                self.ops[twin.op_id] = twin
                device.outbox[device.outbox.index(record)] = twin
                # The old op is lost with the crash; it may have been taken already.
                record.resolved = True
                self.report.events["requeued_with_new_op_id"] += 1

    def _answer(
        self, device: SimDevice, record: OpRecord, result: dict[str, Any], index: int
    ) -> None:
        status = result.get("status")
        self.report.statuses[str(status)] += 1
        if status not in STATUSES:
            self.report.fail(f"op {record.op_id}: status {status!r} is not one of the five")
            return
        if result.get("op_id") != record.op_id:
            self.report.fail(f"op {record.op_id}: answered for op {result.get('op_id')}")
        if record.known in TAKEN and status != "duplicate":
            self.report.fail(
                f"op {record.op_id} ({record.op['entity']}) was {record.known} and came back "
                f"{status} when re-sent: {result.get('errors')}"
            )
        effective = status
        if status == "duplicate":
            effective = result.get("original_status")
            if effective is None:
                self.report.fail(f"op {record.op_id}: a duplicate answer without original_status")
                return
            if record.known not in TAKEN and record.unanswered_since is None:
                self.report.fail(f"op {record.op_id}: duplicate of an op never taken")
            if effective not in TAKEN:
                self.report.fail(f"op {record.op_id}: duplicate of a {effective!r} op")
                return
            self.report.events["duplicate_seen"] += 1
        applied_push = index if status == "applied" else record.unanswered_since
        record.unanswered_since = None
        record.result = result
        if effective == "applied":
            if record.applied_push is None:
                record.applied_push = applied_push
            record.known = "applied"
            self._done(device, record)
            if record.op["entity"] == "document" and result.get("number"):
                self.doc_numbers[record.op["id"]] = result["number"]
        elif effective == "held":
            record.known = "held"
            record.was_held = True
            self._done(device, record)
            if record not in device.held:
                device.held.append(record)
                self.report.events["held"] += 1
        elif effective == "conflict":
            record.known = "conflict"
            self._done(device, record)
            self._resolve_conflict(device, record, result)
        else:
            record.known = "rejected"
            self._rejected(device, record, result.get("errors") or {})

    def _done(self, device: SimDevice, record: OpRecord) -> None:
        if record in device.outbox:
            device.outbox.remove(record)

    def _rejected(self, device: SimDevice, record: OpRecord, errors: dict[str, Any]) -> None:
        code = errors.get("code")
        if code == "attachment_missing":
            self.report.events["attachment_missing"] += 1
            missing = (errors.get("details") or {}).get("missing") or []
            if not set(missing) <= set(record.attachments):
                self.report.fail(f"op {record.op_id}: missing {missing} it never named")
            self._upload_now(device, missing)
            if record not in device.outbox:
                device.outbox.append(record)
        elif code == "depends_on_rejected":
            self.report.events["depends_on_rejected"] += 1
            if record not in device.outbox:
                device.outbox.append(record)
        else:
            self.report.fail(
                f"op {record.op_id} ({record.op['entity']}) rejected: {code} "
                f"{errors.get('message')} {errors.get('fields') or ''}"
            )
            self._done(device, record)

    def _resolve_conflict(
        self, device: SimDevice, record: OpRecord, result: dict[str, Any]
    ) -> None:
        if record.edit is None:
            self.report.fail(f"op {record.op_id}: a create answered conflict: {result['errors']}")
            return
        hazard_id, name, value, mode = record.edit
        self.report.events[f"conflict_{mode}"] += 1
        if mode == "merge":
            self.report.fail(
                f"op {record.op_id}: edits of different fields of hazard {hazard_id} conflicted"
            )
        if record.resolved:
            return
        record.resolved = True
        current = result.get("current") or {}
        if "version" not in current or name not in current:
            self.report.fail(f"op {record.op_id}: conflict without the server's record")
            return
        # Take the server's record and put this device's change on top of it.
        self._op(
            device,
            "hazard",
            {name: value},
            record_id=hazard_id,
            base_version=int(current["version"]),
            at=datetime.fromisoformat(record.op["client_time"]),
            edit=(hazard_id, name, value, "resolution"),
        )

    def _sync(self, device: SimDevice, *, calm: bool = False) -> None:
        rng = self.rng
        self._upload_pending(device)
        if not device.outbox:
            return
        size = len(device.outbox) if calm else rng.randint(1, self.cfg.max_chunk)
        size = min(size, len(device.outbox), 400)
        start = 0
        if not calm and len(device.outbox) > size and rng.random() < self.cfg.p_reorder:
            start = rng.randrange(len(device.outbox) - size + 1)
            self.report.events["batch_from_middle"] += 1
        batch = device.outbox[start : start + size]
        lose = not calm and rng.random() < self.cfg.p_lost
        self._push(device, batch, lose=lose)
        if not calm and rng.random() < self.cfg.p_retry:
            self.report.events["batch_resent"] += 1
            self._push(device, batch)

    # -- pulls and held ops --------------------------------------------------------------

    def pull(self, device: SimDevice, *, limit: int | None = None) -> int:
        """Pull from the device's cursor until nothing more; returns the changes seen."""
        seen = 0
        while True:
            query: dict[str, Any] = {"limit": limit or self.cfg.pull_limit}
            if device.cursor:
                query["cursor"] = device.cursor
            reply = self._request("GET", f"{API}/sync/pull", headers=device.headers, query=query)
            if reply.status != 200:
                self.report.fail(f"pull answered HTTP {reply.status}: {reply.body[:300]!r}")
                return seen
            body = reply.json()
            for change in body["changes"]:
                key = (change["entity"], str(change["id"]))
                if change["deleted"]:
                    device.state.pop(key, None)
                else:
                    device.state[key] = change["data"]
            seen += len(body["changes"])
            device.cursor = body["next_cursor"]
            if not body["has_more"]:
                return seen

    def _op_status(self, device: SimDevice, op_id: str) -> dict[str, Any] | None:
        reply = self._request("GET", f"{API}/sync/ops/{op_id}", headers=device.headers)
        if reply.status != 200:
            self.report.fail(f"GET /sync/ops/{op_id}: HTTP {reply.status}")
            return None
        return reply.json()

    def _check_held(self, device: SimDevice) -> None:
        for record in list(device.held):
            if record.known != "held":
                device.held.remove(record)
                continue
            result = self._op_status(device, record.op_id)
            if result is None or result["status"] == "held":
                continue
            device.held.remove(record)
            if result["status"] == "applied":
                record.known = "applied"
                self.report.events["held_then_applied"] += 1
            elif result["status"] == "rejected":
                # Only what needs the parent may fail once it arrives; a missing photo is
                # refused before an op is held, in the push answer itself.
                if (result.get("errors") or {}).get("code") == "attachment_missing":
                    self.report.fail(f"held op {record.op_id} failed later for a missing photo")
                record.known = "rejected"
                self.report.events["held_then_rejected"] += 1
                self._rejected(device, record, result.get("errors") or {})
            else:
                self.report.fail(f"held op {record.op_id} settled as {result['status']}")

    # -- the run -------------------------------------------------------------------------

    def run(self) -> Report:
        began = time.perf_counter()
        rng = self.rng
        self.pull(self.lead)
        for device in self.devices:
            self.pull(device)
        while self.ops_generated < self.cfg.target_ops:
            for team in self.teams:
                if self.ops_generated < self.cfg.target_ops and rng.random() < self.cfg.p_visit:
                    self._start_visit(team)
            self._round(calm=False)
        for n in range(self.cfg.max_drain_rounds):
            # Calm down gradually: a few more rough rounds, then a clean link.
            self._round(calm=n >= 3)
            if self._settled():
                break
        else:
            self.report.fail(
                f"not settled after {self.cfg.max_drain_rounds} rounds: "
                + "; ".join(
                    f"{d.name()}: {len(d.outbox)} queued, {len(d.held)} held"
                    for d in self.devices
                    if d.outbox or d.held
                )
            )
        for device in [*self.devices, self.lead]:
            self.pull(device)
        self.check()
        self._findings()
        self.report.elapsed_s = time.perf_counter() - began
        return self.report

    def _round(self, *, calm: bool) -> None:
        rng = self.rng
        order = list(self.devices)
        rng.shuffle(order)
        for device in order:
            if calm:
                self._upload_pending(device, everything=False)
                self._sync(device, calm=True)
                self.pull(device)
                self._check_held(device)
                continue
            if rng.random() < self.cfg.p_sync:
                self._sync(device)
            if rng.random() < self.cfg.p_pull:
                self.pull(device)
                if device.held and rng.random() < 0.5:
                    self._check_held(device)
            self._follow_ups()
        if calm:
            self._follow_ups()
        if rng.random() < 0.3 or calm:
            self.pull(self.lead)

    def _settled(self) -> bool:
        if any(d.outbox or d.held for d in self.devices):
            return False
        pending = any(
            (p.rectify_by is not None and not p.rectified) or (p.edit_mode and not p.edited)
            for v in self.visits
            for p in v.hazards
        )
        return not pending

    # -- the invariants ------------------------------------------------------------------

    def check(self) -> None:
        report = self.report
        fresh = SimDevice(self.field.lead, self.transport, -2)
        changes_seen: Counter[tuple[str, str]] = Counter()
        while True:
            query: dict[str, Any] = {"limit": self.cfg.fresh_pull_limit}
            if fresh.cursor:
                query["cursor"] = fresh.cursor
            reply = self._request("GET", f"{API}/sync/pull", headers=fresh.headers, query=query)
            body = expect(reply, 200, what="fresh pull").json()
            for change in body["changes"]:
                key = (change["entity"], str(change["id"]))
                changes_seen[key] += 1
                if change["deleted"]:
                    fresh.state.pop(key, None)
                else:
                    fresh.state[key] = change["data"]
            fresh.cursor = body["next_cursor"]
            if not body["has_more"]:
                break
        server: dict[str, dict[str, dict[str, Any]]] = defaultdict(dict)
        for (entity, record_id), data in fresh.state.items():
            server[entity][record_id] = data
        report.server_counts = {e: len(server[e]) for e in RECORD_ENTITIES}

        # 1. everything exactly once, in the state the ops imply
        repeated = [k for k, n in changes_seen.items() if n > 1]
        if repeated:
            report.fail(f"a pull from no cursor returned records twice: {repeated[:5]}")
        for entity in RECORD_ENTITIES:
            ours = self.created[entity]
            theirs = set(server[entity])
            missing = ours - theirs
            if missing:
                report.fail(
                    f"{len(missing)} {entity} records missing on the server: {sorted(missing)[:3]}"
                )
            if self.field.fresh and theirs - ours:
                report.fail(
                    f"{len(theirs - ours)} {entity} records on the server that no "
                    f"device made: {sorted(theirs - ours)[:3]}"
                )
        for record in self.ops.values():
            if record.known == "applied" and record.op["id"] not in server[record.op["entity"]]:
                report.fail(f"op {record.op_id} was applied but its record is missing")
        self._check_hazards(server["hazard"])
        self._check_ledger()

        # 2. document numbers
        by_year: dict[tuple[str, int], list[int]] = defaultdict(list)
        numbers: Counter[str] = Counter()
        for document_id, document in server["document"].items():
            year = int(document["year"])
            by_year[(document["type"], year)].append(int(document["serial"]))
            numbers[document["number"]] += 1
            if int(document["issued_at"][:4]) != year:
                report.fail(
                    f"document {document_id} issued {document['issued_at']} numbered in {year}"
                )
            told = self.doc_numbers.get(document_id)
            if told is not None and told != document["number"]:
                report.fail(
                    f"document {document_id}: push said {told}, pull says {document['number']}"
                )
        for (doc_type, year), serials in sorted(by_year.items()):
            report.documents_by_type_year[f"{doc_type}/{year}"] = len(serials)
            if sorted(serials) != list(range(1, len(serials) + 1)):
                report.fail(
                    f"{doc_type} {year}: serials are not 1..{len(serials)}: {_gaps(serials)}"
                )
        twice = [n for n, k in numbers.items() if k > 1]
        if twice:
            report.fail(f"document numbers given twice: {twice[:5]}")

        # 3. a fresh device reaches the state of the devices that pulled all along
        if fresh.state != self.lead.state:
            report.fail("lead: " + _state_diff(self.lead.state, fresh.state))
        for device in self.devices:
            again = SimDevice(device.account, self.transport, device.index)
            self.pull(again, limit=self.cfg.fresh_pull_limit)
            if again.state != device.state:
                report.fail(f"{device.name()}: " + _state_diff(device.state, again.state))

    def _findings(self) -> None:
        """Behaviour within the invariants that a device team should still know about."""
        events = self.report.events
        if events["held_then_rejected"]:
            self.report.findings.append(
                f"{events['held_then_rejected']} held ops were rejected when their parent "
                "arrived (a check that needs the parent); devices learn it from a pull or "
                "GET /sync/ops/<op_id>"
            )

    def _check_hazards(self, hazards: dict[str, dict[str, Any]]) -> None:
        report = self.report
        for visit in self.visits:
            for plan in visit.hazards:
                stored = hazards.get(plan.id)
                if stored is None:
                    continue
                if plan.fixed:
                    want = "pending_sign_off" if plan.level == "major" else "closed"
                elif plan.rectified:
                    want = "reported"
                elif plan.ordered:
                    want = "ordered"
                else:
                    want = "found"
                if stored["status"] != want:
                    report.fail(f"hazard {plan.id}: status {stored['status']}, expected {want}")
        last: dict[tuple[str, str], tuple[int, str]] = {}
        for record in self.ops.values():
            if record.edit is None or record.known != "applied":
                continue
            hazard_id, name, value, _ = record.edit
            at = record.applied_push or 0
            if (hazard_id, name) not in last or last[(hazard_id, name)][0] <= at:
                last[(hazard_id, name)] = (at, value)
        for (hazard_id, name), (_, value) in last.items():
            stored = hazards.get(hazard_id, {}).get(name)
            if stored != value:
                report.fail(
                    f"hazard {hazard_id}: {name} is {stored!r}, the last edit applied set {value!r}"
                )

    def _check_ledger(self) -> None:
        """Held ops all settled; a sample of other taken ops reads back as the device knows."""
        held_ever = [r for r in self.ops.values() if r.was_held]
        others = [r for r in self.ops.values() if r.known == "applied" and r not in held_ever]
        sample = held_ever + self.rng.sample(
            others, min(len(others), self.cfg.verify_ledger_sample)
        )
        for record in sample:
            result = self._op_status(record.device, record.op_id)
            if result is None:
                continue
            if result["status"] == "held":
                self.report.fail(f"op {record.op_id} is still held though everything was sent")
            elif record.known == "applied" and result["status"] != "applied":
                self.report.fail(f"op {record.op_id}: ledger says {result['status']}")


def _gaps(serials: list[int]) -> str:
    have = Counter(serials)
    repeated = sorted(s for s, n in have.items() if n > 1)
    missing = sorted(set(range(1, max(serials) + 1)) - set(have))
    return f"repeated {repeated[:10]}, missing {missing[:10]}"


def _state_diff(
    incremental: dict[tuple[str, str], dict[str, Any]],
    fresh: dict[tuple[str, str], dict[str, Any]],
) -> str:
    only_inc = sorted(set(incremental) - set(fresh))
    only_fresh = sorted(set(fresh) - set(incremental))
    differ = sorted(k for k in set(incremental) & set(fresh) if incremental[k] != fresh[k])
    return (
        f"incremental and fresh pulls differ: {len(only_inc)} only incremental "
        f"{only_inc[:3]}, {len(only_fresh)} only fresh {only_fresh[:3]}, "
        f"{len(differ)} with other data {differ[:3]}"
    )


def simulate(
    transport: Transport,
    setup: Field,
    *,
    seed: int = 1,
    settings: Settings | None = None,
) -> Report:
    """Run the simulation and check the invariants; ``report.failures`` lists violations."""
    return Simulator(transport, setup, seed=seed, settings=settings).run()


# --- CLI ------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base-url", default="http://127.0.0.1:5000")
    parser.add_argument("--inspectors", type=int, default=20, help="devices (even: teams of 2)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--ops", type=int, default=1000, help="ops to create (roughly)")
    parser.add_argument("--enterprises", type=int, default=30)
    parser.add_argument("--password", default=DEMO_PASSWORD, help="the demo accounts' password")
    args = parser.parse_args(argv)
    transport = HttpTransport(args.base_url)
    tag = f"sim{args.seed}-{uuid.uuid4().hex[:6]}"
    setup = setup_demo(
        transport,
        inspectors=args.inspectors,
        enterprises=args.enterprises,
        password=args.password,
        run_tag=tag,
    )
    settings = Settings(target_ops=args.ops, fresh_pull_limit=50, pull_limit=200)
    report = simulate(transport, setup, seed=args.seed, settings=settings)
    print(report.summary())
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
