"""Reading gate codes back with a real decoder, as a phone camera would."""

from __future__ import annotations

import io

import zxingcpp
from PIL import Image


def qr_texts(image: Image.Image | bytes) -> list[str]:
    """The texts of the QR codes in ``image`` (a PIL image or PNG bytes). Only QR codes are
    looked for: with every format on, a poster's lettering is now and then misread as a
    one-dimensional barcode."""
    if isinstance(image, bytes):
        image = Image.open(io.BytesIO(image))
    return [r.text for r in zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.QRCode)]


def decode_png(png: bytes) -> str:
    """The one QR code of a PNG gate code."""
    texts = qr_texts(png)
    assert len(texts) == 1
    return texts[0]
