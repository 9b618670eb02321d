"""QR images of gate-code URLs, as PNG for printing and SVG for the web."""

from __future__ import annotations

import io

import qrcode
import qrcode.constants
from qrcode.image.svg import SvgPathFillImage

# Q (about 25% of the symbol recoverable) rather than M: the code hangs at a factory gate
# where dust, rain, sun fading, scratches and a strip of tape are normal. For a ~70 character
# URL this costs one QR version (41 instead of 37 modules), which at poster size still leaves
# modules over 2 mm wide, far more than any phone camera needs.
ERROR_CORRECTION = qrcode.constants.ERROR_CORRECT_Q

# The QR specification asks for a quiet zone of four modules; less makes some readers fail.
QUIET_ZONE = 4


def _code(text: str, box_size: int, border: int) -> qrcode.QRCode:
    code = qrcode.QRCode(
        version=None,
        error_correction=ERROR_CORRECTION,
        box_size=box_size,
        border=border,
    )
    code.add_data(text)
    code.make(fit=True)
    return code


def qr_png(text: str, box_size: int = 10, border: int = QUIET_ZONE) -> bytes:
    """A black-on-white PNG of ``text``, ``box_size`` pixels per module."""
    image = _code(text, box_size, border).make_image()
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def qr_svg(text: str, border: int = QUIET_ZONE) -> bytes:
    """A scalable SVG of ``text`` on white, so it stays readable on any page background."""
    image = _code(text, 10, border).make_image(image_factory=SvgPathFillImage)
    return image.to_string(encoding="utf-8")
