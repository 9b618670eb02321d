"""Two app hosts behind a load balancer without affinity, on one PostgreSQL and one S3 store:
the device simulator, every request to the other host in turn, keeps every sync invariant,
and every attachment reads back from either host."""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from scripts.device_sim import HttpTransport, RoundRobinTransport, Settings, Simulator, setup_in_app
from tests.s3_support import BUCKET, CREDENTIALS, _free_port

ROOT = Path(__file__).resolve().parents[2]


class Host:
    """gunicorn with the project's config, as one host of a deployment."""

    def __init__(self, env: dict[str, str], workdir: Path) -> None:
        workdir.mkdir(parents=True, exist_ok=True)
        self.port = _free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.log_path = workdir / "gunicorn.log"
        self.log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [
                sys.executable, "-m", "gunicorn",
                "--config", str(ROOT / "gunicorn.conf.py"),
                "--bind", f"127.0.0.1:{self.port}",
                "--workers", "2",
                "server:create_app()",
            ],
            cwd=ROOT,
            env={**env, "ATTACHMENTS_DIR": str(workdir / "scratch")},
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        probe = HttpTransport(self.base_url, timeout=5)
        deadline = time.monotonic() + 90
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited: {self.log_path.read_text()[-2000:]}")
            try:
                if probe.request("GET", "/healthz").status == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"gunicorn did not come up: {self.log_path}")
            time.sleep(0.3)
        probe.close()

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()


@pytest.fixture
def two_hosts(app, database_url, s3_endpoint, tmp_path) -> Iterator[list[Host]]:
    if not database_url.startswith("postgresql"):
        pytest.skip("needs PostgreSQL (TEST_DATABASE_URL): hosts share one PostgreSQL")
    env = {
        **os.environ,
        **CREDENTIALS,
        "DATABASE_URL": database_url,
        "SECRET_KEY": app.config["SECRET_KEY"],
        "PUBLIC_BASE_URL": app.config["PUBLIC_BASE_URL"],
        "ATTACHMENT_STORE": "s3",
        "S3_BUCKET": BUCKET,
        "S3_PREFIX": f"hosts-{os.getpid()}",
        "S3_ENDPOINT_URL": s3_endpoint,
        "LOG_FORMAT": "json",
    }
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    hosts: list[Host] = []
    try:
        for n in range(2):
            hosts.append(Host(env, tmp_path / f"host{n}"))
        yield hosts
    finally:
        for host in hosts:
            host.stop()


def test_devices_spread_over_two_hosts_keep_every_invariant_and_read_every_photo(
    app, two_hosts
) -> None:
    transports = [HttpTransport(h.base_url, timeout=60) for h in two_hosts]
    balancer = RoundRobinTransport(transports)
    field = setup_in_app(app, balancer, inspectors=6, enterprises=6, seed=7)
    simulator = Simulator(balancer, field, seed=7, settings=Settings(target_ops=300))
    report = simulator.run()
    print(report.summary())
    assert report.ok, report.summary()
    # Cut uploads were resumed, and with every request to the other host in turn, a resumed
    # upload's chunks met both hosts.
    assert report.events["upload_resumed"] > 0
    assert report.events["held"] > 0 and report.events["duplicate_seen"] > 0

    uploaded = {
        sha: (device, blob)
        for device in simulator.devices
        for sha, blob in device.blobs.items()
        if blob.uploaded
    }
    assert uploaded
    for sha, (device, blob) in uploaded.items():
        for transport in transports:
            reply = transport.request("GET", f"/api/v1/attachments/{sha}", headers=device.headers)
            assert reply.status == 200, (sha, reply.status)
            assert reply.body == blob.content
            assert hashlib.sha256(reply.body).hexdigest() == sha
    # Each host answers its metrics, in the multiprocess mode its workers share.
    for transport in transports:
        metrics = transport.request("GET", "/metrics")
        assert metrics.status == 200
        assert b"fe_sync_push_ops_total" in metrics.body
    balancer.close()
