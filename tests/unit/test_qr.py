"""QR images decode back to exactly the text they were made from."""

from __future__ import annotations

import io
import uuid
import xml.etree.ElementTree as ET

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from server.domain.entry_codes import derive_key, entry_url, issue_token
from server.render.qr import qr_png, qr_svg
from tests.qr_support import qr_texts

GATE_URL = entry_url("https://zhifa.example.gov.cn", issue_token(derive_key("k"), uuid.uuid4(), 3))


def decode(png: bytes) -> list[str]:
    return qr_texts(png)


def test_a_gate_url_png_decodes_to_exactly_that_url() -> None:
    png = qr_png(GATE_URL)
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    assert decode(png) == [GATE_URL]


@pytest.mark.parametrize("box_size", [2, 4, 10, 20])
def test_the_png_decodes_at_every_box_size(box_size: int) -> None:
    assert decode(qr_png(GATE_URL, box_size=box_size)) == [GATE_URL]


def test_the_png_keeps_a_four_module_quiet_zone_by_default() -> None:
    image = Image.open(io.BytesIO(qr_png(GATE_URL, box_size=1))).convert("L")
    width, height = image.size
    border = [image.getpixel((x, y)) for x in range(width) for y in range(4)]
    border += [image.getpixel((x, y)) for x in range(4) for y in range(height)]
    assert set(border) == {255}


@settings(max_examples=25, deadline=None)
@given(
    st.text(
        alphabet=st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")),
        min_size=1,
        max_size=120,
    )
)
def test_any_text_survives_the_round_trip(text: str) -> None:
    assert decode(qr_png(text, box_size=3)) == [text]


def test_a_chinese_text_survives_the_round_trip() -> None:
    text = "天津市南开区应急管理局 扫码入企"
    assert decode(qr_png(text)) == [text]


def test_the_svg_is_xml_with_an_svg_root_and_a_white_background() -> None:
    svg = qr_svg(GATE_URL)
    root = ET.fromstring(svg)
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    assert root.get("viewBox")
    fills = {element.get("fill") for element in root.iter()}
    assert "white" in fills or "#ffffff" in {str(f).lower() for f in fills}
