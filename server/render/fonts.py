"""Which Chinese font the PDFs use: an embedded system TrueType font, else a built-in CID font."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from reportlab.lib.styles import ParagraphStyle
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfbase.ttfonts import TTFError, TTFont

log = logging.getLogger(__name__)

# Needs no file and is understood by every PDF reader with Asian font support, but it is not
# embedded: how it looks depends on the reader, and a few phone viewers show boxes. It is
# the last resort so that a document can always be handed over on site.
FALLBACK_CID_FONT = "STSong-Light"

# Debian/Ubuntu packages first (the image installs fonts-wqy-zenhei), then the usual places
# on developers' machines. OpenType CJK fonts with CFF outlines (Noto/Source Han .otf and
# most .ttc builds) cannot be embedded by reportlab; they are tried and skipped.
SYSTEM_FONT_FILES: tuple[str, ...] = (
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/arphic/uming.ttc",
    "/usr/share/fonts/truetype/arphic/ukai.ttc",
    "/usr/share/fonts/truetype/arphic-gbsn00lp/gbsn00lp.ttf",
    "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf",
    "/usr/share/fonts/truetype/noto/NotoSansSC-Regular.ttf",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/wqy-zenhei/wqy-zenhei.ttc",
    "/usr/share/fonts/wqy-microhei/wqy-microhei.ttc",
    "/System/Library/Fonts/STHeiti Light.ttc",
    "/Library/Fonts/Arial Unicode.ttf",
    "C:/Windows/Fonts/simsun.ttc",
    "C:/Windows/Fonts/simhei.ttf",
    "C:/Windows/Fonts/msyh.ttc",
)

# A font that lacks any of these would print boxes in the titles and numbers of every
# document; such a font is passed over rather than discovered on site.
REQUIRED_CHARS = "安全生产执法检查入企码责令限期整改指令书〔〕（）：，。第页共号元整"


@dataclass(frozen=True)
class CjkFont:
    """A registered reportlab font name that can set Chinese text, and where it came from."""

    name: str
    path: str | None = None

    @property
    def embedded(self) -> bool:
        """True when the glyphs travel inside the PDF, so it looks the same on every reader."""
        return self.path is not None


_lock = threading.Lock()
_cache: dict[tuple[str | None, bool], CjkFont] = {}


def cjk_font(configured_path: str | None = None, *, search_system: bool = True) -> CjkFont:
    """The font to use: ``configured_path`` (the PDF_FONT_PATH setting), a system font, or
    the built-in CID font. Registered with reportlab once per process."""
    key = (configured_path or None, search_system)
    with _lock:
        found = _cache.get(key)
        if found is None:
            found = _choose(configured_path, SYSTEM_FONT_FILES if search_system else ())
            _cache[key] = found
        return found


def _choose(configured_path: str | None, system_files: Iterable[str]) -> CjkFont:
    if configured_path:
        font = _load_truetype(configured_path)
        if font is not None:
            return font
        # A wrong setting must not stop inspectors from printing on site; it is logged loudly
        # and the next best font is used.
        log.warning("PDF_FONT_PATH %s cannot be used for Chinese text; searching", configured_path)
    for candidate in system_files:
        if Path(candidate).is_file():
            font = _load_truetype(candidate)
            if font is not None:
                return font
    log.info("no embeddable CJK font found; using the built-in %s", FALLBACK_CID_FONT)
    return builtin_cid_font()


def builtin_cid_font() -> CjkFont:
    """The non-embedded CID font that ships with reportlab itself."""
    if FALLBACK_CID_FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont(FALLBACK_CID_FONT))
    return CjkFont(name=FALLBACK_CID_FONT)


def _load_truetype(path: str) -> CjkFont | None:
    """Register the first face of ``path`` that covers REQUIRED_CHARS, or None."""
    file = Path(path)
    if not file.is_file():
        return None
    collection = file.suffix.lower() in {".ttc", ".otc"}
    for index in range(4 if collection else 1):
        name = f"CJK-{file.stem}-{index}"
        if name in pdfmetrics.getRegisteredFontNames():
            return CjkFont(name=name, path=str(file))
        try:
            font = TTFont(name, str(file), subfontIndex=index)
        except (TTFError, OSError, ValueError, KeyError, IndexError) as exc:
            log.debug("font %s face %d unusable: %s", file, index, exc)
            continue
        if all(ord(char) in font.face.charToGlyph for char in REQUIRED_CHARS):
            pdfmetrics.registerFont(font)
            return CjkFont(name=name, path=str(file))
    return None


def paragraph_style(font: CjkFont, name: str, size: float, **extra: Any) -> ParagraphStyle:
    """A paragraph style in ``font``; CJK wrapping, leading 1.4 times the size unless given."""
    extra.setdefault("leading", size * 1.4)
    # CJK wrapping breaks between any two characters, as Chinese typesetting does.
    return ParagraphStyle(name, fontName=font.name, fontSize=size, wordWrap="CJK", **extra)
