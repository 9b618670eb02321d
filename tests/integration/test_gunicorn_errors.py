"""Requests gunicorn refuses before the app sees them still get the API's JSON error body."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def gunicorn(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    port = _free_port()
    instance = tmp_path_factory.mktemp("gunicorn")
    env = {
        **os.environ,
        "INSTANCE_PATH": str(instance),
        "SECRET_KEY": "gunicorn-errors-test",
        "WEB_CONCURRENCY": "1",
        "BIND": f"127.0.0.1:{port}",
    }
    env.pop("DATABASE_URL", None)
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "--config",
            str(ROOT / "gunicorn.conf.py"),
            "server:create_app()",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("gunicorn did not start") from None
                time.sleep(0.2)
        yield port
    finally:
        process.terminate()
        process.wait(timeout=30)


def _raw(port: int, request: bytes) -> tuple[int, dict[str, str], bytes]:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as conn:
        conn.sendall(request)
        answer = b""
        while chunk := conn.recv(65536):
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {k.lower(): v.strip() for k, v in (line.split(":", 1) for line in lines[1:])}
    return status, headers, body


@pytest.mark.parametrize(
    ("request_bytes", "status", "code"),
    [
        (b"GET /api/v1/enterprises?q=" + b"x" * 9000 + b" HTTP/1.1\r\nHost: a\r\n\r\n", 414,
         "uri_too_long"),
        (b"GET /healthz HTTP/1.1\r\nHost: a\r\nX-Big: " + b"y" * 9000 + b"\r\n\r\n", 431,
         "headers_too_large"),
        (b"GET /healthz HTTP/1.1\r\nHost: a\r\n" + b"".join(
            b"X-H%d: 1\r\n" % n for n in range(200)) + b"\r\n", 431, "headers_too_large"),
        (b"NOT A REQUEST\r\n\r\n", 400, "bad_request"),
    ],
    ids=["request-line", "header-field", "header-count", "garbage"],
)
def test_what_gunicorn_refuses_is_answered_in_the_json_error_body(
    gunicorn: int, request_bytes: bytes, status: int, code: str
) -> None:
    got_status, headers, body = _raw(gunicorn, request_bytes)
    assert got_status == status
    assert headers["content-type"] == "application/json"
    error = json.loads(body)["error"]
    assert error["code"] == code
    assert error["message"]
