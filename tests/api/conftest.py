"""Fixtures shared by the API tests."""

from __future__ import annotations

import pytest

from tests.qr_support import decode_png
from tests.sync_support import Device


@pytest.fixture
def gate(world, client):
    """An agency's enterprise (credit A, good risk, not key) with its printed gate code
    decoded, two certified inspectors and one's phone."""
    world.agency()
    wang = world.user("wang", role="inspector", cert_no="12010420001")
    li = world.user("li", role="inspector", cert_no="12010420002")
    lead = world.headers("lead")
    enterprise = world.enterprise(lead, credit_rating="A", risk_grade="good", is_key=False)
    png = client.get(f"/api/v1/enterprises/{enterprise['id']}/entry-code?format=png", headers=lead)
    assert png.status_code == 200 and png.mimetype == "image/png"
    device = Device(client, world.login("wang", device_id="phone-wang"), "phone-wang")
    return {
        "enterprise": enterprise,
        "code": decode_png(png.data),
        "device": device,
        "team": [str(wang.id), str(li.id)],
        "lead": lead,
        "world": world,
    }
