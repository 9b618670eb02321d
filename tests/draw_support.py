"""Builders for draw tests: an agency with inspectors, a lead and graded enterprises."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from flask.testing import FlaskClient


def plan_payload(**overrides: Any) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "name": "2024年一般企业双随机抽查",
        "notes": "内部备注：不得公开",
        "strata_by": ["risk"],
        "rates": {"risk:good": "0.5", "risk:poor": "1"},
        "default_rate": "0",
        "team_size": 2,
        "due_days": 20,
        "due_day_kind": "working",
        "period": "quarter",
    }
    payload.update(overrides)
    return payload


@dataclass
class Field:
    """One agency ready to draw: inspectors (by name), a lead, enterprises (by name)."""

    client: FlaskClient
    lead: dict[str, str]
    inspectors: dict[str, Any]
    enterprises: dict[str, dict[str, Any]] = field(default_factory=dict)

    def ids(self, *names: str) -> list[str]:
        return [str(self.inspectors[n].id) for n in names]

    def create_plan(self, expect: int = 201, **overrides: Any) -> dict[str, Any]:
        response = self.client.post(
            "/api/v1/draw-plans", json=plan_payload(**overrides), headers=self.lead
        )
        assert response.status_code == expect, response.get_json()
        return response.get_json()

    def run(self, plan_id: str, expect: int = 201, **body: Any) -> dict[str, Any]:
        response = self.client.post(
            f"/api/v1/draw-plans/{plan_id}/run", json=body, headers=self.lead
        )
        assert response.status_code == expect, response.get_json()
        return response.get_json()

    def get(self, path: str, expect: int = 200) -> Any:
        response = self.client.get(path, headers=self.lead)
        assert response.status_code == expect, response.get_json()
        return response.get_json()


INSPECTOR_NAMES = ["wang", "li", "zhao", "sun", "zhou", "wu"]


def make_field(
    world: Any,
    client: FlaskClient,
    *,
    agency: str = "nankai",
    good: int = 6,
    poor: int = 2,
    key: int = 1,
    inspectors: list[str] | None = None,
) -> Field:
    """An agency (created unless it exists) with certified inspectors and graded enterprises."""
    names = inspectors or INSPECTOR_NAMES
    people = {
        name: world.user(
            f"{agency}-{name}",
            agency=agency,
            role="inspector",
            cert_no=f"12010420{i:04d}",
            full_name=f"执法员{name}",
        )
        for i, name in enumerate(names)
    }
    lead = world.headers("lead", agency=agency)
    f = Field(client, lead, people)
    for i in range(good):
        f.enterprises[f"good{i}"] = world.enterprise(
            lead, name=f"{agency}良好企业{i}", risk_grade="good", credit_rating="A"
        )
    for i in range(poor):
        f.enterprises[f"poor{i}"] = world.enterprise(
            lead, name=f"{agency}较差企业{i}", risk_grade="poor", credit_rating="C"
        )
    for i in range(key):
        f.enterprises[f"key{i}"] = world.enterprise(
            lead, name=f"{agency}重点企业{i}", risk_grade="poor", is_key=True
        )
    return f


def tick_in_own_process(database_url: str, now_iso: str, barrier: Any, out: Any) -> None:
    """One scheduler process: its own app and connections, one ``tick`` at ``now``.

    ``barrier`` holds every process between reading the pool and writing the draw, so that
    all of them have seen "not drawn yet" before any of them writes.
    """
    from datetime import datetime

    from server import create_app
    from server.services import draw_schedule
    from server.services.draws import running

    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": database_url,
            "SECRET_KEY": "test-secret-key",
            "SCHEDULER_ENABLED": False,
        }
    )
    real_build_pool = running.build_pool

    def build_pool_together(*args: Any, **kwargs: Any) -> Any:
        pool = real_build_pool(*args, **kwargs)
        barrier.wait()
        return pool

    running.build_pool = build_pool_together  # type: ignore[assignment]
    with app.app_context():
        runs = draw_schedule.tick(datetime.fromisoformat(now_iso))
    out.put([(r.outcome, r.period_key) for r in runs])
