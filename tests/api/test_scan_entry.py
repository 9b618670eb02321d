"""扫码入企 end to end: the printed code decodes, scans in, and is checked on the server."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest

from tests.qr_support import decode_png
from tests.sync_support import T0, inspection_op, scan_op


def test_the_printed_code_decodes_to_the_public_url(gate) -> None:
    assert gate["code"].startswith("https://enforce.example.cn/e/")


def test_a_decoded_code_scans_in_and_returns_the_enterprise_card(gate) -> None:
    device, ent = gate["device"], gate["enterprise"]
    (result,) = device.push([scan_op(gate["code"], gate["team"])])
    assert result["status"] == "applied"
    card = result["card"]
    assert card["name"] == ent["name"] and card["uscc"] == ent["uscc"]
    assert card["open_hazards"] == [] and card["last_inspections"] == []
    assert result["warnings"] == []


def test_the_svg_code_is_an_svg(gate, client) -> None:
    svg = client.get(
        f"/api/v1/enterprises/{gate['enterprise']['id']}/entry-code?format=svg",
        headers=gate["lead"],
    )
    assert svg.status_code == 200 and svg.mimetype == "image/svg+xml"
    assert b"<svg" in svg.data


def test_a_scan_is_logged_with_device_time_server_time_place_and_team(gate) -> None:
    device = gate["device"]
    scan = scan_op(gate["code"], gate["team"])
    device.push([scan])
    device.pull_all()
    stored = device.state[("scan", scan["id"])]
    assert stored["scanned_at"].startswith("2024-05-06T17:00:00")  # reported in +08:00
    assert stored["received_at"]
    assert (stored["latitude"], stored["longitude"], stored["accuracy_m"]) == (39.12, 117.15, 8)
    assert stored["inspector_ids"] == gate["team"]


def test_a_repeat_visit_within_days_warns(gate) -> None:
    device = gate["device"]
    device.push([scan_op(gate["code"], gate["team"], at=T0)])
    (again,) = device.push([scan_op(gate["code"], gate["team"], at=T0 + timedelta(days=2))])
    assert [w["code"] for w in again["warnings"]] == ["repeat_visit"]
    assert again["warnings"][0]["same_team"] is True


def test_passing_the_yearly_cap_warns(gate) -> None:
    device, ent = gate["device"], gate["enterprise"]
    # Credit A enterprises are capped at one inspection a year by default.
    device.push([inspection_op(ent["id"], gate["team"], at=T0 - timedelta(days=60))])
    (result,) = device.push([scan_op(gate["code"], gate["team"], at=T0)])
    codes = [w["code"] for w in result["warnings"]]
    assert codes == ["yearly_cap_reached"]
    assert result["card"]["last_inspections"][0]["kind"] == "random"


def test_a_rotated_code_is_refused_and_the_new_one_works(gate, client) -> None:
    device, ent, lead = gate["device"], gate["enterprise"], gate["lead"]
    manager = gate["world"].headers("manager")
    assert (
        client.post(f"/api/v1/enterprises/{ent['id']}/entry-code/rotate", headers=lead).status_code
        == 403
    )
    rotated = client.post(f"/api/v1/enterprises/{ent['id']}/entry-code/rotate", headers=manager)
    assert rotated.status_code == 200 and rotated.get_json()["entry_code_version"] == 2
    (old,) = device.push([scan_op(gate["code"], gate["team"])])
    assert old["status"] == "rejected" and old["errors"]["code"] == "entry_code_revoked"
    png = client.get(f"/api/v1/enterprises/{ent['id']}/entry-code", headers=manager)
    (new,) = device.push([scan_op(decode_png(png.data), gate["team"])])
    assert new["status"] == "applied"


def _tamper(code: str) -> str:
    # Change one character inside the signature (not the last one, whose spare bits the
    # canonical-encoding check would catch first).
    i = len(code) - 5
    return code[:i] + ("A" if code[i] != "A" else "B") + code[i + 1 :]


@pytest.mark.parametrize(
    ("mutate", "code"),
    [
        (_tamper, "entry_code_forged"),
        (lambda c: "https://example.com/not-ours", "entry_code_malformed"),
        (lambda c: "完全不是二维码", "entry_code_malformed"),
    ],
)
def test_forged_or_foreign_codes_are_rejected_with_their_own_code(gate, mutate, code) -> None:
    (result,) = gate["device"].push([scan_op(mutate(gate["code"]), gate["team"])])
    assert result["status"] == "rejected"
    assert result["errors"]["code"] == code


def test_another_agencys_code_is_rejected_as_such(gate, client) -> None:
    world = gate["world"]
    world.agency("hexi", "天津市河西区应急管理局", "河西")
    their_lead = world.headers("lead", agency="hexi")
    theirs = world.enterprise(their_lead)
    png = client.get(f"/api/v1/enterprises/{theirs['id']}/entry-code", headers=their_lead)
    (result,) = gate["device"].push([scan_op(decode_png(png.data), gate["team"])])
    assert result["status"] == "rejected"
    assert result["errors"]["code"] == "entry_code_other_agency"


def test_the_public_page_tells_a_camera_user_what_the_code_is(gate, client) -> None:
    path = gate["code"].split("enforce.example.cn", 1)[1]
    page = client.get(path, headers={"Accept": "text/html"})
    assert page.status_code == 200 and page.mimetype == "text/html"
    text = page.get_data(as_text=True)
    assert gate["enterprise"]["name"] in text and "扫码入企" in text
    assert "天津市南开区应急管理局" in text
    assert gate["enterprise"]["uscc"] not in text  # nothing beyond name and bureau
    forged = client.get(path[:-2] + "xx")
    assert forged.status_code == 404 and "无法识别" in forged.get_data(as_text=True)


def test_a_poster_pdf_and_a_district_of_posters(gate, client) -> None:
    from pypdf import PdfReader

    ent, lead = gate["enterprise"], gate["lead"]
    gate["world"].enterprise(lead, name="天津市第二家有限公司")
    one = client.get(f"/api/v1/enterprises/{ent['id']}/entry-code/poster.pdf", headers=lead)
    assert one.status_code == 200 and one.data.startswith(b"%PDF")
    assert ent["name"] in PdfReader(io.BytesIO(one.data)).pages[0].extract_text()
    many = client.get("/api/v1/enterprises/entry-code-posters.pdf?industry=machinery", headers=lead)
    assert many.status_code == 200
    assert len(PdfReader(io.BytesIO(many.data)).pages) == 2
    none = client.get("/api/v1/enterprises/entry-code-posters.pdf?industry=tobacco", headers=lead)
    assert none.status_code == 404


def test_a_scan_naming_someone_not_of_the_agency_is_rejected(gate) -> None:
    import uuid

    world = gate["world"]
    world.agency("hexi", "天津市河西区应急管理局", "河西")
    stranger = world.user("stranger", agency="hexi")
    for intruder in (str(uuid.uuid4()), str(stranger.id)):
        (result,) = gate["device"].push([scan_op(gate["code"], [gate["team"][0], intruder])])
        assert result["status"] == "rejected"
        assert result["errors"]["code"] == "unknown_inspector"
        assert intruder in str(result["errors"]["fields"]["inspector_ids"])
