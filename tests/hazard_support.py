"""A field site for hazard tests: an agency, a team on one phone, and helpers that push ops."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from tests.sync_support import Device, document_op, hazard_op, inspection_op


@dataclass
class Site:
    world: Any
    client: Any
    device: Device
    team: list[str]
    lead: dict[str, str]
    manager: dict[str, str]
    inspector: dict[str, str]
    enterprises: dict[str, dict[str, Any]] = field(default_factory=dict)

    def enterprise(self, key: str = "main", **overrides: Any) -> dict[str, Any]:
        if key not in self.enterprises:
            self.enterprises[key] = self.world.enterprise(self.lead, **overrides)
        return self.enterprises[key]

    def hazard(
        self, enterprise: dict[str, Any] | None = None, *, level: str = "general", **kw: Any
    ) -> dict[str, str]:
        """Push an inspection and one hazard found on it; returns both ids."""
        enterprise = enterprise or self.enterprise()
        inspection = inspection_op(enterprise["id"], self.team, at=kw.pop("at", None) or _t0())
        hazard = hazard_op(inspection["id"], enterprise["id"], level=level, **kw)
        results = self.device.push([inspection, hazard])
        assert [r["status"] for r in results] == ["applied", "applied"], results
        return {"id": hazard["id"], "inspection_id": inspection["id"]}

    def order(self, hazard: dict[str, str], deadline: str = "2024-05-20") -> str:
        doc = document_op(
            "rectification_order", hazard["inspection_id"], [hazard["id"]], deadline=deadline
        )
        (result,) = self.device.push([doc])
        assert result["status"] == "applied", result
        return doc["id"]

    def reinspect(self, hazard: dict[str, str], outcome: str = "pass", **kw: Any) -> str:
        doc = document_op(
            "reinspection_opinion", hazard["inspection_id"], [hazard["id"]], outcome=outcome, **kw
        )
        (result,) = self.device.push([doc])
        assert result["status"] == "applied", result
        return doc["id"]

    def get(self, path: str, headers: dict[str, str] | None = None, **query: Any) -> Any:
        return self.client.get(path, headers=headers or self.manager, query_string=query)

    def step(self, hazard_id: str, headers: dict[str, str] | None = None, **body: Any) -> Any:
        return self.client.post(
            f"/api/v1/hazards/{hazard_id}/transitions", json=body, headers=headers or self.manager
        )


def _t0() -> Any:
    from tests.sync_support import T0

    return T0


def make_site(world: Any, client: Any) -> Site:
    world.agency()
    wang = world.user("wang", role="inspector", cert_no="12010420001", full_name="王伟")
    li = world.user("li", role="inspector", cert_no="12010420002", full_name="李娜")
    world.user("boss", role="manager", full_name="赵局长")
    world.user("lead1", role="lead", full_name="孙队长")
    device = Device(client, world.login("wang", device_id="phone-wang"), "phone-wang")
    return Site(
        world=world,
        client=client,
        device=device,
        team=[str(wang.id), str(li.id)],
        lead=world.login("lead1"),
        manager=world.login("boss"),
        inspector=device.headers,
    )
