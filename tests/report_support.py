"""A bureau's year of records built through the real API, for the annual report tests.

Inspections, hazards and documents go in as sync pushes of a few hundred ops (as a phone that
was offline for a while sends them); cases, reviews, decisions, exemptions, complaints and the
plan go through their own endpoints, one request each.
"""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from typing import Any
from unittest.mock import patch

from server.extensions import db
from server.models import Agency
from tests.sync_support import Device, document_op, hazard_op, inspection_op

BATCH = 400


@contextmanager
def at_moment(now: datetime) -> Iterator[None]:
    """Requests to the cases API and pages made inside see ``now`` as the server's clock."""
    with (
        patch("server.api.cases.utcnow", return_value=now),
        patch("server.web.penalties.utcnow", return_value=now),
        patch("server.services.hazards.common.utcnow", return_value=now),
        patch("server.services.hazards.steps.utcnow", return_value=now),
    ):
        yield


def moment(year: int, n: int) -> datetime:
    """The n-th working moment of a year: 10:00 in China, spread over 2 January – 20 December."""
    day = date(year, 1, 2) + timedelta(days=n % 350)
    return datetime(day.year, day.month, day.day, 2, 0, tzinfo=UTC)


class Bureau:
    def __init__(self, world: Any, client: Any, app: Any, *, code: str, name: str, abbr: str):
        self.world = world
        self.client = client
        self.app = app
        world.agency(code, name, abbr)
        self.code = code
        self.manager = world.headers("manager", agency=code)
        self.lead = world.headers("lead", agency=code)
        first = world.user(agency=code, role="inspector", cert_no="12010420000001")
        second = world.user(agency=code, role="inspector", cert_no="12010420000002")
        self.team = [str(first.id), str(second.id)]
        self.inspector = world.login(first.username, device_id=f"phone-{code}")
        self.device = Device(client, self.inspector, f"phone-{code}")
        self.photo = self.device.upload(b"photo of the fixed hazard " + code.encode())
        self.enterprises: dict[str, list[str]] = {"key": [], "general": []}
        self._ops: list[dict[str, Any]] = []
        self.inspections: list[tuple[str, str]] = []  # (inspection id, enterprise id)

    def settings(self, **values: Any) -> None:
        with self.app.app_context():
            agency = db.session.scalar(db.select(Agency).where(Agency.code == self.code))
            agency.settings = {**(agency.settings or {}), **values}
            db.session.commit()

    # --- the directory ------------------------------------------------------------------------

    def import_enterprises(self, key: int, general: int) -> None:
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(
            ["统一社会信用代码", "企业名称", "行业", "风险等级", "信用等级", "重点企业"]
        )
        for kind, count in (("key", key), ("general", general)):
            for n in range(count):
                label = "重点" if kind == "key" else "一般"
                writer.writerow(
                    [
                        self.world.uscc(),
                        f"{label}企业{n:03d}有限公司",
                        "机械",
                        "好",
                        "A",
                        "是" if kind == "key" else "否",
                    ]
                )
        response = self.client.post(
            "/api/v1/enterprises/import",
            data={"file": (io.BytesIO(out.getvalue().encode()), "directory.csv")},
            headers=self.manager,
            content_type="multipart/form-data",
        )
        assert response.status_code == 200, response.get_json()
        for row in response.get_json()["rows"]:
            assert row["status"] == "created", row
        listing = self.client.get(
            "/api/v1/enterprises", query_string={"per_page": 500}, headers=self.manager
        ).get_json()
        for item in sorted(listing["items"], key=lambda e: e["name"]):
            self.enterprises["key" if item["is_key"] else "general"].append(item["id"])

    def plan(self, year: int, rows: dict[str, int], general: int, caps: dict[str, int]) -> None:
        response = self.client.put(
            f"/api/v1/annual-plans/{year}",
            json={
                "planned_general": general,
                "key_enterprises": [{"enterprise_id": e, "planned": n} for e, n in rows.items()],
                "yearly_caps": caps,
            },
            headers=self.lead,
        )
        assert response.status_code == 200, response.get_json()

    # --- device records -----------------------------------------------------------------------

    def inspect(self, year: int, enterprise_id: str, kind: str) -> str:
        op = inspection_op(
            enterprise_id, self.team, kind=kind, at=moment(year, len(self.inspections))
        )
        self._ops.append(op)
        self.inspections.append((op["id"], enterprise_id))
        return op["id"]

    def hazard(
        self,
        inspection: tuple[str, str],
        *,
        level: str = "general",
        fixed: bool = True,
        deadline: str | None = None,
    ) -> str:
        op = hazard_op(
            inspection[0],
            inspection[1],
            level=level,
            fixed_on_spot=fixed,
            photos=[self.photo] if fixed else [],
            deadline=deadline,
        )
        self._ops.append(op)
        return op["id"]

    def document(
        self,
        doc_type: str,
        inspection: tuple[str, str],
        hazard_ids: list[str],
        at: datetime,
        **fields: Any,
    ) -> None:
        self._ops.append(document_op(doc_type, inspection[0], hazard_ids, at=at, **fields))

    def flush(self) -> None:
        """Push everything queued, a batch at a time; every op must apply."""
        ops, self._ops = self._ops, []
        for start in range(0, len(ops), BATCH):
            results = self.device.push(ops[start : start + BATCH])
            bad = [r for r in results if r["status"] != "applied"]
            assert not bad, bad[:3]

    def sign_off(self, hazard_id: str) -> None:
        response = self.client.post(
            f"/api/v1/hazards/{hazard_id}/transitions",
            json={"action": "sign_off", "note": "整改到位，同意销号"},
            headers=self.manager,
        )
        assert response.status_code == 200, response.get_json()

    # --- cases --------------------------------------------------------------------------------

    def _post(self, path: str, body: dict[str, Any], status: int = 201) -> dict[str, Any]:
        response = self.client.post(path, json=body, headers=self.manager)
        assert response.status_code == status, (path, response.get_json())
        return response.get_json()

    def case(
        self, opened_on: date, *, enterprise_id: str | None = None, **kw: Any
    ) -> dict[str, Any]:
        body = {
            "enterprise_id": enterprise_id or self.enterprises["general"][0],
            "opened_on": opened_on.isoformat(),
            **kw,
        }
        return self._post("/api/v1/cases", body)

    def review(self, case: dict[str, Any], on: date) -> None:
        self._post(
            f"/api/v1/cases/{case['id']}/legal-reviews",
            {"reviewed_on": on.isoformat(), "opinion": "approved"},
        )

    def decide(
        self,
        case: dict[str, Any],
        on: date,
        *,
        entity: int = 0,
        individuals: tuple[int, ...] = (),
        publish_after_days: int | None = 1,
        **kw: Any,
    ) -> dict[str, Any]:
        body = {
            "decided_on": on.isoformat(),
            "entity_fine_fen": entity,
            "individuals": [
                {"name": f"责任人{uuid.uuid4().hex[:4]}", "title": "主要负责人", "fine_fen": f}
                for f in individuals
            ],
            **kw,
        }
        decision = self._post(f"/api/v1/cases/{case['id']}/decision", body)
        if publish_after_days is not None:
            self.publish(decision, on + timedelta(days=publish_after_days))
        return decision

    def publish(self, decision: dict[str, Any], on: date) -> dict[str, Any]:
        """Publish as the server would have recorded it on ``on`` (10:00 in China)."""
        with at_moment(datetime(on.year, on.month, on.day, 2, 0, tzinfo=UTC)):
            return self._post(f"/api/v1/penalty-decisions/{decision['id']}/publish", {}, 200)

    def exempt(
        self, case: dict[str, Any], on: date, *, party: str = "entity", amount: int = 0
    ) -> None:
        self._post(
            f"/api/v1/cases/{case['id']}/exemption",
            {
                "decided_on": on.isoformat(),
                "party": party,
                "party_name": "当事人",
                "list_item": "安全生产轻微违法行为免罚清单第3项",
                "amount_not_imposed_fen": amount,
            },
        )

    def transfer(self, case: dict[str, Any], on: date) -> None:
        self._post(
            f"/api/v1/cases/{case['id']}/transfer",
            {"transferred_on": on.isoformat(), "transferred_to": "公安机关"},
        )

    def complaint(self, received_on: date, handled_on: date) -> None:
        self._post(
            "/api/v1/complaints",
            {
                "received_on": received_on.isoformat(),
                "handled_on": handled_on.isoformat(),
                "channel": "phone",
                "summary": "群众来电举报安全隐患",
                "outcome": "已核查处理",
            },
        )

    def report(self, year: int, fmt: str = "json") -> Any:
        response = self.client.get(
            "/api/v1/reports/annual",
            query_string={"year": year, "format": fmt},
            headers=self.manager,
        )
        assert response.status_code == 200, response.get_data(as_text=True)[:500]
        return response.get_json() if fmt == "json" else response


def rows(report: dict[str, Any], table: str) -> dict[str, dict[str, Any]]:
    found = next(t for t in report["tables"] if t["key"] == table)
    return {r["key"]: r for r in found["rows"]}
