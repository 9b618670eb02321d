"""Builders for sync ops and a small device that pushes and pulls through the HTTP API."""

from __future__ import annotations

import hashlib
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from flask.testing import FlaskClient

from server.schemas.sync import PushResultSchema

T0 = datetime(2024, 5, 6, 9, 0, tzinfo=UTC)


def iso(moment: datetime) -> str:
    return moment.isoformat()


def op(
    entity: str,
    data: dict[str, Any],
    *,
    record_id: str | None = None,
    base_version: int | None = None,
    at: datetime = T0,
) -> dict[str, Any]:
    return {
        "op_id": str(uuid.uuid4()),
        "entity": entity,
        "id": record_id or str(uuid.uuid4()),
        "base_version": base_version,
        "client_time": iso(at),
        "data": data,
    }


def scan_op(code: str, inspectors: list[str], *, at: datetime = T0, **kw: Any) -> dict[str, Any]:
    data = {
        "code": code,
        "scanned_at": iso(at),
        "location": {"lat": 39.12, "lng": 117.15, "accuracy_m": 8},
        "inspector_ids": inspectors,
    }
    return op("scan", data, at=at, **kw)


def inspection_op(
    enterprise_id: str,
    inspectors: list[str],
    *,
    scan_id: str | None = None,
    at: datetime = T0,
    **overrides: Any,
) -> dict[str, Any]:
    record_id = overrides.pop("record_id", None)
    data = {
        "enterprise_id": enterprise_id,
        "scan_id": scan_id,
        "task_id": None,
        "kind": "random",
        "started_at": iso(at),
        "ended_at": iso(at + timedelta(hours=2)),
        "place": "生产车间",
        "inspector_ids": inspectors,
        "items": [
            {"item": "安全出口畅通", "result": "ok", "note": ""},
            {"item": "配电箱防护", "result": "hazard", "note": "门未关闭"},
        ],
        "findings": "发现一般隐患1处",
        "representative": {"name": "张伟", "title": "安全科长"},
        "signature_attachments": [],
    }
    data.update(overrides)
    return op("inspection", data, record_id=record_id, at=at)


def hazard_op(
    inspection_id: str,
    enterprise_id: str,
    *,
    level: str = "general",
    fixed_on_spot: bool = False,
    photos: list[str] | None = None,
    **overrides: Any,
) -> dict[str, Any]:
    record_id = overrides.pop("record_id", None)
    data = {
        "inspection_id": inspection_id,
        "enterprise_id": enterprise_id,
        "level": level,
        "description": "配电箱未上锁，无警示标识",
        "location": "二号车间",
        "legal_basis": "《安全生产法》第三十五条",
        "photo_attachments": photos or [],
        "fixed_on_spot": fixed_on_spot,
        "deadline": None,
    }
    data.update(overrides)
    return op("hazard", data, record_id=record_id)


def document_op(
    doc_type: str, inspection_id: str, hazard_ids: list[str], *, at: datetime = T0, **fields: Any
) -> dict[str, Any]:
    data = {
        "type": doc_type,
        "inspection_id": inspection_id,
        "hazard_ids": hazard_ids,
        "issued_at": iso(at),
        "provisional_number": f"临-{uuid.uuid4().hex[:6]}-1",
    }
    data.update(fields)
    return op("document", data, at=at)


def sha256(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


class Device:
    """One phone: pushes ops, pulls changes, keeps its cursor."""

    def __init__(self, client: FlaskClient, headers: dict[str, str], device_id: str) -> None:
        self.client = client
        self.headers = headers
        self.device_id = device_id
        self.cursor: str | None = None
        self.state: dict[tuple[str, str], dict[str, Any]] = {}

    def push(self, ops: list[dict[str, Any]], expect: int = 200) -> list[dict[str, Any]]:
        response = self.client.post(
            "/api/v1/sync/push",
            json={"device_id": self.device_id, "schema_version": 1, "ops": ops},
            headers=self.headers,
        )
        assert response.status_code == expect, response.get_json()
        answer = response.get_json()
        if expect != 200:
            return answer
        # The route answers without dumping through its schema: what it sends must be what
        # the schema would have made of it.
        assert PushResultSchema().dump(answer) == answer
        return answer["results"]

    def upload(self, content: bytes) -> str:
        digest = sha256(content)
        response = self.client.put(
            f"/api/v1/attachments/{digest}", data=content, headers=self.headers
        )
        assert response.status_code in (200, 201), response.get_json()
        return digest

    def pull_all(self, limit: int = 100) -> list[dict[str, Any]]:
        seen = []
        while True:
            query = {"limit": limit}
            if self.cursor:
                query["cursor"] = self.cursor
            response = self.client.get(
                "/api/v1/sync/pull", query_string=query, headers=self.headers
            )
            assert response.status_code == 200, response.get_json()
            body = response.get_json()
            for change in body["changes"]:
                key = (change["entity"], change["id"])
                if change["deleted"]:
                    self.state.pop(key, None)
                else:
                    self.state[key] = change["data"]
            seen.extend(body["changes"])
            self.cursor = body["next_cursor"]
            if not body["has_more"]:
                return seen


def at_once(jobs: list[Any]) -> list[Any]:
    """Run the jobs in threads released together (a barrier); their results in order."""
    import threading

    barrier = threading.Barrier(len(jobs))
    results: list[Any] = [None] * len(jobs)
    failures: list[BaseException] = []

    def run(i: int, job: Any) -> None:
        try:
            barrier.wait()
            results[i] = job()
        except BaseException as exc:  # pragma: no cover - reported below
            failures.append(exc)

    threads = [threading.Thread(target=run, args=(i, j)) for i, j in enumerate(jobs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not failures, failures
    return results
