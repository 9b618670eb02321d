"""Small charts drawn on the server as inline SVG: nothing fetched, nothing run in the browser."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

FOUND_COLOUR = "#b42318"
CLOSED_COLOUR = "#2f9e44"
OPEN_COLOUR = "#1f4e79"
AGE_COLOURS = ("#9fd3a8", "#f5d76e", "#f0a04b", "#e2572b", "#8b1e1e")


@dataclass(frozen=True)
class Series:
    label: str
    colour: str
    values: Sequence[int]


def _nice_max(value: int) -> int:
    """A round axis maximum at or above ``value`` (1, 2, 5 × 10^n)."""
    if value <= 0:
        return 1
    magnitude = 1
    while True:
        for step in (1, 2, 5):
            if step * magnitude >= value:
                return step * magnitude
        magnitude *= 10


def _fmt(x: float) -> str:
    return f"{x:.1f}".rstrip("0").rstrip(".")


def text_width(text: str, size: float) -> float:
    """About how wide ``text`` is drawn at ``size`` px: a CJK character is a square, a Latin
    one a little over half of it. Enough to keep labels apart without a font at hand."""
    return sum(size if ord(ch) > 0x2E80 else size * 0.62 for ch in text)


def _title(title: str, width: int) -> str:
    # Drawn, not only a tooltip: a printed report shows what each chart is.
    return (
        f'<text x="{width / 2:g}" y="18" text-anchor="middle" font-size="14" font-weight="600" '
        f'fill="#1f2933" class="chart-title">{escape(title)}</text>'
    )


def bars_and_line(
    labels: Sequence[str],
    bars: Sequence[Series],
    line: Series | None,
    *,
    title: str,
    width: int = 720,
    height: int = 280,
    drawn_title: bool = True,
) -> Markup:
    """Grouped bars per label (found, closed) with a line over them (open at month end).

    Labels too wide for their slot are drawn slanted, and the chart grows to hold them.
    """
    left, right, top, bottom = 44, 12, (36 if drawn_title else 16), 52
    n = max(len(labels), 1)
    slot = (width - left - right) / n
    widest = max([text_width(str(label), 11) for label in labels] or [0])
    slanted = widest > slot - 4
    if slanted:
        # At 40 degrees a label needs sin(40°) of its length below the axis.
        extra = int(widest * 0.65)
        bottom += extra
        height += extra
    plot_h = height - top - bottom
    peak = max([0, *[v for s in bars for v in s.values], *(line.values if line else [])])
    # Four gridline steps of a round size, so every axis label is a whole number.
    top_value = _nice_max(-(-peak // 4)) * 4
    bar_w = max(slot * 0.7 / max(len(bars), 1), 1)

    def y(value: float) -> float:
        return top + plot_h - plot_h * value / top_value

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="{escape(title)}" class="chart">',
        f"<title>{escape(title)}</title>",
        _title(title, width) if drawn_title else "",
    ]
    for i in range(5):
        value = top_value * i / 4
        parts.append(
            f'<line x1="{left}" x2="{width - right}" y1="{_fmt(y(value))}" '
            f'y2="{_fmt(y(value))}" stroke="#e4e7eb"/>'
            f'<text x="{left - 6}" y="{_fmt(y(value) + 4)}" text-anchor="end" '
            f'font-size="11" fill="#52606d">{_fmt(value)}</text>'
        )
    for i, label in enumerate(labels):
        x0 = left + slot * i + slot * 0.15
        for j, series in enumerate(bars):
            value = series.values[i]
            parts.append(
                f'<rect x="{_fmt(x0 + j * bar_w)}" y="{_fmt(y(value))}" width="{_fmt(bar_w)}" '
                f'height="{_fmt(top + plot_h - y(value))}" fill="{series.colour}">'
                f"<title>{escape(label)} {escape(series.label)} {value}</title></rect>"
            )
        cx, ly = left + slot * i + slot / 2, height - bottom + 16
        if slanted:
            parts.append(
                f'<text x="{_fmt(cx)}" y="{ly}" text-anchor="end" font-size="11" fill="#52606d" '
                f'transform="rotate(-40 {_fmt(cx)} {ly})" class="axis-label">{escape(label)}</text>'
            )
        else:
            parts.append(
                f'<text x="{_fmt(cx)}" y="{ly}" text-anchor="middle" font-size="11" '
                f'fill="#52606d" class="axis-label">{escape(label)}</text>'
            )
    if line is not None and line.values:
        points = " ".join(
            f"{_fmt(left + slot * i + slot / 2)},{_fmt(y(v))}" for i, v in enumerate(line.values)
        )
        parts.append(
            f'<polyline points="{points}" fill="none" stroke="{line.colour}" stroke-width="2.5"/>'
        )
        for i, v in enumerate(line.values):
            parts.append(
                f'<circle cx="{_fmt(left + slot * i + slot / 2)}" cy="{_fmt(y(v))}" r="3.5" '
                f'fill="{line.colour}"><title>{escape(labels[i])} {escape(line.label)} {v}'
                "</title></circle>"
            )
    legend = [*bars, *([line] if line else [])]
    for k, series in enumerate(legend):
        lx = left + k * 150
        parts.append(
            f'<rect x="{lx}" y="{height - 18}" width="12" height="12" fill="{series.colour}"/>'
            f'<text x="{lx + 18}" y="{height - 8}" font-size="12" fill="#1f2933">'
            f"{escape(series.label)}</text>"
        )
    parts.append("</svg>")
    return Markup("".join(parts))


def horizontal_bars(
    items: Sequence[tuple[str, int]],
    *,
    title: str,
    colours: Sequence[str] = AGE_COLOURS,
    width: int = 480,
    row: int = 30,
    drawn_title: bool = True,
) -> Markup:
    """One bar per (label, value), longest first as given; the value printed at its end."""
    left = max(72, int(max([text_width(label, 12) for label, _ in items] or [0])) + 16)
    right, head = 56, (30 if drawn_title else 0)
    height = row * max(len(items), 1) + 8 + head
    peak = max([1, *[v for _, v in items]])
    plot_w = width - left - right
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="{escape(title)}" class="chart" style="max-width:{width}px">',
        f"<title>{escape(title)}</title>",
        _title(title, width) if drawn_title else "",
    ]
    for i, (label, value) in enumerate(items):
        y0 = head + 4 + i * row
        w = plot_w * value / peak
        colour = colours[i % len(colours)]
        parts.append(
            f'<text x="{left - 8}" y="{y0 + row / 2 + 4}" text-anchor="end" font-size="12" '
            f'fill="#1f2933">{escape(label)}</text>'
            f'<rect x="{left}" y="{y0 + 4}" width="{_fmt(w)}" height="{row - 10}" '
            f'fill="{colour}" rx="3"><title>{escape(label)} {value}</title></rect>'
            f'<text x="{_fmt(left + w + 6)}" y="{y0 + row / 2 + 4}" font-size="12" '
            f'fill="#1f2933" class="value">{value}</text>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))


def paired_bars(
    labels: Sequence[str],
    first: Series,
    second: Series,
    *,
    title: str,
    width: int = 760,
    row: int = 34,
) -> Markup:
    """Two bars a row (last year, this year) with the label on the left and each value at its
    bar's end: long Chinese labels never collide, however many rows."""
    left = int(max([text_width(label, 12) for label in labels] or [0])) + 16
    right, head, legend = 64, 30, 24
    height = head + row * max(len(labels), 1) + legend + 8
    peak = max([1, *first.values, *second.values])
    plot_w = width - left - right
    bar_h = (row - 10) / 2
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="{escape(title)}" class="chart" style="max-width:{width}px">',
        f"<title>{escape(title)}</title>",
        _title(title, width),
    ]
    for i, label in enumerate(labels):
        y0 = head + i * row
        parts.append(
            f'<text x="{left - 8}" y="{_fmt(y0 + row / 2 + 4)}" text-anchor="end" '
            f'font-size="12" fill="#1f2933" class="axis-label">{escape(label)}</text>'
        )
        for j, series in enumerate((first, second)):
            value = series.values[i]
            w = plot_w * value / peak
            by = y0 + 4 + j * bar_h
            parts.append(
                f'<rect x="{left}" y="{_fmt(by)}" width="{_fmt(w)}" height="{_fmt(bar_h - 1)}" '
                f'fill="{series.colour}"><title>{escape(label)} {escape(series.label)} {value}'
                f"</title></rect>"
                f'<text x="{_fmt(left + w + 4)}" y="{_fmt(by + bar_h - 2)}" font-size="10" '
                f'fill="#52606d" class="value">{value}</text>'
            )
    for k, series in enumerate((first, second)):
        lx = left + k * 120
        parts.append(
            f'<rect x="{lx}" y="{height - legend}" width="12" height="12" fill="{series.colour}"/>'
            f'<text x="{lx + 18}" y="{height - legend + 10}" font-size="12" fill="#1f2933">'
            f"{escape(series.label)}</text>"
        )
    parts.append("</svg>")
    return Markup("".join(parts))
