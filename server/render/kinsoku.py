"""Where a line of Chinese may break in the PDFs: anywhere but before a closing mark (禁则).

ReportLab wraps CJK text between any two characters and lets one closing mark hang in the
margin, but its list of marks is Japanese and it hangs only one: ``，`` or ``》`` could begin a
line, and so could the ``）`` after a ``。``. Here a line that would begin with closing marks
hands its last other character down with them instead, so no line begins with one and none
runs into the margin; a line that has nothing else to hand down keeps the marks hanging.
"""

from __future__ import annotations

from typing import Any

from reportlab.lib.textsplit import ALL_CANNOT_START
from reportlab.platypus import Paragraph
from reportlab.platypus.paragraph import (  # type: ignore[attr-defined]  # missing from the stubs
    ParaLines,
    _handleBulletWidth,
    cjkU,
    makeCJKParaLine,
)
from reportlab.rl_config import _FUZZ

# Closing brackets, quotes and the punctuation that ends a clause or sentence, full and half
# width, beside ReportLab's own list.
CANNOT_START = frozenset(ALL_CANNOT_START) | frozenset(
    "）)］]｝}》〉」』】〕〗〙”’，。、；：！？…,.;:!?"
)


class ChineseParagraph(Paragraph):
    """A paragraph wrapped as Chinese is, with no line beginning with a closing mark."""

    def breakLinesCJK(self, maxWidths: Any) -> Any:  # noqa: N802 (ReportLab's name)
        if not isinstance(maxWidths, list | tuple):
            maxWidths = [maxWidths]
        if hasattr(self, "blPara") and getattr(self, "_splitpara", False):
            return self.blPara  # the part of a paragraph split over pages keeps its lines
        if not self.frags or self.style.endDots:
            return super().breakLinesCJK(maxWidths)
        self.height = 0
        _handleBulletWidth(self.bulletText, self.style, maxWidths)
        auto_leading = getattr(self, "autoLeading", getattr(self.style, "autoLeading", ""))
        return split_lines(self.frags, maxWidths, auto_leading not in ("", "off"))


def split_lines(frags: list[Any], max_widths: list[float], calc_bounds: bool) -> ParaLines:
    """The lines of ``frags``, each as wide as fits in its ``max_widths`` entry (the last one
    for all further lines), broken between characters but never before a closing mark."""
    # A frag without text (a line break, an image) is one glyph of its own, as in ReportLab.
    glyphs = [cjkU(char, frag, "utf8") for frag in frags for char in (frag.text or [""])]
    lines: list[Any] = []
    start = 0
    while start < len(glyphs):
        max_width = max_widths[min(len(lines), len(max_widths) - 1)]
        end, line_break = _fill(glyphs, start, max_width)
        if not line_break and end < len(glyphs):
            end = _keep_marks_off_the_start(glyphs, start, end)
        width = sum(_width(g, max_width) for g in glyphs[start:end])
        lines.append(
            makeCJKParaLine(
                glyphs[start:end], max_width, width, max_width - width, line_break, calc_bounds
            )
        )
        start = end
    return ParaLines(kind=1, lines=lines)


def _width(glyph: Any, max_width: float) -> float:
    width = glyph.width
    if hasattr(width, "normalizedValue"):  # a width given as a share of the line
        width._normalizer = max_width
        width = width.normalizedValue(max_width)
    return width


def _fill(glyphs: list[Any], start: int, max_width: float) -> tuple[int, bool]:
    """Where the line from ``start`` ends: after the last glyph that fits (at least one), or
    after a forced line break."""
    used = 0.0
    i = start
    while i < len(glyphs):
        used += _width(glyphs[i], max_width)
        if hasattr(glyphs[i].frag, "lineBreak"):
            return i + 1, True
        if used > max_width + _FUZZ and i > start:
            return _latin_word_start(glyphs, start, i), False
        i += 1
    return i, False


def _latin_word_start(glyphs: list[Any], start: int, end: int) -> int:
    """Move a break that falls inside a run of Latin letters or digits back to the run's start
    (a space or a Chinese character), as ReportLab does, unless that is most of the line."""
    if not _latin(glyphs[end]):
        return end
    for j in range(end - 1, (start + end) >> 1, -1):
        if glyphs[j].isspace() or not _latin(glyphs[j]):
            return j + 1
    return end


def _latin(glyph: str) -> bool:
    return len(glyph) == 1 and ord(glyph) < 0x3000


def _keep_marks_off_the_start(glyphs: list[Any], start: int, end: int) -> int:
    """Move the break at ``end`` so the next line does not begin with a closing mark: back
    before the last other character of the line, else forward past the marks."""
    if glyphs[end] not in CANNOT_START:
        return end
    back = end - 1
    while back > start and glyphs[back] in CANNOT_START:
        back -= 1
    if back > start:
        return back
    while end < len(glyphs) and glyphs[end] in CANNOT_START:
        end += 1
    return end
