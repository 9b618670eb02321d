"""Server-drawn charts: titles drawn, labels kept apart."""

from __future__ import annotations

import re

from server.web import charts

LABELS = [
    "行政强制（停产停业、停止使用）",
    "行政检查（现场检查记录）",
    "行政处罚（处罚决定书）",
    "投诉举报线索来源办案数",
    "重大执法决定法制审核案件",
]


def test_every_chart_draws_its_title_as_text() -> None:
    for svg in (
        charts.bars_and_line(["一月"], [charts.Series("a", "#000", [1])], None, title="甲"),
        charts.horizontal_bars([("乙", 3)], title="乙图"),
        charts.paired_bars(
            ["丙"], charts.Series("a", "#000", [1]), charts.Series("b", "#111", [2]), title="丙图"
        ),
    ):
        assert re.search(r'class="chart-title">[^<]+</text>', svg)


def test_long_labels_under_narrow_bars_are_slanted_and_the_chart_grows() -> None:
    short = charts.bars_and_line(
        ["1月", "2月"], [charts.Series("a", "#000", [1, 2])], None, title="t"
    )
    long = charts.bars_and_line(
        LABELS * 2, [charts.Series("a", "#000", [1] * 10)], None, title="t", width=600
    )
    assert "rotate(" not in short and "rotate(-40" in long
    height = int(re.search(r'viewBox="0 0 \d+ (\d+)"', long).group(1))
    assert height > 280 + charts.text_width(LABELS[0], 11) * 0.6


def test_paired_rows_leave_room_for_their_longest_label() -> None:
    svg = charts.paired_bars(
        LABELS,
        charts.Series("2023年", "#999", [0, 3, 1, 0, 2]),
        charts.Series("2024年", "#b00", [1, 5, 0, 0, 4]),
        title="t",
    )
    ys = [float(y) for y in re.findall(r'<text x="[\d.]+" y="([\d.]+)" text-anchor="end"', svg)]
    assert len(ys) == len(LABELS)
    assert min(b - a for a, b in zip(ys, ys[1:], strict=False)) >= 24
    first_bar = float(re.search(r'<rect x="([\d.]+)"', svg).group(1))
    assert first_bar >= max(charts.text_width(label, 12) for label in LABELS)
