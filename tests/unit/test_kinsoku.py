"""Chinese lines in the PDFs break anywhere but before a closing bracket or punctuation."""

from __future__ import annotations

import pytest

from server.render.fonts import cjk_font, paragraph_style
from server.render.kinsoku import ChineseParagraph

CLOSING_MARKS = "）)，。、；：！？」』》"
TEXTS = (
    "责令改正（当场改正。）；依法处理（见附件）。" * 3,
    "依据《中华人民共和国安全生产法》第一百零二条，责令限期整改：“立即停止作业！”" * 2,
)


def _lines(text: str, width: float) -> list[str]:
    paragraph = ChineseParagraph(text, paragraph_style(cjk_font(), "test", 10))
    paragraph.wrap(width, 10_000)
    return ["".join(getattr(f, "text", "") for f in line.words) for line in paragraph.blPara.lines]


@pytest.mark.parametrize("text", TEXTS)
def test_no_line_begins_with_a_closing_mark_at_any_width(text: str) -> None:
    for width in range(30, 240):
        starts = [line for line in _lines(text, width)[1:] if line[:1] in set(CLOSING_MARKS)]
        assert starts == [], f"width {width}"


@pytest.mark.parametrize("text", TEXTS)
def test_the_wrapped_lines_keep_every_character_in_order(text: str) -> None:
    for width in range(30, 240, 7):
        assert "".join(_lines(text, width)) == text


def test_a_typed_line_break_still_ends_the_line() -> None:
    assert _lines("第一行<br/>第二行", 500) == ["第一行", "第二行"]


def test_a_run_of_closing_marks_longer_than_the_line_hangs_rather_than_looping() -> None:
    lines = _lines("。。。。。。", 12)
    assert "".join(lines) == "。。。。。。" and len(lines) >= 1
