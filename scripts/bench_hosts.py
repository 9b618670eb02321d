"""Push capacity of one app host against two, on one PostgreSQL (this machine), as a ratio.

A scratch PostgreSQL database is migrated and given an agency (scripts/bench_sync.py's
fixtures); two gunicorn hosts serve it on loopback ports, each with the workers
``gunicorn.conf.py`` starts. The same devices then push batches of 100 ops back to back for a
fixed time (closed loop, one thread and connection per device): first all of them to host A,
then spread over A and B in turn (each device keeps its host, as a balancer with affinity).
Printed: ops/s each way, the ratio two/one, batch latency p50/p99 and 5xx.

On one machine the two hosts share its cores with each other and with PostgreSQL, so the
ratio says what a second host costs or gains here, not what a second machine would add.

    .venv/bin/python scripts/bench_hosts.py [--seconds 20] [--devices 16] [--workers N]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from scripts.bench_sync import (  # noqa: E402 - the path above makes the checkout importable
    Device,
    OpFactory,
    PushTally,
    Server,
    conf_workers,
    create_agency,
    database,
    login_devices,
    make_app,
    migrate,
    pct,
)
from scripts.device_sim import HttpTransport  # noqa: E402


def push_for(
    hosts: list[Server], devices: list[Device], factory: OpFactory, seconds: float
) -> tuple[float, PushTally]:
    """Devices push to their host (device i to host i mod n) for ``seconds``; ops/s applied."""
    tally = PushTally()
    transports = [HttpTransport(h.base_url, timeout=120) for h in hosts]
    ready = {d.index: [factory.batch(d.index, 100) for _ in range(4)] for d in devices}
    stop_at = 0.0

    def run(device: Device) -> None:
        transport = transports[device.index % len(transports)]
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
                reply.status, reply.json() if reply.status == 200 else None,
                time.perf_counter() - began,
            )
        transport.close()

    threads = [threading.Thread(target=run, args=(d,)) for d in devices]
    stop_at = time.perf_counter() + seconds
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    applied = sum(n for at, n in tally.finished if at <= stop_at)
    return applied / seconds, tally


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--devices", type=int, default=16)
    parser.add_argument("--workers", type=int, default=None, help="per host")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bench-hosts-") as tmp:
        workdir = Path(tmp)
        with database("postgresql", workdir) as url:
            migrate(url, workdir)
            workers = args.workers or conf_workers(url)
            app = make_app(url, workdir)
            agency = create_agency(app, "hosts", inspectors=20, enterprises=400, seed=1)
            (workdir / "a").mkdir()
            (workdir / "b").mkdir()
            hosts = [Server(url, workdir / "a", workers), Server(url, workdir / "b", workers)]
            try:
                devices = login_devices(hosts[0].base_url, agency, args.devices)
                factory = OpFactory(agency, seed=3)
                push_for(hosts, devices, factory, min(5.0, args.seconds))  # warm both hosts
                rows = []
                for label, used in (("one host", hosts[:1]), ("two hosts", hosts)):
                    rate, tally = push_for(used, devices, factory, args.seconds)
                    fives = sum(n for code, n in tally.http.items() if code >= 500)
                    rows.append((label, rate, tally, fives))
            finally:
                for host in hosts:
                    host.stop()
    print(f"push capacity on PostgreSQL, {args.devices} devices, batches of 100 ops, "
          f"{args.seconds:.0f} s each, {workers} workers per host")
    print(f"{'':10} {'ops/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'5xx':>5}")
    for label, rate, tally, fives in rows:
        lat = [x * 1000 for x in tally.latencies]
        print(f"{label:10} {rate:8.0f} {statistics.median(lat):8.0f} {pct(lat, 0.99):8.0f} "
              f"{fives:5d}")
    ratio = rows[1][1] / rows[0][1]
    print(f"ratio two hosts / one host: {ratio:.2f}")
    return 0 if all(fives == 0 for *_, fives in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
