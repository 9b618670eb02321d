"""A real S3-compatible server for the tests (moto's standalone server), and a fixture that
runs a module's tests once on the local attachment store and once on the S3 one."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

BUCKET = "fieldenforce-test"
# moto takes any credentials; boto3 needs some to sign requests.
CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "test-key",
    "AWS_SECRET_ACCESS_KEY": "test-secret",
    "AWS_DEFAULT_REGION": "us-east-1",
}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_s3_server(log_dir: Path) -> tuple[subprocess.Popen[bytes], str]:
    """Start moto's S3 server on a free loopback port; its process and endpoint URL."""
    port = _free_port()
    log = open(log_dir / "moto.log", "wb")  # noqa: SIM115 - kept open for the process
    process = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 60
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                break
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(
                    f"the S3 server did not start; see {log_dir / 'moto.log'}"
                ) from None
            time.sleep(0.2)
    return process, f"http://127.0.0.1:{port}"


def s3_client(endpoint: str) -> Any:
    import boto3

    return boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name=CREDENTIALS["AWS_DEFAULT_REGION"],
        aws_access_key_id=CREDENTIALS["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
    )


def empty_bucket(client: Any, bucket: str) -> None:
    paginator = client.get_paginator("list_objects_v2")
    for page in paginator.paginate(Bucket=bucket):
        keys = [{"Key": item["Key"]} for item in page.get("Contents", ())]
        if keys:
            client.delete_objects(Bucket=bucket, Delete={"Objects": keys, "Quiet": True})


@pytest.fixture(scope="session")
def s3_endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    for name, value in CREDENTIALS.items():
        os.environ.setdefault(name, value)
    process, endpoint = start_s3_server(tmp_path_factory.mktemp("moto"))
    s3_client(endpoint).create_bucket(Bucket=BUCKET)
    yield endpoint
    process.terminate()
    process.wait(timeout=30)


@pytest.fixture(params=["local", "s3"])
def attachment_store(request: pytest.FixtureRequest, app: Any) -> Iterator[str]:
    """The app's attachments in a local folder, then (second run) in an S3 bucket under a
    prefix of the test's own; emptied afterwards either way."""
    saved = {k: app.config.get(k) for k in ("ATTACHMENT_STORE", "S3_BUCKET", "S3_ENDPOINT_URL",
                                             "S3_PREFIX", "ATTACHMENTS_DIR")}
    scratch = request.getfixturevalue("tmp_path") / "attachments"
    app.config["ATTACHMENTS_DIR"] = str(scratch)
    if request.param == "s3":
        endpoint = request.getfixturevalue("s3_endpoint")
        app.config.update(
            ATTACHMENT_STORE="s3",
            S3_BUCKET=BUCKET,
            S3_ENDPOINT_URL=endpoint,
            S3_PREFIX=f"t-{uuid.uuid4().hex[:8]}",
        )
    try:
        yield request.param
    finally:
        if request.param == "s3":
            empty_bucket(s3_client(app.config["S3_ENDPOINT_URL"]), BUCKET)
        app.config.update(saved)
